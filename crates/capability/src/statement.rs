//! Signed statements: the strict EdDSA JWS of every talos token (FORMAT.md §1.1), for
//! the other things a DID states and others check: revocation notices ([`crate::notice`])
//! and misbehaviour reports (`talos-reputation`). One parser, so a statement is held to
//! exactly the rules a capability is (canonical JCS payload, `kid` = the signer's
//! did:key, no repeated members, bounded size).

use serde::Serialize;
use serde::de::DeserializeOwned;
use talos_identity::{IdentityKey, keys};
use talos_primitives::Did;

use crate::error::CapError;
use crate::jws;

/// Signs `claims` by `key` as a compact JWS of type `typ` (`kid`: the key's did:key).
pub fn sign<T: Serialize>(key: &IdentityKey, typ: &str, claims: &T) -> Result<String, CapError> {
    jws::sign(key, typ, claims)
}

/// Parses a compact JWS of type `typ` whose payload is the canonical encoding of a `T`,
/// and checks its signature by the DID `signer` names in it (its `kid` must be that
/// did:key's). Every failure is a typed [`CapError`], never a panic.
pub fn verify<T: DeserializeOwned + Serialize>(
    compact: &str,
    typ: &str,
    signer: impl FnOnce(&T) -> &Did,
) -> Result<T, CapError> {
    let parsed = jws::parse(compact, typ)?;
    let claims: T = jws::canonical_payload(&parsed.payload)?;
    let did = signer(&claims);
    let key = did.as_key().ok_or(CapError::UnknownKid)?;
    if !jws::kid_matches(&parsed.kid, &did.to_string()) {
        return Err(CapError::UnknownKid);
    }
    keys::verify(key, parsed.signing_input.as_bytes(), &parsed.signature)
        .map_err(|_| CapError::BadSignature)?;
    Ok(claims)
}
