//! The stateful caveats `att` and `bud` (FORMAT.md §3.5): parsing, containment, the
//! governing capability of each link, and the budget ledger.

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use talos_capability::budget::{BudgetError, Ledger, MAX_PER_ROOT};
use talos_capability::stateful::{BudgetCaveat, Mode, Window};
use talos_capability::{
    Authorizer, CapError, Capability, Claims, MemoryRevocations, Possession, Request, Token,
    VerifierConfig,
};
use talos_primitives::{Commitment, Hash32};

use crate::common::*;

fn bud(limit: u64, window: &str, mode: Mode, arg: Option<&str>) -> BudgetCaveat {
    BudgetCaveat {
        arg: arg.map(str::to_string),
        limit,
        window: window.parse().unwrap(),
        mode,
    }
}

fn with_bud(res: &str, b: BudgetCaveat) -> Capability {
    let mut c = cap(res, &["book"]);
    c.cav.bud = Some(b);
    c
}

fn root_with(caps: Vec<Capability>) -> Token {
    Token::issue(
        &booking(),
        Claims {
            iss: booking().did(),
            aud: planner().did(),
            cap: caps,
            nbf: T0 - HOUR,
            exp: T0 + HOUR,
            jti: id(1),
            prf: None,
        },
    )
    .unwrap()
}

