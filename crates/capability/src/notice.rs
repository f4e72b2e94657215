//! Revocation notices: "issuer `iss` revokes token `jti`", a strict EdDSA JWS of type
//! `talos-rev+jwt` signed by `iss`. Nodes gossip them so a revocation reaches verifiers
//! in seconds, before any chain confirms it. A notice proves only who published it; a
//! verifier applies it to a link only if the publisher issued that link or one above it
//! ([`crate::Revocations`]), since token ids are chosen by their issuers.

use serde::{Deserialize, Serialize};
use talos_identity::{IdentityKey, keys};
use talos_primitives::{CapabilityId, Did};

use crate::error::CapError;
use crate::jws;

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
        jws::sign(key, NOTICE_TYP, &n)
    }

    /// Parses a notice and checks its signature by its `iss`.
    pub fn verify(compact: &str) -> Result<RevocationNotice, CapError> {
        let parsed = jws::parse(compact, NOTICE_TYP)?;
        let n: RevocationNotice = jws::canonical_payload(&parsed.payload)?;
        let key = n.iss.as_key().ok_or(CapError::UnknownKid)?;
        if !jws::kid_matches(&parsed.kid, &n.iss.to_string()) {
            return Err(CapError::UnknownKid);
        }
        keys::verify(key, parsed.signing_input.as_bytes(), &parsed.signature)
            .map_err(|_| CapError::BadSignature)?;
        Ok(n)
    }
}
