//! Self-sovereign identity for talos agents.
//!
//! - [`keys`]: the Ed25519 identity key (strict verification, zeroized secrets) and the
//!   X25519 key-agreement key derived from it.
//! - [`did_key`]: `did:key` encoding and the documents the did:key method derives.
//! - [`document`]: W3C DID Core documents, with services (libp2p multiaddrs, mailboxes).
//! - [`jcs`]: RFC 8785 canonical JSON, signatures over it, and `eddsa-jcs-2022` proofs.
//! - [`talos_did`]: the `did:talos` document model: versions, rotation, deactivation.
//! - [`keystore`]: the identity encrypted at rest (argon2id + ChaCha20-Poly1305).
//! - [`peer_id`]: libp2p `PeerId` ⟷ did:key, both ways.
//!
//! ```
//! use talos_identity::{IdentityKey, keys::verify};
//! let key = IdentityKey::generate()?;
//! let did = key.did(); // did:key:z6Mk...
//! assert!(did.to_string().starts_with("did:key:z6Mk"));
//! let sig = key.sign(b"hello");
//! verify(&key.public(), b"hello", &sig)?;
//! assert!(verify(&key.public(), b"hellO", &sig).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod did_key;
pub mod document;
pub mod jcs;
pub mod keys;
pub mod keystore;
pub mod peer_id;
pub mod talos_did;

pub use keys::{IdentityKey, IdentitySeed, KeyAgreementSecret, Signature, SignatureError};
pub use talos_primitives::{Did, DidError, DidUrl, Ed25519Public, Hash32, KeyError};
