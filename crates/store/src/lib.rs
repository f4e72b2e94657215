//! The node's RocksDB layer.
//!
//! - [`db`]: one database with named column families, atomic `WriteBatch`es and sync writes.
//! - [`log`]: the durable audit log: appends are group-committed (many appends share one
//!   fsync) and acknowledged only once durable; on open the root is recomputed from the
//!   stored nodes and checked against the stored one.
//!
//! Later issues add column families here (ratchet sessions, inbox, outbox, anchors) and
//! write them in the same atomic batches.

pub mod db;
pub mod log;

pub use db::{Store, StoreError};
pub use log::{AuditLog, LogConfig};
