//! Revocation notices and issuer-scoped revocations: a published revocation counts only
//! for links its publisher issued or delegated from, cached chains included.

use proptest::prelude::*;
use serde_json::json;
use talos_capability::invocation::Request;
use talos_capability::notice::RevocationNotice;
use talos_capability::{Authorizer, Possession, Revocations, VerifierConfig};

use crate::common::*;

#[test]
fn notices_round_trip_and_tampering_is_refused() {
    let n = RevocationNotice::sign(&planner(), id(2), T0).unwrap();
    let v = RevocationNotice::verify(&n).unwrap();
    assert_eq!((v.iss, v.jti, v.iat), (planner().did(), id(2), T0));
    // Any change to the signed bytes, or another type of JWS, is refused.
    let mut bad = n.clone().into_bytes();
    let mid = bad.len() / 2;
    bad[mid] ^= 1;
    assert!(RevocationNotice::verify(&String::from_utf8_lossy(&bad)).is_err());
    assert_eq!(
        RevocationNotice::verify(root().as_str())
            .unwrap_err()
            .kind(),
        "bad_typ"
    );
    // Claims signed by someone else than `iss`.
    let forged = raw_jws(
        &mallory(),
        &json!({"alg": "EdDSA", "kid": format!("{}#{}", planner().did(), planner().public().to_multikey()), "typ": "talos-rev+jwt"}),
        &json!({"iss": planner().did().to_string(), "jti": hex::encode([2u8; 16]), "iat": T0}),
    );
    assert_eq!(
        RevocationNotice::verify(&forged).unwrap_err().kind(),
        "bad_signature"
    );
}

#[test]
fn a_published_revocation_counts_only_below_its_publisher() {
    let r = root();
    let c = child(&r);
    let callee = booking().did();
    let holder = assistant().did();
    let chain = [r.as_str(), c.as_str()];
    let args = json!({"amount": 100});
    let req = Request {
        callee: &callee,
        resource: "talos://booking/flights/LHR-JFK",
        action: "book",
        args: args.as_object().unwrap(),
        now: T0,
    };
    let mut authz = Authorizer::new(VerifierConfig::new(callee), 16, 16, 300);
    let mut revs = Revocations::new();
    let mut decide = |revs: &Revocations| {
        authz
            .authorize(&chain, &req, Possession::Channel(&holder), revs)
            .map(|_| ())
            .map_err(|e| e.kind())
    };
    assert_eq!(decide(&revs), Ok(()));
    // Mallory minted nothing in this chain: her "revocations" of its ids do nothing,
    // even though the chain is cached and re-checked.
    assert!(revs.revoke_published(mallory().did(), id(1)));
    assert!(revs.revoke_published(mallory().did(), id(2)));
    assert_eq!(decide(&revs), Ok(()));
    // The holder cannot revoke the link above it either.
    assert!(revs.revoke_published(assistant().did(), id(1)));
    assert_eq!(decide(&revs), Ok(()));
    // The planner revokes what it delegated: refused from now on.
    assert!(revs.revoke_published(planner().did(), id(2)));
    assert_eq!(decide(&revs), Err("revoked"));
    // The root's issuer may revoke anything below it.
    let mut revs = Revocations::new();
    assert!(revs.revoke_published(booking().did(), id(2)));
    assert_eq!(decide(&revs), Err("revoked"));
    // The verifier's own revocations apply to any link.
    let mut revs = Revocations::new();
    revs.revoke(id(2));
    assert_eq!(decide(&revs), Err("revoked"));
    // A publication already known changes nothing (and does not move the epoch).
    let mut revs = Revocations::new();
    assert!(revs.revoke_published(planner().did(), id(2)));
    assert!(!revs.revoke_published(planner().did(), id(2)));
    assert_eq!(revs.len(), 1);
}

proptest! {
    #[test]
    fn notice_verification_never_panics(s in ".{0,400}") {
        let _ = RevocationNotice::verify(&s);
    }
}
