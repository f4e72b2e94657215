//! talos-anchor integration tests: one suite, run against the embedded EVM and against a
//! real anvil; plus each backend's own durability tests; and the substrate backend
//! against a real `talos-chain --dev`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod aggregated;
mod common;
mod embedded;
mod evm;
mod evm_fees;
mod squatting;
mod substrate;
mod suite;
