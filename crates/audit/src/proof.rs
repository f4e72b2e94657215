//! Verifying RFC 9162 inclusion (§2.1.3.2) and consistency (§2.1.4.2) proofs.
//!
//! The algorithms follow the RFC step by step; the numbered comments are its steps. Both
//! bound the path length by 64 (a tree has at most 2^64 leaves), so a hostile proof
//! costs at most 64 hashes.

use talos_primitives::Hash32;

use crate::hash::{empty_root, node_hash};

/// Longest valid proof: one hash per level of a 2^64-leaf tree.
pub const MAX_PROOF_LEN: usize = 64;

/// Why a proof was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The leaf index is not below the tree size.
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange {
        /// Index claimed.
        index: u64,
        /// Tree size claimed.
        size: u64,
    },
    /// The older size is larger than the newer one.
    #[error("first size {first} exceeds second size {second}")]
    SizesOutOfOrder {
        /// Older size.
        first: u64,
        /// Newer size.
        second: u64,
    },
    /// The path is longer than any valid one, or too short or long for these sizes.
    #[error("proof has the wrong length")]
    WrongLength,
    /// The recomputed root does not match.
    #[error("proof does not lead to the given root")]
    RootMismatch,
}

/// Verifies that `leaf` is the leaf at `index` of the tree of `size` with `root`.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash32,
    proof: &[Hash32],
    root: &Hash32,
) -> Result<(), ProofError> {
    // 1. The index must be in the tree.
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    if proof.len() > MAX_PROOF_LEN {
        return Err(ProofError::WrongLength);
    }
    // 2-3.
    let (mut fnn, mut sn) = (index, size - 1);
    let mut r = *leaf;
    // 4.
    for p in proof {
        // 4a.
        if sn == 0 {
            return Err(ProofError::WrongLength);
        }
        // 4b.
        if fnn & 1 == 1 || fnn == sn {
            r = node_hash(p, &r);
            if fnn & 1 == 0 {
                while fnn & 1 == 0 && fnn != 0 {
                    fnn >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        // 4c.
        fnn >>= 1;
        sn >>= 1;
    }
    // 5.
    if sn != 0 {
        return Err(ProofError::WrongLength);
    }
    if &r != root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Verifies that the tree of `size2` with `root2` extends the tree of `size1` with `root1`.
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    root1: &Hash32,
    root2: &Hash32,
    proof: &[Hash32],
) -> Result<(), ProofError> {
    if size1 > size2 {
        return Err(ProofError::SizesOutOfOrder {
            first: size1,
            second: size2,
        });
    }
    if proof.len() > MAX_PROOF_LEN {
        return Err(ProofError::WrongLength);
    }
    // Equal sizes: nothing to prove but equality. An empty first tree is a prefix of
    // every tree. Neither case carries a path.
    if size1 == size2 || size1 == 0 {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength);
        }
        let ok = if size1 == 0 {
            *root1 == empty_root()
        } else {
            root1 == root2
        };
        return if ok {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        };
    }
    // 1.
    if proof.is_empty() {
        return Err(ProofError::WrongLength);
    }
    // 2. A power-of-two first tree is itself a node of the second: its root leads.
    let mut path: Vec<Hash32> = Vec::with_capacity(proof.len() + 1);
    if size1.is_power_of_two() {
        path.push(*root1);
    }
    path.extend_from_slice(proof);
    // 3.
    let (mut fnn, mut sn) = (size1 - 1, size2 - 1);
    // 4.
    while fnn & 1 == 1 {
        fnn >>= 1;
        sn >>= 1;
    }
    // 5.
    let Some((first, rest)) = path.split_first() else {
        return Err(ProofError::WrongLength);
    };
    let (mut fr, mut sr) = (*first, *first);
    // 6.
    for c in rest {
        // 6a.
        if sn == 0 {
            return Err(ProofError::WrongLength);
        }
        // 6b.
        if fnn & 1 == 1 || fnn == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnn & 1 == 0 {
                while fnn & 1 == 0 && fnn != 0 {
                    fnn >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        // 6c.
        fnn >>= 1;
        sn >>= 1;
    }
    // 7.
    if sn != 0 {
        return Err(ProofError::WrongLength);
    }
    if &fr != root1 || &sr != root2 {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}
