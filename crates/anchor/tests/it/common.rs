//! Shared helpers: DIDs, an audit log in memory with its proofs, accounts.

use alloy::signers::local::PrivateKeySigner;
use talos_audit::hash::leaf_hash;
use talos_audit::tree::{MemoryTree, consistency_proof, inclusion_proof, root};
use talos_audit::wire::{B64, ConsistencyProof, InclusionProof};

use talos_primitives::{Did, Hash32, TreeHead};

/// An identity key (what registers its DID).
pub(crate) use talos_testkit::keys::identity;

/// A fresh did:key: [`identity`]'s.
pub(crate) fn did(seed: u8) -> Did {
    identity(seed).did()
}

pub(crate) fn h(b: u8) -> Hash32 {
    Hash32([b; 32])
}

/// anvil's well-known dev accounts 0 and 1 (its default mnemonic); used on both
/// backends so the suites match.
pub(crate) fn account(i: usize) -> PrivateKeySigner {
    let keys = [
        "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
        "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
        "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    ];
    keys[i].parse().unwrap()
}

/// An audit log of `n` leaves, in memory.
pub(crate) struct Log {
    pub(crate) tree: MemoryTree,
    pub(crate) leaves: Vec<Vec<u8>>,
}

impl Log {
    pub(crate) fn new(n: usize) -> Self {
        let mut tree = MemoryTree::new();
        let mut leaves = Vec::new();
        for i in 0..n {
            let leaf = format!("event {i}").into_bytes();
            tree.append(leaf_hash(&leaf));
            leaves.push(leaf);
        }
        Self { tree, leaves }
    }

    pub(crate) fn head(&self, size: u64) -> TreeHead {
        TreeHead {
            size,
            root: root(&self.tree, size).unwrap(),
        }
    }

    pub(crate) fn inclusion(&self, index: u64, size: u64) -> InclusionProof {
        InclusionProof {
            leaf_idx: index,
            tree_size: size,
            root: B64(root(&self.tree, size).unwrap()),
            leaf_hash: B64(leaf_hash(&self.leaves[index as usize])),
            proof: inclusion_proof(&self.tree, index, size)
                .unwrap()
                .into_iter()
                .map(B64)
                .collect(),
        }
    }

    pub(crate) fn consistency(&self, old: u64, new: u64) -> ConsistencyProof {
        ConsistencyProof {
            size1: old,
            size2: new,
            root1: B64(root(&self.tree, old).unwrap()),
            root2: B64(root(&self.tree, new).unwrap()),
            proof: consistency_proof(&self.tree, old, new)
                .unwrap()
                .into_iter()
                .map(B64)
                .collect(),
        }
    }
}
