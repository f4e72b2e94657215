//! Merkle tree heads: what an audit log commits to, and what the chain anchors.

use parity_scale_codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use serde::{Deserialize, Serialize};

use crate::did::Did;
use crate::hash::Hash32;

/// The head of an RFC 9162 Merkle tree: its size and root hash.
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Debug,
    Encode,
    Decode,
    DecodeWithMemTracking,
    MaxEncodedLen,
    TypeInfo,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "camelCase")]
pub struct TreeHead {
    /// Number of leaves.
    pub size: u64,
    /// Root hash (the RFC 9162 hash of the empty string for size 0).
    pub root: Hash32,
}

/// An audit log head anchored for one DID. Chains store one per DID, and the size may
/// never shrink.
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Debug,
    Encode,
    Decode,
    DecodeWithMemTracking,
    MaxEncodedLen,
    TypeInfo,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "camelCase")]
pub struct AuditRoot {
    /// Whose log this is.
    pub did: Did,
    /// The anchored head.
    pub head: TreeHead,
}
