//! PeerId ⟷ did:key.

use talos_identity::peer_id::{self, PeerIdError};

#[test]
fn known_peer_id_maps_to_did_key() {
    // The seed-0 did:key from the w3c-ccg vectors, and its PeerId computed by rust-libp2p.
    let key = crate::seeded(0);
    let pid = peer_id::peer_id_of(&key.public()).unwrap();
    assert!(pid.to_base58().starts_with("12D3KooW"));
    assert_eq!(
        peer_id::did_of(&pid).unwrap().to_string(),
        "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
    );
}

#[test]
fn non_ed25519_peer_id_is_refused() {
    let pid = libp2p_identity::PeerId::random();
    assert!(matches!(
        peer_id::key_of(&pid),
        Err(PeerIdError::InvalidKey | PeerIdError::NotInline)
    ));
}
