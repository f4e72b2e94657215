//! Malformed input gets a typed error, never a panic.

use proptest::prelude::*;
use serde_json::Value;
use talos_identity::did_key;
use talos_identity::document::{DidDocument, DocumentError};
use talos_identity::jcs::{self, JcsError};
use talos_identity::talos_did::SignedTalosDocument;
use talos_identity::{Did, DidError, KeyError, SignatureError};

#[test]
fn bad_did_strings() {
    assert_eq!(did_key::decode("not a did"), Err(DidError::NotADid));
    assert_eq!(
        did_key::decode("did:example:123"),
        Err(DidError::UnsupportedMethod)
    );
    assert_eq!(
        did_key::decode("did:key:z0OIl"),
        Err(DidError::Key(KeyError::BadMultibase))
    );
    assert_eq!(did_key::decode("did:key:"), Err(DidError::EmptyIdentifier));
}

#[test]
fn wrong_multicodec() {
    // secp256k1-pub (0xe7) key.
    let mut bytes = vec![0xe7, 0x01];
    bytes.extend([2u8; 33]);
    let did = format!(
        "did:key:{}",
        multibase::encode(multibase::Base::Base58Btc, &bytes)
    );
    assert_eq!(
        did_key::decode(&did),
        Err(DidError::Key(KeyError::WrongMulticodec(0xe7)))
    );
    // A truncated varint.
    let did = format!(
        "did:key:{}",
        multibase::encode(multibase::Base::Base58Btc, [0xed])
    );
    assert_eq!(
        did_key::decode(&did),
        Err(DidError::Key(KeyError::BadMulticodec))
    );
}

#[test]
fn wrong_length() {
    let key = crate::seeded(1).public();
    for len in [0usize, 31, 33] {
        let mut bytes = vec![0xed, 0x01];
        bytes.extend(key.as_bytes().iter().cycle().take(len));
        let did = format!(
            "did:key:{}",
            multibase::encode(multibase::Base::Base58Btc, &bytes)
        );
        assert_eq!(
            did_key::decode(&did),
            Err(DidError::Key(KeyError::WrongLength {
                expected: 32,
                got: len
            }))
        );
    }
}

#[test]
fn non_canonical_signature_input() {
    let key = crate::seeded(2);
    let canonical = br#"{"a":1,"b":[true,null]}"#;
    let sig = key.sign(canonical);
    jcs::verify_canonical::<Value>(&key.public(), canonical, &sig).unwrap();
    for variant in [
        &br#"{"b":[true,null],"a":1}"#[..],  // key order
        br#"{"a": 1,"b":[true,null]}"#,      // whitespace
        br#"{"a":1.0,"b":[true,null]}"#,     // number form
        br#"{"a":1,"a":1,"b":[true,null]}"#, // duplicate key
        br#"{"a":1,"b":[true,null]} "#,      // trailing whitespace
    ] {
        let sig = key.sign(variant);
        assert!(
            matches!(
                jcs::verify_canonical::<Value>(&key.public(), variant, &sig),
                Err(JcsError::NonCanonical)
            ),
            "{}",
            String::from_utf8_lossy(variant)
        );
    }
    assert!(matches!(
        jcs::verify_canonical::<Value>(&key.public(), b"{not json", &sig),
        Err(JcsError::Json(_))
    ));
    // Canonical but signed by someone else.
    let other = crate::seeded(3);
    assert!(matches!(
        jcs::verify_canonical::<Value>(&other.public(), canonical, &sig),
        Err(JcsError::Signature(SignatureError::Invalid))
    ));
}

#[test]
fn tampered_did_document_proof() {
    let key = crate::seeded(4);
    let doc = talos_identity::did_key::document(&key.public(), Default::default()).unwrap();
    let vm = doc.authentication[0].clone();
    let secured = jcs::add_proof(&key, &doc, &vm, "assertionMethod").unwrap();
    jcs::verify_proof(&secured, &key.public()).unwrap();

    let mut tampered = secured.clone();
    tampered["keyAgreement"] = Value::Array(vec![]);
    assert!(matches!(
        jcs::verify_proof(&tampered, &key.public()),
        Err(JcsError::Signature(SignatureError::Invalid))
    ));
    let mut tampered = secured.clone();
    tampered["proof"]["proofPurpose"] = "authentication".into();
    assert!(matches!(
        jcs::verify_proof(&tampered, &key.public()),
        Err(JcsError::Signature(SignatureError::Invalid))
    ));
    let mut tampered = secured.clone();
    tampered["proof"]["cryptosuite"] = "eddsa-rdfc-2022".into();
    assert!(matches!(
        jcs::verify_proof(&tampered, &key.public()),
        Err(JcsError::BadProof(_))
    ));
    let mut tampered = secured;
    tampered.as_object_mut().unwrap().remove("proof");
    assert!(matches!(
        jcs::verify_proof(&tampered, &key.public()),
        Err(JcsError::BadProof(_))
    ));
}

#[test]
fn malformed_documents() {
    let key = crate::seeded(5);
    let doc = talos_identity::did_key::document(&key.public(), Default::default()).unwrap();
    let good = serde_json::to_value(&doc).unwrap();

    let mut v = good.clone();
    v["@context"][0] = "https://example.com".into();
    assert!(matches!(
        DidDocument::from_json(&serde_json::to_vec(&v).unwrap()),
        Err(DocumentError::MissingContext)
    ));

    let mut v = good.clone();
    v["authentication"] = serde_json::json!([format!("{}#nope", doc.id)]);
    assert!(matches!(
        DidDocument::from_json(&serde_json::to_vec(&v).unwrap()),
        Err(DocumentError::DanglingReference)
    ));

    let mut v = good.clone();
    let other = crate::seeded(6).did();
    v["verificationMethod"][0]["id"] = format!("{other}#k").into();
    assert!(matches!(
        DidDocument::from_json(&serde_json::to_vec(&v).unwrap()),
        Err(DocumentError::ForeignMethod)
    ));

    let mut v = good.clone();
    v["id"] = "did:key:zzzz".into();
    assert!(matches!(
        DidDocument::from_json(&serde_json::to_vec(&v).unwrap()),
        Err(DocumentError::Json(_))
    ));

    let big = vec![b' '; talos_identity::document::MAX_DOCUMENT_BYTES + 1];
    assert!(matches!(
        DidDocument::from_json(&big),
        Err(DocumentError::TooLarge(_))
    ));
    assert!(SignedTalosDocument::from_json(b"[]").is_err());
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = DidDocument::from_json(&bytes);
        let _ = SignedTalosDocument::from_json(&bytes);
        let _ = jcs::canonicalize_json(&bytes);
        let _ = talos_identity::keystore::open(&bytes, &talos_identity::keystore::Passphrase::new("x".into()));
        if let Ok(s) = std::str::from_utf8(&bytes) {
            let _ = s.parse::<Did>();
        }
    }
}
