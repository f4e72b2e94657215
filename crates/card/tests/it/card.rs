//! Cards sign and verify; any change, another key, or a header that asks the verifier to
//! look elsewhere fails; arbitrary bytes are refused with an error, never a panic.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;
use serde_json::{Value, json};
use talos_card::{CardConfig, CardError, build, canonical, sign, verify};
use talos_identity::IdentitySeed;
use talos_identity::keys::IdentityKey;

const TOML: &str = r#"
name = "booking"
description = "Books flights for other agents"
version = "1.2.0"

[provider]
organization = "Example Travel"
url = "https://travel.example"

[[skills]]
id = "book-flight"
name = "Book a flight"
description = "Books one seat"
tags = ["travel"]
scope = [{ res = "talos://booking/flights/*", act = ["book", "quote"] }]
"#;

fn key(n: u8) -> IdentityKey {
    IdentityKey::from_seed(&IdentitySeed::from_bytes([n; 32])).unwrap()
}

fn signed(k: &IdentityKey) -> Value {
    let config = CardConfig::parse(TOML).unwrap();
    Value::Object(sign(&build(&config, &k.did()), k).unwrap())
}

fn bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

#[test]
fn a_signed_card_verifies_and_names_its_agent() {
    let k = key(1);
    let card = signed(&k);
    let v = verify(&bytes(&card)).unwrap();
    assert_eq!(v.did, k.did());
    assert!(v.kid.starts_with(&format!("{}#z6Mk", k.did())));
    assert_eq!(
        card["skills"][0]["securityRequirements"][0]["schemes"]["talos"]["list"],
        json!([
            "talos://booking/flights/* book",
            "talos://booking/flights/* quote"
        ])
    );
    assert_eq!(
        card["supportedInterfaces"][0]["url"],
        json!(k.did().to_string())
    );
    // The protected header is JCS, alg EdDSA, kid the DID URL.
    let p = card["signatures"][0]["protected"].as_str().unwrap();
    let h: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap();
    assert_eq!(h["alg"], "EdDSA");
    assert_eq!(h["typ"], "JOSE");
}

#[test]
fn any_changed_field_fails() {
    let card = signed(&key(1));
    for (path, new) in [
        ("/name", json!("b00king")),
        ("/description", json!("Books trains")),
        (
            "/skills/0/securityRequirements/0/schemes/talos/list/0",
            json!("talos://** book"),
        ),
        ("/provider/url", json!("https://evil.example")),
        ("/version", json!("1.2.1")),
    ] {
        let mut c = card.clone();
        *c.pointer_mut(path).unwrap() = new;
        assert!(
            matches!(verify(&bytes(&c)), Err(CardError::BadSignature(_))),
            "{path}"
        );
    }
    // An added field too.
    let mut c = card.clone();
    c["iconUrl"] = json!("https://evil.example/i.png");
    assert!(matches!(
        verify(&bytes(&c)),
        Err(CardError::BadSignature(_))
    ));
}

#[test]
fn empty_fields_do_not_change_the_canonical_form() {
    let card = signed(&key(1));
    let mut c = card.clone();
    c["securitySchemes"]["other"] = json!({});
    c["iconUrl"] = json!("");
    c["skills"][0]["examples"] = json!([]);
    assert_eq!(
        canonical(c.as_object().unwrap()).unwrap(),
        canonical(card.as_object().unwrap()).unwrap()
    );
    verify(&bytes(&c)).unwrap();
}

#[test]
fn the_verified_card_is_the_signed_form() {
    let k = key(1);
    let mut c = signed(&k);
    // Members the canonical form drops can be added by anyone without breaking the
    // signature; they are not part of what verify returns.
    c["supportedInterfaces"]
        .as_array_mut()
        .unwrap()
        .insert(0, json!({}));
    c["iconUrl"] = json!(null);
    c["extra"] = json!([]);
    let v = verify(&bytes(&c)).unwrap();
    assert_eq!(v.card["supportedInterfaces"][0]["protocolBinding"], "TALOS");
    assert!(!v.card.contains_key("iconUrl") && !v.card.contains_key("extra"));
    assert_eq!(Value::Object(v.card), signed(&k));
}

#[test]
fn another_agents_card_or_key_fails() {
    let (a, b) = (key(1), key(2));
    // b's card re-pointed at a's DID: the signature is b's.
    let mut c = signed(&b);
    c["supportedInterfaces"][0]["url"] = json!(a.did().to_string());
    assert!(matches!(
        verify(&bytes(&c)),
        Err(CardError::BadSignature(_))
    ));
    // a's card signed by b (b's kid): the kid is not the card's DID.
    let config = CardConfig::parse(TOML).unwrap();
    let c = sign(&build(&config, &a.did()), &b).unwrap();
    assert!(matches!(
        verify(&serde_json::to_vec(&c).unwrap()),
        Err(CardError::BadSignature(_))
    ));
}

