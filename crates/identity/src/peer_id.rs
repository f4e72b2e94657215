//! libp2p `PeerId` ⟷ did:key.
//!
//! A node's libp2p key is its Ed25519 identity key, so its PeerId (the identity multihash
//! of the protobuf-encoded public key) and its did:key name the same key and convert both
//! ways without any lookup.

use libp2p_identity::{PeerId, PublicKey, ed25519};
use talos_primitives::{Did, Ed25519Public};

use crate::keys::IdentityKey;

/// Why a PeerId does not map to a did:key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeerIdError {
    /// The PeerId is a hash of the key (non-Ed25519 keys), not the key itself.
    #[error("PeerId does not embed its public key")]
    NotInline,
    /// The embedded key is not Ed25519.
    #[error("PeerId key is not Ed25519")]
    NotEd25519,
    /// The embedded key is not a valid Ed25519 key.
    #[error("PeerId holds an invalid Ed25519 key")]
    InvalidKey,
}

/// The PeerId of an Ed25519 public key.
pub fn peer_id_of(key: &Ed25519Public) -> Result<PeerId, PeerIdError> {
    let pk =
        ed25519::PublicKey::try_from_bytes(key.as_bytes()).map_err(|_| PeerIdError::InvalidKey)?;
    Ok(PeerId::from_public_key(&PublicKey::from(pk)))
}

/// The Ed25519 key a PeerId embeds.
pub fn key_of(peer: &PeerId) -> Result<Ed25519Public, PeerIdError> {
    let mh = peer.as_ref();
    // Multihash code 0x00 is "identity": the digest is the protobuf-encoded key itself.
    if mh.code() != 0x00 {
        return Err(PeerIdError::NotInline);
    }
    let pk = PublicKey::try_decode_protobuf(mh.digest()).map_err(|_| PeerIdError::InvalidKey)?;
    let ed = pk.try_into_ed25519().map_err(|_| PeerIdError::NotEd25519)?;
    Ed25519Public::from_bytes(ed.to_bytes()).map_err(|_| PeerIdError::InvalidKey)
}

/// The did:key of a PeerId.
pub fn did_of(peer: &PeerId) -> Result<Did, PeerIdError> {
    key_of(peer).map(Did::Key)
}

/// The libp2p keypair of an identity: the same Ed25519 secret.
pub fn libp2p_keypair(key: &IdentityKey) -> Result<libp2p_identity::Keypair, PeerIdError> {
    let mut seed = key.seed().dangerous_as_bytes().to_owned();
    // `ed25519_from_bytes` zeroizes the buffer it is given.
    libp2p_identity::Keypair::ed25519_from_bytes(&mut seed).map_err(|_| PeerIdError::InvalidKey)
}
