//! Property tests for every decoder: arbitrary bytes give a typed error or a value, never
//! a panic; valid encodings round-trip; any truncation is refused.

use proptest::prelude::*;
use talos_ratchet::group::{GroupMessage, SenderKeyDistribution};
use talos_ratchet::header::Header;
use talos_ratchet::membership::MembershipEvent;
use talos_ratchet::{Envelope, InitialMessage, Message, PreKeyBundle, PreKeyStore, Session};

use crate::common::{Party, message_of, pair};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1500)) {
        let _ = Message::parse(&bytes);
        let _ = InitialMessage::parse(&bytes);
        let _ = Envelope::parse(&bytes);
        let _ = PreKeyBundle::parse(&bytes);
        let _ = PreKeyStore::decode(&bytes);
        let _ = Session::decode(&bytes);
        let _ = Header::decode(&bytes);
        let _ = GroupMessage::parse(&bytes);
        let _ = SenderKeyDistribution::parse(&bytes);
        let _ = MembershipEvent::parse(&bytes);
    }

    #[test]
    fn header_round_trips(dh in any::<[u8; 32]>(), pn in any::<u32>(), n in any::<u32>()) {
        let h = Header { dh: talos_ratchet::keys::DhPublic(dh), pn, n };
        prop_assert_eq!(Header::decode(&h.encode()).unwrap(), h);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Valid messages mutated at one byte still never panic, and truncated ones are refused.
    #[test]
    fn mutated_valid_encodings(pos in any::<prop::sample::Index>(), val in any::<u8>(), cut in any::<prop::sample::Index>()) {
        let (mut a, b) = pair(talos_ratchet::SessionConfig::default());
        let msg = message_of(a.encrypt(b"payload").unwrap());
        let state = b.encode();
        let party = Party::new(true);
        let bundle = party.store.bundle(&party.identity, None).unwrap().encode();
        for bytes in [msg.as_bytes().to_vec(), state.to_vec(), bundle] {
            let mut m = bytes.clone();
            let i = pos.index(m.len());
            m[i] = val;
            let _ = Message::parse(&m);
            let _ = Session::decode(&m);
            let _ = PreKeyBundle::parse(&m);
            let c = cut.index(bytes.len());
            prop_assert!(Message::parse(&bytes[..c]).is_err() || c >= 2 + 40 + 16);
            prop_assert!(Session::decode(&bytes[..c]).is_err());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Parsing with the sender's key known gives exactly what parsing alone gives, for an
    /// initial message mutated at any byte (its identity key included, into a non-point
    /// or into another key): the shortcut only skips re-checking the known key's bytes.
    #[test]
    fn parse_from_a_known_sender_agrees_with_parse(pos in any::<prop::sample::Index>(), val in any::<u8>()) {
        let alice = Party::new(false);
        let bob = Party::new(false);
        let bundle = bob.store.bundle(&bob.identity, None).unwrap();
        let mut a = talos_ratchet::x3dh::initiate(
            &mut rand::rng(), &alice.identity, &bundle, talos_ratchet::SessionConfig::default(),
        ).unwrap();
        let bytes = a.encrypt(b"first").unwrap().encode();
        let mut m = bytes.clone();
        let i = pos.index(m.len());
        m[i] = val;
        let sender = alice.identity.public();
        for known in [Some(&sender), Some(&bob.identity.public()), None] {
            let shortcut = Envelope::parse_from(&m, known);
            let full = Envelope::parse(&m);
            prop_assert_eq!(shortcut.is_ok(), full.is_ok());
            if let (Ok(s), Ok(f)) = (shortcut, full) {
                prop_assert_eq!(s, f);
            }
        }
        // An identity key that is a small-order point (the neutral element) is refused
        // whoever is known.
        let mut bad = bytes.clone();
        let mut neutral = [0u8; 32];
        neutral[0] = 1;
        bad[3..35].copy_from_slice(&neutral);
        prop_assert!(Envelope::parse_from(&bad, Some(&sender)).is_err());
    }
}
