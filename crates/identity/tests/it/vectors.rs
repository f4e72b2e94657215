//! Public vectors: did:key (w3c-ccg), RFC 8785 JCS (cyberphone), Wycheproof Ed25519.

use serde_json::Value;
use talos_identity::did_key::{self, KeyFormat};
use talos_identity::keys::verify;
use talos_identity::{Ed25519Public, IdentityKey, IdentitySeed, Signature, jcs};

use crate::{read_json, vector_path};

fn clamp(mut k: [u8; 32]) -> [u8; 32] {
    k[0] &= 248;
    k[31] &= 127;
    k[31] |= 64;
    k
}

fn b64(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap()
}

fn base58(s: &str) -> Vec<u8> {
    multibase::decode(format!("z{s}")).unwrap().1
}

#[test]
fn did_key_ed25519_vectors() {
    let v = read_json("did-key/ed25519-x25519.json");
    let entries = v.as_object().unwrap();
    assert!(entries.len() >= 5);
    for (did, case) in entries {
        let seed: [u8; 32] = hex::decode(case["seed"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        let key = IdentityKey::from_seed(&IdentitySeed::from_bytes(seed)).unwrap();
        // seed -> did:key
        assert_eq!(&key.did().to_string(), did);
        // did:key -> key
        assert_eq!(did_key::decode(did).unwrap(), key.public());
        // Ed25519 public key, X25519 derivation (public and private), in whichever
        // encoding the vector uses.
        let vk = &case["verificationKeyPair"];
        let ka = &case["keyAgreementKeyPair"];
        let x = key.key_agreement();
        let (format, ed_pub, x_pub, x_priv) = if vk.get("publicKeyJwk").is_some() {
            (
                KeyFormat::JsonWebKey2020,
                b64(vk["publicKeyJwk"]["x"].as_str().unwrap()),
                b64(ka["publicKeyJwk"]["x"].as_str().unwrap()),
                b64(ka["privateKeyJwk"]["d"].as_str().unwrap()),
            )
        } else {
            (
                KeyFormat::Legacy2018,
                base58(vk["publicKeyBase58"].as_str().unwrap()),
                base58(ka["publicKeyBase58"].as_str().unwrap()),
                base58(ka["privateKeyBase58"].as_str().unwrap()),
            )
        };
        assert_eq!(ed_pub, key.public().as_bytes());
        assert_eq!(x_pub, x.public());
        // Some vectors publish the scalar with different top bits than SHA-512 gives;
        // X25519 clamps before use (RFC 7748 §5), and the clamped scalars must be identical.
        let theirs: [u8; 32] = x_priv.try_into().unwrap();
        assert_eq!(
            clamp(theirs),
            clamp(*x.dangerous_as_bytes()),
            "x25519 secret for {did}"
        );
        assert_eq!(
            x25519_dalek::x25519(theirs, x25519_dalek::X25519_BASEPOINT_BYTES),
            x.public()
        );
        assert!(
            ka["id"]
                .as_str()
                .unwrap()
                .ends_with(&format!("#{}", did_key::x25519_multikey(&x.public())))
        );
        // Whole document, in the vectors' (2018 suite) format.
        let doc = did_key::document(&key.public(), format).unwrap();
        assert_eq!(
            serde_json::to_value(&doc).unwrap(),
            case["didDocument"],
            "document for {did}"
        );
    }
}

#[test]
fn did_key_x25519_vectors_are_rejected_as_ed25519() {
    // The x25519 file lists did:keys of X25519 keys (multicodec 0xec): an Ed25519 did:key
    // decoder must refuse each with the multicodec error, not misread it.
    let v = read_json("did-key/x25519.json");
    let docs = v["didDocument"].as_object().unwrap();
    assert!(!docs.is_empty());
    for did in docs.keys() {
        let err = did_key::decode(did).unwrap_err();
        assert_eq!(
            err,
            talos_identity::DidError::Key(talos_identity::KeyError::WrongMulticodec(0xec)),
            "{did}"
        );
    }
}

#[test]
fn jcs_vectors() {
    let dir = vector_path("jcs/input");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let input = std::fs::read(&path).unwrap();
        let expected = std::fs::read(vector_path(&format!("jcs/output/{name}"))).unwrap();
        let got = jcs::canonicalize_json(&input).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&expected),
            "{name}"
        );
        // The canonical output is accepted as a signature input as-is.
        let key = crate::seeded(1);
        let sig = key.sign(&expected);
        jcs::verify_canonical::<Value>(&key.public(), &expected, &sig).unwrap();
        n += 1;
    }
    assert_eq!(n, 6);
}

