//! Credentials issue and verify; a changed claim, another issuer's key, a time outside
//! the validity period and arbitrary bytes are refused with typed errors; the
//! configuration's digest ignores form and the secret-bearing settings.

use proptest::prelude::*;
use serde_json::{Value, json};
use talos_attest::measure;
use talos_attest::{AttestError, Claims, issue, verify};
use talos_identity::keys::IdentityKey;
use talos_identity::{Hash32, IdentitySeed};

fn key(n: u8) -> IdentityKey {
    IdentityKey::from_seed(&IdentitySeed::from_bytes([n; 32])).unwrap()
}

fn claims() -> Claims {
    Claims {
        id: key(2).did(),
        binary_sha256: Hash32([1; 32]),
        config_sha256: Hash32([2; 32]),
        model: "gpt-example-1".into(),
        policy_sha256: Hash32([3; 32]),
        intoto_sha256: None,
    }
}

const FROM: u64 = 1_700_000_000;
const UNTIL: u64 = 1_800_000_000;

fn issued() -> Value {
    issue(&key(1), claims(), FROM, UNTIL).unwrap()
}

fn bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

#[test]
fn an_issued_credential_verifies_with_its_claims() {
    let c = issued();
    assert_eq!(
        c["type"],
        json!(["VerifiableCredential", "TalosAttestation"])
    );
    assert_eq!(c["validFrom"], "2023-11-14T22:13:20Z");
    assert_eq!(c["proof"]["cryptosuite"], "eddsa-jcs-2022");
    assert_eq!(c["credentialSubject"]["binarySha256"], "01".repeat(32));
    let v = verify(&bytes(&c), FROM + 10).unwrap();
    assert_eq!(v.issuer, key(1).did());
    assert_eq!(v.claims, claims());
    assert_eq!((v.valid_from, v.valid_until), (FROM, UNTIL));
    assert!(v.id.starts_with("urn:uuid:"));
}

#[test]
fn changed_claims_another_key_and_the_wrong_time_fail() {
    let c = issued();
    for (path, new) in [
        ("/credentialSubject/model", json!("another-model")),
        ("/credentialSubject/binarySha256", json!("00".repeat(32))),
        ("/validUntil", json!("2099-01-01T00:00:00Z")),
    ] {
        let mut x = c.clone();
        *x.pointer_mut(path).unwrap() = new;
        assert!(
            matches!(verify(&bytes(&x), FROM + 10), Err(AttestError::BadProof(_))),
            "{path}"
        );
    }
    // Signed by key 3 but naming key 1 as the issuer.
    let mut forged = issue(&key(3), claims(), FROM, UNTIL).unwrap();
    forged["issuer"] = json!(key(1).did().to_string());
    assert!(verify(&bytes(&forged), FROM + 10).is_err());
    assert!(matches!(
        verify(&bytes(&c), FROM - 1),
        Err(AttestError::NotValidNow { .. })
    ));
    assert!(matches!(
        verify(&bytes(&c), UNTIL + 1),
        Err(AttestError::NotValidNow { .. })
    ));
    assert!(matches!(
        verify(b"[]", FROM),
        Err(AttestError::Malformed(_))
    ));
    assert!(matches!(
        verify(&vec![b' '; 20_000], FROM),
        Err(AttestError::TooLarge)
    ));
    assert!(issue(&key(1), claims(), UNTIL, FROM).is_err());
}

#[test]
fn the_config_digest_ignores_form_and_secret_bearing_settings() {
    let a = "listen = [\"/ip4/0.0.0.0/tcp/4001\"]\n# comment\nmdns = true\nchain = \"evm:https://key@rpc.example\"\n";
    let b = "mdns = true\nlisten = [ \"/ip4/0.0.0.0/tcp/4001\" ]\nagent_url = \"http://u:p@127.0.0.1:8000\"\n";
    assert_eq!(measure::config(a).unwrap(), measure::config(b).unwrap());
    let c = "mdns = false\nlisten = [\"/ip4/0.0.0.0/tcp/4001\"]\n";
    assert_ne!(measure::config(a).unwrap(), measure::config(c).unwrap());
    assert!(measure::config("not = = toml").is_err());
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = verify(&b, FROM);
    }
}
