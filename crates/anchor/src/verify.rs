//! What an auditor checks: a proof from a node's log against the roots that node
//! anchored on chain, so the node cannot show the auditor a different log than the one
//! it committed to. Only roots the DID's key wrote, or an account it bound, count: on an
//! EVM chain anyone may register any DID first, and such a registration is ignored.

use talos_audit::ProofError;
use talos_audit::aggregate::{AggregateError, AggregateProof, Aggregated};
use talos_audit::wire::{ConsistencyProof, InclusionProof};
use talos_primitives::{Did, Hash32};

use crate::backend::Anchor;
use crate::error::AnchorError;
use crate::types::AnchoredRoot;

/// Why an anchored verification failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// No account the DID's key bound registered it on this chain; `ignored` lists the
    /// accounts that registered it without a valid owner binding (EVM only).
    #[error("{did} is not registered on this chain by an account its key bound{}", ignored_note(.ignored))]
    NotRegistered {
        /// The DID.
        did: String,
        /// Accounts whose registrations of it carry no valid owner binding, `0x`-hex.
        ignored: Vec<String>,
    },
    /// The DID anchored no root at that tree size.
    #[error("{did} anchored no root at tree size {size}")]
    NotAnchored {
        /// The DID.
        did: String,
        /// The tree size.
        size: u64,
    },
    /// The proof is about a different tree than the one anchored.
    #[error("the proof's root at size {size} is {claimed}, but the anchored root is {anchored}")]
    RootMismatch {
        /// The tree size.
        size: u64,
        /// The root the proof claims.
        claimed: Hash32,
        /// The root on chain.
        anchored: Hash32,
    },
    /// The proof itself does not verify.
    #[error("the proof does not verify: {0}")]
    Proof(#[from] ProofError),
    /// The aggregate proof is malformed, or does not show this agent's checkpoint in the
    /// aggregator's signed tree.
    #[error("the aggregate proof does not verify: {0}")]
    Aggregate(#[from] AggregateError),
    /// The aggregate proof is about another agent.
    #[error("the aggregate proof is for {proof_agent}, not {did}")]
    OtherAgent {
        /// The DID asked about.
        did: String,
        /// The agent the aggregate proof shows.
        proof_agent: String,
    },
    /// The chain could not be read.
    #[error(transparent)]
    Anchor(#[from] AnchorError),
}

fn ignored_note(ignored: &[String]) -> String {
    if ignored.is_empty() {
        return String::new();
    }
    format!(
        " (ignored: {}, which registered it without a valid owner binding by the DID's key)",
        ignored.join(", ")
    )
}

async fn anchored(
    anchor: &dyn Anchor,
    did: &Did,
    size: u64,
    claimed: Hash32,
) -> Result<AnchoredRoot, VerifyError> {
    let Some(root) = anchor.root_at(did, size).await? else {
        // Say why: the DID not registered (by anyone it bound) is another story than a
        // registered DID that never anchored this size.
        if anchor.resolve_did(did).await?.is_none() {
            return Err(VerifyError::NotRegistered {
                did: did.to_string(),
                ignored: anchor
                    .unbound_claims(did)
                    .await?
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
            });
        }
        return Err(VerifyError::NotAnchored {
            did: did.to_string(),
            size,
        });
    };
    if root.head.root != claimed {
        return Err(VerifyError::RootMismatch {
            size,
            claimed,
            anchored: root.head.root,
        });
    }
    Ok(root)
}

/// Checks that `proof`'s tree is the one `did` anchored at that size, then the proof.
pub async fn verify_inclusion(
    anchor: &dyn Anchor,
    did: &Did,
    proof: &InclusionProof,
) -> Result<AnchoredRoot, VerifyError> {
    let root = anchored(anchor, did, proof.tree_size, proof.root.0).await?;
    proof.verify()?;
    Ok(root)
}

/// Checks that both of `proof`'s trees were anchored by `did`, then that the newer one
/// extends the older.
pub async fn verify_consistency(
    anchor: &dyn Anchor,
    did: &Did,
    proof: &ConsistencyProof,
) -> Result<(AnchoredRoot, AnchoredRoot), VerifyError> {
    let old = anchored(anchor, did, proof.size1, proof.root1.0).await?;
    let new = anchored(anchor, did, proof.size2, proof.root2.0).await?;
    proof.verify()?;
    Ok((old, new))
}

/// Checks an inclusion proof from `did`'s log against a checkpoint of `did`'s that an
/// aggregator recorded and anchored: the aggregate proof offline
/// ([`AggregateProof::verify`]), then that the aggregator's DID anchored the aggregator's
/// head it shows, then that `proof` is against the agent's head the aggregate shows.
pub async fn verify_aggregated_inclusion(
    anchor: &dyn Anchor,
    did: &Did,
    aggregate: &AggregateProof,
    proof: &InclusionProof,
) -> Result<(Aggregated, AnchoredRoot), VerifyError> {
    let agg = aggregate.verify()?;
    if agg.agent != *did {
        return Err(VerifyError::OtherAgent {
            did: did.to_string(),
            proof_agent: agg.agent.to_string(),
        });
    }
    let root = anchored(
        anchor,
        &agg.aggregator,
        agg.aggregator_head.size,
        agg.aggregator_head.root,
    )
    .await?;
    if proof.tree_size != agg.head.size {
        return Err(VerifyError::NotAnchored {
            did: did.to_string(),
            size: proof.tree_size,
        });
    }
    if proof.root.0 != agg.head.root {
        return Err(VerifyError::RootMismatch {
            size: proof.tree_size,
            claimed: proof.root.0,
            anchored: agg.head.root,
        });
    }
    proof.verify()?;
    Ok((agg, root))
}
