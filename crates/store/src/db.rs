//! RocksDB with the column families talos uses.

use std::path::Path;

use std::sync::OnceLock;

use rocksdb::{
    BlockBasedOptions, Cache, ColumnFamilyDescriptor, DB, LruCacheOptions, Options, WriteBatch,
    WriteOptions,
};

/// Column family: log metadata (size, root).
pub const CF_META: &str = "meta";
/// Column family: leaf data by index.
pub const CF_LEAVES: &str = "leaves";
/// Column family: Merkle nodes by (level, index).
pub const CF_NODES: &str = "nodes";

/// Column family: embedded EVM accounts (address -> balance, nonce, code hash).
pub const CF_EVM_ACCOUNTS: &str = "evm_accounts";
/// Column family: embedded EVM contract code by hash.
pub const CF_EVM_CODE: &str = "evm_code";
/// Column family: embedded EVM storage (address ‖ slot -> value).
pub const CF_EVM_STORAGE: &str = "evm_storage";
/// Column family: embedded EVM blocks by number.
pub const CF_EVM_BLOCKS: &str = "evm_blocks";
/// Column family: embedded EVM logs by (block, index).
pub const CF_EVM_LOGS: &str = "evm_logs";
/// Column family: embedded EVM log index by (topic0, topic1, block, index).
pub const CF_EVM_LOG_TOPICS: &str = "evm_log_topics";
/// Column family: embedded EVM chain metadata (head, contract address).
pub const CF_EVM_META: &str = "evm_meta";
/// Column family: chain transactions sent but not yet confirmed.
pub const CF_ANCHOR_PENDING: &str = "anchor_pending";
/// Column family: ratchet sessions by peer key, sealed at rest.
pub const CF_SESSIONS: &str = "sessions";
/// Column family: frames sent and not yet acknowledged, by (peer, seq).
pub const CF_OUTBOX: &str = "outbox";
/// Column family: messages delivered to the local agent, by inbox index, sealed.
pub const CF_INBOX: &str = "inbox";
/// Column family: frames that arrived ahead of a gap, by (peer, seq), kept until it fills.
pub const CF_HELD: &str = "held";
/// Column family: per-peer stream counters and the delivery metadata.
pub const CF_STREAMS: &str = "streams";
/// Column family: the mailbox service: ciphertext frames held for registered recipients.
pub const CF_MAILBOX: &str = "mailbox";
/// Column family: sender-key groups (sealed state, membership logs, invitations, items
/// waiting for their epoch, group sends waiting for a session).
pub const CF_GROUPS: &str = "groups";
/// Column family: capability ids this node has revoked or learned are revoked (permanent).
pub const CF_REVOCATIONS: &str = "revocations";
/// Column family: the sealed plaintext of each unacknowledged outbox frame, by (peer,
/// seq), so a frame the peer refuses can be encrypted again on a new session.
pub const CF_RESEND: &str = "resend";

/// `meta` key: the layout version of the data in this store (u32, big-endian).
pub const LAYOUT_VERSION_KEY: &[u8] = b"layout-version";
/// The layout this build reads and writes. 1: any store written before versions were
/// recorded. 2: inbox usage counts and time markers, expiring mailbox registrations,
/// the `resend` family. 3: the audit log lives in this store (it had its own, which
/// `talos_node::home::Home::open_stores` moves in before anything else opens). Each step
/// up is a migration that `talos up` runs at open, in one synced write with the new
/// version (`talos_delivery::Mailroom::open`).
pub const LAYOUT_VERSION: u32 = 3;

/// The families of a node's own database (`<home>/db`).
pub const NODE_FAMILIES: [&str; 12] = [
    CF_META,
    CF_LEAVES,
    CF_NODES,
    CF_SESSIONS,
    CF_OUTBOX,
    CF_INBOX,
    CF_HELD,
    CF_STREAMS,
    CF_MAILBOX,
    CF_GROUPS,
    CF_REVOCATIONS,
    CF_RESEND,
];

/// The families of the embedded EVM chain's database (`<home>/chain`).
pub const CHAIN_FAMILIES: [&str; 8] = [
    CF_META,
    CF_EVM_ACCOUNTS,
    CF_EVM_CODE,
    CF_EVM_STORAGE,
    CF_EVM_BLOCKS,
    CF_EVM_LOGS,
    CF_EVM_LOG_TOPICS,
    CF_EVM_META,
];

/// The families of an EVM client's pending transactions (`<home>/anchor-pending`).
pub const PENDING_FAMILIES: [&str; 2] = [CF_META, CF_ANCHOR_PENDING];

