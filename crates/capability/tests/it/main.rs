//! Integration tests for talos-capability.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
mod conformance;
mod notice;
mod props;
mod txn;
mod warm;
