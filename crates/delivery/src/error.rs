//! What can go wrong in delivery.

use thiserror::Error;

/// A delivery step failed. Messages carry peer keys and sequence numbers, never content.
#[derive(Debug, Error)]
pub enum DeliveryError {
    /// RocksDB failed; the step was not applied.
    #[error("store: {0}")]
    Store(#[from] talos_store::StoreError),
    /// RocksDB failed; the step was not applied.
    #[error("rocksdb: {0}")]
    Rocks(#[from] rocksdb::Error),
    /// Stored data could not be read back (wrong storage key, or corruption).
    #[error("corrupt delivery state: {0}")]
    Corrupt(&'static str),
    /// No session with the peer, and no prekey bundle to start one.
    #[error("no session with {0} and no prekey bundle to start one")]
    NoSession(String),
    /// The handshake with the peer's bundle failed.
    #[error("handshake with {peer} failed: {source}")]
    Handshake {
        /// The peer.
        peer: String,
        /// Why.
        source: talos_ratchet::HandshakeError,
    },
    /// Encryption failed.
    #[error("encryption for {peer} failed: {source}")]
    Encrypt {
        /// The peer.
        peer: String,
        /// Why.
        source: talos_ratchet::EncryptError,
    },
    /// The message is too large for one frame.
    #[error("message too large for one frame: {0}")]
    TooLarge(#[from] talos_net::FrameError),
    /// A new prekey store could not be made.
    #[error("prekeys: {0}")]
    PreKeys(talos_ratchet::prekey::PreKeyError),
    /// The group this message was written with failed; nothing of it was stored.
    #[error("not stored: {0}")]
    Unavailable(String),
    /// A group operation was refused by the group's rules (membership, keys).
    #[error("group: {0}")]
    Group(#[from] talos_ratchet::group::GroupError),
    /// No such group on this node (or no invitation to it).
    #[error("unknown group {0}")]
    UnknownGroup(String),
    /// Only the group's creator may do this: it orders the membership log.
    #[error("only the group's creator may {0}")]
    NotCreator(&'static str),
    /// The operation does not fit the group's current state.
    #[error("group state: {0}")]
    GroupState(&'static str),
    /// A bound of the group store is reached.
    #[error("group limit reached: {0}")]
    GroupLimit(&'static str),
    /// A lock was poisoned by a panic elsewhere; the state on disk is intact.
    #[error("delivery state lock poisoned")]
    Poisoned,
}