/// Memtable size per family: RocksDB's default (64 MiB) times every family would let
/// a busy node hold gigabytes in memtables.
const FAMILY_WRITE_BUFFER: usize = 8 << 20;
/// All memtables of one database together; past this RocksDB flushes the largest.
const DB_WRITE_BUFFER: usize = 64 << 20;
/// The one block cache every family of every database in the process shares (RocksDB
/// otherwise gives each family its own 32 MiB cache and its shard array, ~25 KB each
/// even when empty).
const BLOCK_CACHE: usize = 32 << 20;
/// RocksDB's info log: rolled at this size, and only this many old ones are kept
/// (its default keeps 1,000, one more at every start).
const INFO_LOG_SIZE: usize = 4 << 20;
const INFO_LOGS_KEPT: usize = 3;

fn is_empty(db: &DB, name: &str) -> Result<bool, StoreError> {
    let Some(cf) = db.cf_handle(name) else {
        return Ok(true);
    };
    let mut it = db.raw_iterator_cf(cf);
    it.seek_to_first();
    it.status()?;
    Ok(!it.valid())
}

fn db_options() -> Options {
    let mut opts = family_options();
    opts.create_if_missing(true);
    opts.create_missing_column_families(true);
    opts.set_db_write_buffer_size(DB_WRITE_BUFFER);
    opts.set_max_open_files(512);
    opts.set_max_log_file_size(INFO_LOG_SIZE);
    opts.set_keep_log_file_num(INFO_LOGS_KEPT);
    opts
}

