//! Integration tests for talos-identity.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod did_documents;
mod keystore;
mod malformed;
mod peer_id;
mod roundtrip;
mod talos_did;
mod vectors;

use std::path::PathBuf;

pub(crate) fn vector_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(rel)
}

pub(crate) fn read_json(rel: &str) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(vector_path(rel)).unwrap()).unwrap()
}

pub(crate) fn seeded(n: u8) -> talos_identity::IdentityKey {
    talos_identity::IdentityKey::from_seed(&talos_identity::IdentitySeed::from_bytes([n; 32]))
        .unwrap()
}
