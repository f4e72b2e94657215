use talos_ratchet::message::Envelope;
use talos_ratchet::x3dh::{self, HandshakeError, SessionConfig};

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
        &mut rand::rng(),
        &bob.identity,
        &mut bob.store,
        &init,
        SessionConfig::default(),
    )
    .unwrap();
    let err = x3dh::respond(
        &mut rand::rng(),
        &bob.identity,
        &mut bob.store,
        &init,
        SessionConfig::default(),
    )
    .unwrap_err();
    assert_eq!(err, HandshakeError::OneTimePreKeyAlreadyUsed(opk.unwrap()));
}
