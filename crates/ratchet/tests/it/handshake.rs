use talos_ratchet::message::Envelope;
use talos_ratchet::x3dh::{self, HandshakeError, PqPolicy, SessionConfig};

use crate::common::{Party, message_of, pair};

#[test]
fn x3dh_and_pqxdh_round_trip() {
    for header_encryption in [false, true] {
        let (mut a, mut b) = pair(SessionConfig {
            header_encryption,
            ..SessionConfig::default()
        });
        let reply = b.encrypt(b"hi alice").unwrap();
        assert!(matches!(reply, Envelope::Message(_)));
        assert_eq!(a.decrypt(&message_of(reply)).unwrap(), b"hi alice");
        assert!(!a.is_pending());
        let next = a.encrypt(b"again").unwrap();
        assert_eq!(b.decrypt(&message_of(next)).unwrap(), b"again");
    }
}

#[test]
fn one_time_prekey_is_consumed_exactly_once() {
    let alice = Party::new(false);
    let mut bob = Party::new(false);
    let opk = bob.store.next_one_time_id();
    let bundle = bob.store.bundle(&bob.identity, opk).unwrap();
    let mut a = x3dh::initiate(
        &mut rand::rng(),
        &alice.identity,
        &bundle,
        SessionConfig::default(),
    )
    .unwrap();
    let Envelope::Initial(init) = a.encrypt(b"1").unwrap() else {
        panic!()
    };
    x3dh::respond(
        &bob.identity,
        &mut bob.store,
        &init,
        SessionConfig::default(),
    )
    .unwrap();
    let err = x3dh::respond(
        &bob.identity,
        &mut bob.store,
        &init,
        SessionConfig::default(),
    )
    .unwrap_err();
    assert_eq!(err, HandshakeError::OneTimePreKeyAlreadyUsed(opk.unwrap()));
}

fn initial(
    alice: &Party,
    bob: &Party,
    opk: Option<u32>,
    cfg: SessionConfig,
) -> talos_ratchet::InitialMessage {
    let bundle = bob.store.bundle(&bob.identity, opk).unwrap();
    let mut a = x3dh::initiate(&mut rand::rng(), &alice.identity, &bundle, cfg).unwrap();
    let Envelope::Initial(init) = a.encrypt(b"first").unwrap() else {
        panic!()
    };
    init
}

#[test]
fn pqxdh_is_the_default_when_offered_and_can_be_required() {
    let alice = Party::new(true);
    let mut bob = Party::new(true);
    let init = initial(&alice, &bob, None, SessionConfig::default());
    assert!(
        init.kem.is_some(),
        "PQXDH is used whenever the bundle offers ML-KEM"
    );
    assert!(
        init.one_time_prekey_id.is_none(),
        "three DHs when no one-time prekey is left"
    );
    let strict = SessionConfig {
        require_pq: true,
        ..SessionConfig::default()
    };
    x3dh::respond(&bob.identity, &mut bob.store, &init, strict).unwrap();
    // A classical initial message is refused by a responder that requires PQ.
    let classical = initial(
        &alice,
        &bob,
        None,
        SessionConfig {
            pq: PqPolicy::Off,
            ..SessionConfig::default()
        },
    );
    assert!(classical.kem.is_none());
    let err = x3dh::respond(&bob.identity, &mut bob.store, &classical, strict).unwrap_err();
    assert_eq!(err, HandshakeError::PostQuantumRequired);
    // An initiator that requires PQ refuses a bundle without ML-KEM.
    let plain_bob = Party::new(false);
    let bundle = plain_bob.store.bundle(&plain_bob.identity, None).unwrap();
    let cfg = SessionConfig {
        pq: PqPolicy::Require,
        ..SessionConfig::default()
    };
    let err = x3dh::initiate(&mut rand::rng(), &alice.identity, &bundle, cfg).unwrap_err();
    assert_eq!(err, HandshakeError::PostQuantumRequired);
}

