//! talos-chain's own tests: the committed chain specs match the runtime; a consortium
//! from `chain-spec/local.json` takes a fifth validator by governance, keeps finalizing
//! with one validator down and catches it up when it returns; and the pool refuses
//! signers who are not members.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod consortium;
mod signers;
mod specs;
