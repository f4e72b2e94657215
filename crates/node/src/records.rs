//! The audit log's public records, shared by the CLI (`talos audit ...`, on a stopped
//! node's home) and the running node (its API and its anchoring schedule): inclusion and
//! consistency proofs in their JSON wire form, signed checkpoints (C2SP signed notes),
//! and anchoring a tree head on a chain.

use crate::error::NodeError;
use talos_anchor::{Anchor, Inclusion};
use talos_audit::checkpoint;
use talos_audit::hash::leaf_hash;
use talos_audit::wire::{B64, ConsistencyProof, InclusionProof};
use talos_identity::IdentityKey;
use talos_primitives::{Did, TreeHead};
use talos_store::AuditLog;

/// Why a record could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The log has no such leaf, or a size beyond its own.
    #[error("no leaf {index} in a tree of size {size}")]
    OutOfRange {
        /// The leaf asked for.
        index: u64,
        /// The tree size asked for (or the log's).
        size: u64,
    },
    /// The sizes are not `0 < old ≤ new ≤ size`.
    #[error("consistency needs 0 < old ≤ new ≤ {0}")]
    BadSizes(u64),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] talos_store::StoreError),
    /// Signing or encoding failed.
    #[error("{0}")]
    Sign(String),
}

/// The inclusion proof of leaf `index` in the tree of `size` (default: the whole log).
pub fn inclusion(
    log: &AuditLog,
    index: u64,
    size: Option<u64>,
) -> Result<InclusionProof, RecordError> {
    let size = size.unwrap_or_else(|| log.size());
    if index >= size || size > log.size() {
        return Err(RecordError::OutOfRange { index, size });
    }
    let leaf = log
        .leaf(index)?
        .ok_or(RecordError::OutOfRange { index, size })?;
    Ok(InclusionProof {
        leaf_idx: index,
        tree_size: size,
        root: B64(log.root_at(size)?),
        leaf_hash: B64(leaf_hash(&leaf)),
        proof: log
            .inclusion_proof(index, size)?
            .into_iter()
            .map(B64)
            .collect(),
    })
}

/// Most events one read returns.
pub const MAX_EVENTS: u64 = 256;

/// Leaves `from..from+max` (at most [`MAX_EVENTS`]) as signed events with their index
/// and leaf hash: what an auditor matches a proof's `leafHash` against. Events hold only
/// DIDs, ids, digests and numbers, so showing them reveals no content.
pub fn events(log: &AuditLog, from: u64, max: u64) -> Result<Vec<serde_json::Value>, RecordError> {
    let end = from.saturating_add(max.min(MAX_EVENTS)).min(log.size());
    let mut out = Vec::new();
    for index in from..end {
        let leaf = log
            .leaf(index)?
            .ok_or(RecordError::OutOfRange { index, size: end })?;
        let event = talos_audit::event::SignedEvent::from_leaf(&leaf)
            .map_err(|e| RecordError::Sign(e.to_string()))?;
        out.push(serde_json::json!({
            "index": index,
            "leafHash": B64(leaf_hash(&leaf)),
            "leaf": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &leaf),
            "event": event,
        }));
    }
    Ok(out)
}

/// The consistency proof between the trees of sizes `old` and `new`.
pub fn consistency(log: &AuditLog, old: u64, new: u64) -> Result<ConsistencyProof, RecordError> {
    if old == 0 || old > new || new > log.size() {
        return Err(RecordError::BadSizes(log.size()));
    }
    Ok(ConsistencyProof {
        size1: old,
        size2: new,
        root1: B64(log.root_at(old)?),
        root2: B64(log.root_at(new)?),
        proof: log
            .consistency_proof(old, new)?
            .into_iter()
            .map(B64)
            .collect(),
    })
}

/// A signed checkpoint of the log's head: (the signed note, its verifier key).
pub fn checkpoint(log: &AuditLog, key: &IdentityKey) -> Result<(String, String), RecordError> {
    let note = checkpoint::sign_talos(key, log.head())
        .map_err(|e| RecordError::Sign(e.to_string()))?
        .to_text();
    let vkey = checkpoint::talos_verifier(&key.did())
        .ok_or_else(|| RecordError::Sign("the agent's DID carries no key".into()))?
        .to_string();
    Ok((note, vkey))
}

/// Registers the agent's DID if it is not yet (with the hash of its did:key document; on
/// an EVM chain, with the owner binding its key signs for the node's account). Someone
/// else's registration without a valid binding does not count: verifiers ignore it, and
/// the contract keeps it apart from ours.
pub async fn ensure_did(backend: &dyn Anchor, key: &IdentityKey) -> Result<Did, NodeError> {
    let did = key.did();
    if backend.resolve_did(&did).await?.is_none() {
        let doc = talos_identity::did_key::document(
            &key.public(),
            talos_identity::did_key::KeyFormat::Multikey,
        )?;
        backend
            .register_did(key, talos_identity::jcs::digest(&doc)?)
            .await?;
    }
    Ok(did)
}

/// Registers the agent's DID on first use, then anchors `head`.
pub async fn anchor_head(
    backend: &dyn Anchor,
    key: &IdentityKey,
    head: TreeHead,
) -> Result<(Did, Inclusion), NodeError> {
    let did = ensure_did(backend, key).await?;
    let at = backend.anchor_root(&did, head).await?;
    Ok((did, at))
}
