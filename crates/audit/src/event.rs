//! Typed audit events: canonical, signed by the agent, digests and ids only.
//!
//! No event field can hold free text: every field is a DID, an id, a digest, a number or
//! one of a fixed set of names. Constructors that see raw bytes (a frame's ciphertext, a
//! tool's arguments) store only their SHA-256.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use talos_identity::{IdentityKey, Signature, jcs, keys};
use talos_primitives::{CapabilityId, Commitment, Did, Hash32};

/// Why an event could not be signed or verified.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// Canonical encoding failed.
    #[error(transparent)]
    Jcs(#[from] jcs::JcsError),
    /// The signature does not verify, or the agent is not a did:key.
    #[error("event signature does not verify")]
    BadSignature,
    /// The bytes are not a signed event.
    #[error("malformed event: {0}")]
    Malformed(String),
}

/// Frames one batch event may list (a node's group commit takes at most 256).
pub const MAX_FRAMES_PER_EVENT: usize = 256;

/// One frame in a batch event: its digest and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameRef {
    /// SHA-256 of the ciphertext frame.
    pub frame: Hash32,
    /// Frame length in bytes.
    pub len: u64,
}

impl FrameRef {
    /// The reference to a frame, from its ciphertext.
    pub fn of(ciphertext: &[u8]) -> Self {
        FrameRef {
            frame: digest(ciphertext),
            len: ciphertext.len() as u64,
        }
    }
}

