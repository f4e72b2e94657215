//! The node's RocksDB layer.
//!
//! - [`db`]: one database with named column families, atomic `WriteBatch`es and sync writes.
//! - [`log`]: the durable audit log: appends are group-committed (many appends share one
//!   fsync) and acknowledged only once durable; on open the root is recomputed from the
//!   stored nodes and checked against the stored one.
//!
//! The column families (`db::FAMILIES`) hold the audit log, the embedded EVM, pending
//! anchors, delivery state (sessions, outbox, inbox, held frames, stream counters, resend
//! copies), the mailbox, groups and revocations; writes that belong together go in one
//! atomic batch. The store carries a layout version (`LAYOUT_VERSION`); a newer store is
//! refused rather than misread.
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
