//! Fixtures: deterministic keys and reports.

use talos_identity::{IdentityKey, IdentitySeed};
use talos_primitives::{CapabilityId, Did, Hash32};
use talos_reputation::{Kind, Report, SignedReport};

/// 2026-12-04T00:00:00Z.
pub(crate) const NOW: u64 = 1_796_342_400;

/// A key from a seed byte and an index, so thousands of distinct keys are reproducible.
pub(crate) fn key(tag: u8, i: u32) -> IdentityKey {
    let mut seed = [tag; 32];
    seed[..4].copy_from_slice(&i.to_le_bytes());
    IdentityKey::from_seed(&IdentitySeed::from_bytes(seed)).expect("seed")
}

/// A signed, verified report by `by` about `sub`.
pub(crate) fn report(by: &IdentityKey, sub: Did, kind: Kind, iat: u64, jti: u8) -> SignedReport {
    let compact = Report::sign(
        by,
        sub,
        kind,
        vec![Hash32([jti; 32])],
        iat,
        CapabilityId([jti; 16]),
    )
    .expect("sign");
    Report::verify(&compact).expect("verify")
}
