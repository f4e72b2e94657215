//! Directory records: what is signed parses back exactly; any change to the bytes, a
//! record under another identity's key, and an expired record are refused with their
//! own errors.

use proptest::prelude::*;
use talos_identity::keys::{IdentityKey, IdentitySeed};
use talos_net::directory::{
    DirectoryRecord, MAX_ADDRS, MAX_ATTESTATION, MAX_CARD, RecordError, Unsigned, dht_key,
};
use talos_ratchet::PreKeyStore;

fn identity(seed: u8) -> IdentityKey {
    IdentityKey::from_seed(&IdentitySeed::from_bytes([seed; 32])).unwrap()
}

fn record(seed: u8, addrs: &[Vec<u8>], expires: u64) -> Vec<u8> {
    let id = identity(seed);
    let mut store = PreKeyStore::new(&mut rand::rng(), &id, true).unwrap();
    store
        .generate_one_time_prekeys(&mut rand::rng(), 2)
        .unwrap();
    // A bundle with a one-time prekey: signing strips it.
    let bundle = store.bundle(&id, store.next_one_time_id()).unwrap();
    assert!(bundle.one_time_prekey.is_some());
    DirectoryRecord::sign(
        &id,
        7,
        100,
        expires,
        addrs,
        &[identity(9).public()],
        &bundle,
    )
    .unwrap()
}

#[test]
fn signed_record_parses_back() {
    let addrs = vec![b"/ip4/127.0.0.1/tcp/1".to_vec(), vec![4, 127, 0, 0, 1]];
    let bytes = record(1, &addrs, 1_000);
    let key = dht_key(&identity(1).public());
    let r = DirectoryRecord::parse(&key, &bytes, 500).unwrap();
    assert_eq!(r.identity, identity(1).public());
    assert_eq!((r.seq, r.issued_at, r.expires_at), (7, 100, 1_000));
    assert_eq!(r.addrs, addrs);
    assert_eq!(r.mailboxes, vec![identity(9).public()]);
    assert_eq!(r.bundle.one_time_prekey, None);
    assert!(r.bundle.kem_prekey.is_some());
}

#[test]
fn wrong_key_expired_and_oversize_are_refused() {
    let bytes = record(1, &[], 1_000);
    let other = dht_key(&identity(2).public());
    assert_eq!(
        DirectoryRecord::parse(&other, &bytes, 0),
        Err(RecordError::WrongKey)
    );
    let key = dht_key(&identity(1).public());
    assert_eq!(
        DirectoryRecord::parse(&key, &bytes, 1_001),
        Err(RecordError::Expired)
    );
    let id = identity(1);
    let store = PreKeyStore::new(&mut rand::rng(), &id, true).unwrap();
    let bundle = store.bundle(&id, None).unwrap();
    let many = vec![vec![0u8; 4]; MAX_ADDRS + 1];
    assert_eq!(
        DirectoryRecord::sign(&id, 1, 0, 1, &many, &[], &bundle),
        Err(RecordError::TooLarge("addresses"))
    );
    // Another identity's bundle cannot be published under ours.
    let theirs = PreKeyStore::new(&mut rand::rng(), &identity(2), true)
        .unwrap()
        .bundle(&identity(2), None)
        .unwrap();
    assert!(DirectoryRecord::sign(&id, 1, 0, 1, &[], &[], &theirs).is_err());
}

