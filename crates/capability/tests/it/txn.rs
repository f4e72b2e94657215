//! Transaction tokens: planner → booking → payment, replaced at each hop.

use talos_capability::CapError;
use talos_capability::txn::{DEFAULT_TXN_LIFETIME, TxnClaims, TxnToken, verify_hops};

use crate::common::*;

fn payment() -> talos_identity::IdentityKey {
    key(0x9a)
}

fn first_hop() -> TxnToken {
    TxnToken::mint(
        &planner(),
        TxnClaims {
            iss: planner().did(),
            aud: booking().did(),
            iat: T0,
            exp: T0 + DEFAULT_TXN_LIFETIME,
            txn: "txn-7f3a".into(),
            sub: planner().did(),
            purp: "trip.book".into(),
            azd: vec![
                cap("talos://booking/**", &["book"]),
                cap_max("talos://pay/**", &["charge"], "amount", 1000),
            ],
            rctx: serde_json::json!({"req_ip": "127.0.0.1"})
                .as_object()
                .unwrap()
                .clone(),
            prv: None,
        },
    )
    .unwrap()
}

#[test]
fn hops_replace_and_verify_with_audit_hook() {
    let t0 = first_hop();
    // booking keeps only the payment part for the next hop.
    let t1 = t0
        .replace(
            &booking(),
            payment().did(),
            vec![cap_max("talos://pay/**", &["charge"], "amount", 450)],
            T0 + 5,
        )
        .unwrap();
    assert_eq!(t1.claims().txn, t0.claims().txn);
    assert!(t1.claims().exp <= t0.claims().exp);
    let mut seen = vec![];
    let mut hook = |txn: &str,
                    i: usize,
                    from: &talos_primitives::Did,
                    to: &talos_primitives::Did,
                    c: talos_primitives::Commitment| {
        seen.push((txn.to_string(), i, *from, *to, c));
    };
    let hops = [
        TxnToken::parse(t0.as_str()).unwrap(),
        TxnToken::parse(t1.as_str()).unwrap(),
    ];
    verify_hops(
        &hops,
        &[planner().did()],
        &payment().did(),
        T0 + 10,
        &mut hook,
    )
    .unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].2, booking().did());
    assert_eq!(seen[1].4, t1.commitment());
}

#[test]
fn replace_cannot_widen_and_chains_must_link() {
    let t0 = first_hop();
    let wide = t0.replace(
        &booking(),
        payment().did(),
        vec![cap("talos://pay/**", &["charge", "refund"])],
        T0 + 5,
    );
    assert!(matches!(wide, Err(CapError::Widening(_))));
    // Only the audience of a hop may replace it.
    assert!(matches!(
        t0.replace(&mallory(), payment().did(), vec![], T0),
        Err(CapError::WrongAudience)
    ));

    let t1 = t0
        .replace(
            &booking(),
            payment().did(),
            vec![cap_max("talos://pay/**", &["charge"], "amount", 450)],
            T0 + 5,
        )
        .unwrap();
    let mut nop = |_: &str,
                   _: usize,
                   _: &talos_primitives::Did,
                   _: &talos_primitives::Did,
                   _: talos_primitives::Commitment| {};
    // Missing first hop: the chain starts at an untrusted issuer.
    assert!(matches!(
        verify_hops(
            std::slice::from_ref(&t1),
            &[planner().did()],
            &payment().did(),
            T0 + 10,
            &mut nop
        ),
        Err(CapError::BrokenChain(_))
    ));
    // Wrong final audience.
    assert!(matches!(
        verify_hops(
            &[t0.clone(), t1.clone()],
            &[planner().did()],
            &mallory().did(),
            T0 + 10,
            &mut nop
        ),
        Err(CapError::WrongAudience)
    ));
    // Expired.
    assert!(matches!(
        verify_hops(
            &[t0, t1],
            &[planner().did()],
            &payment().did(),
            T0 + 10_000,
            &mut nop
        ),
        Err(CapError::Expired(_))
    ));
}
