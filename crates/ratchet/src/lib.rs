//! talos-ratchet: the end-to-end encryption of agent-to-agent traffic. Pure protocol: no
//! I/O and no async; the node persists every state this crate hands back.
//!
//! - [`x3dh`]: the X3DH handshake and its post-quantum extension PQXDH (ML-KEM-768), from a
//!   [`prekey::PreKeyBundle`] to a [`session::Session`];
//! - [`session`]: the Double Ratchet, with bounded skipped keys ([`session::MAX_SKIP`]),
//!   transactional decryption and optional header encryption;
//! - [`state`] and [`at_rest`]: the versioned session encoding and its sealing at rest;
//! - [`simultaneous`]: deterministic resolution when both peers initiate at once;
//! - [`group`] and [`membership`]: sender-key groups, rekeyed on every membership event of
//!   a hash-chained, signed log.
//!
//! Wire formats and the KDF labels are specified in `FORMAT.md`; known-answer files for
//! other implementations are in `test-vectors/`.

pub mod aead;
pub mod at_rest;
pub mod codec;
pub mod group;
pub mod header;
pub mod kdf;
pub mod keys;
pub mod membership;
pub mod message;
pub mod pq;
pub mod prekey;
pub mod session;
pub mod simultaneous;
pub mod state;
pub mod x3dh;

pub use codec::DecodeError;
pub use message::{Envelope, InitialMessage, Message};
pub use prekey::{PreKeyBundle, PreKeyStore};
pub use session::{DecryptError, EncryptError, MAX_SKIP, MAX_SKIPPED_TOTAL, Session};
pub use x3dh::{HandshakeError, PqPolicy, SessionConfig};

/// The README's session example, compiled and run as a doctest so it cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctest;
