//! The held-call state machine: k of n distinct approvers, one call per set of
//! approvals, lapsing, bounds, and approvals that do not count.

use talos_capability::approval::{self, call_digest};
use talos_capability::stateful::ApvCaveat;
use talos_identity::{IdentityKey, IdentitySeed};
use talos_primitives::{CapabilityId, Commitment, Did, Hash32};

use super::{Decision, HOLD_SECS, Held, MAX_OPEN_PER_CALLER, REASK_SECS, Request, Requests, SKEW};

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
        opened: now,
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
    // The id from the time: the same approver and time is the same approval (a resend).
    let mut jti = [0u8; 16];
    jti[..8].copy_from_slice(&iat.to_le_bytes());
    let compact = approval::sign(by, *aud, dig, iat, CapabilityId(jti)).unwrap();
    let a = approval::verify(&compact).unwrap();
    r.grant(me, a, &compact, now)
}

#[test]
fn two_of_three_distinct_approvers_admit_one_call() {
    let (me_key, caller, p1, p2, p3) = (key(1), key(2), key(3), key(4), key(5));
    let me = me_key.did();
    let apv = caveat(&[&p1, &p2, &p3], 2);
    let mut r = Requests::default();
    let req = request(&caller, &me, apv, 10, T);
    let dig = req.dig;
    let Decision::Pending(id, Held::Opened(_)) = decide(&mut r, &me, req.clone(), T) else {
        panic!()
    };
    // The same approver twice counts once.
    grant(&mut r, &me, &p1, &me, dig, T, T).unwrap();
    grant(&mut r, &me, &p1, &me, dig, T + 1, T + 1).unwrap();
    assert!(
        matches!(decide(&mut r, &me, req.clone(), T + 2), Decision::Pending(i, Held::Waiting) if i == id)
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
    // Admitted: the gate closes it and its approvals are spent. The same call opens a
    // new request, where the spent approvals (re-sent by a retrying node, say) do not
    // count, though signed within the skew of its opening; fresh ones do.
    r.consume(&id, &approvals, T + 4);
    let again = request(&caller, &me, caveat(&[&p1, &p2, &p3], 2), 10, T + 5);
    assert!(matches!(
        decide(&mut r, &me, again.clone(), T + 5),
        Decision::Pending(_, Held::Opened(_))
    ));
    assert_eq!(
        grant(&mut r, &me, &p1, &me, dig, T + 1, T + 5),
        Err("stale_approval")
    );
    assert_eq!(
        grant(&mut r, &me, &p2, &me, dig, T + 3, T + 5),
        Err("stale_approval")
    );
    grant(&mut r, &me, &p1, &me, dig, T + 6, T + 6).unwrap();
    grant(&mut r, &me, &p3, &me, dig, T + 6, T + 6).unwrap();
    assert!(matches!(
        decide(&mut r, &me, again, T + 7),
        Decision::Approved(..)
    ));
}

#[test]
fn approvals_signed_before_their_request_opened_do_not_count_and_approvers_are_asked_again() {
    let (me_key, caller, p1) = (key(1), key(2), key(3));
    let me = me_key.did();
    let mut r = Requests::default();
    let at = T + 2 * SKEW;
    let req = request(&caller, &me, caveat(&[&p1], 1), 7, at);
    let dig = req.dig;
    decide(&mut r, &me, req.clone(), at);
    // Signed more than the skew before the request opened: an approval of another call.
    assert_eq!(
        grant(&mut r, &me, &p1, &me, dig, at - SKEW - 1, at),
        Err("stale_approval")
    );
    // Sent again within 30 s: just waiting; later: its approvers are asked again.
    assert!(matches!(
        decide(&mut r, &me, req.clone(), at + 1),
        Decision::Pending(_, Held::Waiting)
    ));
    assert!(matches!(
        decide(&mut r, &me, req.clone(), at + REASK_SECS),
        Decision::Pending(_, Held::Reask(_))
    ));
    assert!(matches!(
        decide(&mut r, &me, req.clone(), at + REASK_SECS + 1),
        Decision::Pending(_, Held::Waiting)
    ));
    // Within the skew (the approver's clock a little behind): it counts.
    grant(&mut r, &me, &p1, &me, dig, at - SKEW, at + 40).unwrap();
    assert!(matches!(
        decide(&mut r, &me, req, at + 41),
        Decision::Approved(..)
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
        Decision::Pending(_, Held::Opened(_))
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
            Decision::Pending(_, Held::Opened(_))
        ));
    }
    let over = request(&caller, &me, caveat(&[&p1], 1), 999, T);
    assert!(matches!(decide(&mut r, &me, over, T), Decision::Full));
    let other = request(&key(6), &me, caveat(&[&p1], 1), 999, T);
    assert!(matches!(
        decide(&mut r, &me, other, T),
        Decision::Pending(_, Held::Opened(_))
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
