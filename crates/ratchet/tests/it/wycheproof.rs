//! Wycheproof vectors through the primitives exactly as the ratchet calls them.

use serde_json::Value;
use talos_ratchet::aead;
use talos_ratchet::kdf::hkdf_sha256;
use talos_ratchet::keys::{DhPublic, DhSecret};

fn load(name: &str) -> Value {
    let path = format!(
        "{}/tests/vectors/wycheproof/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn cases(v: &Value) -> impl Iterator<Item = (&Value, &Value)> {
    v["testGroups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["tests"].as_array().unwrap().iter().map(move |t| (g, t)))
}

fn hex(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

fn arr32(v: &Value) -> [u8; 32] {
    hex(v).try_into().unwrap()
}

#[test]
fn x25519_dh_as_the_ratchet_calls_it() {
    let v = load("x25519_test.json");
    let (mut agreed, mut refused) = (0, 0);
    for (_, t) in cases(&v) {
        let secret = DhSecret::from_bytes(arr32(&t["private"]));
        let public = DhPublic(arr32(&t["public"]));
        let shared = arr32(&t["shared"]);
        let result = secret.diffie_hellman(&public);
        if shared == [0u8; 32] {
            // Low-order inputs: the result is all zero, and we refuse it (non-contributory).
            assert!(
                result.is_err(),
                "tc {} accepted a zero shared secret",
                t["tcId"]
            );
            refused += 1;
        } else {
            let got = result.unwrap_or_else(|e| panic!("tc {}: {e}", t["tcId"]));
            assert_eq!(got.dangerous_as_bytes(), shared, "tc {}", t["tcId"]);
            agreed += 1;
        }
    }
    assert_eq!(agreed + refused, 518);
    assert!(refused > 0);
}

#[test]
fn chacha20_poly1305_as_the_ratchet_calls_it() {
    let v = load("chacha20_poly1305_test.json");
    let (mut checked, mut wrong_nonce) = (0, 0);
    for (g, t) in cases(&v) {
        let iv = hex(&t["iv"]);
        let Ok(nonce) = <[u8; 12]>::try_from(iv.as_slice()) else {
            // The API takes `[u8; 12]`: other nonce sizes cannot be passed at all.
            assert_eq!(t["result"], "invalid");
            assert_ne!(g["ivSize"], 96);
            wrong_nonce += 1;
            continue;
        };
        let key = arr32(&t["key"]);
        let (aad, msg) = (hex(&t["aad"]), hex(&t["msg"]));
        let sealed = [hex(&t["ct"]), hex(&t["tag"])].concat();
        let opened = aead::open(&key, &nonce, &[&aad], &sealed);
        if t["result"] == "valid" {
            assert_eq!(opened.unwrap(), msg, "tc {}", t["tcId"]);
            let mut out = Vec::new();
            aead::seal(&key, &nonce, &[&aad], &msg, &mut out);
            assert_eq!(out, sealed, "tc {}", t["tcId"]);
        } else {
            assert!(opened.is_err(), "tc {} accepted", t["tcId"]);
        }
        checked += 1;
    }
    assert_eq!(checked + wrong_nonce, 325);
}

#[test]
fn hkdf_sha256_as_the_ratchet_calls_it() {
    let v = load("hkdf_sha256_test.json");
    let mut n = 0;
    for (_, t) in cases(&v) {
        let size = t["size"].as_u64().unwrap() as usize;
        let mut out = vec![0u8; size];
        let r = hkdf_sha256(
            &hex(&t["salt"]),
            &hex(&t["ikm"]),
            &hex(&t["info"]),
            &mut out,
        );
        if t["result"] == "valid" {
            r.unwrap();
            assert_eq!(out, hex(&t["okm"]), "tc {}", t["tcId"]);
        } else {
            assert!(r.is_err(), "tc {}", t["tcId"]);
        }
        n += 1;
    }
    assert_eq!(n, 86);
}
