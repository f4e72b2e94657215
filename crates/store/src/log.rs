//! The durable audit log: RFC 9162 tree nodes and leaves in RocksDB, group-committed.
//!
//! Appenders hand their leaf to one committer thread over a bounded queue and wait. The
//! committer takes everything queued (up to `max_batch`), extends the tree in memory,
//! writes leaves, new nodes, size and root in one `WriteBatch` with a synced WAL write, and
//! only then acknowledges each appender with its index. A crash before the write loses only
//! unacknowledged appends; a crash after it loses nothing, and RocksDB's atomic batches mean
//! there is never a half-appended entry. On open, the frontier is rebuilt from the stored
//! nodes and its root must equal the stored root.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use rocksdb::WriteBatch;
use talos_audit::hash::leaf_hash;
use talos_audit::tree::{self, Frontier, NodeSource, TreeError};
use talos_primitives::{Hash32, TreeHead};

use crate::db::{CF_LEAVES, CF_META, CF_NODES, Store, StoreError};

const META_HEAD: &[u8] = b"head";

/// Log settings.
#[derive(Debug, Clone, Copy)]
pub struct LogConfig {
    /// Appends waiting for the committer, at most (back-pressure beyond that).
    pub queue: usize,
    /// Most appends written in one batch.
    pub max_batch: usize,
    /// Largest leaf accepted, in bytes.
    pub max_leaf: usize,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            queue: 8192,
            max_batch: 4096,
            max_leaf: 64 * 1024,
        }
    }
}

type Ack = SyncSender<Result<u64, String>>;

struct Request {
    leaves: Vec<Vec<u8>>,
    ack: Ack,
}

fn node_key(level: u8, index: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = level;
    k[1..].copy_from_slice(&index.to_be_bytes());
    k
}

struct Nodes<'a>(&'a Store);

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
}

fn decode_head(v: &[u8]) -> Result<TreeHead, StoreError> {
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

fn encode_head(h: &TreeHead) -> [u8; 40] {
    let mut v = [0u8; 40];
    v[..8].copy_from_slice(&h.size.to_be_bytes());
    v[8..].copy_from_slice(h.root.as_bytes());
    v
}

/// A durable, append-only audit log.
pub struct AuditLog {
    store: Arc<Store>,
    tx: Option<SyncSender<Request>>,
    committed: Arc<AtomicU64>,
    head: Arc<Mutex<TreeHead>>,
    committer: Option<JoinHandle<()>>,
    config: LogConfig,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("size", &self.size())
            .finish_non_exhaustive()
    }
}

impl AuditLog {
    /// Opens the log in the store at `path`, recovering and checking its state.
    pub fn open(path: &Path, config: LogConfig) -> Result<Self, StoreError> {
        let store = Arc::new(Store::open(path)?);
        let head = match store.get(CF_META, META_HEAD)? {
            Some(v) => decode_head(&v)?,
            None => TreeHead {
                size: 0,
                root: talos_audit::hash::empty_root(),
            },
        };
        let frontier = Frontier::load(&Nodes(&store), head.size)?;
        if frontier.root() != head.root {
            return Err(StoreError::Corrupt(format!(
                "recomputed root differs from the stored root at size {}",
                head.size
            )));
        }
        tracing::debug!(size = head.size, root = %head.root, "audit log opened");
        let (tx, rx) = sync_channel::<Request>(config.queue.max(1));
        let committed = Arc::new(AtomicU64::new(head.size));
        let shared_head = Arc::new(Mutex::new(head));
        let committer = {
            let store = store.clone();
            let committed = committed.clone();
            let shared_head = shared_head.clone();
            std::thread::Builder::new()
                .name("talos-audit-commit".into())
                .spawn(move || {
                    commit_loop(
                        &store,
                        frontier,
                        &rx,
                        &committed,
                        &shared_head,
                        config.max_batch.max(1),
                    )
                })
                .map_err(|e| StoreError::Corrupt(format!("cannot start committer: {e}")))?
        };
        Ok(Self {
            store,
            tx: Some(tx),
            committed,
            head: shared_head,
            committer: Some(committer),
            config,
        })
    }

    /// Appends one leaf; returns its index once it is durable.
    pub fn append(&self, leaf: Vec<u8>) -> Result<u64, StoreError> {
        self.append_many(vec![leaf]).map(|r| r.start)
    }