/// SHA-256 of some bytes, for events.
pub fn digest(bytes: &[u8]) -> Hash32 {
    Hash32(Sha256::digest(bytes).into())
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum EventKind {
    /// A ratchet session was opened.
    SessionOpened {
        /// The peer.
        peer: Did,
        /// Session id.
        session: Hash32,
    },
    /// A session was closed.
    SessionClosed {
        /// The peer.
        peer: Did,
        /// Session id.
        session: Hash32,
    },
    /// A frame was sent.
    FrameSent {
        /// The peer.
        peer: Did,
        /// Session id.
        session: Hash32,
        /// SHA-256 of the ciphertext frame.
        frame: Hash32,
        /// Frame length in bytes.
        len: u64,
    },
    /// A frame was received.
    FrameReceived {
        /// The peer.
        peer: Did,
        /// Session id.
        session: Hash32,
        /// SHA-256 of the ciphertext frame.
        frame: Hash32,
        /// Frame length in bytes.
        len: u64,
    },
    /// Several frames sent to one peer, acknowledged in one batch (one signature for the
    /// batch instead of one per frame; at most [`MAX_FRAMES_PER_EVENT`], in stream order).
    FramesSent {
        /// The peer.
        peer: Did,
        /// Session id.
        session: Hash32,
        /// The frames.
        frames: Vec<FrameRef>,
    },
    /// Several frames received from one peer in one group commit (as `FramesSent`).
    FramesReceived {
        /// The peer.
        peer: Did,
        /// Session id.
        session: Hash32,
        /// The frames.
        frames: Vec<FrameRef>,
    },
    /// A capability was issued.
    CapabilityIssued {
        /// Token id.
        id: CapabilityId,
        /// Token commitment.
        commitment: Commitment,
        /// Holder.
        holder: Did,
    },
    /// A capability was delegated.
    CapabilityDelegated {
        /// Token id.
        id: CapabilityId,
        /// Token commitment.
        commitment: Commitment,
        /// Parent commitment.
        parent: Commitment,
        /// New holder.
        holder: Did,
    },
    /// A capability was used for a request that ran.
    CapabilityUsed {
        /// Leaf commitment.
        leaf: Commitment,
        /// Who used it.
        holder: Did,
        /// SHA-256 of the request (resource, action, arguments).
        request: Hash32,
    },
    /// A request was denied.
    CapabilityDenied {
        /// Who asked.
        caller: Did,
        /// The error kind (one of the capability crate's fixed names).
        kind: DenyKind,
        /// SHA-256 of the request.
        request: Hash32,
    },
    /// A call this agent let through was answered, or timed out (after its
    /// `CapabilityUsed`): how it ended, a digest of what went back, and how long it took.
    CallAnswered {
        /// Who called.
        caller: Did,
        /// SHA-256 of the request (the digest in the call's `CapabilityUsed`).
        request: Hash32,
        /// `ok`, or the failure kind the caller was sent (`agent_error`,
        /// `agent_timeout`, `too_large`, `unavailable`, or the agent's own kind, such as
        /// a proxy's `tool_changed`).
        outcome: DenyKind,
        /// SHA-256 of the JCS result, or of the error detail; zeros for none.
        result: Hash32,
        /// Milliseconds from the call's admission to its answer.
        ms: u64,
        /// The caller's W3C trace context, when the call carried one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        traceparent: Option<talos_primitives::TraceParent>,
    },
    /// A call spent from a budget (a `bud` caveat), written in the same synced batch as
    /// the call's `CapabilityUsed`, which it follows. Replaying these events in log order
    /// gives every counter: `total` is the window's spend once this call is counted.
    BudgetSpent {
        /// The commitment of the link whose capability carries the budget.
        link: Commitment,
        /// The capability's index in the link's `cap`.
        cap: u64,
        /// The window's start (Unix seconds; 0 for a `total` budget).
        window: u64,
        /// What the call spent.
        amount: u64,
        /// Spent in the window, this call included.
        total: u64,
        /// The budget's limit.
        limit: u64,
    },
    /// A warn-mode budget went over its limit (the call ran; its `BudgetSpent` precedes).
    BudgetExceeded {
        /// The commitment of the link whose capability carries the budget.
        link: Commitment,
        /// The capability's index in the link's `cap`.
        cap: u64,
        /// Spent in the window, this call included.
        total: u64,
        /// The budget's limit.
        limit: u64,
    },
    /// This agent filed a misbehaviour report (`talos-reputation`): recorded so the
    /// report's commitment is anchored with the log and an auditor can prove when it was
    /// filed.
    ReportFiled {
        /// SHA-256 of the report's compact JWS.
        report: Commitment,
        /// Whom it is about.
        subject: Did,
        /// Its kind (`bad_answer`, `operator_report`, ...).
        kind: DenyKind,
    },
    /// A call under an `apv` caveat was held and its approvers asked (capability
    /// FORMAT.md §3.5); `request` is the call digest approvals sign.
    ApprovalRequested {
        /// The call digest.
        request: Hash32,
        /// Who called.
        caller: Did,
    },
    /// This agent approved a call another node holds: the approval's commitment, so an
    /// auditor can match it to the holder's `approval_received`.
    ApprovalGranted {
        /// SHA-256 of the approval's compact JWS.
        approval: Commitment,
        /// The node holding the call (its agent's DID).
        holder: Did,
        /// The call digest.
        request: Hash32,
    },
    /// An approver's approval of a held call arrived, verified.
    ApprovalReceived {
        /// SHA-256 of the approval's compact JWS.
        approval: Commitment,
        /// Who approved.
        approver: Did,
        /// The call digest.
        request: Hash32,
    },
    /// A held call was admitted by these approvals (it follows its `capability_used`).
    Approved {
        /// The call digest.
        request: Hash32,
        /// The approvals' commitments (k of them, at most 8).
        approvals: Vec<Commitment>,
    },
    /// A capability was revoked.
    CapabilityRevoked {
        /// Token id.
        id: CapabilityId,
    },
    /// A tool was invoked.
    ToolInvocation {
        /// SHA-256 of the tool name.
        tool: Hash32,
        /// SHA-256 of the arguments.
        args: Hash32,
        /// SHA-256 of the result.
        result: Hash32,
    },
    /// A checkpoint was submitted to a chain.
    AnchorSubmitted {
        /// Tree size anchored.
        size: u64,
        /// Root anchored.
        root: Hash32,
        /// Transaction hash or extrinsic hash.
        tx: Hash32,
    },
    /// An anchor was confirmed.
    AnchorConfirmed {
        /// Tree size anchored.
        size: u64,
        /// Root anchored.
        root: Hash32,
        /// Transaction hash.
        tx: Hash32,
        /// Block number.
        block: u64,
    },
    /// An aggregator accepted an agent's signed checkpoint into its own log, so the
    /// aggregator's anchored root commits to that agent's head (`aggregate.rs`).
    CheckpointAggregated {
        /// The agent whose checkpoint it is.
        agent: Did,
        /// The agent's tree size.
        size: u64,
        /// The agent's root at that size.
        root: Hash32,
        /// SHA-256 of the agent's signed checkpoint note, as submitted.
        note: Hash32,
    },
    /// A checkpoint was published with fewer witness cosignatures than the policy asks
    /// (it is published and anchored anyway: a log must not stop because witnesses are
    /// down, but the shortfall is on record).
    WitnessShortfall {
        /// The checkpoint's tree size.
        size: u64,
        /// Cosignatures collected.
        got: u32,
        /// Cosignatures the policy asks for.
        need: u32,
        /// The witnesses (by name) that did not cosign.
        missing: Vec<String>,
    },
}

/// An error kind name: 1–32 characters of `[a-z_]`, never free text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct DenyKind(String);

impl DenyKind {
    /// Accepts a kind name such as `expired`.
    pub fn new(kind: &str) -> Option<Self> {
        let ok = !kind.is_empty()
            && kind.len() <= 32
            && kind.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
        ok.then(|| Self(kind.to_string()))
    }

    /// `agent_error`: a call the agent answered with an error of no more specific kind.
    pub fn agent_error() -> Self {
        Self("agent_error".into())
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for DenyKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::new(&s).ok_or_else(|| serde::de::Error::custom("invalid deny kind"))
    }
}

impl EventKind {
    /// A sent frame, from its ciphertext (only the digest and length are kept).
    pub fn frame_sent(peer: Did, session: Hash32, ciphertext: &[u8]) -> Self {
        EventKind::FrameSent {
            peer,
            session,
            frame: digest(ciphertext),
            len: ciphertext.len() as u64,
        }
    }

    /// A received frame, from its ciphertext.
    pub fn frame_received(peer: Did, session: Hash32, ciphertext: &[u8]) -> Self {
        EventKind::FrameReceived {
            peer,
            session,
            frame: digest(ciphertext),
            len: ciphertext.len() as u64,
        }
    }

    /// A tool invocation, from the raw name, arguments and result.
    pub fn tool_invocation(tool: &str, args: &[u8], result: &[u8]) -> Self {
        EventKind::ToolInvocation {
            tool: digest(tool.as_bytes()),
            args: digest(args),
            result: digest(result),
        }
    }
}

/// An event with its context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditEvent {
    /// The agent whose log this is.
    pub agent: Did,
    /// Sequence number in the agent's log (equals the leaf index).
    pub seq: u64,
    /// Unix milliseconds.
    pub ts: u64,
    /// What happened.
    pub event: EventKind,
}