#[test]
fn a_record_with_a_card_is_version_2_and_one_without_stays_version_1() {
    let id = identity(3);
    let store = PreKeyStore::new(&mut rand::rng(), &id, true).unwrap();
    let bundle = store.bundle(&id, None).unwrap();
    let key = dht_key(&id.public());
    let card = br#"{"name":"booking"}"#;
    let u = Unsigned {
        seq: 1,
        issued_at: 0,
        expires_at: 10,
        addrs: &[],
        mailboxes: &[],
        bundle: &bundle,
        card: Some(card),
        attestations: &[],
    };
    let v2 = DirectoryRecord::sign_unsigned(&id, &u).unwrap();
    assert_eq!(v2[4], 2);
    let r = DirectoryRecord::parse(&key, &v2, 5).unwrap();
    assert_eq!(r.card.as_deref(), Some(&card[..]));
    let v1 = DirectoryRecord::sign_unsigned(&id, &Unsigned { card: None, ..u }).unwrap();
    assert_eq!(v1[4], 1);
    assert_eq!(DirectoryRecord::parse(&key, &v1, 5).unwrap().card, None);
    // The version is signed: a v1 record relabelled v2 (or back) does not parse.
    let mut relabelled = v1.clone();
    relabelled[4] = 2;
    assert!(DirectoryRecord::parse(&key, &relabelled, 5).is_err());
    let mut relabelled = v2.clone();
    relabelled[4] = 1;
    assert!(DirectoryRecord::parse(&key, &relabelled, 5).is_err());
    // An empty or oversized card is refused when signing.
    let big = vec![b'x'; MAX_CARD + 1];
    for bad in [&b""[..], &big[..]] {
        assert_eq!(
            DirectoryRecord::sign_unsigned(
                &id,
                &Unsigned {
                    card: Some(bad),
                    ..u
                }
            ),
            Err(RecordError::TooLarge("card"))
        );
    }
}

