//! talos-reputation's tests: reports, the score's rules, the Sybil bound, determinism,
//! and the known-answer file.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod book;
mod common;
mod report;
mod score;
mod vectors;
