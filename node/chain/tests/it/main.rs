//! talos-chain's own tests: the committed chain specs match the runtime, and a
//! four-validator consortium from `chain-spec/local.json` keeps finalizing with one
//! validator down and catches it up when it returns.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod consortium;
mod specs;
