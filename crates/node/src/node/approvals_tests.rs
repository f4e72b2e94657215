//! The held-call state machine: k of n distinct approvers, one call per set of
//! approvals, lapsing, bounds, and approvals that do not count.

use talos_capability::approval::{self, call_digest};
use talos_capability::stateful::ApvCaveat;
use talos_identity::{IdentityKey, IdentitySeed};
use talos_primitives::{Commitment, Did, Hash32};

use super::{Decision, HOLD_SECS, MAX_OPEN_PER_CALLER, Request, Requests};

const T: u64 = 1_796_342_400;

fn key(b: u8) -> IdentityKey {
    IdentityKey::from_seed(&IdentitySeed::from_bytes([b; 32])).unwrap()
}

fn caveat(by: &[&IdentityKey], k: u8) -> ApvCaveat {
    let mut by: Vec<Did> = by.iter().map(|k| k.did()).collect();
    by.sort_by_key(|d| d.to_string());
    ApvCaveat { by, k }
}

fn request(caller: &IdentityKey, me: &Did, apv: ApvCaveat, amount: u64, now: u64) -> Request {
    let args = serde_json::json!({ "amount": amount });
    let args = args.as_object().unwrap().clone();
    let dig = call_digest(
        &caller.did(),
        me,
        &Commitment(Hash32([7; 32])),
        "talos://x/pay",
        "pay",
        &args,
    )
    .unwrap();
    Request {
        dig,
        caller: caller.did(),
        apv,
        exp: now + HOLD_SECS,
        resource: "talos://x/pay".into(),
        action: "pay".into(),
        args: Hash32([0; 32]),
        grants: Vec::new(),
    }
}

/// Decides `req`'s call as the gate does (building the request only to open it).
fn decide(r: &mut Requests, me: &Did, req: Request, now: u64) -> Decision {
    let (dig, caller, apv) = (req.dig, req.caller, req.apv.clone());
    r.decide(me, (dig, &caller), &apv, now, || Some(req))
}

fn grant(
    r: &mut Requests,
    me: &Did,
    by: &IdentityKey,
    aud: &Did,
    dig: Hash32,
    iat: u64,
    now: u64,
) -> Result<(), &'static str> {
    let compact = approval::sign(by, *aud, dig, iat).unwrap();
    let a = approval::verify(&compact).unwrap();
    r.grant(me, a, &compact, now).map(|_| ())
}

#[test]
fn two_of_three_distinct_approvers_admit_one_call() {
    let (me_key, caller, p1, p2, p3) = (key(1), key(2), key(3), key(4), key(5));
    let me = me_key.did();
    let apv = caveat(&[&p1, &p2, &p3], 2);
    let mut r = Requests::default();
    let req = request(&caller, &me, apv, 10, T);
    let dig = req.dig;
    let Decision::Pending(id, Some(_)) = decide(&mut r, &me, req.clone(), T) else {
        panic!()
    };
    // The same approver twice counts once.
    grant(&mut r, &me, &p1, &me, dig, T, T).unwrap();
    grant(&mut r, &me, &p1, &me, dig, T + 1, T + 1).unwrap();
    assert!(
        matches!(decide(&mut r, &me, req.clone(), T + 2), Decision::Pending(i, None) if i == id)
    );
    // Not an approver, another callee, another call: refused, and nothing counts.
    assert_eq!(
        grant(&mut r, &me, &key(9), &me, dig, T, T),
        Err("not_approver")
    );
    assert_eq!(
        grant(&mut r, &me, &p2, &key(8).did(), dig, T, T),
        Err("wrong_request")
    );
    assert_eq!(
        grant(&mut r, &me, &p2, &me, Hash32([1; 32]), T, T),
        Err("unknown_request")
    );
    // Signed too long ago to count.
    assert_eq!(
        grant(&mut r, &me, &p2, &me, dig, T - 4000, T),
        Err("stale_approval")
    );
    assert!(matches!(
        decide(&mut r, &me, req.clone(), T + 2),
        Decision::Pending(..)
    ));
    grant(&mut r, &me, &p2, &me, dig, T + 3, T + 3).unwrap();
    let Decision::Approved(got, approvals) = decide(&mut r, &me, req.clone(), T + 4) else {
        panic!()
    };
    assert_eq!((got, approvals.len()), (id, 2));
    // Admitted: the gate forgets it, and the same call opens a new request.
    r.remove(&id);
    assert!(matches!(
        decide(&mut r, &me, req, T + 5),
        Decision::Pending(_, Some(_))
    ));
}

#[test]
fn a_request_lapses_unapproved_and_a_caller_has_bounded_room() {
    let (me_key, caller, p1) = (key(1), key(2), key(3));
    let me = me_key.did();
    let mut r = Requests::default();
    let req = request(&caller, &me, caveat(&[&p1], 1), 1, T);
    let Decision::Pending(id, _) = decide(&mut r, &me, req.clone(), T) else {
        panic!()
    };
    assert!(
        matches!(decide(&mut r, &me, req.clone(), T + HOLD_SECS), Decision::Lapsed(i) if i == id)
    );
    // Lapsed is said once; the next call opens a new request.
    assert!(matches!(
        decide(&mut r, &me, req, T + HOLD_SECS),
        Decision::Pending(_, Some(_))
    ));
    // A caller's room is bounded; another caller is not crowded out.
    for n in 2..(MAX_OPEN_PER_CALLER as u64 + 1) {
        assert!(matches!(
            decide(
                &mut r,
                &me,
                request(&caller, &me, caveat(&[&p1], 1), n, T),
                T
            ),
            Decision::Pending(_, Some(_))
        ));
    }
    let over = request(&caller, &me, caveat(&[&p1], 1), 999, T);
    assert!(matches!(decide(&mut r, &me, over, T), Decision::Full));
    let other = request(&key(6), &me, caveat(&[&p1], 1), 999, T);
    assert!(matches!(
        decide(&mut r, &me, other, T),
        Decision::Pending(_, Some(_))
    ));
    // The sweep drops what lapsed.
    assert_eq!(r.sweep(T + 2 * HOLD_SECS).len(), MAX_OPEN_PER_CALLER + 1);
}

#[test]
fn approvals_count_only_for_the_approvers_of_the_call_that_asks() {
    let (me_key, caller, p1, p2) = (key(1), key(2), key(3), key(4));
    let me = me_key.did();
    let mut r = Requests::default();
    let req = request(&caller, &me, caveat(&[&p1, &p2], 1), 5, T);
    let dig = req.dig;
    decide(&mut r, &me, req.clone(), T);
    grant(&mut r, &me, &p1, &me, dig, T, T).unwrap();
    // The same call under a chain that names only p2 is not admitted by p1's approval.
    let mut narrower = req.clone();
    narrower.apv = caveat(&[&p2], 1);
    assert!(matches!(
        decide(&mut r, &me, narrower, T + 1),
        Decision::Pending(..)
    ));
    assert!(matches!(
        decide(&mut r, &me, req, T + 1),
        Decision::Approved(..)
    ));
}