fn args(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

/// Authorizes `chain` for `book` on `res` with `args`, held by its last audience.
fn authorize(chain: &[&Token], res: &str, a: &Map<String, Value>) -> talos_capability::Authorized {
    let holder = chain.last().unwrap().claims().aud;
    let callee = booking().did();
    let req = Request {
        callee: &callee,
        resource: res,
        action: "book",
        args: a,
        now: T0,
    };
    let texts: Vec<&str> = chain.iter().map(|t| t.as_str()).collect();
    let mut authz = Authorizer::new(VerifierConfig::new(booking().did()), 16, 16, 300);
    authz
        .authorize(
            &texts,
            &req,
            Possession::Channel(&holder),
            &MemoryRevocations::default(),
        )
        .unwrap()
}

#[test]
fn malformed_stateful_caveats_are_refused_at_parse() {
    let h = std_header(&booking());
    let attester = key(0x77).did().to_string();
    let other = key(0x78).did().to_string();
    let (lo, hi) = if attester < other {
        (attester.clone(), other)
    } else {
        (other, attester.clone())
    };
    let bad = [
        json!({"bud": {"limit": 0, "window": "24h", "mode": "hard"}}),
        json!({"bud": {"limit": 10, "window": "024h", "mode": "hard"}}),
        json!({"bud": {"limit": 10, "window": "8785h", "mode": "hard"}}),
        json!({"bud": {"limit": 10, "window": "1d", "mode": "hard"}}),
        json!({"bud": {"limit": 10, "window": "total", "mode": "soft"}}),
        json!({"bud": {"limit": 10, "window": "total", "mode": "hard", "arg": ""}}),
        json!({"bud": {"limit": 10, "window": "total", "mode": "hard", "x": 1}}),
        json!({"att": {"iss": []}}),
        json!({"att": {"iss": [hi.clone(), lo.clone()]}}),
        json!({"att": {"iss": [lo.clone(), lo.clone()]}}),
        json!({"att": {"iss": [attester.clone()], "clm": {"colour": "red"}}}),
        json!({"att": {"iss": [attester.clone()], "clm": {"binarySha256": "AB".repeat(32)}}}),
        json!({"att": {"iss": [attester.clone()], "clm": {"model": ""}}}),
        json!({"rep": 0}),
        json!({"rep": 1001}),
        json!({"rep": "700"}),
        json!({"rep": 700.5}),
        json!({"rep": -1}),
    ];
    for cav in bad {
        let claims = json!({"iss": booking().did(), "aud": planner().did(), "nbf": T0,
            "exp": T0 + HOUR, "jti": id(9), "cap": [{"res": "talos://b/**", "act": ["book"], "cav": cav}]});
        let t = raw_jws(&booking(), &h, &claims);
        let e = Token::parse(&t).unwrap_err();
        assert!(
            matches!(e, CapError::MalformedClaims(_) | CapError::MalformedJws(_)),
            "{cav}: {e:?}"
        );
    }
    let good = json!({"att": {"iss": [lo, hi], "clm": {"model": "m", "configSha256": "ab".repeat(32)}},
                      "bud": {"limit": 10, "window": "8784h", "mode": "warn", "arg": "amount"},
                      "rep": 1000});
    let claims = json!({"iss": booking().did(), "aud": planner().did(), "nbf": T0,
        "exp": T0 + HOUR, "jti": id(9), "cap": [{"res": "talos://b/**", "act": ["book"], "cav": good}]});
    Token::parse(&raw_jws(&booking(), &h, &claims)).unwrap();
}

#[test]
fn a_delegation_may_only_tighten_a_budget_or_an_attestation() {
    let parent = root_with(vec![with_bud(
        "talos://booking/**",
        bud(1000, "24h", Mode::Warn, Some("amount")),
    )]);
    let delegate = |c: Capability| {
        parent.delegate(
            &planner(),
            assistant().did(),
            vec![c],
            T0 - 60,
            T0 + 60,
            id(2),
        )
    };
    let ok = [
        bud(500, "24h", Mode::Warn, Some("amount")),
        bud(1000, "24h", Mode::Hard, Some("amount")),
    ];
    for b in ok {
        delegate(with_bud("talos://booking/x", b.clone())).unwrap_or_else(|e| panic!("{b:?}: {e}"));
    }
    let wider = [
        bud(1001, "24h", Mode::Warn, Some("amount")),
        bud(500, "1h", Mode::Warn, Some("amount")),
        bud(500, "24h", Mode::Warn, None),
        bud(500, "total", Mode::Warn, Some("amount")),
    ];
    for b in wider {
        let e = delegate(with_bud("talos://booking/x", b.clone())).unwrap_err();
        assert!(matches!(e, CapError::Widening(_)), "{b:?}: {e}");
    }
    assert!(matches!(
        delegate(cap("talos://booking/x", &["book"])),
        Err(CapError::Widening(_))
    ));
    // A hard parent stays hard.
    let hard = BudgetCaveat {
        mode: Mode::Hard,
        ..bud(10, "total", Mode::Hard, None)
    };
    assert!(
        hard.contains(&hard)
            && !hard.contains(&BudgetCaveat {
                mode: Mode::Warn,
                ..hard.clone()
            })
    );

    let a1 = key(0x71).did();
    let a2 = key(0x72).did();
    let mut iss = vec![a1, a2];
    iss.sort_by_key(|d| d.to_string());
    let att = |iss: Vec<_>, model: Option<&str>| talos_capability::stateful::AttCaveat {
        iss,
        clm: model
            .map(|m| [("model".to_string(), m.to_string())].into())
            .unwrap_or_default(),
    };
    let parent_att = att(iss.clone(), None);
    assert!(parent_att.contains(&att(vec![iss[0]], Some("m"))));
    assert!(!att(vec![iss[0]], None).contains(&parent_att));
    assert!(!att(iss.clone(), Some("m")).contains(&att(iss.clone(), None)));
    assert!(!att(iss.clone(), Some("m")).contains(&att(iss, Some("n"))));
}

/// `rep` (a minimum reputation score): a delegation may keep or raise it, never lower or
/// drop it; the leaf's governing capability's `rep` is the call's.
#[test]
fn a_delegation_may_only_raise_a_reputation_minimum() {
    use talos_capability::scope::stateful::RepCaveat;
    let with_rep = |res: &str, min: u16| {
        let mut c = cap(res, &["book"]);
        c.cav.rep = RepCaveat::new(min);
        c
    };
    let parent = root_with(vec![with_rep("talos://booking/**", 600)]);
    let delegate = |c: Capability| {
        parent.delegate(
            &planner(),
            assistant().did(),
            vec![c],
            T0 - 60,
            T0 + 60,
            id(2),
        )
    };
    for min in [600, 601, 1000] {
        delegate(with_rep("talos://booking/x", min)).unwrap();
    }
    for c in [
        with_rep("talos://booking/x", 599),
        cap("talos://booking/x", &["book"]),
    ] {
        assert!(matches!(delegate(c), Err(CapError::Widening(_))));
    }
    let child = delegate(with_rep("talos://booking/flights/**", 800)).unwrap();
    let ok = authorize(
        &[&parent, &child],
        "talos://booking/flights/LH1",
        &args(json!({})),
    );
    let st = ok.stateful.unwrap();
    assert_eq!(st.rep.map(RepCaveat::min), Some(800));
    assert!(st.att.is_none() && st.charges.is_empty());
    assert_eq!(RepCaveat::new(0), None);
    assert_eq!(RepCaveat::new(1001), None);
}

#[test]
fn every_links_governing_budget_is_charged_and_att_comes_from_the_leaf() {
    let parent = root_with(vec![
        cap("talos://booking/hotels/**", &["book"]),
        with_bud(
            "talos://booking/**",
            bud(1000, "24h", Mode::Hard, Some("amount")),
        ),
    ]);
    let mut leaf_cap = with_bud(
        "talos://booking/flights/**",
        bud(300, "total", Mode::Hard, None),
    );
    leaf_cap.cav.att = Some(talos_capability::stateful::AttCaveat {
        iss: vec![key(0x71).did()],
        clm: Default::default(),
    });
    leaf_cap.cav.bud.as_mut().unwrap().arg = Some("amount".into());
    leaf_cap.cav.bud.as_mut().unwrap().window = Window::Hours(24);
    let child = parent
        .delegate(
            &planner(),
            assistant().did(),
            vec![leaf_cap],
            T0 - 60,
            T0 + 60,
            id(2),
        )
        .unwrap();
    let a = args(json!({"amount": 120}));
    let ok = authorize(&[&parent, &child], "talos://booking/flights/LH1", &a);
    let st = ok.stateful.unwrap();
    assert_eq!(st.root, parent.commitment());
    assert!(st.att.is_some());
    let keys: Vec<_> = st
        .charges
        .iter()
        .map(|c| (c.key.link, c.key.cap, c.budget.limit, c.exp))
        .collect();
    // Each counter lives as long as its own link.
    assert_eq!(
        keys,
        [
            (parent.commitment(), 1, 1000, parent.claims().exp),
            (child.commitment(), 0, 300, T0 + 60)
        ]
    );
    // The root alone: hotels are governed by its first capability, with no budget.
    let ok = authorize(&[&parent], "talos://booking/hotels/h1", &a);
    assert_eq!(ok.stateful, None);
    // A chain without stateful caveats carries none.
    let plain = root();
    let ok = authorize(&[&plain], "talos://booking/flights/x", &a);
    assert_eq!(ok.stateful, None);

    // Counters are keyed by commitment, not `jti` (issuers choose ids): another root
    // with the same `jti` counts apart.
    let twin = root_with(vec![with_bud(
        "talos://booking/**",
        bud(1000, "24h", Mode::Hard, Some("amount")),
    )]);
    assert_eq!(twin.claims().jti, parent.claims().jti);
    let twin = authorize(&[&twin], "talos://booking/flights/LH1", &a);
    assert_ne!(twin.stateful.unwrap().charges[0].key, st.charges[0].key);

    // Two delegations share the root's counter: spend through one, then the other.
    let mut ledger = Ledger::new();
    let spend = ledger.plan(&st, &a, T0).unwrap();
    ledger.commit(&spend);
    let sibling = talos_capability::stateful::Stateful {
        charges: st.charges[..1].to_vec(),
        ..st.clone()
    };
    let big = args(json!({"amount": 881}));
    assert_eq!(
        ledger.plan(&sibling, &big, T0),
        Err(BudgetError::OverBudget)
    );
    ledger.commit(
        &ledger
            .plan(&sibling, &args(json!({"amount": 800})), T0)
            .unwrap(),
    );
    assert_eq!(ledger.get(&st.charges[0].key).unwrap().spent, 920);
    assert_eq!(ledger.get(&st.charges[1].key).unwrap().spent, 120);
    // The next day's window starts again.
    let next_day = T0 - T0 % 86_400 + 86_400;
    let s = ledger
        .plan(&sibling, &args(json!({"amount": 1000})), next_day)
        .unwrap();
    assert_eq!(s.items[0].total, 1000);
}

#[test]
fn warn_mode_admits_over_the_limit_and_hard_mode_does_not() {
    let mut ledger = Ledger::new();
    let st = |mode| talos_capability::stateful::Stateful {
        root: Commitment(Hash32([1; 32])),
        att: None,
        rep: None,
        apv: None,
        charges: vec![talos_capability::stateful::Charge {
            exp: 0,
            key: talos_capability::stateful::CounterKey {
                link: Commitment(Hash32([1; 32])),
                cap: 0,
            },
            budget: bud(2, "total", mode, None),
        }],
    };
    let none = Map::new();
    for want in [1, 2, 3] {
        let s = ledger.plan(&st(Mode::Warn), &none, T0).unwrap();
        assert_eq!((s.items[0].total, s.items[0].over()), (want, want > 2));
        ledger.commit(&s);
    }
    assert_eq!(
        ledger.plan(&st(Mode::Hard), &none, T0),
        Err(BudgetError::OverBudget)
    );
    // The clock steps back a day: the spend in the newer window still counts.
    let daily_st = |mode| talos_capability::stateful::Stateful {
        charges: vec![talos_capability::stateful::Charge {
            exp: 0,
            budget: bud(2, "24h", mode, None),
            ..st(mode).charges[0].clone()
        }],
        ..st(mode)
    };
    let mut clock = Ledger::new();
    for _ in 0..2 {
        let s = clock
            .plan(&daily_st(Mode::Hard), &none, T0 + 86_400)
            .unwrap();
        clock.commit(&s);
    }
    assert_eq!(
        clock.plan(&daily_st(Mode::Hard), &none, T0),
        Err(BudgetError::OverBudget)
    );
    // The writer's replay: the same spends counted again from nothing give the same totals.
    let mut durable = Ledger::new();
    let s = ledger.plan(&st(Mode::Warn), &none, T0).unwrap();
    let totals: Vec<u64> = (0..3).map(|_| durable.record(&s)[0].total).collect();
    assert_eq!(totals, [1, 2, 3]);
    // Around a window's turn, a spend planned in the old window may reach the writer
    // after one from the new: it is not counted in the new window, and its logged total
    // is the old window's, as the gate planned it.
    let mut daily = Ledger::new();
    let old = daily.plan(&daily_st(Mode::Hard), &none, T0).unwrap();
    daily.commit(&old);
    let old2 = daily.plan(&daily_st(Mode::Hard), &none, T0).unwrap();
    let new = daily
        .plan(&daily_st(Mode::Hard), &none, T0 + 86_400)
        .unwrap();
    let mut writer = Ledger::new();
    assert_eq!(writer.record(&old)[0].total, 1);
    assert_eq!(writer.record(&new)[0].total, 1);
    assert_eq!(writer.record(&old2)[0].total, 2);
    let key = old.items[0].key;
    assert_eq!(writer.get(&key).unwrap().spent, 1);
    assert_eq!(writer.get(&key).unwrap().window, new.items[0].window);
}

#[test]
fn counters_are_bounded_per_root() {
    let mut ledger = Ledger::new();
    let none = Map::new();
    let st = |link: Commitment| talos_capability::stateful::Stateful {
        root: Commitment(Hash32([1; 32])),
        att: None,
        rep: None,
        apv: None,
        charges: vec![talos_capability::stateful::Charge {
            exp: 0,
            key: talos_capability::stateful::CounterKey { link, cap: 0 },
            budget: bud(5, "total", Mode::Hard, None),
        }],
    };
    for i in 0..MAX_PER_ROOT as u32 {
        let mut b = [0u8; 32];
        b[..4].copy_from_slice(&i.to_be_bytes());
        let s = ledger.plan(&st(Commitment(Hash32(b))), &none, T0).unwrap();
        ledger.commit(&s);
    }
    assert_eq!(
        ledger.plan(&st(Commitment(Hash32([0xff; 32]))), &none, T0),
        Err(BudgetError::Full)
    );
    // A counter that exists still spends.
    assert!(
        ledger
            .plan(&st(Commitment(Hash32([0; 32]))), &none, T0)
            .is_ok()
    );
    assert_eq!(BudgetError::Full.kind(), "over_budget");
}

/// Counters live as long as their link: once the link has expired (plus the grace), the
/// sweep drops them and their root's share is free again.
#[test]
fn counters_are_dropped_after_their_link_expires() {
    use talos_capability::budget::SWEEP_GRACE;
    let mut ledger = Ledger::new();
    let none = Map::new();
    let exp = T0 + 60;
    let st = |i: u32, exp: u64| {
        let mut b = [0u8; 32];
        b[..4].copy_from_slice(&i.to_be_bytes());
        talos_capability::stateful::Stateful {
            root: Commitment(Hash32([1; 32])),
            att: None,
            rep: None,
            apv: None,
            charges: vec![talos_capability::stateful::Charge {
                exp,
                key: talos_capability::stateful::CounterKey {
                    link: Commitment(Hash32(b)),
                    cap: 0,
                },
                budget: bud(5, "total", Mode::Hard, None),
            }],
        }
    };
    for i in 0..MAX_PER_ROOT as u32 {
        // One counter of a link that never expires (a record from before `exp`).
        let s = ledger
            .plan(&st(i, if i == 0 { 0 } else { exp }), &none, T0)
            .unwrap();
        ledger.commit(&s);
    }
    let fresh = st(u32::MAX, T0 + 86_400);
    assert_eq!(ledger.plan(&fresh, &none, T0), Err(BudgetError::Full));
    assert!(ledger.sweep(exp + SWEEP_GRACE - 1).is_empty());
    let dropped = ledger.sweep(exp + SWEEP_GRACE);
    assert_eq!(dropped.len(), MAX_PER_ROOT - 1);
    assert_eq!(ledger.len(), 1);
    let s = ledger.plan(&fresh, &none, exp + SWEEP_GRACE).unwrap();
    ledger.commit(&s);
    assert_eq!(ledger.get(&fresh.charges[0].key).unwrap().exp, T0 + 86_400);
}

proptest! {
    #[test]
    fn windows_round_trip_and_bound(h in 0u32..10_000, now in 0u64..=4_000_000_000) {
        let text = format!("{h}h");
        match text.parse::<Window>() {
            Ok(w) => {
                prop_assert!((1..=8784).contains(&h));
                prop_assert_eq!(w.to_string(), text);
                let start = w.start(now);
                prop_assert!(start <= now && now - start < u64::from(h) * 3600);
            }
            Err(_) => prop_assert!(h == 0 || h > 8784),
        }
    }

    /// Budget containment is a partial order, and a child it contains never admits a
    /// spend its parent refuses.
    #[test]
    fn budget_containment_is_sound(
        (l1, l2, l3) in (1u64..100, 1u64..100, 1u64..100),
        (m1, m2, m3) in (any::<bool>(), any::<bool>(), any::<bool>()),
        spent in 0u64..200,
        amount in 0u64..100,
    ) {
        let mode = |hard: bool| if hard { Mode::Hard } else { Mode::Warn };
        let (a, b, c) = (
            bud(l1, "24h", mode(m1), None),
            bud(l2, "24h", mode(m2), None),
            bud(l3, "24h", mode(m3), None),
        );
        prop_assert!(a.contains(&a));
        if a.contains(&b) && b.contains(&c) {
            prop_assert!(a.contains(&c));
        }
        if a.contains(&b) {
            let child_admits = spent + amount <= b.limit || b.mode == Mode::Warn;
            let parent_admits = spent + amount <= a.limit || a.mode == Mode::Warn;
            prop_assert!(!child_admits || parent_admits);
        }
    }
}
