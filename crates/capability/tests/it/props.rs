//! Property tests: delegation never widens; containment is a preorder; tokens round-trip.

use proptest::prelude::*;
use talos_capability::chain::{VerifierConfig, verify_chain};
use talos_capability::scope::{ScopeError, set_contains};
use talos_capability::{
    ActionSet, CapError, Capability, Caveats, Claims, MemoryRevocations, ResourcePattern, Token,
};

use crate::common::*;

fn arb_pattern() -> impl Strategy<Value = ResourcePattern> {
    let seg = prop_oneof![
        Just("a".to_string()),
        Just("b".to_string()),
        Just("*".to_string())
    ];
    (proptest::collection::vec(seg, 1..4), any::<bool>()).prop_map(|(segs, rest)| {
        let mut s = format!("talos://{}", segs.join("/"));
        if rest {
            s.push_str("/**");
        }
        ResourcePattern::parse(&s).unwrap()
    })
}

fn arb_actions() -> impl Strategy<Value = ActionSet> {
    proptest::sample::subsequence(vec!["read", "book", "pay", "*"], 1..=3)
        .prop_map(|v| ActionSet::new(v).unwrap())
}

fn arb_cap() -> impl Strategy<Value = Capability> {
    (
        arb_pattern(),
        arb_actions(),
        proptest::option::of(0u64..1000),
        proptest::option::of(prop_oneof![
            Just("/"),
            Just("/a"),
            Just("/a/b"),
            Just("/ab")
        ]),
    )
        .prop_map(|(res, act, max, pfx)| {
            let mut cav = Caveats::default();
            if let Some(m) = max {
                cav.max.insert("amount".into(), m);
            }
            if let Some(p) = pfx {
                let p = talos_capability::PathPrefix::parse(p).unwrap();
                cav.pfx.insert("path".into(), p);
            }
            Capability { res, act, cav }
        })
}

/// A concrete resource drawn from the same alphabet.
fn arb_resource() -> impl Strategy<Value = String> {
    proptest::collection::vec(prop_oneof![Just("a"), Just("b"), Just("c")], 1..5)
        .prop_map(|segs| format!("talos://{}", segs.join("/")))
}

/// A segment a path-decoding or normalizing server would resolve differently: a dot
/// segment or an encoded delimiter (FORMAT.md §3.1), and the error it is refused with.
fn arb_escape() -> impl Strategy<Value = (&'static str, ScopeError)> {
    let dot = prop_oneof![Just("."), Just("..")].prop_map(|s| (s, ScopeError::DotSegment));
    let encoded = prop_oneof![
        Just("%2e%2e"),
        Just("%2E."),
        Just(".%2e"),
        Just("%2e"),
        Just("a%2Fb"),
        Just("%2f"),
        Just("a%5Cb"),
        Just("%5c"),
        Just("%%2E")
    ]
    .prop_map(|s| (s, ScopeError::EncodedDelimiter));
    prop_oneof![dot, encoded]
}

