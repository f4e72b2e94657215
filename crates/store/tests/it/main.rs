//! Integration tests for talos-store: real RocksDB, real processes for the crash test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod crash;
mod families;
mod log;
