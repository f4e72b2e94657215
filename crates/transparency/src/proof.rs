//! Proofs an auditor keeps: a C2SP `tlog-proof` built from an agent's public log alone,
//! and its check, offline and against the chain.
//!
//! A talos log's origin is `talos/<did:key>` and its checkpoints are signed by that key
//! under the DID as the note name, so the log's verifier key follows from the origin: a
//! proof names whose log it is, and only that agent's key can have signed it. The entry
//! (in `extra`) is the signed event; it must be signed by the same agent and carry the
//! proven index as its `seq`.

use talos_anchor::verify::{self, VerifyError};
use talos_anchor::{Anchor, AnchoredRoot};
use talos_audit::checkpoint::{Checkpoint, talos_log};
use talos_audit::event::SignedEvent;
use talos_audit::note::Note;
use talos_audit::tiles::TileNodes;
use talos_audit::tlog_proof::{TlogProof, TlogProofError};
use talos_audit::witness::WitnessKey;
use talos_primitives::Did;

use crate::source::{Blocking, LogSource, SourceError};

/// Why a proof could not be built or does not hold.
#[derive(Debug, thiserror::Error)]
pub enum ProofCheckError {
    /// The log could not be read.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The proof (or the log's checkpoint) is malformed.
    #[error("malformed: {0}")]
    Malformed(String),
    /// The origin is not a talos agent's log, or not the one asked for.
    #[error("the log is not {want}'s (its origin is {origin:?})")]
    WrongLog {
        /// The DID asked for.
        want: String,
        /// The origin found.
        origin: String,
    },
    /// The proof does not hold: signature, path or entry.
    #[error(transparent)]
    Invalid(#[from] TlogProofError),
    /// The entry is not this agent's event at this index.
    #[error("the entry is not the agent's signed event at index {index}: {why}")]
    BadEntry {
        /// The proven index.
        index: u64,
        /// Why.
        why: String,
    },
    /// Fewer witnesses cosigned than required.
    #[error("{got} of the required {need} witnesses cosigned the checkpoint")]
    Witnesses {
        /// Valid cosignatures by the given witnesses.
        got: usize,
        /// Required.
        need: usize,
    },
    /// The anchored roots say otherwise (or the chain could not be read).
    #[error(transparent)]
    Chain(#[from] VerifyError),
    /// The index is beyond the published checkpoint.
    #[error("index {index} is not in the published checkpoint of size {size}")]
    NotPublished {
        /// The index asked for.
        index: u64,
        /// The published size.
        size: u64,
    },
}

/// A verified checkpoint of a talos log: its agent, the body, the note.
pub fn verify_checkpoint(text: &str) -> Result<(Did, Checkpoint, Note), ProofCheckError> {
    let note = Note::parse(text).map_err(|e| ProofCheckError::Malformed(e.to_string()))?;
    let cp = Checkpoint::parse_text(&note.text)
        .map_err(|e| ProofCheckError::Malformed(e.to_string()))?;
    let (did, verifier) = talos_log(&cp.origin).ok_or_else(|| ProofCheckError::WrongLog {
        want: "a talos agent".into(),
        origin: cp.origin.clone(),
    })?;
    note.verify(&verifier)
        .map_err(|e| TlogProofError::Checkpoint(e.into()))?;
    Ok((did, cp, note))
}

/// Builds the proof of entry `index` from the log's published checkpoint and tiles
/// alone (and checks it before handing it out).
pub async fn prove(source: &LogSource, index: u64) -> Result<TlogProof, ProofCheckError> {
    let (_, cp, note) = verify_checkpoint(&source.checkpoint().await?)?;
    let size = cp.head.size;
    if index >= size {
        return Err(ProofCheckError::NotPublished { index, size });
    }
    let path = {
        let source = source.clone();
        let runtime = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            let fetch = Blocking {
                source: &source,
                runtime,
            };
            talos_audit::tree::inclusion_proof(&TileNodes::new(&fetch, size), index, size)
        })
        .await
        .map_err(|e| ProofCheckError::Malformed(e.to_string()))?
        .map_err(|e| ProofCheckError::Malformed(format!("the log's tiles: {e}")))?
    };
    let entries = source.entries(index, size).await?;
    let at = usize::try_from(index % talos_audit::tiles::TILE_WIDTH).unwrap_or(0);
    let entry = entries.get(at).cloned();
    let proof = TlogProof {
        extra: entry,
        index,
        path,
        checkpoint: note,
    };
    check(&proof, None, &[], 0)?;
    Ok(proof)
}

/// What a checked proof proves.
#[derive(Debug, Clone)]
pub struct Checked {
    /// Whose log.
    pub did: Did,
    /// The checkpoint the entry is proven in.
    pub checkpoint: Checkpoint,
    /// The entry.
    pub event: SignedEvent,
    /// The witnesses (of those given) that cosigned the checkpoint.
    pub cosigned_by: Vec<String>,
}

/// Checks `proof` offline: the log's signature (its key from the origin, which must be
/// `did`'s log when given), the entry's path to the root, the entry being the agent's
/// signed event at that index, and at least `need` cosignatures from `witnesses`.
pub fn check(
    proof: &TlogProof,
    did: Option<&Did>,
    witnesses: &[WitnessKey],
    need: usize,
) -> Result<Checked, ProofCheckError> {
    let cp = Checkpoint::parse_text(&proof.checkpoint.text)
        .map_err(|e| ProofCheckError::Malformed(e.to_string()))?;
    let (agent, verifier) = talos_log(&cp.origin)
        .filter(|(d, _)| did.is_none_or(|want| want == d))
        .ok_or_else(|| ProofCheckError::WrongLog {
            want: did.map_or("a talos agent".into(), ToString::to_string),
            origin: cp.origin.clone(),
        })?;
    let cp = proof.verify(&verifier, None)?;
    let bad = |why: &str| ProofCheckError::BadEntry {
        index: proof.index,
        why: why.into(),
    };
    let entry = proof.extra.as_deref().ok_or(TlogProofError::NoEntry)?;
    let event = SignedEvent::from_leaf(entry).map_err(|e| bad(&e.to_string()))?;
    if event.body.agent != agent {
        return Err(bad("signed by another agent"));
    }
    if event.body.seq != proof.index {
        return Err(bad("its sequence number is not the index"));
    }
    let cosigned_by: Vec<String> = witnesses
        .iter()
        .filter(|w| w.cosigned(&proof.checkpoint).is_some())
        .map(|w| w.name.clone())
        .collect();
    if cosigned_by.len() < need {
        return Err(ProofCheckError::Witnesses {
            got: cosigned_by.len(),
            need,
        });
    }
    Ok(Checked {
        did: agent,
        checkpoint: cp,
        event,
        cosigned_by,
    })
}

/// Checks a checked proof's checkpoint against the root its agent anchored at that size.
pub async fn check_anchored(
    anchor: &dyn Anchor,
    proof: &TlogProof,
    checked: &Checked,
) -> Result<AnchoredRoot, ProofCheckError> {
    let wire = proof.inclusion()?;
    Ok(verify::verify_inclusion(anchor, &checked.did, &wire).await?)
}