/// A resource of the `arb_resource` alphabet with one escaping segment somewhere.
fn arb_escaping_resource() -> impl Strategy<Value = (String, ScopeError)> {
    let seg = || proptest::collection::vec(prop_oneof![Just("a"), Just("b"), Just("c")], 0..4);
    (seg(), arb_escape(), seg()).prop_map(|(before, (bad, why), after)| {
        let segs: Vec<&str> = before.into_iter().chain([bad]).chain(after).collect();
        (format!("talos://{}", segs.join("/")), why)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn containment_is_reflexive_and_transitive(a in arb_cap(), b in arb_cap(), c in arb_cap()) {
        prop_assert!(a.contains(&a));
        if a.contains(&b) && b.contains(&c) {
            prop_assert!(a.contains(&c));
        }
    }

    /// Containment agrees with matching: if a ⊇ b, every resource b matches, a matches.
    #[test]
    fn containment_is_sound(a in arb_pattern(), b in arb_pattern(), r in arb_resource(), (e, why) in arb_escaping_resource()) {
        if a.contains(&b) && b.matches(&r) {
            prop_assert!(a.matches(&r));
        }
        // Matching is parsing the resource, then containment.
        let parsed = ResourcePattern::parse_resource(&r);
        prop_assert_eq!(a.matches(&r), parsed.is_ok_and(|q| a.contains(&q)));
        // A resource with a dot segment or an encoded delimiter never matches, whatever
        // the pattern (even `**`), and is refused with its typed error; as a pattern too.
        prop_assert!(!a.matches(&e), "{a} matched {e}");
        prop_assert!(!b.matches(&e), "{b} matched {e}");
        prop_assert!(!ResourcePattern::parse("talos://**").unwrap().matches(&e));
        prop_assert_eq!(ResourcePattern::parse_resource(&e), Err(why.clone()));
        prop_assert_eq!(ResourcePattern::parse(&format!("{e}/**")), Err(why));
    }

    /// Whatever sequence of delegations is attempted, every chain that verifies grants no
    /// more than its root, and lives no longer.
    #[test]
    fn delegation_never_widens(steps in proptest::collection::vec((proptest::collection::vec(arb_cap(), 1..3), 0u64..7200, 0u64..7200), 1..6)) {
        let root_cap = vec![cap("talos://a/**", &["read", "book"])];
        let root = Token::issue(&booking(), Claims { iss: booking().did(), aud: key(1).did(), cap: root_cap.clone(), nbf: T0 - 3600, exp: T0 + 3600, jti: id(0), prf: None }).unwrap();
        let mut chain = vec![root];
        for (i, (caps, nbf_off, exp_off)) in steps.into_iter().enumerate() {
            let holder = key(1 + i as u8);
            let next = key(2 + i as u8);
            let parent = chain.last().unwrap();
            let (nbf, exp) = (T0 - 3600 + nbf_off, T0 - 3600 + nbf_off + exp_off + 1);
            match parent.delegate(&holder, next.did(), caps.clone(), nbf, exp, id(10 + i as u8)) {
                Ok(t) => chain.push(t),
                Err(e) => {
                    prop_assert!(matches!(e, CapError::Widening(_)));
                    // Force it: sign the widening child anyway; the verifier must refuse it.
                    let claims = Claims { iss: holder.did(), aud: next.did(), cap: caps, nbf, exp, jti: id(10 + i as u8), prf: Some(parent.commitment()) };
                    let forced = Token::issue(&holder, claims).unwrap();
                    let mut bad = chain.clone();
                    bad.push(forced);
                    let err = verify_chain(&bad, &VerifierConfig::new(booking().did()), T0, &MemoryRevocations::new()).unwrap_err();
                    prop_assert!(matches!(err, CapError::Widening(_)), "{err:?}");
                    break;
                }
            }
        }
        let leaf = chain.last().unwrap().claims().clone();
        prop_assert!(set_contains(&root_cap, &leaf.cap));
        prop_assert!(leaf.exp <= T0 + 3600 && leaf.nbf >= T0 - 3600);
        let cfg = VerifierConfig { trusted_roots: vec![booking().did()], max_depth: 8 };
        let now = leaf.nbf;
        prop_assert!(verify_chain(&chain, &cfg, now, &MemoryRevocations::new()).is_ok());
    }

    #[test]
    fn token_round_trips(c in proptest::collection::vec(arb_cap(), 1..4), nbf in 0u64..1 << 40, life in 1u64..1 << 20, jti in any::<[u8; 16]>(), with_prf in any::<bool>()) {
        let prf = with_prf.then(|| root().commitment());
        let claims = Claims { iss: planner().did(), aud: assistant().did(), cap: c, nbf, exp: nbf + life, jti: talos_primitives::CapabilityId(jti), prf };
        let t = Token::issue(&planner(), claims.clone()).unwrap();
        let back = Token::parse(t.as_str()).unwrap();
        prop_assert_eq!(back.claims(), &claims);
        prop_assert_eq!(back.commitment(), t.commitment());
        back.verify_signature().unwrap();
    }

    #[test]
    fn parse_never_panics(s in "[A-Za-z0-9_.-]{0,300}") {
        let _ = Token::parse(&s);
        let _ = talos_capability::txn::TxnToken::parse(&s);
        let _ = ResourcePattern::parse(&s);
    }
}

proptest! {
    /// Caveat containment is sound: arguments a narrower caveat set allows, the wider
    /// one allows too (`max`, `pfx`).
    #[test]
    fn contained_caveats_allow_no_more(
        parent in arb_cap(),
        child in arb_cap(),
        amount in 0u64..1200,
        path in prop_oneof![Just("/"), Just("/a"), Just("/a/b/c"), Just("/ab"), Just("/a/../ab")],
    ) {
        let args = serde_json::json!({ "amount": amount, "path": path });
        let args = args.as_object().unwrap();
        if parent.cav.contains(&child.cav) && child.cav.satisfied_by(args) {
            prop_assert!(parent.cav.satisfied_by(args));
        }
    }
}
