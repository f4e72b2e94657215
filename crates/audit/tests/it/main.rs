//! Integration tests for talos-audit.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod aggregate;
mod events;
mod notes;
mod proofs;
