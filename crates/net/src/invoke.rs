//! The `/talos/invoke/1.0.0` wire format: a request to a peer agent under a capability
//! chain, and the answer. JSON (one length-prefixed document each way), because every
//! field but the arguments is already text (compact JWS tokens, a DID-bound invocation,
//! resource and action names) and the arguments are the JSON object the capability's
//! caveats are checked against; a binary format would only re-encode them.
//!
//! The request rides a Noise-authenticated connection, so the receiving node knows which
//! key sent it: that key must be the chain's holder (the connection is the proof of
//! possession), and the nonce and time make a re-sent call detectable. A detached
//! invocation (signed by the holder, with its own nonce and time) can be added as a
//! signed proof of this very call.
//!
//! [`InvokeRequest::parse`] and [`InvokeResponse::parse`] are the only way in: size,
//! shape and every bound are checked there, so what the node sees is well-formed.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use thiserror::Error;

/// The protocol name.
pub const INVOKE_PROTOCOL: &str = "/talos/invoke/1.0.0";
/// The largest encoded request.
pub const MAX_INVOKE_REQUEST: usize = 64 * 1024;
/// The largest encoded response.
pub const MAX_INVOKE_RESPONSE: usize = 256 * 1024;
/// Most tokens in a chain.
pub const MAX_CHAIN: usize = 8;
/// The longest token or invocation (compact JWS).
pub const MAX_JWS: usize = 16 * 1024;
/// The longest resource or action name.
pub const MAX_NAME: usize = 512;
/// The longest refusal or failure kind.
pub const MAX_KIND: usize = 32;
/// Most attestation credentials one call carries, and the largest (bytes).
pub const MAX_ATTESTATIONS: usize = 2;
/// See [`MAX_ATTESTATIONS`].
pub const MAX_ATTESTATION: usize = 16 * 1024;

/// Why a request is not well-formed.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum InvokeError {
    /// Larger than the protocol allows.
    #[error("invoke message of {0} bytes exceeds the limit")]
    TooLarge(usize),
    /// Not the JSON shape of the protocol.
    #[error("malformed invoke message: {0}")]
    Malformed(String),
    /// A field outside its bounds.
    #[error("invoke field `{0}` out of bounds")]
    Bounds(&'static str),
}

/// A call to a peer agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvokeRequest {
    /// The capability chain, compact JWS tokens, root first (empty for a call under a
    /// transaction token).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chain: Vec<String>,
    /// Or the transaction token's hops, first first, the last one minted by the caller
    /// for the callee (draft-ietf-oauth-transaction-tokens: replaced at each hop).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub txn: Vec<String>,
    /// 16 random bytes, hex: the call's id; a second call with it is refused as a replay.
    pub nonce: String,
    /// When the call was made (Unix milliseconds: the replay cache's floor moves in
    /// these steps, so a busy callee never refuses fresh calls from the current second);
    /// calls far from the callee's clock are refused as stale.
    pub at_ms: u64,
    /// The holder's detached invocation (compact JWS) binding the chain's leaf, the
    /// callee, the resource, the action, the arguments' digest, a nonce and a time: an
    /// extra, signed proof (the callee still requires the connection to be the holder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invocation: Option<String>,
    /// The concrete resource.
    pub resource: String,
    /// The action.
    pub action: String,
    /// The arguments (what caveats are checked against, and what the callee's agent gets).
    pub args: Map<String, Value>,
    /// The caller's W3C trace context, if any: recorded in the callee's audit event for
    /// the call, so both sides' traces join.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<talos_primitives::TraceParent>,
    /// The caller's attestation credentials (docs/attestation.md), JSON text, sent when
    /// its chain's leaf has an `att` caveat: at most [`MAX_ATTESTATIONS`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub att: Vec<String>,
}

