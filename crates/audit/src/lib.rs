//! The tamper-evident audit log of a talos agent.
//!
//! - [`hash`], [`tree`], [`proof`]: the RFC 9162 Merkle tree, its inclusion and consistency
//!   proofs, generated from stored nodes and verified by the RFC's algorithms.
//! - [`note`], [`checkpoint`]: C2SP signed notes and `tlog-checkpoint`s.
//! - [`tiles`]: C2SP `tlog-tiles` paths, hash tiles from stored nodes, entry bundles.
//! - [`tlog_proof`]: C2SP `tlog-proof@v1` files an auditor keeps and checks offline.
//! - [`aggregate`]: an agent's checkpoint proven in an aggregator's anchored log.
//! - [`witness`]: cosigning only consistent checkpoints; split-view evidence.
//! - [`event`]: typed, canonical, signed events that carry digests and ids only.
//!
//! The durable log over RocksDB is `talos-store`.
//!
//! ```
//! use talos_audit::hash::leaf_hash;
//! use talos_audit::{MemoryTree, tree::inclusion_proof, verify_inclusion};
//! let mut tree = MemoryTree::new();
//! for event in [b"one".as_slice(), b"two", b"three"] {
//!     tree.append(leaf_hash(event));
//! }
//! let proof = inclusion_proof(&tree, 1, 3)?;
//! verify_inclusion(1, 3, &leaf_hash(b"two"), &proof, &tree.root())?;
//! assert!(verify_inclusion(1, 3, &leaf_hash(b"TWO"), &proof, &tree.root()).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod aggregate;
pub mod checkpoint;
pub mod event;
pub mod hash;
pub mod note;
pub mod proof;
pub mod tiles;
pub mod tlog_proof;
pub mod tree;
pub mod wire;
pub mod witness;

pub use checkpoint::Checkpoint;
pub use proof::{ProofError, verify_consistency, verify_inclusion};
pub use tree::{Frontier, MemoryTree, NodeSource, TreeError};
