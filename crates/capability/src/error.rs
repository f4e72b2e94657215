//! The one error type of this crate. Every variant has a stable `kind()` string: the error
//! kinds of FORMAT.md §8. [`CapError::kind`] is the one place errors map to kinds; the CLI
//! prints it and the conformance fixtures name it.

use talos_primitives::CapabilityId;

/// Why a token, chain, invocation or request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CapError {
    /// The token is over the 16 KiB limit.
    #[error("token is {0} bytes, over the 16384-byte limit")]
    TooLarge(usize),
    /// Not three base64url parts, or a part that does not decode to canonical JSON.
    #[error("malformed JWS: {0}")]
    MalformedJws(&'static str),
    /// The header names an algorithm other than EdDSA.
    #[error("unsupported alg (only EdDSA)")]
    BadAlg,
    /// The header's `typ` is not the one this token kind requires.
    #[error("wrong typ")]
    BadTyp,
    /// The header has a parameter we refuse to follow or do not know (`jku`, `x5u`, `jwk`, `crit`, ...).
    #[error("forbidden or unknown JWS header parameter")]
    BadHeader,
    /// The `kid` is not the issuer's did:key verification method.
    #[error("unknown kid")]
    UnknownKid,
    /// The claims are malformed.
    #[error("malformed claims: {0}")]
    MalformedClaims(String),
    /// The signature does not verify.
    #[error("bad signature")]
    BadSignature,
    /// `now >= exp`.
    #[error("token {0} has expired")]
    Expired(CapabilityId),
    /// `now < nbf`.
    #[error("token {0} is not yet valid")]
    NotYetValid(CapabilityId),
    /// A link grants more than its parent: scope, or lifetime.
    #[error("token {0} widens its parent")]
    Widening(CapabilityId),
    /// A link's `prf` does not match its parent, or its issuer is not the parent's holder.
    #[error("broken delegation chain at token {0}")]
    BrokenChain(CapabilityId),
    /// The root is not issued by a trusted root.
    #[error("chain root is not issued by a trusted authority")]
    UntrustedRoot,
    /// More links than the configured maximum.
    #[error("chain of {0} links is deeper than allowed")]
    TooDeep(usize),
    /// A chain with no tokens.
    #[error("empty chain")]
    EmptyChain,
    /// A link in the chain has been revoked.
    #[error("token {0} (or an ancestor) is revoked")]
    Revoked(CapabilityId),
    /// The caller is not the leaf token's holder, or the invocation names another callee.
    #[error("wrong audience or holder")]
    WrongAudience,
    /// The leaf grants nothing that covers the requested action on the resource.
    #[error("not authorized for this action on this resource")]
    NotAuthorized,
    /// The invocation's nonce was seen before, or it is older than the replay window.
    #[error("replayed or stale invocation")]
    Replay,
    /// The invocation does not bind this request (chain, action, resource or arguments).
    #[error("invocation does not match the request")]
    InvocationMismatch,
}

impl CapError {
    /// Every kind [`CapError::kind`] gives (FORMAT.md §8), for those that must tell them
    /// apart from other kinds: the callee's node refuses an agent's answer that names one.
    pub const KINDS: &'static [&'static str] = &[
        "bad_alg",
        "bad_header",
        "bad_signature",
        "bad_typ",
        "broken_chain",
        "empty_chain",
        "expired",
        "invocation_mismatch",
        "malformed_claims",
        "malformed_jws",
        "not_authorized",
        "not_yet_valid",
        "replay",
        "revoked",
        "too_deep",
        "too_large",
        "unknown_kid",
        "untrusted_root",
        "widening",
        "wrong_audience",
    ];

    /// A stable, machine-readable name for the error: one of FORMAT.md §8's kinds.
    pub const fn kind(&self) -> &'static str {
        match self {
            CapError::TooLarge(_) => "too_large",
            CapError::MalformedJws(_) => "malformed_jws",
            CapError::BadAlg => "bad_alg",
            CapError::BadTyp => "bad_typ",
            CapError::BadHeader => "bad_header",
            CapError::UnknownKid => "unknown_kid",
            CapError::MalformedClaims(_) => "malformed_claims",
            CapError::BadSignature => "bad_signature",
            CapError::Expired(_) => "expired",
            CapError::NotYetValid(_) => "not_yet_valid",
            CapError::Widening(_) => "widening",
            CapError::BrokenChain(_) => "broken_chain",
            CapError::UntrustedRoot => "untrusted_root",
            CapError::TooDeep(_) => "too_deep",
            CapError::EmptyChain => "empty_chain",
            CapError::Revoked(_) => "revoked",
            CapError::WrongAudience => "wrong_audience",
            CapError::NotAuthorized => "not_authorized",
            CapError::Replay => "replay",
            CapError::InvocationMismatch => "invocation_mismatch",
        }
    }
}
