//! Integration tests for talos-ratchet.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod common;
mod group;
mod handshake;
mod kat;
mod props;
mod ratchet;
mod simultaneous;
mod wycheproof;