/// An event and the agent's signature over its canonical bytes: the leaf data of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedEvent {
    /// The event.
    pub body: AuditEvent,
    /// Ed25519 over `JCS(body)`.
    pub sig: Signature,
}

impl SignedEvent {
    /// Signs an event.
    pub fn sign(key: &IdentityKey, body: AuditEvent) -> Result<Self, EventError> {
        let (_, sig) = jcs::sign(key, &body)?;
        Ok(Self { body, sig })
    }

    /// The canonical bytes stored as the leaf.
    pub fn to_leaf(&self) -> Result<Vec<u8>, EventError> {
        Ok(jcs::canonicalize(self)?)
    }

    /// Parses leaf bytes and checks the agent's signature.
    pub fn from_leaf(bytes: &[u8]) -> Result<Self, EventError> {
        let ev: SignedEvent =
            serde_json::from_slice(bytes).map_err(|e| EventError::Malformed(e.to_string()))?;
        if let EventKind::FramesSent { frames, .. } | EventKind::FramesReceived { frames, .. } =
            &ev.body.event
            && (frames.is_empty() || frames.len() > MAX_FRAMES_PER_EVENT)
        {
            return Err(EventError::Malformed("batch event frame count".into()));
        }
        if jcs::canonicalize(&ev)? != bytes {
            return Err(EventError::Malformed("leaf is not canonical JSON".into()));
        }
        let key = ev.body.agent.as_key().ok_or(EventError::BadSignature)?;
        keys::verify(key, &jcs::canonicalize(&ev.body)?, &ev.sig)
            .map_err(|_| EventError::BadSignature)?;
        Ok(ev)
    }
}
