//! talos-anchor integration tests: one suite, run against the embedded EVM and against a
//! real anvil; plus each backend's own durability tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod anvil;
mod common;
mod embedded;
mod evm;
mod suite;
