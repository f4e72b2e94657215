//! Property tests: every encode/decode pair round-trips.

use proptest::prelude::*;
use talos_identity::did_key::{self, KeyFormat};
use talos_identity::document::{DidDocument, Service};
use talos_identity::keystore::{self, KdfParams, Passphrase};
use talos_identity::{Did, IdentityKey, IdentitySeed, Signature, jcs, peer_id};

fn key(seed: [u8; 32]) -> IdentityKey {
    IdentityKey::from_seed(&IdentitySeed::from_bytes(seed)).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn did_key_round_trip(seed in any::<[u8; 32]>()) {
        let k = key(seed);
        let s = did_key::encode(&k.public());
        prop_assert_eq!(did_key::decode(&s).unwrap(), k.public());
        prop_assert_eq!(s.parse::<Did>().unwrap(), k.did());
    }

    #[test]
    fn did_document_round_trip(seed in any::<[u8; 32]>(), addrs in proptest::collection::vec("/ip4/127\\.0\\.0\\.1/tcp/[0-9]{1,5}", 0..4)) {
        let k = key(seed);
        for fmt in [KeyFormat::Multikey, KeyFormat::Legacy2018, KeyFormat::JsonWebKey2020] {
            let mut doc = did_key::document(&k.public(), fmt).unwrap();
            doc.service.push(Service::libp2p(k.did(), addrs.clone()).unwrap());
            let json = serde_json::to_vec(&doc).unwrap();
            let back = DidDocument::from_json(&json).unwrap();
            prop_assert_eq!(back, doc);
        }
    }

    #[test]
    fn peer_id_round_trip(seed in any::<[u8; 32]>()) {
        let k = key(seed);
        let pid = peer_id::peer_id_of(&k.public()).unwrap();
        prop_assert_eq!(peer_id::key_of(&pid).unwrap(), k.public());
        prop_assert_eq!(peer_id::did_of(&pid).unwrap(), k.did());
        // The libp2p keypair made from the identity has the same PeerId.
        prop_assert_eq!(peer_id::libp2p_keypair(&k).unwrap().public().to_peer_id(), pid);
    }

    #[test]
    fn signature_round_trip(seed in any::<[u8; 32]>(), msg in proptest::collection::vec(any::<u8>(), 0..256)) {
        let sig = key(seed).sign(&msg);
        prop_assert_eq!(Signature::from_base64url(&sig.to_base64url()).unwrap(), sig);
        let json = serde_json::to_string(&sig).unwrap();
        prop_assert_eq!(serde_json::from_str::<Signature>(&json).unwrap(), sig);
    }

    #[test]
    fn jcs_is_idempotent_and_signs(v in arb_json()) {
        let once = jcs::canonicalize(&v).unwrap();
        prop_assert_eq!(&jcs::canonicalize_json(&once).unwrap(), &once);
        let k = key([3; 32]);
        let (bytes, sig) = jcs::sign(&k, &v).unwrap();
        let back: serde_json::Value = jcs::verify_canonical(&k.public(), &bytes, &sig).unwrap();
        prop_assert_eq!(jcs::canonicalize(&back).unwrap(), once);
    }

    #[test]
    fn keystore_round_trip(seed in any::<[u8; 32]>(), pass in "[ -~]{0,40}") {
        let k = key(seed);
        let p = Passphrase::new(pass);
        let sealed = keystore::seal(&k, &p, KdfParams::DANGEROUS_TEST_ONLY).unwrap();
        prop_assert_eq!(sealed.len(), keystore::FILE_LEN);
        prop_assert_eq!(keystore::open(&sealed, &p).unwrap().public(), k.public());
    }
}

fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(Value::from),
        (-1e15f64..1e15).prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map("\\PC{0,8}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Differential test: our one-pass serializer and serde_jcs agree on arbitrary JSON.
    #[test]
    fn jcs_matches_serde_jcs(v in arb_json_wide()) {
        prop_assert_eq!(jcs::canonicalize(&v).unwrap(), serde_jcs::to_vec(&v).unwrap());
    }
}

fn arb_json_wide() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::btree_map(any::<String>(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The shared on-chain types round-trip through JSON and SCALE.
    #[test]
    fn primitives_round_trip(seed in any::<[u8; 32]>(), h in any::<[u8; 32]>(), size in any::<u64>(), version in 1u32.., deactivated in any::<bool>()) {
        use parity_scale_codec::{Decode, Encode};
        use talos_primitives::{AgentId, AuditRoot, DidRecord, Ed25519Public, Hash32, TreeHead};
        let public = key(seed).public();
        prop_assert_eq!(serde_json::from_str::<Ed25519Public>(&serde_json::to_string(&public).unwrap()).unwrap(), public);
        prop_assert_eq!(Ed25519Public::decode(&mut &public.encode()[..]).unwrap(), public);
        let agent = AgentId(public);
        prop_assert_eq!(serde_json::from_str::<AgentId>(&serde_json::to_string(&agent).unwrap()).unwrap(), agent);
        let root = AuditRoot { did: agent.did(), head: TreeHead { size, root: Hash32(h) } };
        prop_assert_eq!(serde_json::from_str::<AuditRoot>(&serde_json::to_string(&root).unwrap()).unwrap(), root);
        prop_assert_eq!(AuditRoot::decode(&mut &root.encode()[..]).unwrap(), root);
        let rec = DidRecord { controller: public, doc_hash: Hash32(h), version, prev: (version > 1).then_some(Hash32(h)), deactivated };
        prop_assert_eq!(serde_json::from_str::<DidRecord>(&serde_json::to_string(&rec).unwrap()).unwrap(), rec);
        prop_assert_eq!(DidRecord::decode(&mut &rec.encode()[..]).unwrap(), rec);
    }
}