fn family_options() -> Options {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(|| {
        let mut lru = LruCacheOptions::default();
        lru.set_capacity(BLOCK_CACHE);
        // Four shards: two cores contend little, and each shard costs memory up front.
        lru.set_num_shard_bits(2);
        Cache::new_lru_cache_opts(&lru)
    });
    let mut table = BlockBasedOptions::default();
    table.set_block_cache(cache);
    let mut opts = Options::default();
    opts.set_block_based_table_factory(&table);
    opts.set_write_buffer_size(FAMILY_WRITE_BUFFER);
    opts
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// RocksDB reported an error.
    #[error("rocksdb: {0}")]
    Rocks(#[from] rocksdb::Error),
    /// A column family is missing (the database was made by something else).
    #[error("missing column family {0}")]
    MissingFamily(&'static str),
    /// Stored data does not have the expected shape, or the recomputed root differs.
    #[error("corrupt store: {0}")]
    Corrupt(String),
    /// The committer thread is gone (the log was closed or it failed).
    #[error("audit log is closed")]
    Closed,
    /// A Merkle operation failed.
    #[error(transparent)]
    Tree(#[from] talos_audit::TreeError),
    /// The store was written by a newer talos: this build does not know its layout and
    /// will not touch it.
    #[error("store layout version {found} is newer than this build's {supported}; upgrade talos")]
    TooNew {
        /// The version on disk.
        found: u32,
        /// [`LAYOUT_VERSION`].
        supported: u32,
    },
}

/// Writes named by column family, for another writer to put in its batch: the audit
/// log's group commit takes them with an append's leaves, so the state an event describes
/// and the event are one atomic batch and one fsync (`AuditLog::append_built`).
#[derive(Default, Clone)]
pub struct Writes(Vec<Write>);

/// One write: family, key, and the value (none: a delete).
type Write = (&'static str, Vec<u8>, Option<Vec<u8>>);

impl std::fmt::Debug for Writes {
    // Values may be sealed state or message bodies: only the count is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writes")
            .field("len", &self.0.len())
            .finish()
    }
}

impl Writes {
    /// Puts `value` under `key` in family `cf`.
    pub fn put(&mut self, cf: &'static str, key: &[u8], value: Vec<u8>) {
        self.0.push((cf, key.to_vec(), Some(value)));
    }

    /// Deletes `key` from family `cf`.
    pub fn delete(&mut self, cf: &'static str, key: &[u8]) {
        self.0.push((cf, key.to_vec(), None));
    }

    /// No writes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The number of writes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The puts to family `cf`, in order, as (key, value).
    pub fn puts_to<'a>(&'a self, cf: &'a str) -> impl Iterator<Item = (&'a [u8], &'a [u8])> {
        self.0.iter().filter_map(move |(c, k, v)| match v {
            Some(v) if *c == cf => Some((k.as_slice(), v.as_slice())),
            _ => None,
        })
    }

    /// Appends `other`'s writes after these (a later write to a key wins).
    pub fn extend(&mut self, other: Writes) {
        self.0.extend(other.0);
    }

    /// Every family named exists in `store`: checked before a writer queues them, so a
    /// bad name fails its caller rather than the writer's whole batch.
    pub fn check(&self, store: &Store) -> Result<(), StoreError> {
        for (cf, _, _) in &self.0 {
            store.cf(cf)?;
        }
        Ok(())
    }

    /// Adds the writes to `batch`, in order.
    pub fn apply(self, store: &Store, batch: &mut WriteBatch) -> Result<(), StoreError> {
        for (cf, key, value) in self.0 {
            let handle = store.cf(cf)?;
            match value {
                Some(v) => batch.put_cf(handle, key, v),
                None => batch.delete_cf(handle, key),
            }
        }
        Ok(())
    }
}

/// A RocksDB database with talos's column families.
#[derive(Debug)]
pub struct Store {
    db: DB,
}

impl Store {
    /// Opens (creating if needed) the database at `path` with every family talos has.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_families(
            path,
            &[&NODE_FAMILIES[..], &CHAIN_FAMILIES, &PENDING_FAMILIES].concat(),
        )
    }

    /// Opens (creating if needed) the database at `path` with the families `wanted`
    /// (one of [`NODE_FAMILIES`], [`CHAIN_FAMILIES`], [`PENDING_FAMILIES`]), plus
    /// [`CF_META`] and any family the database already has (RocksDB refuses to open
    /// without naming them all). Each family costs memory even when empty (~50 KB of
    /// caches and bookkeeping), so a database opens only those its owner uses; a family
    /// not opened is [`StoreError::MissingFamily`].
    pub fn open_families(path: &Path, wanted: &[&'static str]) -> Result<Self, StoreError> {
        let opts = db_options();
        // A database that does not exist yet has no families to list.
        let existing = DB::list_cf(&opts, path).unwrap_or_default();
        let mut names: Vec<String> = existing;
        for name in std::iter::once(&CF_META).chain(wanted) {
            if !names.iter().any(|n| n == name) {
                names.push((*name).to_string());
            }
        }
        let cfs = names
            .iter()
            .map(|n| ColumnFamilyDescriptor::new(n, family_options()));
        let mut db = DB::open_cf_descriptors(&opts, path, cfs)?;
        // Families this owner never uses that an older build created (every database
        // had all of them) are dropped while empty, so old homes shrink too.
        for name in &names {
            let unused = name != rocksdb::DEFAULT_COLUMN_FAMILY_NAME
                && name != CF_META
                && !wanted.contains(&name.as_str());
            if unused && is_empty(&db, name)? {
                db.drop_cf(name)?;
            }
        }
        Ok(Self { db })
    }

    /// A column family handle.
    pub fn cf(&self, name: &'static str) -> Result<&rocksdb::ColumnFamily, StoreError> {
        self.db
            .cf_handle(name)
            .ok_or(StoreError::MissingFamily(name))
    }

    /// Reads a value.
    pub fn get(&self, cf: &'static str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.db.get_cf(self.cf(cf)?, key)?)
    }

    /// Writes a batch atomically; with `sync`, returns only once it is on disk.
    pub fn write(&self, batch: WriteBatch, sync: bool) -> Result<(), StoreError> {
        let mut wo = WriteOptions::default();
        wo.set_sync(sync);
        Ok(self.db.write_opt(batch, &wo)?)
    }

    /// Writes `writes` atomically; with `sync`, returns only once they are on disk.
    pub fn write_all(&self, writes: Writes, sync: bool) -> Result<(), StoreError> {
        let mut batch = WriteBatch::default();
        writes.apply(self, &mut batch)?;
        self.write(batch, sync)
    }

    /// The layout version of the data on disk: 1 when none is recorded (a store from
    /// before versions were). A version newer than [`LAYOUT_VERSION`] is refused.
    pub fn layout_version(&self) -> Result<u32, StoreError> {
        let found = match self.get(CF_META, LAYOUT_VERSION_KEY)? {
            None => 1,
            Some(v) => <[u8; 4]>::try_from(v.as_slice())
                .map(u32::from_be_bytes)
                .map_err(|_| StoreError::Corrupt("layout version".into()))?,
        };
        if found > LAYOUT_VERSION {
            return Err(StoreError::TooNew {
                found,
                supported: LAYOUT_VERSION,
            });
        }
        Ok(found)
    }

    /// The underlying database.
    pub fn db(&self) -> &DB {
        &self.db
    }
}
