//! Moving a log kept in its own store into the node's (layout 3): before it, a home had
//! the audit log in `store/` beside the node's `db/`, and every message cost a synced
//! write in each. The copy is written with the head last, in one synced batch after the
//! rest, so a crash part way leaves `into` without a head and the next open copies again
//! (the same keys, the same values); only once the head is durable is the old directory
//! renamed, and its data is kept there.

use std::path::{Path, PathBuf};

use rocksdb::{IteratorMode, WriteBatch};

use super::META_HEAD;
use crate::db::{CF_LEAVES, CF_META, CF_NODES, LAYOUT_VERSION_KEY, Store, StoreError};

/// Bytes per unsynced batch of the copy.
const CHUNK: usize = 4 << 20;

/// What [`adopt`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Adopted {
    /// There was no log at the old place.
    Nothing,
    /// The log was copied (or found copied) into the store, and the old directory
    /// renamed to the path given (`<from>.moved`, or `<from>.moved.N` when taken).
    Moved(PathBuf),
}

/// Moves the log in its own store at `from` into `into`, unless `into` holds a log
/// already, then renames `from` to `<from>.moved`. The log opened in `into` afterwards
/// recomputes its root from the copied nodes and checks it against the copied head.
pub fn adopt(from: &Path, into: &Store) -> Result<Adopted, StoreError> {
    if !from.join("CURRENT").exists() {
        return Ok(Adopted::Nothing);
    }
    if into.get(CF_META, META_HEAD)?.is_none() {
        let old = Store::open(from)?;
        copy(&old, into)?;
    }
    // An earlier move's directory is never replaced: the next free name is taken.
    let moved = (0..1000)
        .map(|n| match n {
            0 => from.with_extension("moved"),
            n => from.with_extension(format!("moved.{n}")),
        })
        .find(|p| !p.exists())
        .ok_or_else(|| StoreError::Corrupt(format!("no free name beside {}", from.display())))?;
    std::fs::rename(from, &moved)
        .map_err(|e| StoreError::Corrupt(format!("cannot rename {}: {e}", from.display())))?;
    tracing::info!(from = %from.display(), to = %moved.display(), "audit log moved into the node's store");
    Ok(Adopted::Moved(moved))
}

fn copy(old: &Store, into: &Store) -> Result<(), StoreError> {
    for cf in [CF_LEAVES, CF_NODES] {
        let (src, dst) = (old.cf(cf)?, into.cf(cf)?);
        let mut batch = WriteBatch::default();
        for item in old.db().iterator_cf(src, IteratorMode::Start) {
            let (k, v) = item?;
            batch.put_cf(dst, k, v);
            if batch.size_in_bytes() >= CHUNK {
                into.write(std::mem::take(&mut batch), false)?;
            }
        }
        into.write(batch, false)?;
    }
    // The meta keys, head last: RocksDB keeps the order of writes, so this synced batch
    // makes everything before it durable too.
    let (src, dst) = (old.cf(CF_META)?, into.cf(CF_META)?);
    let mut batch = WriteBatch::default();
    let mut head = None;
    for item in old.db().iterator_cf(src, IteratorMode::Start) {
        let (k, v) = item?;
        match k.as_ref() {
            META_HEAD => head = Some(v),
            LAYOUT_VERSION_KEY => {}
            _ => batch.put_cf(dst, k, v),
        }
    }
    if let Some(head) = head {
        batch.put_cf(dst, META_HEAD, head);
    }
    into.write(batch, true)
}
