//! The durable audit log: RFC 9162 tree nodes and leaves in RocksDB, group-committed.
//!
//! Appenders take the next indices and queue their leaves (a bounded queue: they wait when
//! it is full), then wait until the durable size passes their indices. One group is
//! written at a time: an appender that finds nothing being written writes its own on its
//! thread; otherwise the committer thread takes everything queued (up to `max_batch`)
//! once the running write ends. Either extends the tree in memory, writes leaves, new
//! nodes, size and root in one `WriteBatch` with a synced WAL write, and only then
//! raises the durable size and wakes the waiters, once per group rather than once per
//! appender. If a write fails, the log stops accepting appends until it is reopened: a
//! failed fsync cannot be retried safely, and recovery on open restores a consistent state. A crash before the write loses only
//! unacknowledged appends; a crash after it loses nothing, and RocksDB's atomic batches mean
//! there is never a half-appended entry. On open, the frontier is rebuilt from the stored
//! nodes and its root must equal the stored root.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use rocksdb::WriteBatch;
use talos_audit::hash::leaf_hash;
use talos_audit::tree::{self, Frontier, NodeSource, TreeError};
use talos_primitives::{Hash32, TreeHead};

use crate::db::{CF_LEAVES, CF_META, CF_NODES, Store, StoreError, Writes};

mod adopt;
mod commit;
mod nodes;
pub use adopt::{Adopted, adopt};
use commit::commit_loop;
use nodes::{Nodes, decode_head, encode_head, node_key};

const META_HEAD: &[u8] = b"head";
/// The latest checkpoint the log's owner published (a signed note, cosigned when
/// witnesses answered): what the public read API serves.
const META_PUBLISHED: &[u8] = b"published";

/// Log settings.
#[derive(Debug, Clone, Copy)]
pub struct LogConfig {
    /// Appends waiting to be written, at most (back-pressure beyond that).
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
            // A C2SP entry bundle prefixes each entry with a u16 length.
            max_leaf: talos_audit::tiles::MAX_ENTRY,
        }
    }
}

/// Leaves waiting for the committer, with the index the first one will get.
struct Pending {
    leaves: Vec<Vec<u8>>,
    next_index: u64,
    closed: bool,
    /// Writes that go with an append (`append_many_with`, `append_built`), each with
    /// its append's first index and the index just past its last leaf: written in the
    /// batch that writes that leaf, and such an append is never split across batches.
    side: std::collections::VecDeque<(u64, u64, Writes)>,
    /// A group is being written (by the committer, or by an appender that found the log
    /// idle): whoever set it owns the tree until it clears it.
    committing: bool,
}

/// Key-value records written to the log's `meta` family in the same synced batch as an
/// append's leaves (`append_many_with`): state that must be durable exactly when the
/// events describing it are, such as budget counters.
pub type SideRecords = Vec<(Vec<u8>, Vec<u8>)>;

/// Side records' keys start with this, so they never meet the log's own meta keys.
pub const SIDE_PREFIX: &[u8] = b"side/";

/// What the committer has made durable.
struct Durable {
    head: TreeHead,
    failed: Option<String>,
}

struct Shared {
    pending: Mutex<Pending>,
    /// Signals the committer that work arrived, and appenders that space freed up.
    work: Condvar,
    space: Condvar,
    durable: Mutex<Durable>,
    /// Signals appenders that the durable size moved (or the log failed).
    done: Condvar,
    size: AtomicU64,
    /// The tree's right edge, extended by whoever holds `Pending::committing`.
    frontier: Mutex<Frontier>,
}

/// A durable, append-only audit log.
pub struct AuditLog {
    store: Arc<Store>,
    shared: Arc<Shared>,
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
    /// Opens the log in its own store at `path`, recovering and checking its state.
    pub fn open(path: &Path, config: LogConfig) -> Result<Self, StoreError> {
        Self::open_in(Arc::new(Store::open(path)?), config)
    }

