//! The node's RocksDB layer.
//!
//! - [`db`]: one database with named column families, atomic `WriteBatch`es and sync writes.
//! - [`log`]: the durable audit log: appends are group-committed (many appends share one
//!   fsync) and acknowledged only once durable; on open the root is recomputed from the
//!   stored nodes and checked against the stored one.
//!
//! The column families hold the audit log, the embedded EVM, pending
//! anchors, delivery state (sessions, outbox, inbox, held frames, stream counters, resend
//! copies), the mailbox, groups and revocations; writes that belong together go in one
//! atomic batch. The store carries a layout version (`LAYOUT_VERSION`); a newer store is
//! refused rather than misread.
//!
//! Each database opens only the families its owner uses ([`db::NODE_FAMILIES`] for a
//! node's `db`, [`db::CHAIN_FAMILIES`] for the embedded chain, [`db::PENDING_FAMILIES`]
//! for an EVM client's pending writes; [`Store::open`] opens them all), because every
//! family costs memory even when empty. Memory is bounded the same way in every
//! database: 8 MiB memtables per family and 64 MiB per database, one 32 MiB block cache
//! shared by the whole process, at most 512 open files, and an info log rolled at 4 MiB
//! with three old ones kept.
//!
//! ```
//! use talos_store::{Store, db::CF_META};
//! let dir = tempfile::tempdir()?;
//! let store = Store::open(dir.path())?;
//! let mut batch = rocksdb::WriteBatch::default();
//! batch.put_cf(store.cf(CF_META)?, b"example", b"value");
//! store.write(batch, true)?; // atomic, and synced before it returns
//! assert_eq!(store.get(CF_META, b"example")?.as_deref(), Some(b"value".as_slice()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod db;
pub mod log;

pub use db::{Store, StoreError, Writes};
pub use log::{AuditLog, LogConfig, SIDE_PREFIX, SideRecords};