#[test]
fn headers_that_point_elsewhere_are_not_followed() {
    let k = key(1);
    let card = signed(&k);
    let sig = card["signatures"][0]["signature"].clone();
    let payload = URL_SAFE_NO_PAD.encode(canonical(card.as_object().unwrap()).unwrap());
    // A header with crit is refused even when its signature is good.
    let header = json!({"alg": "EdDSA", "kid": format!("{}#x", k.did()), "crit": ["b64"]});
    let protected = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap());
    let good = k.sign(format!("{protected}.{payload}").as_bytes());
    let mut c = card.clone();
    c["signatures"] = json!([{ "protected": protected, "signature": good.to_base64url() }]);
    assert!(matches!(
        verify(&bytes(&c)),
        Err(CardError::BadSignature(_))
    ));
    // A jku is ignored: the key still comes from the DID, so a good signature passes.
    let header = json!({"alg": "EdDSA", "kid": format!("{}#x", k.did()), "jku": "https://evil.example/jwks"});
    let protected = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap());
    let good = k.sign(format!("{protected}.{payload}").as_bytes());
    c["signatures"] = json!([{ "protected": protected, "signature": good.to_base64url() }]);
    verify(&bytes(&c)).unwrap();
    // alg none, and an HS256 header over the same bytes, are refused.
    for alg in ["none", "HS256"] {
        let header = json!({"alg": alg, "kid": format!("{}#x", k.did())});
        let protected = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap());
        c["signatures"] = json!([{ "protected": protected, "signature": sig }]);
        assert!(matches!(
            verify(&bytes(&c)),
            Err(CardError::BadSignature(_))
        ));
    }
}

#[test]
fn malformed_cards_are_typed_errors() {
    assert!(matches!(verify(b"[]"), Err(CardError::Malformed(_))));
    assert!(matches!(verify(b"{\"name\":1}"), Err(CardError::Unsigned)));
    assert!(matches!(
        verify(b"{\"signatures\":[{}]}"),
        Err(CardError::NoDid)
    ));
    assert!(matches!(
        verify(&vec![b' '; 70 * 1024]),
        Err(CardError::TooLarge(_))
    ));
    let deep = format!(
        "{{\"signatures\":[1],\"supportedInterfaces\":[{{\"url\":\"did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK\",\"protocolBinding\":\"TALOS\"}}],\"x\":{}1{}}}",
        "[".repeat(100),
        "]".repeat(100)
    );
    assert!(matches!(
        verify(deep.as_bytes()),
        Err(CardError::TooLarge(_))
    ));
    for bad in [
        "name = \"\"\ndescription = \"x\"",
        "name = \"a\"\ndescription = \"b\"\nnmae = 1",
        "name = \"a\"\ndescription = \"b\"\nversion = \" \"",
        "name = \"a\"\ndescription = \"b\"\n[[interfaces]]\nurl = \"https://x\"\nbinding = \"TALOS\"",
        "name = \"a\"\ndescription = \"b\"\n[[skills]]\nid = \"s\"\nname = \"n\"\ndescription = \"d\"\ntags = [\"\"]",
        "name = \"a\"\ndescription = \"b\"\n[[skills]]\nid = \"s\"\nname = \"n\"\ndescription = \"d\"\nscope = [{ res = \"a b\", act = [\"x\"] }]",
    ] {
        assert!(
            matches!(CardConfig::parse(bad), Err(CardError::Config(_))),
            "{bad}"
        );
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = verify(&b);
    }

    #[test]
    fn arbitrary_json_cards_never_verify_unsigned(name in ".{0,40}", desc in ".{0,40}") {
        let card = json!({"name": name, "description": desc, "signatures": [{"protected": "e30", "signature": "AA"}],
            "supportedInterfaces": [{"url": key(1).did().to_string(), "protocolBinding": "TALOS"}]});
        prop_assert!(verify(&bytes(&card)).is_err());
    }
}

/// The committed fuzz seed (a card a node signed) verifies, so the fuzzer starts past
/// the parser's first checks.
#[test]
fn the_fuzz_seed_is_a_valid_card() {
    let seed =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/card_verify/card");
    let v = verify(&std::fs::read(seed).unwrap()).unwrap();
    assert_eq!(v.card["name"], "booking");
}
