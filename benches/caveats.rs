//! The stateful caveats' cost (FORMAT.md §3.5), in one run:
//!
//! - `caveats/gate_warm/{none,att,bud,att_bud}`: the node's own decision code
//!   ([`talos_node::node::gate::Gate`]) on a call whose chain is cached, with no stateful
//!   caveat, with `att` (the caller's credential presented with every call and cached
//!   after the first), with a `bud` budget (planned and counted in memory), and with both.
//!   The goal: `att` adds ≤ 1 µs. `rep`: B refuses callers scoring under 700
//!   (`min_reputation`) and holds 1,000 reports, one by its seed about A (A scores 850,
//!   cached for the hour); `all`: `att`, `bud` and `rep` together; `apv`: a call held for
//!   approval, approved (the approval verified on arrival, outside the timing), then
//!   decided: the call digest, the request's lookup and its approvals counted; `all4`:
//!   `att`, `bud`, `rep` and `apv` together.
//! - `caveats/audit_write/{used,used_spent}`: the synced write that makes an admitted call
//!   durable, without and with its budget spend (one `budget_spent` event and the
//!   counter's side record in the same batch). The goal: a budget costs no second synced
//!   write, so the two take about the same time.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use talos_audit::event::{AuditEvent, EventKind, SignedEvent};
use talos_capability::Caveats;
use talos_capability::stateful::{AttCaveat, BudgetCaveat, Mode, Window};
use talos_primitives::{Commitment, Hash32};
use talos_store::{AuditLog, LogConfig};

// Shared with the other gate bench; each uses part of it.
#[allow(dead_code)]
#[path = "warm_gate.rs"]
mod warm;
use warm::{key, now_ms, warm_gate, warm_gate_with};

fn gate_warm(c: &mut Criterion) {
    let attester = key(9);
    let now = now_ms() / 1000;
    let h = Hash32([0x11; 32]);
    let claims = talos_attest::Claims {
        id: key(2).did(),
        binary_sha256: h,
        config_sha256: h,
        model: "gpt-x".into(),
        policy_sha256: h,
        intoto_sha256: None,
    };
    let credential = talos_attest::issue(&attester, claims, now - 60, now + 86_400)
        .unwrap()
        .to_string();
    let att = AttCaveat {
        iss: vec![attester.did()],
        clm: [("model".to_string(), "gpt-x".to_string())].into(),
    };
    let bud = BudgetCaveat {
        arg: Some("amount".into()),
        limit: talos_capability::MAX_INTEGER,
        window: Window::Hours(24),
        mode: Mode::Hard,
    };
    let mut max = Caveats::default();
    max.max.insert("amount".into(), 500);
    let with = |att: Option<AttCaveat>, bud: Option<BudgetCaveat>| Caveats {
        att,
        bud,
        ..max.clone()
    };
    let cases = [
        ("none", with(None, None), None, false),
        (
            "att",
            with(Some(att.clone()), None),
            Some(credential.clone()),
            false,
        ),
        ("bud", with(None, Some(bud.clone())), None, false),
        (
            "att_bud",
            with(Some(att.clone()), Some(bud.clone())),
            Some(credential.clone()),
            false,
        ),
        ("rep", with(None, None), None, true),
        ("all", with(Some(att), Some(bud)), Some(credential), true),
    ];
    let mut g = c.benchmark_group("caveats");
    g.throughput(Throughput::Elements(1));
    for (name, cav, cred, rep) in cases {
        let creds = cred.into_iter().collect();
        let mut warm = if rep {
            reputation_gate(cav, creds, now)
        } else {
            warm_gate(cav, 3, creds)
        };
        g.bench_function(format!("gate_warm/{name}"), |bench| {
            bench.iter(|| warm.call())
        });
    }
    g.finish();
}

