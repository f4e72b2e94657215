//! How the log's tree sits in RocksDB: a node's key (level, then big-endian index, so
//! a level's nodes are adjacent), reading nodes back for the tree's proofs, and the
//! stored head (size and root).

use talos_audit::tree::{NodeSource, TreeError};
use talos_primitives::{Hash32, TreeHead};

use crate::db::{CF_NODES, Store, StoreError};

pub(super) fn node_key(level: u8, index: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = level;
    k[1..].copy_from_slice(&index.to_be_bytes());
    k
}

pub(super) struct Nodes<'a>(pub(super) &'a Store);

impl NodeSource for Nodes<'_> {
    fn node(&self, level: u8, index: u64) -> Result<Hash32, TreeError> {
        let cf = self
            .0
            .cf(CF_NODES)
            .map_err(|e| TreeError::Store(e.to_string()))?;
        let v = self
            .0
            .db()
            .get_pinned_cf(cf, node_key(level, index))
            .map_err(|e| TreeError::Store(e.to_string()))?;
        let v = v.ok_or(TreeError::MissingNode { level, index })?;
        Hash32::from_slice(&v).map_err(|_| TreeError::Store("node is not 32 bytes".into()))
    }

    /// One range scan: nodes of a level are adjacent keys (level, big-endian index).
    fn nodes(&self, level: u8, start: u64, count: u64) -> Result<Vec<Hash32>, TreeError> {
        let store = |e: String| TreeError::Store(e);
        let cf = self.0.cf(CF_NODES).map_err(|e| store(e.to_string()))?;
        let end = start.checked_add(count).ok_or(TreeError::MissingNode {
            level,
            index: start,
        })?;
        let mut ro = rocksdb::ReadOptions::default();
        ro.set_iterate_upper_bound(node_key(level, end).to_vec());
        let from = node_key(level, start);
        let mode = rocksdb::IteratorMode::From(&from, rocksdb::Direction::Forward);
        let mut out = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
        for (want, item) in (start..end).zip(self.0.db().iterator_cf_opt(cf, ro, mode)) {
            let (k, v) = item.map_err(|e| store(e.to_string()))?;
            if k.as_ref() != node_key(level, want) {
                return Err(TreeError::MissingNode { level, index: want });
            }
            out.push(Hash32::from_slice(&v).map_err(|_| store("node is not 32 bytes".into()))?);
        }
        if out.len() as u64 != count {
            return Err(TreeError::MissingNode {
                level,
                index: start + out.len() as u64,
            });
        }
        Ok(out)
    }
}

pub(super) fn decode_head(v: &[u8]) -> Result<TreeHead, StoreError> {
    if v.len() != 40 {
        return Err(StoreError::Corrupt("head record is not 40 bytes".into()));
    }
    let (size, root) = v.split_at(8);
    let size = u64::from_be_bytes(
        size.try_into()
            .map_err(|_| StoreError::Corrupt("size".into()))?,
    );
    let root = Hash32::from_slice(root).map_err(|_| StoreError::Corrupt("root".into()))?;
    Ok(TreeHead { size, root })
}

pub(super) fn encode_head(h: &TreeHead) -> [u8; 40] {
    let mut v = [0u8; 40];
    v[..8].copy_from_slice(&h.size.to_be_bytes());
    v[8..].copy_from_slice(h.root.as_bytes());
    v
}
