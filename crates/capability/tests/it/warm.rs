//! The warm path: cached chains, revocation after caching, expiry after caching.

use serde_json::json;
use talos_capability::invocation::Request;
use talos_capability::{Authorizer, MemoryRevocations, Possession, VerifierConfig};

use crate::common::*;

#[test]
fn second_request_is_served_from_cache_until_revoked() {
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
    let mut revs = MemoryRevocations::new();

    let first = authz
        .authorize(&chain, &req, Possession::Channel(&holder), &revs)
        .unwrap();
    assert!(!first.cached);
    let second = authz
        .authorize(&chain, &req, Possession::Channel(&holder), &revs)
        .unwrap();
    assert!(second.cached);
    assert_eq!(authz.cached_chains(), 1);

    // A scope miss on a cached chain is still a denial.
    let cancel = Request {
        action: "cancel",
        ..req
    };
    assert_eq!(
        authz
            .authorize(&chain, &cancel, Possession::Channel(&holder), &revs)
            .unwrap_err()
            .kind(),
        "not_authorized"
    );

    // Revoking the root after caching: the next use is refused, and the entry is dropped.
    revs.revoke(id(1));
    assert_eq!(
        authz
            .authorize(&chain, &req, Possession::Channel(&holder), &revs)
            .unwrap_err()
            .kind(),
        "revoked"
    );
    assert_eq!(authz.cached_chains(), 0);
}

#[test]
fn cached_chain_expires() {
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
    let revs = MemoryRevocations::new();
    authz
        .authorize(&chain, &req, Possession::Channel(&holder), &revs)
        .unwrap();
    let later = Request {
        now: T0 + 2 * HOUR,
        ..req
    };
    assert_eq!(
        authz
            .authorize(&chain, &later, Possession::Channel(&holder), &revs)
            .unwrap_err()
            .kind(),
        "expired"
    );
}

#[test]
fn cache_is_bounded() {
    let callee = booking().did();
    let mut authz = Authorizer::new(VerifierConfig::new(callee), 4, 4, 300);
    let revs = MemoryRevocations::new();
    let r = root();
    let args = json!({"amount": 1});
    for i in 0..10u8 {
        let t = r
            .delegate(
                &planner(),
                key(0x20 + i).did(),
                vec![cap_max(
                    "talos://booking/flights/**",
                    &["read"],
                    "amount",
                    10,
                )],
                T0 - 60,
                T0 + 60,
                id(0x80 + i),
            )
            .unwrap();
        let holder = key(0x20 + i).did();
        let req = Request {
            callee: &callee,
            resource: "talos://booking/flights/x",
            action: "read",
            args: args.as_object().unwrap(),
            now: T0,
        };
        authz
            .authorize(
                &[r.as_str(), t.as_str()],
                &req,
                Possession::Channel(&holder),
                &revs,
            )
            .unwrap();
        assert!(authz.cached_chains() <= 4);
    }
}
