//! Approvals (FORMAT.md §3.5, `apv`): what an approver signs to let one held call
//! through, and the call digest it signs. An approval is a statement under the strict
//! JWS rules of §1.1 (`typ` `talos-approval+jwt`); its commitment (SHA-256 of the compact
//! form) is what the callee's audit log records beside the call it admitted.

use serde::{Deserialize, Serialize};
use talos_identity::IdentityKey;
use talos_primitives::{CapabilityId, Commitment, Did, Hash32};

use crate::error::CapError;
use crate::{jws, statement, token::commitment_of};

/// The JWS `typ` of an approval.
pub const APPROVAL_TYP: &str = "talos-approval+jwt";
/// The longest an approval counts after it was signed (seconds): a held call lapses
/// sooner (the node holds one for at most this long).
pub const MAX_APPROVAL_AGE: u64 = 3600;

/// An approval's claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalClaims {
    /// The approver (a did:key the caveat lists).
    pub iss: Did,
    /// The callee, whose node holds the call.
    pub aud: Did,
    /// The approval request's id (32 lowercase hex digits: the digest's first 16 bytes).
    pub req: CapabilityId,
    /// The call digest (§3.5), 64 lowercase hex digits.
    pub dig: Hash32,
    /// When it was signed (Unix seconds).
    pub iat: u64,
    /// 16 random bytes, hex: two approvals of identical calls differ, so a spent one is
    /// told apart from a new one.
    pub jti: CapabilityId,
}

/// A verified approval and its commitment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    /// The claims, signed by `iss`.
    pub claims: ApprovalClaims,
    /// SHA-256 of the compact form.
    pub commitment: Commitment,
}

/// The call digest approvals sign: SHA-256 of the RFC 8785 form of
/// `{"action", "args", "callee", "caller", "leaf", "resource"}`, where `leaf` is the
/// chain leaf's commitment (hex). The nonce and time are left out, so the caller may
/// send the same call again, with a fresh nonce, once it is approved.
pub fn call_digest(
    caller: &Did,
    callee: &Did,
    leaf: &Commitment,
    resource: &str,
    action: &str,
    args: &serde_json::Map<String, serde_json::Value>,
) -> Result<Hash32, CapError> {
    // Borrowed, in the members' canonical (sorted) order: no copy of the arguments.
    #[derive(Serialize)]
    struct Input<'a> {
        action: &'a str,
        args: &'a serde_json::Map<String, serde_json::Value>,
        callee: &'a Did,
        caller: &'a Did,
        leaf: &'a Commitment,
        resource: &'a str,
    }
    let v = Input {
        action,
        args,
        callee,
        caller,
        leaf,
        resource,
    };
    talos_identity::jcs::digest(&v).map_err(|e| CapError::MalformedClaims(e.to_string()))
}

/// The request id of a call digest: its first 16 bytes (so the caller, the callee and
/// the approvers all name a held call alike).
pub fn request_id(dig: &Hash32) -> CapabilityId {
    let mut id = [0u8; 16];
    for (o, b) in id.iter_mut().zip(dig.0) {
        *o = b;
    }
    CapabilityId(id)
}

/// Signs an approval of the call `dig` held at `aud`'s node, at `iat`, with id `jti`
/// (random in use; fixed only for known answers).
pub fn sign(
    key: &IdentityKey,
    aud: Did,
    dig: Hash32,
    iat: u64,
    jti: CapabilityId,
) -> Result<String, CapError> {
    jws::check_integer("iat", iat)?;
    let claims = ApprovalClaims {
        iss: key.did(),
        aud,
        req: request_id(&dig),
        dig,
        iat,
        jti,
    };
    statement::sign(key, APPROVAL_TYP, &claims)
}

/// Verifies an approval's form and signature (not whom it names: the callee checks
/// `aud`, `dig`, the approver and the age against the call it holds).
pub fn verify(compact: &str) -> Result<Approval, CapError> {
    let claims: ApprovalClaims =
        statement::verify(compact, APPROVAL_TYP, |c: &ApprovalClaims| &c.iss)?;
    jws::check_integer("iat", claims.iat)?;
    if claims.req != request_id(&claims.dig) {
        return Err(CapError::MalformedClaims(
            "req must be the digest's first 16 bytes".into(),
        ));
    }
    Ok(Approval {
        claims,
        commitment: commitment_of(compact),
    })
}