#[test]
fn wycheproof_ed25519() {
    let v = read_json("wycheproof/ed25519_test.json");
    let mut valid = 0;
    let mut invalid = 0;
    for group in v["testGroups"].as_array().unwrap() {
        let pk = hex::decode(group["publicKey"]["pk"].as_str().unwrap()).unwrap();
        let public = Ed25519Public::from_slice(&pk);
        for t in group["tests"].as_array().unwrap() {
            let msg = hex::decode(t["msg"].as_str().unwrap()).unwrap();
            let sig = hex::decode(t["sig"].as_str().unwrap()).unwrap();
            let ok = match (&public, Signature::from_slice(&sig)) {
                (Ok(pk), Ok(sig)) => verify(pk, &msg, &sig).is_ok(),
                _ => false,
            };
            match t["result"].as_str().unwrap() {
                "valid" => {
                    assert!(ok, "tcId {} should verify", t["tcId"]);
                    valid += 1;
                }
                "invalid" => {
                    assert!(!ok, "tcId {} should be rejected", t["tcId"]);
                    invalid += 1;
                }
                other => panic!("unexpected result {other}"),
            }
        }
    }
    assert_eq!((valid, invalid), (88, 63));
}

/// W3C `eddsa-jcs-2022` (w3c/vc-di-eddsa `TestVectors/`): from the published key pair
/// and unsigned credential, every intermediate (the canonical document and proof
/// configuration, their hashes, the signature) and the secured credential reproduce byte
/// for byte; the published credential verifies, and changed, it does not.
#[test]
fn w3c_eddsa_jcs_2022_vectors_reproduce_byte_for_byte() {
    use sha2::{Digest, Sha256};
    let text = |f: &str| {
        std::fs::read_to_string(vector_path(&format!("vc-di-eddsa/{f}")))
            .unwrap()
            .trim_end()
            .to_string()
    };
    let pair = read_json("vc-di-eddsa/keyPair.json");
    // privateKeyMultibase: base58btc of the multicodec ed25519-priv (0x1300) ‖ the seed.
    let private = multibase::decode(pair["privateKeyMultibase"].as_str().unwrap())
        .unwrap()
        .1;
    assert_eq!(private[..2], [0x80, 0x26]);
    let key = IdentityKey::from_seed(&IdentitySeed::from_bytes(private[2..].try_into().unwrap()))
        .unwrap();
    let public = pair["publicKeyMultibase"].as_str().unwrap();
    assert_eq!(did_key::encode(&key.public()), format!("did:key:{public}"));

    let signed = read_json("vc-di-eddsa/signedJCS.json");
    let mut unsigned = signed.clone();
    unsigned.as_object_mut().unwrap().remove("proof");
    let canon_doc = jcs::canonicalize(&unsigned).unwrap();
    assert_eq!(
        String::from_utf8(canon_doc.clone()).unwrap(),
        text("canonDocJCS.txt")
    );
    let config = read_json("vc-di-eddsa/proofConfigJCS.json");
    let canon_config = jcs::canonicalize(&config).unwrap();
    assert_eq!(
        String::from_utf8(canon_config.clone()).unwrap(),
        text("proofCanonJCS.txt")
    );
    let (proof_hash, doc_hash) = (Sha256::digest(&canon_config), Sha256::digest(&canon_doc));
    assert_eq!(hex::encode(proof_hash), text("proofHashJCS.txt"));
    assert_eq!(hex::encode(doc_hash), text("docHashJCS.txt"));
    assert_eq!(
        format!("{}{}", hex::encode(proof_hash), hex::encode(doc_hash)),
        text("combinedHashJCS.txt")
    );

    let options = jcs::ProofOptions {
        verification_method: config["verificationMethod"].as_str().unwrap().into(),
        proof_purpose: config["proofPurpose"].as_str().unwrap().into(),
        created: Some(config["created"].as_str().unwrap().into()),
    };
    let secured = jcs::secure(&key, &unsigned, &options).unwrap();
    assert_eq!(secured, signed);
    let value = secured["proof"]["proofValue"].as_str().unwrap();
    assert_eq!(value, text("sigBTC58JCS.txt"));
    assert_eq!(
        hex::encode(multibase::decode(value).unwrap().1),
        text("sigHexJCS.txt")
    );

    assert_eq!(
        jcs::verify_secured(&signed, &key.public()).unwrap(),
        options
    );
    let mut changed = signed.clone();
    changed["credentialSubject"]["alumniOf"] = "Another School".into();
    assert!(jcs::verify_secured(&changed, &key.public()).is_err());
    let mut changed = signed.clone();
    changed["proof"]["created"] = "2023-02-24T23:36:39Z".into();
    assert!(jcs::verify_secured(&changed, &key.public()).is_err());
    // The proof's @context must be where the document's starts.
    let mut changed = signed.clone();
    changed["@context"] = serde_json::json!(["https://www.w3.org/ns/credentials/v2"]);
    assert!(jcs::verify_secured(&changed, &key.public()).is_err());
    assert!(jcs::verify_secured(&signed, &seeded_other().public()).is_err());
}

fn seeded_other() -> IdentityKey {
    crate::seeded(9)
}
