//! FORMAT.md against the code: every kind the code reports is one the document lists,
//! and the rules issue 17's independent verifier found unstated are stated and enforced.

use serde_json::{Value, json};
use talos_capability::chain::{parse_chain, verify_chain};
use talos_capability::invocation::{self, Request};
use talos_capability::{
    Authorizer, CapError, MemoryRevocations, Possession, Token, VerifierConfig,
};
use talos_primitives::CapabilityId;

use crate::common::*;

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/test-vectors/conformance.json");

/// One error of every variant; the match makes a new variant fail to compile here.
fn every_error() -> Vec<CapError> {
    let id = CapabilityId::default();
    let all = vec![
        CapError::TooLarge(0),
        CapError::MalformedJws(""),
        CapError::BadAlg,
        CapError::BadTyp,
        CapError::BadHeader,
        CapError::UnknownKid,
        CapError::MalformedClaims(String::new()),
        CapError::BadSignature,
        CapError::Expired(id),
        CapError::NotYetValid(id),
        CapError::Widening(id),
        CapError::BrokenChain(id),
        CapError::UntrustedRoot,
        CapError::TooDeep(0),
        CapError::EmptyChain,
        CapError::Revoked(id),
        CapError::WrongAudience,
        CapError::NotAuthorized,
        CapError::Replay,
        CapError::InvocationMismatch,
    ];
    for e in &all {
        match e {
            CapError::TooLarge(_)
            | CapError::MalformedJws(_)
            | CapError::BadAlg
            | CapError::BadTyp
            | CapError::BadHeader
            | CapError::UnknownKid
            | CapError::MalformedClaims(_)
            | CapError::BadSignature
            | CapError::Expired(_)
            | CapError::NotYetValid(_)
            | CapError::Widening(_)
            | CapError::BrokenChain(_)
            | CapError::UntrustedRoot
            | CapError::TooDeep(_)
            | CapError::EmptyChain
            | CapError::Revoked(_)
            | CapError::WrongAudience
            | CapError::NotAuthorized
            | CapError::Replay
            | CapError::InvocationMismatch => {}
        }
    }
    all
}

#[test]
fn every_error_kind_is_listed_in_format_md() {
    let listed = format_kinds();
    assert_eq!(listed.len(), 20, "{listed:?}");
    let kinds: Vec<&str> = every_error().iter().map(CapError::kind).collect();
    for k in &kinds {
        assert!(listed.iter().any(|l| l == k), "{k} is not in FORMAT.md §8");
    }
    for l in &listed {
        assert!(
            kinds.contains(&l.as_str()),
            "FORMAT.md §8 lists {l}, no error has it"
        );
    }
}

#[test]
fn every_conformance_kind_is_listed_in_format_md() {
    let listed = format_kinds();
    let file: Value = serde_json::from_str(&std::fs::read_to_string(VECTORS).unwrap()).unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for case in file["cases"].as_array().unwrap() {
        if let Some(kind) = case["expect"]["kind"].as_str() {
            assert!(
                listed.iter().any(|l| l == kind),
                "case {} expects {kind}, which FORMAT.md §8 does not list",
                case["name"]
            );
            seen.insert(kind.to_string());
        }
    }
    // And every kind the document lists has at least one case.
    for l in &listed {
        assert!(seen.contains(l), "no conformance case expects {l}");
    }
}

#[test]
fn empty_chain_is_empty_chain() {
    let config = VerifierConfig::new(booking().did());
    let none: [&str; 0] = [];
    assert_eq!(
        parse_chain(&none, &config).unwrap_err(),
        CapError::EmptyChain
    );
    assert_eq!(
        verify_chain(&[], &config, T0, &MemoryRevocations::new())
            .unwrap_err()
            .kind(),
        "empty_chain"
    );
    let callee = booking().did();
    let args = json!({});
    let req = Request {
        callee: &callee,
        resource: "talos://booking/flights/LHR-JFK",
        action: "book",
        args: args.as_object().unwrap(),
        now: T0,
    };
    let mut authz = Authorizer::new(config, 4, 4, 300);
    let holder = planner().did();
    for possession in [Possession::Channel(&holder), Possession::Invocation("x")] {
        let err = authz
            .authorize(&none, &req, possession, &MemoryRevocations::new())
            .unwrap_err();
        assert_eq!(err.kind(), "empty_chain");
    }
    // Empty is checked before depth and before parsing; depth before parsing.
    let nine = vec!["garbage"; 9];
    assert_eq!(
        parse_chain(&nine, &VerifierConfig::new(callee))
            .unwrap_err()
            .kind(),
        "too_deep"
    );
}

