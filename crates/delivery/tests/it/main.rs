//! talos-delivery against real RocksDB stores: order, exactly-once, reopen.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod groups;
mod limits;
mod mailbox_quotas;
mod mailroom;
mod migrate;
mod refused;
mod streams;