/// Credentials make a record version 3, with or without a card; each is carried as
/// signed, within its bounds, and the version is signed too.
#[test]
fn a_record_with_credentials_is_version_3_with_or_without_a_card() {
    let id = identity(4);
    let store = PreKeyStore::new(&mut rand::rng(), &id, true).unwrap();
    let bundle = store.bundle(&id, None).unwrap();
    let key = dht_key(&id.public());
    let (c1, c2) = (br#"{"vc":1}"#.as_slice(), br#"{"vc":2}"#.as_slice());
    let both = [c1, c2];
    let u = Unsigned {
        seq: 1,
        issued_at: 0,
        expires_at: 10,
        addrs: &[],
        mailboxes: &[],
        bundle: &bundle,
        card: None,
        attestations: &both,
    };
    let v3 = DirectoryRecord::sign_unsigned(&id, &u).unwrap();
    assert_eq!(v3[4], 3);
    let r = DirectoryRecord::parse(&key, &v3, 5).unwrap();
    assert_eq!(
        (r.card, r.attestations),
        (None, vec![c1.to_vec(), c2.to_vec()])
    );
    let card = br#"{"name":"booking"}"#.as_slice();
    let with_card = DirectoryRecord::sign_unsigned(
        &id,
        &Unsigned {
            card: Some(card),
            ..u
        },
    )
    .unwrap();
    let r = DirectoryRecord::parse(&key, &with_card, 5).unwrap();
    assert_eq!((r.card.as_deref(), r.attestations.len()), (Some(card), 2));
    let mut relabelled = v3.clone();
    relabelled[4] = 2;
    assert!(DirectoryRecord::parse(&key, &relabelled, 5).is_err());
    // Three, an empty one or an oversized one are refused when signing.
    let big = vec![b'x'; MAX_ATTESTATION + 1];
    for bad in [&[c1, c2, c1][..], &[&b""[..]][..], &[&big[..]][..]] {
        assert_eq!(
            DirectoryRecord::sign_unsigned(
                &id,
                &Unsigned {
                    attestations: bad,
                    ..u
                }
            ),
            Err(RecordError::TooLarge("attestations"))
        );
    }
    // At their bounds, a card and two credentials together are over the record's bound
    // (the DHT's): refused when signing, so the node publishes a lighter record; one
    // credential at its bound fits.
    let (card_max, att_max) = (vec![b'c'; MAX_CARD], vec![b'a'; MAX_ATTESTATION]);
    let full = [att_max.as_slice(), att_max.as_slice()];
    let all = Unsigned {
        card: Some(&card_max),
        attestations: &full,
        ..u
    };
    assert_eq!(
        DirectoryRecord::sign_unsigned(&id, &all),
        Err(RecordError::TooLarge("record"))
    );
    let one = [att_max.as_slice()];
    let r = DirectoryRecord::sign_unsigned(
        &id,
        &Unsigned {
            attestations: &one,
            ..u
        },
    )
    .unwrap();
    assert!(DirectoryRecord::parse(&key, &r, 5).is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Flipping any bit anywhere makes the record unusable: a typed error, never a panic.
    #[test]
    fn any_bit_flip_is_refused(pos in any::<prop::sample::Index>(), bit in 0u8..8) {
        let bytes = record(3, &[b"/ip4/10.0.0.1/udp/9/quic-v1".to_vec()], u64::MAX);
        let key = dht_key(&identity(3).public());
        let mut bad = bytes.clone();
        let i = pos.index(bad.len());
        bad[i] ^= 1 << bit;
        prop_assert!(DirectoryRecord::parse(&key, &bad, 0).is_err());
    }

    /// Truncations and extensions are refused.
    #[test]
    fn resized_records_are_refused(cut in 1usize..200, extra in prop::collection::vec(any::<u8>(), 1..16)) {
        let bytes = record(4, &[], u64::MAX);
        let key = dht_key(&identity(4).public());
        let short = &bytes[..bytes.len().saturating_sub(cut)];
        prop_assert!(DirectoryRecord::parse(&key, short, 0).is_err());
        let mut long = bytes.clone();
        long.extend_from_slice(&extra);
        prop_assert!(DirectoryRecord::parse(&key, &long, 0).is_err());
    }

    /// Arbitrary bytes never panic the parser.
    #[test]
    fn arbitrary_bytes_do_not_panic(data in prop::collection::vec(any::<u8>(), 0..2048)) {
        let key = dht_key(&identity(5).public());
        let _ = DirectoryRecord::parse(&key, &data, 0);
    }
}

/// The committed fuzz seeds (a signed record for `net_directory`, a deposit for
/// `net_frame`) are valid inputs, so the fuzzers start past the parsers' first checks.
/// `TALOS_WRITE_FUZZ_SEEDS=1` rewrites them.
#[test]
fn fuzz_seeds_are_valid() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds");
    if std::env::var_os("TALOS_WRITE_FUZZ_SEEDS").is_some() {
        let record = record(6, &[b"/ip4/127.0.0.1/tcp/4001".to_vec()], u64::MAX);
        std::fs::create_dir_all(root.join("net_directory")).unwrap();
        std::fs::write(root.join("net_directory/record"), record).unwrap();
        let id = identity(6);
        let store = PreKeyStore::new(&mut rand::rng(), &id, true).unwrap();
        let bundle = store.bundle(&id, None).unwrap();
        let v3 = DirectoryRecord::sign_unsigned(
            &id,
            &Unsigned {
                seq: 1,
                issued_at: 0,
                expires_at: u64::MAX,
                addrs: &[b"/ip4/127.0.0.1/tcp/4001".to_vec()],
                mailboxes: &[],
                bundle: &bundle,
                card: Some(br#"{"name":"booking"}"#),
                attestations: &[br#"{"type":["VerifiableCredential"]}"#],
            },
        )
        .unwrap();
        std::fs::write(root.join("net_directory/record_v3"), v3).unwrap();
        let inner = talos_net::Frame::new(talos_net::FrameKind::Ratchet, 3, vec![1; 64]).unwrap();
        let deposit = talos_net::Deposit::wrap([7; 32], &inner).unwrap();
        std::fs::write(root.join("net_frame/deposit"), deposit.encode()).unwrap();
    }
    let record = std::fs::read(root.join("net_directory/record")).unwrap();
    let key = dht_key(&identity(6).public());
    assert_eq!(
        DirectoryRecord::parse(&key, &record, 0).unwrap().identity,
        identity(6).public()
    );
    let v3 = std::fs::read(root.join("net_directory/record_v3")).unwrap();
    assert_eq!(
        DirectoryRecord::parse(&key, &v3, 0)
            .unwrap()
            .attestations
            .len(),
        1
    );
    let deposit = std::fs::read(root.join("net_frame/deposit")).unwrap();
    let frame = talos_net::Frame::parse(&deposit).unwrap();
    assert_eq!(talos_net::Deposit::parse(&frame).unwrap().party, [7; 32]);
}
