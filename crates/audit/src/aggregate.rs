//! Aggregated anchoring: one anchored root that commits to many agents' checkpoints.
//!
//! An aggregator (any consortium member's node) accepts agents' signed checkpoints and
//! records each as a `checkpoint_aggregated` event in its own audit log, whose root it
//! anchors as usual. An agent's anchor is then the proof that its checkpoint is in the
//! aggregator's anchored tree:
//!
//! ```text
//! talos/aggregate-proof@v1
//! checkpoint <base64 of the agent's signed checkpoint note, as submitted>
//! c2sp.org/tlog-proof@v1                  (the aggregator's log: the rest, verbatim)
//! extra <base64 of the aggregator's signed checkpoint_aggregated event>
//! index <decimal>
//! <base64 hash>...
//!
//! <the aggregator's checkpoint note>
//! ```
//!
//! [`AggregateProof::verify`] checks everything but the chain, offline:
//! 1. the agent's note is a talos checkpoint (origin `talos/<did>`) signed by that DID;
//! 2. the aggregator's note is a talos checkpoint signed by its DID, and the event in
//!    `extra` is at `index` in that tree ([`TlogProof::verify`]);
//! 3. the event is signed by the aggregator's DID, is `checkpoint_aggregated`, and names
//!    this agent, this size, this root and the SHA-256 of this note.
//!
//! What is left is the chain: the aggregator's DID must have anchored the aggregator's
//! head (`talos_anchor::verify::verify_aggregated_inclusion`). This format is not C2SP:
//! C2SP has no format for a checkpoint logged in another log, so it wraps a C2SP
//! `tlog-proof@v1` and a C2SP checkpoint note without changing either.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use talos_primitives::{Did, TreeHead};

use crate::checkpoint::{Checkpoint, CheckpointError, talos_log};
use crate::event::{EventError, EventKind, SignedEvent, digest};
use crate::note::{MAX_NOTE_BYTES, Note};
use crate::tlog_proof::{MAX_PROOF_BYTES, TlogProof, TlogProofError};

/// The first line.
pub const HEADER: &str = "talos/aggregate-proof@v1";
/// Largest aggregate proof accepted: a base64 note line and a `tlog-proof@v1`.
pub const MAX_AGGREGATE_PROOF_BYTES: usize =
    HEADER.len() + 12 + MAX_NOTE_BYTES * 4 / 3 + 8 + MAX_PROOF_BYTES;

/// Why an aggregate proof was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AggregateError {
    /// The text is not a `talos/aggregate-proof@v1`.
    #[error("malformed aggregate proof: {0}")]
    Malformed(&'static str),
    /// The agent's checkpoint is malformed, not a talos log's, or not signed by its DID.
    #[error("the agent's checkpoint: {0}")]
    Agent(CheckpointError),
    /// The aggregator's proof is malformed or does not verify.
    #[error("the aggregator's proof: {0}")]
    Proof(#[from] TlogProofError),
    /// The aggregator's entry is not a valid signed event.
    #[error("the aggregator's entry: {0}")]
    Event(String),
    /// The entry is valid but does not record this checkpoint.
    #[error("the aggregator's entry does not record this checkpoint: {0}")]
    Mismatch(&'static str),
}

impl From<EventError> for AggregateError {
    fn from(e: EventError) -> Self {
        AggregateError::Event(e.to_string())
    }
}

/// A parsed aggregate proof (nothing verified yet; see [`AggregateProof::verify`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggregateProof {
    /// The agent's signed checkpoint, as submitted to the aggregator.
    pub checkpoint: Note,
    /// The proof of the aggregator's event in the aggregator's log.
    pub proof: TlogProof,
}

/// What a verified aggregate proof shows, apart from the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Aggregated {
    /// The agent.
    pub agent: Did,
    /// The agent's head the agent signed and the aggregator recorded.
    pub head: TreeHead,
    /// The aggregator.
    pub aggregator: Did,
    /// The aggregator's head, signed by it, that includes the record: the one to find
    /// anchored on chain under the aggregator's DID.
    pub aggregator_head: TreeHead,
    /// The record's index in the aggregator's log.
    pub index: u64,
}

