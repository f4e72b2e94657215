//! The JSON forms auditors exchange: inclusion and consistency proofs with base64 hashes.
//!
//! `{"leafIdx","treeSize","root","leafHash","proof":[..]}` and
//! `{"size1","size2","root1","root2","proof":[..]}`; decoding is bounded (at most
//! [`MAX_PROOF_LEN`] hashes, each exactly 32 bytes) and typed.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use talos_primitives::Hash32;

use crate::proof::{MAX_PROOF_LEN, ProofError, verify_consistency, verify_inclusion};

/// A hash written as standard base64.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct B64(pub Hash32);

impl Serialize for B64 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(self.0.as_bytes()))
    }
}

impl<'de> Deserialize<'de> for B64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        if s.len() > 64 {
            return Err(serde::de::Error::custom("hash is too long"));
        }
        let b = STANDARD
            .decode(s.as_bytes())
            .map_err(|_| serde::de::Error::custom("hash is not base64"))?;
        Hash32::from_slice(&b)
            .map(B64)
            .map_err(|_| serde::de::Error::custom("hash is not 32 bytes"))
    }
}

fn bounded<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<B64>, D::Error> {
    let v = Vec::<B64>::deserialize(d)?;
    if v.len() > MAX_PROOF_LEN {
        return Err(serde::de::Error::custom("proof is longer than 64 hashes"));
    }
    Ok(v)
}

/// An inclusion proof with its claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InclusionProof {
    /// Leaf index.
    pub leaf_idx: u64,
    /// Tree size.
    pub tree_size: u64,
    /// Root of that tree.
    pub root: B64,
    /// RFC 9162 leaf hash.
    pub leaf_hash: B64,
    /// The audit path.
    #[serde(deserialize_with = "bounded")]
    pub proof: Vec<B64>,
}

impl InclusionProof {
    /// Checks the proof.
    pub fn verify(&self) -> Result<(), ProofError> {
        let path: Vec<Hash32> = self.proof.iter().map(|h| h.0).collect();
        verify_inclusion(
            self.leaf_idx,
            self.tree_size,
            &self.leaf_hash.0,
            &path,
            &self.root.0,
        )
    }
}

/// A consistency proof with its claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyProof {
    /// Older size.
    pub size1: u64,
    /// Newer size.
    pub size2: u64,
    /// Older root.
    pub root1: B64,
    /// Newer root.
    pub root2: B64,
    /// The proof.
    #[serde(deserialize_with = "bounded")]
    pub proof: Vec<B64>,
}

impl ConsistencyProof {
    /// Checks the proof.
    pub fn verify(&self) -> Result<(), ProofError> {
        let path: Vec<Hash32> = self.proof.iter().map(|h| h.0).collect();
        verify_consistency(self.size1, self.size2, &self.root1.0, &self.root2.0, &path)
    }
}