#[test]
fn small_order_key_refused_with_the_section_4_kind() {
    // The kind and step FORMAT.md §4 names for a small-order key.
    let s4 = format_section(4);
    let step1 = s4.split("\n2. ").next().unwrap();
    assert!(
        step1.contains("small-order key") && step1.contains("`malformed_claims`"),
        "§4 step 1 no longer names the small-order key's kind:\n{step1}"
    );
    let step4 = s4
        .split("\n4. ")
        .nth(1)
        .unwrap()
        .split("\n5. ")
        .next()
        .unwrap();
    assert!(
        !step4.contains("the key not of small order"),
        "§4 step 4 lists a key check the code makes at step 1"
    );

    let r = root();
    let c = child(&r);
    let config = VerifierConfig::new(booking().did());
    let weak = small_order_dids();
    assert_eq!(weak.len(), 8);
    for w in &weak {
        // As a holder: the root parses no further than its claims.
        let mut k = serde_json::to_value(r.claims()).unwrap();
        k["aud"] = json!(w);
        let t = raw_jws(&booking(), &std_header(&booking()), &k);
        assert_eq!(
            Token::parse(&t).unwrap_err().kind(),
            "malformed_claims",
            "{w}"
        );

        // As an issuer, with the kid that names it: the same, before any signature work,
        // and so before the links are compared (which would say broken_chain).
        let mut k = serde_json::to_value(c.claims()).unwrap();
        k["iss"] = json!(w);
        let mut h = std_header(&planner());
        h["kid"] = json!(format!("{w}#{}", w.strip_prefix("did:key:").unwrap()));
        let t = raw_jws(&mallory(), &h, &k);
        let chain = [r.as_str(), t.as_str()];
        assert_eq!(
            parse_chain(&chain, &config).unwrap_err().kind(),
            "malformed_claims",
            "{w}"
        );

        // As an invocation's signer.
        let args = json!({"amount": 450});
        let inv = json!({
            "act": "book",
            "arg": invocation::args_digest(args.as_object().unwrap()).unwrap(),
            "aud": booking().did(),
            "chn": c.commitment(),
            "iat": T0,
            "iss": w,
            "non": CapabilityId([9; 16]),
            "res": "talos://booking/flights/LHR-JFK",
        });
        let mut h = inv_header(&mallory());
        h["kid"] = json!(format!("{w}#{}", w.strip_prefix("did:key:").unwrap()));
        let compact = raw_jws(&mallory(), &h, &inv);
        let callee = booking().did();
        let req = Request {
            callee: &callee,
            resource: "talos://booking/flights/LHR-JFK",
            action: "book",
            args: args.as_object().unwrap(),
            now: T0,
        };
        let mut authz = Authorizer::new(config.clone(), 4, 4, 300);
        let err = authz
            .authorize(
                &[r.as_str(), c.as_str()],
                &req,
                Possession::Invocation(&compact),
                &MemoryRevocations::new(),
            )
            .unwrap_err();
        assert_eq!(err.kind(), "malformed_claims", "{w}");
    }
}

#[test]
fn canonical_form_rules_are_stated() {
    // The rules an issuer needs, each in §2.1 with its kind.
    let s2 = format_section(2);
    let rules = s2.split("### 2.1").nth(1).unwrap();
    for needle in [
        "**Integers**",
        "2^53 − 1",
        "**Hex**",
        "Uppercase",
        "**Arrays.**",
        "ascending byte order",
        "**Empty members.**",
        "\"prf\":null",
        "**DIDs**",
        "small order",
        "`malformed_claims`",
        "`malformed_jws`",
    ] {
        assert!(rules.contains(needle), "§2.1 does not state {needle}");
    }
    // §1.1 lists the parse steps in the order the code runs them.
    let s1 = format_section(1);
    let steps = s1.split("### 1.1").nth(1).unwrap();
    for n in 1..=14 {
        assert!(steps.contains(&format!("\n{n}. ")), "§1.1 has no step {n}");
    }
}
