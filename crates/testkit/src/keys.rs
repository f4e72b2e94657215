//! Deterministic identity fixtures: the same seed gives the same key in every test.

use talos_identity::keys::{IdentityKey, IdentitySeed};

/// The identity whose seed is 32 bytes of `n`.
pub fn identity(n: u8) -> IdentityKey {
    from_seed([n; 32])
}

/// The identity of a 32-byte seed.
pub fn from_seed(seed: [u8; 32]) -> IdentityKey {
    IdentityKey::from_seed(&IdentitySeed::from_bytes(seed)).unwrap()
}