    /// Appends several leaves together; returns their index range once all are durable.
    pub fn append_many(&self, leaves: Vec<Vec<u8>>) -> Result<std::ops::Range<u64>, StoreError> {
        if let Some(big) = leaves.iter().find(|l| l.len() > self.config.max_leaf) {
            return Err(StoreError::Corrupt(format!(
                "leaf of {} bytes is over the limit",
                big.len()
            )));
        }
        let n = leaves.len() as u64;
        let (ack, done) = sync_channel(1);
        self.tx
            .as_ref()
            .ok_or(StoreError::Closed)?
            .send(Request { leaves, ack })
            .map_err(|_| StoreError::Closed)?;
        let last = done
            .recv()
            .map_err(|_| StoreError::Closed)?
            .map_err(StoreError::Corrupt)?;
        Ok(last + 1 - n..last + 1)
    }

    /// Durable size.
    pub fn size(&self) -> u64 {
        self.committed.load(Ordering::Acquire)
    }

    /// Durable head (size and root).
    pub fn head(&self) -> TreeHead {
        self.head.lock().map(|h| *h).unwrap_or(TreeHead {
            size: 0,
            root: talos_audit::hash::empty_root(),
        })
    }

    /// The root at any durable size.
    pub fn root_at(&self, size: u64) -> Result<Hash32, StoreError> {
        self.check_size(size)?;
        Ok(tree::root(&Nodes(&self.store), size)?)
    }

    /// Leaf data by index.
    pub fn leaf(&self, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        if index >= self.size() {
            return Ok(None);
        }
        self.store.get(CF_LEAVES, &index.to_be_bytes())
    }

    /// Inclusion proof of leaf `index` in the tree of `size`.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash32>, StoreError> {
        self.check_size(size)?;
        Ok(tree::inclusion_proof(&Nodes(&self.store), index, size)?)
    }

    /// Consistency proof between two durable sizes.
    pub fn consistency_proof(&self, size1: u64, size2: u64) -> Result<Vec<Hash32>, StoreError> {
        self.check_size(size2)?;
        Ok(tree::consistency_proof(&Nodes(&self.store), size1, size2)?)
    }

    /// Read access to the stored nodes (for tools that compute proofs themselves).
    pub fn nodes(&self) -> impl NodeSource + '_ {
        Nodes(&self.store)
    }

    fn check_size(&self, size: u64) -> Result<(), StoreError> {
        let have = self.size();
        if size > have {
            return Err(TreeError::OutOfRange {
                what: "tree size",
                value: size,
                size: have,
            }
            .into());
        }
        Ok(())
    }
}

impl Drop for AuditLog {
    fn drop(&mut self) {
        // Closing the queue ends the committer after it has written what it holds.
        self.tx.take();
        if let Some(h) = self.committer.take() {
            let _ = h.join();
        }
    }
}

fn commit_loop(
    store: &Store,
    mut frontier: Frontier,
    rx: &Receiver<Request>,
    committed: &AtomicU64,
    head: &Mutex<TreeHead>,
    max_batch: usize,
) {
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        let mut count = group.iter().map(|r| r.leaves.len()).sum::<usize>();
        while count < max_batch {
            match rx.try_recv() {
                Ok(r) => {
                    count += r.leaves.len();
                    group.push(r);
                }
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        let before = frontier.clone();
        let result = write_group(store, &mut frontier, &group);
        match result {
            Ok(new_head) => {
                committed.store(new_head.size, Ordering::Release);
                if let Ok(mut h) = head.lock() {
                    *h = new_head;
                }
                let mut next = before.size();
                for r in group {
                    next += r.leaves.len() as u64;
                    let _ = r.ack.send(Ok(next - 1));
                }
            }
            Err(e) => {
                // Nothing of this group is durable: forget it and tell every appender.
                tracing::error!(error = %e, "audit log group commit failed");
                frontier = before;
                for r in group {
                    let _ = r.ack.send(Err(e.to_string()));
                }
            }
        }
    }
}

fn write_group(
    store: &Store,
    frontier: &mut Frontier,
    group: &[Request],
) -> Result<TreeHead, StoreError> {
    let leaves_cf = store.cf(CF_LEAVES)?;
    let nodes_cf = store.cf(CF_NODES)?;
    let meta_cf = store.cf(CF_META)?;
    let mut batch = WriteBatch::default();
    for leaf in group.iter().flat_map(|r| r.leaves.iter()) {
        let index = frontier.append(leaf_hash(leaf), |level, index, hash| {
            batch.put_cf(nodes_cf, node_key(level, index), hash.as_bytes());
        });
        batch.put_cf(leaves_cf, index.to_be_bytes(), leaf);
    }
    let head = TreeHead {
        size: frontier.size(),
        root: frontier.root(),
    };
    batch.put_cf(meta_cf, META_HEAD, encode_head(&head));
    store.write(batch, true)?;
    Ok(head)
}
