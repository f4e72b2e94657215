//! What an auditor checks: a proof from a node's log against the roots that node
//! anchored on chain, so the node cannot show the auditor a different log than the one
//! it committed to.

use talos_audit::ProofError;
use talos_audit::wire::{ConsistencyProof, InclusionProof};
use talos_primitives::{Did, Hash32};

use crate::backend::Anchor;
use crate::error::AnchorError;
use crate::types::AnchoredRoot;

/// Why an anchored verification failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
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
    /// The chain could not be read.
    #[error(transparent)]
    Anchor(#[from] AnchorError),
}

async fn anchored(
    anchor: &dyn Anchor,
    did: &Did,
    size: u64,
    claimed: Hash32,
) -> Result<AnchoredRoot, VerifyError> {
    let root = anchor
        .root_at(did, size)
        .await?
        .ok_or_else(|| VerifyError::NotAnchored {
            did: did.to_string(),
            size,
        })?;
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
