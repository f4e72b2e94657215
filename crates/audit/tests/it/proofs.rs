//! RFC 9162 proofs over every pair of tree sizes up to 256, against a reference tree
//! written straight from the RFC's definitions and against rs_merkle.

use talos_audit::hash::{empty_root, leaf_hash, node_hash};
use talos_audit::tree::{consistency_proof, inclusion_proof, root};
use talos_audit::{MemoryTree, ProofError, verify_consistency, verify_inclusion};
use talos_primitives::Hash32;

const MAX: u64 = 256;

/// MTH from RFC 9162 §2.1.1, recursively over the leaf hashes.
fn mth(leaves: &[Hash32]) -> Hash32 {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = (n - 1).next_power_of_two().max(1);
            let k = if k >= n { k / 2 } else { k };
            node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
        }
    }
}

fn tree(n: u64) -> (MemoryTree, Vec<Hash32>) {
    let mut t = MemoryTree::new();
    let leaves: Vec<Hash32> = (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    for l in &leaves {
        t.append(*l);
    }
    (t, leaves)
}

#[derive(Clone)]
struct Rfc9162;
impl rs_merkle::Hasher for Rfc9162 {
    type Hash = [u8; 32];
    fn hash(data: &[u8]) -> [u8; 32] {
        // Leaves arrive pre-hashed; only interior nodes are hashed here, with the 0x01 tag.
        use sha2::Digest;
        sha2::Sha256::digest(data).into()
    }
    fn concat_and_hash(left: &[u8; 32], right: Option<&[u8; 32]>) -> [u8; 32] {
        match right {
            Some(r) => node_hash(&Hash32(*left), &Hash32(*r)).0,
            None => *left,
        }
    }
}

#[test]
fn roots_match_the_rfc_definition_and_rs_merkle() {
    let (full, leaves) = tree(MAX);
    for n in 0..=MAX {
        let want = mth(&leaves[..n as usize]);
        assert_eq!(root(&full, n).unwrap(), want, "size {n} from stored nodes");
        let (t, _) = tree(n);
        assert_eq!(t.root(), want, "size {n} from the frontier");
        if n > 0 {
            let rs = rs_merkle::MerkleTree::<Rfc9162>::from_leaves(
                &leaves[..n as usize].iter().map(|h| h.0).collect::<Vec<_>>(),
            );
            assert_eq!(rs.root().map(Hash32), Some(want), "size {n} from rs_merkle");
        }
    }
}

fn flip(h: &Hash32, bit: usize) -> Hash32 {
    let mut b = h.0;
    b[(bit / 8) % 32] ^= 1 << (bit % 8);
    Hash32(b)
}

#[test]
fn every_inclusion_proof_verifies_and_every_mutation_fails() {
    let (t, leaves) = tree(MAX);
    let roots: Vec<Hash32> = (0..=MAX).map(|n| root(&t, n).unwrap()).collect();
    let mut accepted = vec![];
    for n in 1..=MAX {
        let r = roots[n as usize];
        for m in 0..n {
            let leaf = leaves[m as usize];
            let proof = inclusion_proof(&t, m, n).unwrap();
            verify_inclusion(m, n, &leaf, &proof, &r).unwrap();
            // A flipped bit in any path element, or in the leaf, or in the root.
            for (i, _) in proof.iter().enumerate() {
                let mut bad = proof.clone();
                bad[i] = flip(&bad[i], (m as usize * 7 + i) % 256);
                assert!(verify_inclusion(m, n, &leaf, &bad, &r).is_err());
            }
            assert!(verify_inclusion(m, n, &flip(&leaf, m as usize), &proof, &r).is_err());
            assert!(verify_inclusion(m, n, &leaf, &proof, &flip(&r, 3)).is_err());
            // Truncated and extended paths.
            if !proof.is_empty() {
                assert!(verify_inclusion(m, n, &leaf, &proof[..proof.len() - 1], &r).is_err());
            }
            let mut ext = proof.clone();
            ext.push(leaf);
            assert!(verify_inclusion(m, n, &leaf, &ext, &r).is_err());
            // Tree size and index off by one.
            // Size off by one. A checkpoint signs size and root together, so the mutated
            // claim carries that size's root; the proof must fail against it. (With the
            // old root, the RFC's shape walk may coincide across sizes: the root, not the
            // path, binds the size.)
            if n < MAX && verify_inclusion(m, n + 1, &leaf, &proof, &roots[n as usize + 1]).is_ok()
            {
                accepted.push((m, n));
            }
            if m + 1 < n
                && verify_inclusion(m, n - 1, &leaf, &proof, &roots[n as usize - 1]).is_ok()
            {
                accepted.push((m, n));
            }
            assert!(verify_inclusion(m + 1, n, &leaf, &proof, &r).is_err());
            // Swapped roots: the proof for size n against another size's root.
            if n > 1 {
                assert!(verify_inclusion(m, n, &leaf, &proof, &roots[n as usize - 1]).is_err());
            }
        }
    }
    // Claiming size n+1 with size n's root is a false statement, yet no verifier can tell
    // from hashes alone when both sizes give the path the same shape: a subtree hash
    // cannot be told from a leaf hash. The RFC algorithm rejects all other cases.
    assert_eq!(
        accepted,
        Vec::<(u64, u64)>::new(),
        "inclusion proofs accepted at size n+1"
    );
}

#[test]
fn every_consistency_proof_verifies_and_every_mutation_fails() {
    let (t, _) = tree(MAX);
    let roots: Vec<Hash32> = (0..=MAX).map(|n| root(&t, n).unwrap()).collect();
    let mut accepted = vec![];
    for n in 1..=MAX {
        for m in 1..=n {
            let (r1, r2) = (roots[m as usize], roots[n as usize]);
            let proof = consistency_proof(&t, m, n).unwrap();
            verify_consistency(m, n, &r1, &r2, &proof).unwrap();
            if m == n {
                continue;
            }
            for (i, _) in proof.iter().enumerate() {
                let mut bad = proof.clone();
                bad[i] = flip(&bad[i], (n as usize * 5 + i) % 256);
                assert!(
                    verify_consistency(m, n, &r1, &r2, &bad).is_err(),
                    "flip {m}->{n} at {i}"
                );
            }
            assert!(verify_consistency(m, n, &r1, &r2, &proof[..proof.len() - 1]).is_err());
            let mut ext = proof.clone();
            ext.push(r1);
            assert!(verify_consistency(m, n, &r1, &r2, &ext).is_err());
            // Swapped roots.
            assert!(verify_consistency(m, n, &r2, &r1, &proof).is_err());
            // Sizes off by one (where the other size's tree differs).
            if m + 1 < n {
                assert!(verify_consistency(m + 1, n, &roots[m as usize + 1], &r2, &proof).is_err());
                assert!(verify_consistency(m + 1, n, &r1, &r2, &proof).is_err());
            }
            if n < MAX && verify_consistency(m, n + 1, &r1, &roots[n as usize + 1], &proof).is_ok()
            {
                accepted.push((m, n));
            }
            if m < n - 1
                && verify_consistency(m, n - 1, &r1, &roots[n as usize - 1], &proof).is_ok()
            {
                accepted.push((m, n));
            }
        }
    }
    assert_eq!(
        accepted,
        Vec::<(u64, u64)>::new(),
        "consistency proofs accepted at size n±1"
    );
}

#[test]
fn edge_cases_are_typed() {
    let (t, leaves) = tree(4);
    let r = t.root();
    assert_eq!(
        verify_inclusion(4, 4, &leaves[0], &[], &r),
        Err(ProofError::IndexOutOfRange { index: 4, size: 4 })
    );
    assert_eq!(
        verify_consistency(5, 4, &r, &r, &[]),
        Err(ProofError::SizesOutOfOrder {
            first: 5,
            second: 4
        })
    );
    assert_eq!(verify_consistency(0, 4, &empty_root(), &r, &[]), Ok(()));
    assert_eq!(
        verify_consistency(4, 4, &r, &r, &[r]),
        Err(ProofError::WrongLength)
    );
    assert!(inclusion_proof(&t, 4, 4).is_err());
    assert!(consistency_proof(&t, 5, 4).is_err());
    let long = vec![r; 65];
    assert_eq!(
        verify_inclusion(0, 4, &leaves[0], &long, &r),
        Err(ProofError::WrongLength)
    );
}