#[test]
fn bad_prekey_signatures_are_refused() {
    let alice = Party::new(false);
    let bob = Party::new(true);
    let mut bundle = bob.store.bundle(&bob.identity, None).unwrap();
    bundle.signed_prekey_signature.0[0] ^= 1;
    let err = x3dh::initiate(
        &mut rand::rng(),
        &alice.identity,
        &bundle,
        SessionConfig::default(),
    )
    .unwrap_err();
    assert_eq!(err, HandshakeError::BadSignedPreKeySignature);
    // A signed prekey swapped for another key fails too (the signature covers the key).
    let mut bundle = bob.store.bundle(&bob.identity, None).unwrap();
    bundle.signed_prekey.0[5] ^= 1;
    let err = x3dh::initiate(
        &mut rand::rng(),
        &alice.identity,
        &bundle,
        SessionConfig::default(),
    )
    .unwrap_err();
    assert_eq!(err, HandshakeError::BadSignedPreKeySignature);
    let mut bundle = bob.store.bundle(&bob.identity, None).unwrap();
    if let Some((_, _, sig)) = bundle.kem_prekey.as_mut() {
        sig.0[63] ^= 0x10;
    }
    let err = x3dh::initiate(
        &mut rand::rng(),
        &alice.identity,
        &bundle,
        SessionConfig::default(),
    )
    .unwrap_err();
    assert_eq!(err, HandshakeError::BadKemPreKeySignature);
}

#[test]
fn unknown_prekeys_and_low_order_keys_each_have_their_error() {
    let alice = Party::new(false);
    let mut bob = Party::new(true);
    let cfg = SessionConfig::default();
    let opk = bob.store.next_one_time_id();
    let good = initial(&alice, &bob, opk, cfg);

    let mut m = good.clone();
    m.one_time_prekey_id = Some(999_999);
    let err = x3dh::respond(&bob.identity, &mut bob.store, &m, cfg).unwrap_err();
    assert_eq!(err, HandshakeError::UnknownOneTimePreKey(999_999));

    let mut m = good.clone();
    m.signed_prekey_id = 424_242;
    let err = x3dh::respond(&bob.identity, &mut bob.store, &m, cfg).unwrap_err();
    assert_eq!(err, HandshakeError::UnknownSignedPreKey(424_242));

    let mut m = good.clone();
    if let Some((id, _)) = m.kem.as_mut() {
        *id = 77_777;
    }
    let err = x3dh::respond(&bob.identity, &mut bob.store, &m, cfg).unwrap_err();
    assert_eq!(err, HandshakeError::UnknownKemPreKey(77_777));

    // A low-order ephemeral key (u = 0, order 2; u = 1, order 4) is refused.
    for low in [[0u8; 32], {
        let mut p = [0u8; 32];
        p[0] = 1;
        p
    }] {
        let mut m = good.clone();
        m.ephemeral = talos_ratchet::keys::DhPublic(low);
        let err = x3dh::respond(&bob.identity, &mut bob.store, &m, cfg).unwrap_err();
        assert!(matches!(err, HandshakeError::NonContributory(_)), "{err:?}");
    }

    // A forged initial message (tampered ciphertext) does not burn the one-time prekey.
    let mut bytes = good.encode();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    let forged = talos_ratchet::InitialMessage::parse(&bytes).unwrap();
    let before = bob.store.encode();
    let err = x3dh::respond(&bob.identity, &mut bob.store, &forged, cfg).unwrap_err();
    assert!(matches!(err, HandshakeError::FirstMessage(_)));
    assert_eq!(*before, *bob.store.encode());
    x3dh::respond(&bob.identity, &mut bob.store, &good, cfg).unwrap();
}

#[test]
fn wire_forms_round_trip() {
    let alice = Party::new(true);
    let bob = Party::new(true);
    let opk = bob.store.next_one_time_id();
    let bundle = bob.store.bundle(&bob.identity, opk).unwrap();
    assert_eq!(
        talos_ratchet::PreKeyBundle::parse(&bundle.encode()).unwrap(),
        bundle
    );
    let init = initial(
        &alice,
        &bob,
        opk,
        SessionConfig {
            header_encryption: true,
            ..SessionConfig::default()
        },
    );
    let bytes = init.encode();
    assert_eq!(talos_ratchet::InitialMessage::parse(&bytes).unwrap(), init);
    assert!(matches!(
        talos_ratchet::Envelope::parse(&bytes).unwrap(),
        Envelope::Initial(_)
    ));
    let store = talos_ratchet::PreKeyStore::decode(&bob.store.encode()).unwrap();
    assert_eq!(*store.encode(), *bob.store.encode());
}