/// A talos log's checkpoint note verified by the DID its origin names.
fn talos_checkpoint(note: &Note) -> Result<(Did, Checkpoint), CheckpointError> {
    let cp = Checkpoint::parse_text(&note.text)?;
    let (did, verifier) =
        talos_log(&cp.origin).ok_or(CheckpointError::Body("the origin is not talos/<did:key>"))?;
    note.verify(&verifier)?;
    Ok((did, cp))
}

impl AggregateProof {
    /// Parses the text; bounded by [`MAX_AGGREGATE_PROOF_BYTES`].
    pub fn parse(text: &str) -> Result<Self, AggregateError> {
        let bad = AggregateError::Malformed;
        if text.len() > MAX_AGGREGATE_PROOF_BYTES {
            return Err(bad("larger than an aggregate proof can be"));
        }
        let (header, rest) = text.split_once('\n').ok_or(bad("no header line"))?;
        if header != HEADER {
            return Err(bad("the first line is not talos/aggregate-proof@v1"));
        }
        let (line, rest) = rest.split_once('\n').ok_or(bad("no checkpoint line"))?;
        let b64 = line
            .strip_prefix("checkpoint ")
            .ok_or(bad("the second line is not the checkpoint"))?;
        if b64.len() > MAX_NOTE_BYTES * 4 / 3 + 4 {
            return Err(bad("the checkpoint is larger than a note can be"));
        }
        let bytes = STANDARD
            .decode(b64)
            .map_err(|_| bad("the checkpoint is not base64"))?;
        let note = String::from_utf8(bytes).map_err(|_| bad("the checkpoint is not UTF-8"))?;
        let checkpoint =
            Note::parse(&note).map_err(|e| AggregateError::Agent(CheckpointError::Note(e)))?;
        let proof = TlogProof::parse(rest)?;
        Ok(Self { checkpoint, proof })
    }

    /// The proof's text.
    pub fn to_text(&self) -> String {
        format!(
            "{HEADER}\ncheckpoint {}\n{}",
            STANDARD.encode(self.checkpoint.to_text()),
            self.proof.to_text()
        )
    }

    /// Checks both signatures, the inclusion and that the aggregator's entry records
    /// exactly this checkpoint; the chain is the caller's to check.
    pub fn verify(&self) -> Result<Aggregated, AggregateError> {
        let (agent, cp) = talos_checkpoint(&self.checkpoint).map_err(AggregateError::Agent)?;
        let agg_cp = Checkpoint::parse_text(&self.proof.checkpoint.text)
            .map_err(TlogProofError::Checkpoint)?;
        let (aggregator, verifier) = talos_log(&agg_cp.origin).ok_or(AggregateError::Malformed(
            "the aggregator's origin is not talos/<did:key>",
        ))?;
        let agg_cp = self.proof.verify(&verifier, None)?;
        let entry = self.proof.extra.as_deref().ok_or(TlogProofError::NoEntry)?;
        let event = SignedEvent::from_leaf(entry)?;
        if event.body.agent != aggregator {
            return Err(AggregateError::Mismatch(
                "the entry is not the aggregator's own",
            ));
        }
        if event.body.seq != self.proof.index {
            return Err(AggregateError::Mismatch("the entry's seq is not its index"));
        }
        let EventKind::CheckpointAggregated {
            agent: a,
            size,
            root,
            note,
        } = event.body.event
        else {
            return Err(AggregateError::Mismatch(
                "the entry is not checkpoint_aggregated",
            ));
        };
        if a != agent {
            return Err(AggregateError::Mismatch("the entry names another agent"));
        }
        if size != cp.head.size || root != cp.head.root {
            return Err(AggregateError::Mismatch("the entry names another head"));
        }
        if note != digest(self.checkpoint.to_text().as_bytes()) {
            return Err(AggregateError::Mismatch("the entry names another note"));
        }
        Ok(Aggregated {
            agent,
            head: cp.head,
            aggregator,
            aggregator_head: agg_cp.head,
            index: self.proof.index,
        })
    }
}