    /// Opens the log in `store`, beside whatever else it holds (the log keeps to the
    /// `leaves` and `nodes` families and its own keys in `meta`): writes of that store
    /// can then go in the log's batches (`append_built`), one fsync for both.
    pub fn open_in(store: Arc<Store>, config: LogConfig) -> Result<Self, StoreError> {
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
        let shared = Arc::new(Shared {
            pending: Mutex::new(Pending {
                leaves: Vec::new(),
                next_index: head.size,
                closed: false,
                side: std::collections::VecDeque::new(),
                committing: false,
            }),
            work: Condvar::new(),
            space: Condvar::new(),
            durable: Mutex::new(Durable { head, failed: None }),
            done: Condvar::new(),
            size: AtomicU64::new(head.size),
            frontier: Mutex::new(frontier),
        });
        let committer = {
            let store = store.clone();
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("talos-audit-commit".into())
                .spawn(move || commit_loop(&store, &shared, config.max_batch.max(1)))
                .map_err(|e| StoreError::Corrupt(format!("cannot start committer: {e}")))?
        };
        Ok(Self {
            store,
            shared,
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
        self.append_many_with(leaves, Vec::new())
    }

    /// [`AuditLog::append_many`], writing `side` (keys without [`SIDE_PREFIX`], which is
    /// added) in the same synced batch as the last of `leaves`. Later records overwrite
    /// earlier ones with the same key, in append order. `leaves` must not be empty when
    /// `side` is not.
    pub fn append_many_with(
        &self,
        leaves: Vec<Vec<u8>>,
        side: SideRecords,
    ) -> Result<std::ops::Range<u64>, StoreError> {
        if leaves.is_empty() && !side.is_empty() {
            return Err(StoreError::Corrupt("side records need a leaf".into()));
        }
        let mut writes = Writes::default();
        for (k, v) in side {
            writes.put(CF_META, &[SIDE_PREFIX, &k].concat(), v);
        }
        let n = leaves.len();
        self.append_built(n, move |_| Ok::<_, StoreError>(leaves), writes)
    }

    /// Appends the leaves `build` makes, given the index the first will get, with
    /// `writes` (to any family of this log's store) in the same synced batch; returns
    /// their index range once all are durable. `build` runs while the log holds its
    /// queue, so indices it writes into its leaves (an event's `seq`) are theirs; it
    /// must return `count` leaves and be quick. With no leaves, `writes` are written on
    /// their own, synced.
    pub fn append_built<E: From<StoreError>>(
        &self,
        count: usize,
        build: impl FnOnce(u64) -> Result<Vec<Vec<u8>>, E>,
        writes: Writes,
    ) -> Result<std::ops::Range<u64>, E> {
        writes.check(&self.store)?;
        if count == 0 {
            let here = self.size();
            if !writes.is_empty() {
                self.store.write_all(writes, true)?;
            }
            return Ok(here..here);
        }
        self.append_built_with(count, move |first| Ok((build(first)?, writes)))
    }

    /// [`AuditLog::append_built`], where `build` also makes the writes, so they may name
    /// the indices the leaves get (an aggregator's record of where it logged a
    /// checkpoint). `count` must be positive.
    pub fn append_built_with<E: From<StoreError>>(
        &self,
        count: usize,
        build: impl FnOnce(u64) -> Result<(Vec<Vec<u8>>, Writes), E>,
    ) -> Result<std::ops::Range<u64>, E> {
        if count == 0 {
            return Err(StoreError::Corrupt("an indexed append needs a leaf".into()).into());
        }
        let poisoned = || StoreError::Corrupt("audit log lock poisoned".into());
        let n = count as u64;
        let (first, inline) = {
            let mut p = self.shared.pending.lock().map_err(|_| poisoned())?;
            // Back-pressure: wait for room (a batch larger than the queue waits for empty).
            while !p.closed
                && !p.leaves.is_empty()
                && p.leaves.len() + count > self.config.queue.max(1)
            {
                p = self.shared.space.wait(p).map_err(|_| poisoned())?;
            }
            if p.closed {
                return Err(StoreError::Closed.into());
            }
            let first = p.next_index;
            let (leaves, writes) = build(first)?;
            writes.check(&self.store)?;
            if leaves.len() != count {
                return Err(
                    StoreError::Corrupt("append built the wrong number of leaves".into()).into(),
                );
            }
            if let Some(big) = leaves.iter().find(|l| l.len() > self.config.max_leaf) {
                return Err(StoreError::Corrupt(format!(
                    "leaf of {} bytes is over the limit",
                    big.len()
                ))
                .into());
            }
            p.next_index += n;
            p.leaves.extend(leaves);
            if !writes.is_empty() {
                let end = p.next_index;
                p.side.push_back((first, end, writes));
            }
            // Nothing being written: this thread writes the group itself. Waking the
            // committer and being woken back cost two thread switches per append, each
            // tens of microseconds on a VM, on a message's path. Appends that arrive
            // meanwhile queue, and the committer takes them as one group after it.
            let inline = (!p.committing).then(|| {
                p.committing = true;
                commit::take_group(&mut p, self.config.max_batch.max(1))
            });
            (first, inline)
        };
        // Not ours to write: a group is being written, and whoever writes it wakes the
        // committer for what queued meanwhile (waking it now would only put it back to
        // sleep, a thread switch per append).
        if let Some((group, side)) = inline {
            self.shared.space.notify_all();
            commit::commit_group(&self.store, &self.shared, &group, side);
        }
        Ok(self.wait_durable(first, n)?)
    }

    fn wait_durable(&self, first: u64, n: u64) -> Result<std::ops::Range<u64>, StoreError> {
        let poisoned = || StoreError::Corrupt("audit log lock poisoned".into());
        let mut d = self.shared.durable.lock().map_err(|_| poisoned())?;
        loop {
            if d.head.size >= first + n {
                return Ok(first..first + n);
            }
            if let Some(e) = &d.failed {
                return Err(StoreError::Corrupt(format!("append not durable: {e}")));
            }
            d = self.shared.done.wait(d).map_err(|_| poisoned())?;
        }
    }

    /// Deletes side records (keys without [`SIDE_PREFIX`]) in one synced write: state
    /// that no longer matters, such as an expired link's budget counter. Only the writer
    /// that puts them should delete them, after its puts are durable, so no pending
    /// append brings one back.
    pub fn delete_side_records(&self, keys: &[Vec<u8>]) -> Result<(), StoreError> {
        if keys.is_empty() {
            return Ok(());
        }
        let cf = self.store.cf(CF_META)?;
        let mut batch = rocksdb::WriteBatch::default();
        for k in keys {
            batch.delete_cf(cf, [SIDE_PREFIX, k].concat());
        }
        self.store.write(batch, true)
    }

    /// The durable side records whose keys start with `prefix` (without
    /// [`SIDE_PREFIX`]), keys returned without it, at most `max`.
    pub fn side_records(&self, prefix: &[u8], max: usize) -> Result<SideRecords, StoreError> {
        let cf = self.store.cf(CF_META)?;
        let start = [SIDE_PREFIX, prefix].concat();
        let mode = rocksdb::IteratorMode::From(&start, rocksdb::Direction::Forward);
        let mut out = SideRecords::new();
        for item in self.store.db().iterator_cf(cf, mode).take(max) {
            let (k, v) = item.map_err(|e| StoreError::Corrupt(e.to_string()))?;
            if !k.starts_with(&start) {
                break;
            }
            let key = k.strip_prefix(SIDE_PREFIX).unwrap_or_default();
            out.push((key.to_vec(), v.to_vec()));
        }
        Ok(out)
    }

    /// The store the log is in.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Durable size.
    pub fn size(&self) -> u64 {
        self.shared.size.load(Ordering::Acquire)
    }

    /// Durable head (size and root).
    pub fn head(&self) -> TreeHead {
        self.shared
            .durable
            .lock()
            .map(|d| d.head)
            .unwrap_or(TreeHead {
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

    /// The durable leaves in `range`, in order (a range past the durable size is cut).
    /// One RocksDB range scan, which never waits for the committer.
    pub fn leaves(&self, range: std::ops::Range<u64>) -> Result<Vec<Vec<u8>>, StoreError> {
        let end = range.end.min(self.size());
        if range.start >= end {
            return Ok(Vec::new());
        }
        let cf = self.store.cf(CF_LEAVES)?;
        let mut ro = rocksdb::ReadOptions::default();
        ro.set_iterate_upper_bound(end.to_be_bytes().to_vec());
        let from = range.start.to_be_bytes();
        let mode = rocksdb::IteratorMode::From(&from, rocksdb::Direction::Forward);
        let mut out = Vec::new();
        for (want, item) in (range.start..end).zip(self.store.db().iterator_cf_opt(cf, ro, mode)) {
            let (k, v) = item?;
            if k.as_ref() != want.to_be_bytes() {
                return Err(StoreError::Corrupt(format!("leaf {want} is missing")));
            }
            out.push(v.into_vec());
        }
        if out.len() as u64 != end - range.start {
            return Err(StoreError::Corrupt("leaves are missing".into()));
        }
        Ok(out)
    }

    /// The latest published checkpoint note, if any.
    pub fn published(&self) -> Result<Option<String>, StoreError> {
        self.store
            .get(CF_META, META_PUBLISHED)?
            .map(|v| String::from_utf8(v).map_err(|_| StoreError::Corrupt("published note".into())))
            .transpose()
    }

    /// Records `note` as the published checkpoint, durably. The caller checks that it
    /// signs a durable head and never goes back.
    pub fn set_published(&self, note: &str) -> Result<(), StoreError> {
        let mut batch = WriteBatch::default();
        batch.put_cf(self.store.cf(CF_META)?, META_PUBLISHED, note.as_bytes());
        self.store.write(batch, true)
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
        // Closing ends the committer after it has written what is queued.
        if let Ok(mut p) = self.shared.pending.lock() {
            p.closed = true;
        }
        self.shared.work.notify_all();
        self.shared.space.notify_all();
        if let Some(h) = self.committer.take() {
            let _ = h.join();
        }
    }
}
