//! Types shared by every part of talos: the agent node, the FRAME pallets, the runtime and
//! the chain clients.
//!
//! The crate is `no_std` (with `alloc`) so the runtime can use it, and every type carries
//! both serde (for JSON on the node side) and SCALE (`Encode`, `Decode`, `TypeInfo`,
//! `MaxEncodedLen`, for the chain side).
//!
//! Constructors parse rather than validate: a value of any type here is valid by
//! construction, and that holds for values decoded from SCALE or serde as well, because
//! those decoders go through the same constructors.
//!
//! ```
//! use talos_primitives::Did;
//! let did = Did::parse("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK")?;
//! assert!(did.as_key().is_some());
//! assert!(Did::parse("did:key:not-a-key").is_err());
//! # Ok::<(), talos_primitives::DidError>(())
//! ```
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

mod did;
mod hash;
mod key;
mod record;
mod trace;
mod tree;

pub use did::{AgentId, Did, DidError, DidUrl, MAX_DID_LEN, TalosId};
pub use hash::{CapabilityId, Commitment, Hash32, HexError};
pub use key::{ED25519_PUB_MULTICODEC, Ed25519Public, KeyError, X25519_PUB_MULTICODEC};
pub use record::DidRecord;
pub use trace::{TraceParent, TraceParentError};
pub use tree::{AuditRoot, TreeHead};
