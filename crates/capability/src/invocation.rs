//! Detached invocations: the holder's proof of possession when the request does not arrive
//! over a channel already authenticated to the holder's key.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use talos_identity::{IdentityKey, jcs, keys};
use talos_primitives::{Commitment, Did, Hash32};

use crate::error::CapError;
use crate::jws;
use crate::nonce::ReplayCache;

/// The JWS `typ` of an invocation.
pub const INV_TYP: &str = "talos-inv+jwt";

/// What an invocation binds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvocationClaims {
    /// The holder (the leaf token's `aud`), who signs.
    pub iss: Did,
    /// The callee: the agent that will run the request.
    pub aud: Did,
    /// The leaf token's commitment, which binds the whole chain.
    pub chn: Commitment,
    /// The action.
    pub act: String,
    /// The resource.
    pub res: String,
    /// SHA-256 of the JCS form of the arguments object.
    pub arg: Hash32,
    /// 16 random bytes, hex.
    pub non: talos_primitives::CapabilityId,
    /// Issued at (Unix seconds).
    pub iat: u64,
}

/// What is being asked.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The callee (this agent).
    pub callee: &'a Did,
    /// Resource, concrete.
    pub resource: &'a str,
    /// Action.
    pub action: &'a str,
    /// Arguments (caveats are checked against these).
    pub args: &'a Map<String, Value>,
    /// Now, Unix seconds.
    pub now: u64,
}

/// The digest an invocation carries for a set of arguments.
pub fn args_digest(args: &Map<String, Value>) -> Result<Hash32, CapError> {
    jcs::digest(args).map_err(|e| CapError::MalformedClaims(e.to_string()))
}

/// Signs an invocation for a request under a chain whose leaf is `leaf`.
pub fn sign(
    holder: &IdentityKey,
    leaf: Commitment,
    req: &Request<'_>,
    nonce: [u8; 16],
) -> Result<String, CapError> {
    let claims = InvocationClaims {
        iss: holder.did(),
        aud: *req.callee,
        chn: leaf,
        act: req.action.to_string(),
        res: req.resource.to_string(),
        arg: args_digest(req.args)?,
        non: talos_primitives::CapabilityId(nonce),
        iat: req.now,
    };
    jws::sign(holder, INV_TYP, &claims)
}

/// Checks an invocation against the request, the chain's holder and leaf, and the replay
/// cache, in the order of FORMAT.md §6. The nonce is recorded only once everything else
/// has passed.
pub fn verify(
    compact: &str,
    holder: &Did,
    leaf: Commitment,
    req: &Request<'_>,
    nonces: &mut ReplayCache<Did>,
) -> Result<(), CapError> {
    let parsed = jws::parse(compact, INV_TYP)?;
    let claims: InvocationClaims = jws::canonical_payload(&parsed.payload)?;
    jws::check_integer("iat", claims.iat)?;
    let key = holder.as_key().ok_or(CapError::WrongAudience)?;
    if &claims.iss != holder || &claims.aud != req.callee {
        return Err(CapError::WrongAudience);
    }
    if !jws::kid_matches(&parsed.kid, &holder.to_string()) {
        return Err(CapError::UnknownKid);
    }
    if claims.chn != leaf
        || claims.act != req.action
        || claims.res != req.resource
        || claims.arg != args_digest(req.args)?
    {
        return Err(CapError::InvocationMismatch);
    }
    keys::verify(key, parsed.signing_input.as_bytes(), &parsed.signature)
        .map_err(|_| CapError::BadSignature)?;
    // Kept per holder: the signature just checked binds the invocation to it, so nobody
    // else can replay it, and one holder's dates cannot move another's floor.
    nonces.check(holder, claims.non.0, claims.iat, req.now)
}
