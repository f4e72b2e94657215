//! RFC 9162 §2.1.1 hashing: domain-separated leaves and interior nodes.

use sha2::{Digest, Sha256};
use talos_primitives::Hash32;

/// SHA-256 of the empty string: the root of the empty tree.
pub fn empty_root() -> Hash32 {
    Hash32(Sha256::digest([]).into())
}

/// `SHA-256(0x00 ‖ data)`.
pub fn leaf_hash(data: &[u8]) -> Hash32 {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(data);
    Hash32(h.finalize().into())
}

/// `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash32, right: &Hash32) -> Hash32 {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left.as_bytes());
    h.update(right.as_bytes());
    Hash32(h.finalize().into())
}
