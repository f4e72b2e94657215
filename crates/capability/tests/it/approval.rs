//! Approvals (FORMAT.md §3.6): signed over a call digest, strict like every statement, and
//! the known-answer file `test-vectors/approvals.json` (regenerate with
//! `TALOS_REGEN_VECTORS=1`).

use proptest::prelude::*;
use serde_json::{Value, json};
use talos_capability::approval::{self, APPROVAL_TYP, call_digest, request_id};
use talos_primitives::{Commitment, Hash32};

use crate::common::*;

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/test-vectors/approvals.json");

fn args(v: Value) -> serde_json::Map<String, Value> {
    v.as_object().unwrap().clone()
}

fn digest(amount: u64) -> Hash32 {
    call_digest(
        &planner().did(),
        &booking().did(),
        &Commitment(Hash32([7; 32])),
        "talos://booking/flights/LHR-JFK",
        "book",
        &args(json!({"amount": amount, "cur": "EUR"})),
    )
    .unwrap()
}

#[test]
fn an_approval_round_trips_and_names_its_request() {
    let dig = digest(300);
    let a = approval::sign(&assistant(), booking().did(), dig, T0, id(5)).unwrap();
    let v = approval::verify(&a).unwrap();
    assert_eq!(
        (
            v.claims.iss,
            v.claims.aud,
            v.claims.dig,
            v.claims.iat,
            v.claims.req,
            v.claims.jti
        ),
        (
            assistant().did(),
            booking().did(),
            dig,
            T0,
            request_id(&dig),
            id(5)
        )
    );
    assert_eq!(v.commitment, talos_capability::token::commitment_of(&a));
    // The digest changes with any argument, and not with anything left out of it.
    assert_ne!(digest(300), digest(301));
    // A changed byte, another statement type, or claims signed by another key: refused.
    let mut bad = a.clone().into_bytes();
    let mid = bad.len() / 2;
    bad[mid] ^= 1;
    assert!(approval::verify(&String::from_utf8_lossy(&bad)).is_err());
    assert_eq!(
        approval::verify(root().as_str()).unwrap_err().kind(),
        "bad_typ"
    );
    let header = |k: &talos_identity::IdentityKey| json!({"alg": "EdDSA", "kid": format!("{}#{}", k.did(), k.public().to_multikey()), "typ": APPROVAL_TYP});
    let claims = |req: String| {
        json!({"aud": booking().did().to_string(), "dig": dig.to_string(), "iat": T0,
               "iss": assistant().did().to_string(), "jti": hex::encode([5u8; 16]), "req": req})
    };
    let forged = raw_jws(
        &mallory(),
        &header(&assistant()),
        &claims(request_id(&dig).to_string()),
    );
    assert_eq!(
        approval::verify(&forged).unwrap_err().kind(),
        "bad_signature"
    );
    // `req` must be the digest's first 16 bytes.
    let other = raw_jws(
        &assistant(),
        &header(&assistant()),
        &claims(hex::encode([9u8; 16])),
    );
    assert_eq!(
        approval::verify(&other).unwrap_err().kind(),
        "malformed_claims"
    );
    // Unknown members are refused.
    let mut extra = claims(request_id(&dig).to_string());
    extra["exp"] = json!(T0 + 60);
    let extra = raw_jws(&assistant(), &header(&assistant()), &extra);
    assert_eq!(
        approval::verify(&extra).unwrap_err().kind(),
        "malformed_claims"
    );
}

/// Each case: the call's parts, its digest, and an approval of it by `assistant()` (seed
/// 0x03…) for `booking()` at `T0`, `jti` 05…. Ed25519 signatures are deterministic, so the file
/// pins the digest's JCS form and the approval's bytes.
fn cases() -> Value {
    let mut out = Vec::new();
    for (amount, leaf) in [(300u64, [7u8; 32]), (0, [0; 32])] {
        let a = args(json!({"amount": amount, "cur": "EUR"}));
        let leaf = Commitment(Hash32(leaf));
        let (caller, callee) = (planner().did(), booking().did());
        let (res, act) = ("talos://booking/flights/LHR-JFK", "book");
        let dig = call_digest(&caller, &callee, &leaf, res, act, &a).unwrap();
        let compact = approval::sign(&assistant(), callee, dig, T0, id(5)).unwrap();
        out.push(json!({
            "caller": caller.to_string(), "callee": callee.to_string(), "leaf": leaf.to_string(),
            "resource": res, "action": act, "args": a, "digest": dig.to_string(),
            "request": request_id(&dig).to_string(), "approver": assistant().did().to_string(),
            "iat": T0, "approval": compact,
            "commitment": talos_capability::token::commitment_of(&compact).to_string(),
        }));
    }
    json!({ "source": "talos-capability tests/it/approval.rs (FORMAT.md §3.6)", "cases": out })
}

#[test]
fn the_known_answer_file_is_current() {
    let want = serde_json::to_string_pretty(&cases()).unwrap() + "\n";
    if std::env::var_os("TALOS_REGEN_VECTORS").is_some() {
        std::fs::write(PATH, &want).unwrap();
    }
    let have = std::fs::read_to_string(PATH).expect("run with TALOS_REGEN_VECTORS=1 to create it");
    assert_eq!(have, want, "test-vectors/approvals.json is stale");
    for c in cases()["cases"].as_array().unwrap() {
        let v = approval::verify(c["approval"].as_str().unwrap()).unwrap();
        assert_eq!(v.claims.dig.to_string(), c["digest"].as_str().unwrap());
    }
}

proptest! {
    #[test]
    fn verify_never_panics(s in ".{0,600}") {
        let _ = approval::verify(&s);
    }

    #[test]
    fn verify_never_panics_on_jws_shapes(a in "[A-Za-z0-9_-]{0,80}", b in "[A-Za-z0-9_-]{0,200}", c in "[A-Za-z0-9_-]{0,90}") {
        let _ = approval::verify(&format!("{a}.{b}.{c}"));
    }
}