/// `apv` alone and all four caveats together (`att`, `bud`, `rep` as in `all`, plus
/// `apv`): each call is held, then approved once; measured is the approved call's
/// decision (the call digest, the request's lookup, its approvals counted), not the
/// approval's signature, checked when it arrives (outside the timing).
fn gate_warm_approved(c: &mut Criterion) {
    let now = now_ms() / 1000;
    let approver = key(9);
    let apv = talos_capability::stateful::ApvCaveat {
        by: vec![approver.did()],
        k: 1,
    };
    let mut max = Caveats::default();
    max.max.insert("amount".into(), 500);
    let h = Hash32([0x11; 32]);
    let claims = talos_attest::Claims {
        id: key(2).did(),
        binary_sha256: h,
        config_sha256: h,
        model: "gpt-x".into(),
        policy_sha256: h,
        intoto_sha256: None,
    };
    let credential = talos_attest::issue(&approver, claims, now - 60, now + 86_400)
        .unwrap()
        .to_string();
    let all4 = Caveats {
        att: Some(AttCaveat {
            iss: vec![approver.did()],
            clm: [("model".to_string(), "gpt-x".to_string())].into(),
        }),
        bud: Some(BudgetCaveat {
            arg: Some("amount".into()),
            limit: talos_capability::MAX_INTEGER,
            window: Window::Hours(24),
            mode: Mode::Hard,
        }),
        apv: Some(apv.clone()),
        ..max.clone()
    };
    let only = Caveats {
        apv: Some(apv),
        ..max
    };
    let mut g = c.benchmark_group("caveats");
    g.throughput(Throughput::Elements(1));
    let cases = [
        ("apv", warm_gate(only, 3, Vec::new())),
        ("all4", reputation_gate(all4, vec![credential], now)),
    ];
    for (name, warm) in cases {
        // Shared by the setup and the timed routine (a RefCell: a borrow flag, a few ns).
        let warm = std::cell::RefCell::new(warm);
        g.bench_function(format!("gate_warm/{name}"), |bench| {
            bench.iter_batched(
                || approve_next(&mut warm.borrow_mut(), &approver, now),
                |()| warm.borrow_mut().call(),
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

/// Sends the call once (held), then hands the gate an approval of it.
fn approve_next(warm: &mut warm::WarmGate, approver: &talos_identity::IdentityKey, now: u64) {
    let callee = key(1).did();
    assert_eq!(warm.try_call().err(), Some("pending"));
    let req = warm.request();
    let leaf = talos_capability::Token::parse(&req.chain[0])
        .unwrap()
        .commitment();
    let dig = talos_capability::approval::call_digest(
        &warm.caller(),
        &callee,
        &leaf,
        &req.resource,
        &req.action,
        &req.args,
    )
    .unwrap();
    let jti = talos_primitives::CapabilityId(rand::random());
    let compact = talos_capability::approval::sign(approver, callee, dig, now, jti).unwrap();
    let a = talos_capability::approval::verify(&compact).unwrap();
    warm.gate().take_approval(a, &compact, now).unwrap();
}

/// A warm gate refusing callers under 700 holding 1,000 reports: its seed (key 9) and a
/// stranger each reported A once (`bad_answer`: A scores 1000 − 150 − 50 = 800), and 998
/// other strangers reported one DID each.
fn reputation_gate(cav: Caveats, att: Vec<String>, now: u64) -> warm::WarmGate {
    use talos_identity::{IdentityKey, IdentitySeed};
    use talos_reputation::{Kind, Report};
    let seed = key(9);
    let mut warm = warm_gate_with(cav, 3, att, |c| {
        c.reputation_seeds = [seed.did()].into();
        c.min_reputation = 700;
    });
    let caller = warm.caller();
    let fresh = |tag: u8, i: u32| {
        let mut s = [tag; 32];
        s[..4].copy_from_slice(&i.to_le_bytes());
        IdentityKey::from_seed(&IdentitySeed::from_bytes(s)).unwrap()
    };
    for i in 0..1000u32 {
        let by = if i == 0 { seed.clone() } else { fresh(0x5a, i) };
        let about = if i < 2 { caller } else { fresh(0x6b, i).did() };
        let jti = talos_primitives::CapabilityId(u128::from(i).to_le_bytes());
        let r = Report::sign(&by, about, Kind::BadAnswer, vec![], now, jti).unwrap();
        warm.gate()
            .keep_report(Report::verify(&r).unwrap(), now)
            .unwrap();
    }
    assert_eq!(warm.gate().reputation(&caller, now).points, 800);
    warm
}

fn audit_write(c: &mut Criterion) {
    let agent = key(1);
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path(), LogConfig::default()).unwrap();
    let mut seq = 0u64;
    let mut leaf = |event: EventKind| {
        seq += 1;
        let body = AuditEvent {
            agent: agent.did(),
            seq,
            ts: now_ms(),
            event,
        };
        SignedEvent::sign(&agent, body).unwrap().to_leaf().unwrap()
    };
    let used = EventKind::CapabilityUsed {
        leaf: Commitment(Hash32([3; 32])),
        holder: key(2).did(),
        request: Hash32([4; 32]),
    };
    let spent = EventKind::BudgetSpent {
        link: Commitment(Hash32([7; 32])),
        cap: 0,
        window: 1_764_806_400,
        amount: 3,
        total: 300,
        limit: 1000,
    };
    let (used_leaf, spent_leaf) = (leaf(used), leaf(spent));
    let side = br#"{"root":"0707070707070707070707070707070707070707070707070707070707070707","budget":{"arg":"amount","limit":1000,"window":"24h","mode":"hard"},"window":1764806400,"spent":300}"#;
    let mut g = c.benchmark_group("caveats");
    g.throughput(Throughput::Elements(1));
    g.bench_function("audit_write/used", |b| {
        b.iter(|| log.append_many(vec![used_leaf.clone()]).unwrap())
    });
    g.bench_function("audit_write/used_spent", |b| {
        b.iter(|| {
            log.append_many_with(
                vec![used_leaf.clone(), spent_leaf.clone()],
                vec![(b"budget/07/0".to_vec(), side.to_vec())],
            )
            .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, gate_warm, gate_warm_approved, audit_write);
criterion_main!(benches);
