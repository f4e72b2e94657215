//! Integration tests for talos-capability.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod approval;
mod censorship;
mod common;
mod conformance;
mod format;
mod notice;
mod props;
mod replay;
mod resources;
mod stateful;
mod txn;
mod warm;
