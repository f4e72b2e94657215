//! The `/talos/approval/1.0.0` wire format (`crates/capability/FORMAT.md` §3.5, `apv`):
//! a callee's node holding a call under an `apv` caveat asks each approver's node to
//! approve it, and an approver's node sends back its signed approval. One JSON document
//! each way; the answer is an acknowledgement, sent once the receiving node has made the
//! message durable.
//!
//! [`ApprovalMessage::parse`] and [`ApprovalAck::parse`] are the only way in.

use serde::{Deserialize, Serialize};

use crate::invoke::{InvokeError, MAX_JWS, MAX_NAME};

/// The protocol name.
pub const APPROVAL_PROTOCOL: &str = "/talos/approval/1.0.0";
/// The largest encoded message.
pub const MAX_APPROVAL_MESSAGE: usize = 24 * 1024;
/// The largest encoded acknowledgement.
pub const MAX_APPROVAL_ACK: usize = 256;

/// What an approver is asked: everything but the arguments themselves, which only
/// their digest stands for (the approver's agent may ask the caller for them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ask {
    /// The approval request's id: 32 lowercase hex digits.
    pub id: String,
    /// The call digest approvals sign (64 lowercase hex digits).
    pub dig: String,
    /// The caller's did:key.
    pub caller: String,
    /// The resource called.
    pub resource: String,
    /// The action.
    pub action: String,
    /// SHA-256 of the arguments' JCS form (64 lowercase hex digits).
    pub args: String,
    /// When the request lapses (Unix seconds).
    pub exp: u64,
}

/// One message of the protocol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ApprovalMessage {
    /// Callee's node to approver's node: approve this call?
    Ask(Ask),
    /// Approver's node to callee's node: a signed approval (compact JWS).
    Grant(String),
}

/// The answer: taken (durable at the receiver) or refused, with a fixed-name kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalAck {
    /// Whether the receiver took the message.
    pub ok: bool,
    /// Why not (`busy`, `unknown_request`, `bad_signature`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

impl ApprovalAck {
    /// Taken.
    pub fn taken() -> Self {
        ApprovalAck {
            ok: true,
            kind: None,
        }
    }

    /// Refused for `kind`.
    pub fn refused(kind: &str) -> Self {
        ApprovalAck {
            ok: false,
            kind: Some(kind.into()),
        }
    }
}

fn hex_of(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn bound(ok: bool, field: &'static str) -> Result<(), InvokeError> {
    if ok {
        Ok(())
    } else {
        Err(InvokeError::Bounds(field))
    }
}

impl ApprovalMessage {
    /// Parses and bounds-checks an encoded message.
    pub fn parse(bytes: &[u8]) -> Result<Self, InvokeError> {
        if bytes.len() > MAX_APPROVAL_MESSAGE {
            return Err(InvokeError::TooLarge(bytes.len()));
        }
        let m: Self =
            serde_json::from_slice(bytes).map_err(|e| InvokeError::Malformed(e.to_string()))?;
        match &m {
            ApprovalMessage::Ask(a) => {
                bound(hex_of(&a.id, 32), "id")?;
                bound(hex_of(&a.dig, 64), "dig")?;
                bound(hex_of(&a.args, 64), "args")?;
                bound(!a.caller.is_empty() && a.caller.len() <= MAX_NAME, "caller")?;
                bound(
                    !a.resource.is_empty() && a.resource.len() <= MAX_NAME,
                    "resource",
                )?;
                bound(!a.action.is_empty() && a.action.len() <= MAX_NAME, "action")?;
            }
            ApprovalMessage::Grant(jws) => bound(!jws.is_empty() && jws.len() <= MAX_JWS, "grant")?,
        }
        Ok(m)
    }

    /// The encoding (what [`parse`](Self::parse) reads).
    pub fn encode(&self) -> Result<Vec<u8>, InvokeError> {
        let out = serde_json::to_vec(self).map_err(|e| InvokeError::Malformed(e.to_string()))?;
        bound(out.len() <= MAX_APPROVAL_MESSAGE, "message")?;
        Ok(out)
    }
}

impl ApprovalAck {
    /// Parses and bounds-checks an encoded acknowledgement.
    pub fn parse(bytes: &[u8]) -> Result<Self, InvokeError> {
        if bytes.len() > MAX_APPROVAL_ACK {
            return Err(InvokeError::TooLarge(bytes.len()));
        }
        let a: Self =
            serde_json::from_slice(bytes).map_err(|e| InvokeError::Malformed(e.to_string()))?;
        bound(
            a.kind.as_ref().is_none_or(|k| {
                !k.is_empty()
                    && k.len() <= 32
                    && k.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
            }),
            "kind",
        )?;
        Ok(a)
    }

    /// The encoding.
    pub fn encode(&self) -> Result<Vec<u8>, InvokeError> {
        serde_json::to_vec(self).map_err(|e| InvokeError::Malformed(e.to_string()))
    }
}