/// The answer to a call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case", deny_unknown_fields)]
pub enum InvokeResponse {
    /// The callee's agent ran it and answered.
    Ok {
        /// What the agent answered.
        result: Value,
    },
    /// The callee's node refused it before its agent saw it.
    Refused {
        /// Why, as a fixed name: the capability crate's error kinds (`expired`,
        /// `revoked`, `not_authorized`, `replay`, ...) or the node's own
        /// (`rate_limited`, `busy`, `not_holder`).
        kind: String,
    },
    /// It was authorized but did not complete.
    Failed {
        /// `agent_timeout` (the agent did not answer in time) or `agent_error`.
        kind: String,
        /// The agent's error message, if it gave one (bounded).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
}

fn check(ok: bool, field: &'static str) -> Result<(), InvokeError> {
    if ok {
        Ok(())
    } else {
        Err(InvokeError::Bounds(field))
    }
}

fn kind_ok(kind: &str) -> bool {
    !kind.is_empty()
        && kind.len() <= MAX_KIND
        && kind.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

impl InvokeRequest {
    /// Parses and bounds-checks an encoded request.
    pub fn parse(bytes: &[u8]) -> Result<Self, InvokeError> {
        if bytes.len() > MAX_INVOKE_REQUEST {
            return Err(InvokeError::TooLarge(bytes.len()));
        }
        let req: Self =
            serde_json::from_slice(bytes).map_err(|e| InvokeError::Malformed(e.to_string()))?;
        // Exactly one authority: a capability chain or a transaction token.
        check(
            req.chain.is_empty() != req.txn.is_empty()
                && req.chain.len() <= MAX_CHAIN
                && req.txn.len() <= MAX_CHAIN,
            "chain",
        )?;
        check(
            req.chain
                .iter()
                .chain(&req.txn)
                .all(|t| !t.is_empty() && t.len() <= MAX_JWS),
            "chain",
        )?;
        check(
            req.invocation
                .as_ref()
                .is_none_or(|i| !i.is_empty() && i.len() <= MAX_JWS),
            "invocation",
        )?;
        check(
            req.att.len() <= MAX_ATTESTATIONS
                && req
                    .att
                    .iter()
                    .all(|a| !a.is_empty() && a.len() <= MAX_ATTESTATION),
            "att",
        )?;
        check(req.nonce_bytes().is_some(), "nonce")?;
        check(
            !req.resource.is_empty() && req.resource.len() <= MAX_NAME,
            "resource",
        )?;
        check(
            !req.action.is_empty() && req.action.len() <= MAX_NAME,
            "action",
        )?;
        Ok(req)
    }

    /// The nonce's 16 bytes (parsing guarantees there are).
    pub fn nonce_bytes(&self) -> Option<[u8; 16]> {
        let mut out = [0u8; 16];
        hex::decode_to_slice(&self.nonce, &mut out).ok()?;
        Some(out)
    }

    /// The encoding (what [`parse`](Self::parse) reads).
    pub fn encode(&self) -> Result<Vec<u8>, InvokeError> {
        let out = serde_json::to_vec(self).map_err(|e| InvokeError::Malformed(e.to_string()))?;
        if out.len() > MAX_INVOKE_REQUEST {
            return Err(InvokeError::TooLarge(out.len()));
        }
        Ok(out)
    }
}

impl InvokeResponse {
    /// Parses and bounds-checks an encoded response.
    pub fn parse(bytes: &[u8]) -> Result<Self, InvokeError> {
        if bytes.len() > MAX_INVOKE_RESPONSE {
            return Err(InvokeError::TooLarge(bytes.len()));
        }
        let resp: Self =
            serde_json::from_slice(bytes).map_err(|e| InvokeError::Malformed(e.to_string()))?;
        match &resp {
            InvokeResponse::Ok { .. } => {}
            InvokeResponse::Refused { kind } => check(kind_ok(kind), "kind")?,
            InvokeResponse::Failed { kind, detail } => {
                check(kind_ok(kind), "kind")?;
                check(
                    detail.as_ref().is_none_or(|d| d.len() <= MAX_NAME),
                    "detail",
                )?;
            }
        }
        Ok(resp)
    }

    /// The encoding (what [`parse`](Self::parse) reads).
    pub fn encode(&self) -> Result<Vec<u8>, InvokeError> {
        let out = serde_json::to_vec(self).map_err(|e| InvokeError::Malformed(e.to_string()))?;
        if out.len() > MAX_INVOKE_RESPONSE {
            return Err(InvokeError::TooLarge(out.len()));
        }
        Ok(out)
    }

    /// A refusal of kind `kind` (a fixed lowercase name).
    pub fn refused(kind: &str) -> Self {
        InvokeResponse::Refused { kind: kind.into() }
    }
}
