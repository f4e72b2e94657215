//! Revocation notices: "issuer `iss` revokes token `jti`", a strict EdDSA JWS of type
//! `talos-rev+jwt` signed by `iss`. Nodes gossip them so a revocation reaches verifiers
//! in seconds, before any chain confirms it. A notice proves only who published it; a
//! verifier applies it to a link only if the publisher issued that link or one above it
//! ([`crate::Revocations`]), since token ids are chosen by their issuers.

use serde::{Deserialize, Serialize};
use talos_identity::IdentityKey;
use talos_primitives::{CapabilityId, Did};

use crate::error::CapError;
use crate::statement;

/// The JWS `typ` of a revocation notice.
pub const NOTICE_TYP: &str = "talos-rev+jwt";

/// What a notice says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevocationNotice {
    /// The publisher, who signs.
    pub iss: Did,
    /// The revoked token's id.
    pub jti: CapabilityId,
    /// When it was published (Unix seconds).
    pub iat: u64,
}

impl RevocationNotice {
    /// Signs a notice by `key` for `jti` at `now`.
    pub fn sign(key: &IdentityKey, jti: CapabilityId, now: u64) -> Result<String, CapError> {
        let n = RevocationNotice {
            iss: key.did(),
            jti,
            iat: now,
        };
        statement::sign(key, NOTICE_TYP, &n)
    }

    /// Parses a notice and checks its signature by its `iss`.
    pub fn verify(compact: &str) -> Result<RevocationNotice, CapError> {
        statement::verify(compact, NOTICE_TYP, |n: &RevocationNotice| &n.iss)
    }
}
