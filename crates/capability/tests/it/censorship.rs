//! Finding #1 of issue 17: revocation notices could be censored. Notices were kept per id
//! with at most 8 publishers each, so eight throwaway keys publishing an id made the real
//! issuer's notice for it be ignored everywhere, for good. Now they are kept per
//! (publisher, id), each publisher under its own quota, in a bounded table where issuers of
//! chains seen here are never displaced by strangers.

use serde_json::json;
use talos_capability::invocation::Request;
use talos_capability::notice::RevocationNotice;
use talos_capability::published::{MAX_PUBLISHERS, PER_PUBLISHER, Publication, Published};
use talos_capability::{Authorizer, Possession, Revocations, VerifierConfig};
use talos_identity::IdentityKey;
use talos_primitives::{CapabilityId, Did};

use crate::common::*;

/// A fresh key nobody trusts, distinct from the fixtures' keys.
fn throwaway(i: u32) -> IdentityKey {
    let mut seed = [0x7a; 32];
    seed[..4].copy_from_slice(&i.to_be_bytes());
    talos_testkit::keys::from_seed(seed)
}

/// A notice as it arrives from gossip: signed, then checked.
fn notice(key: &IdentityKey, jti: CapabilityId) -> (Did, CapabilityId) {
    let n = RevocationNotice::verify(&RevocationNotice::sign(key, jti, T0).unwrap()).unwrap();
    (n.iss, n.jti)
}

/// Decides the standard chain (booking → planner → assistant) against `revs`.
fn decider() -> impl FnMut(&Revocations) -> Result<(), &'static str> {
    let r = root();
    let c = child(&r);
    let chain = [r.as_str().to_string(), c.as_str().to_string()];
    let mut authz = Authorizer::new(VerifierConfig::new(booking().did()), 16, 16, 300);
    move |revs: &Revocations| {
        let (callee, holder) = (booking().did(), assistant().did());
        let args = json!({"amount": 100});
        let req = Request {
            callee: &callee,
            resource: "talos://booking/flights/LHR-JFK",
            action: "book",
            args: args.as_object().unwrap(),
            now: T0,
        };
        authz
            .authorize(&chain, &req, Possession::Channel(&holder), revs)
            .map(|_| ())
            .map_err(|e| e.kind())
    }
}

#[test]
fn revocation_notices_cannot_be_censored_by_throwaway_publishers() {
    for throwaways in [8, 100] {
        let mut decide = decider();
        let mut revs = Revocations::new();
        assert_eq!(decide(&revs), Ok(()));
        // Throwaway keys publish the delegated link's id (and the root's): each notice is
        // kept under its own publisher, and none of them issued a link of this chain, so
        // the verdict does not move, cached or not.
        for i in 0..throwaways {
            let (iss, jti) = notice(&throwaway(i), id(2));
            revs.revoke_published(iss, jti);
            let (iss, jti) = notice(&throwaway(i), id(1));
            revs.revoke_published(iss, jti);
        }
        assert_eq!(decide(&revs), Ok(()), "{throwaways} throwaway publishers");
        assert_eq!(
            decider()(&revs),
            Ok(()),
            "cold, {throwaways} throwaway publishers"
        );
        // Then the real issuer of link 2 publishes: applied, and the chain is refused.
        let (iss, jti) = notice(&planner(), id(2));
        assert!(
            revs.revoke_published(iss, jti),
            "the planner's notice was censored by {throwaways} throwaway publishers"
        );
        assert_eq!(decide(&revs), Err("revoked"));
        assert_eq!(decider()(&revs), Err("revoked"));
    }
}

#[test]
fn a_flood_of_fresh_publishers_keeps_memory_bounded_and_pinned_issuers_kept() {
    let mut decide = decider();
    let mut revs = Revocations::new();
    // A stranger publishes before the flood: best effort, it may be displaced.
    let (early, _) = notice(&throwaway(u32::MAX), id(9));
    assert!(revs.revoke_published(early, id(9)));
    // The chain was verified here: its issuers are pinned (the node's gate feeds what
    // `RevocationSet::saw_issuers` reports into this).
    revs.note_issuers(&[booking().did(), planner().did()]);
    assert!(revs.revoke_published(planner().did(), id(2)));
    assert!(revs.published().is_pinned(&planner().did()));
    // Far more fresh publishers than the table holds, each with a notice.
    let flood = 3 * MAX_PUBLISHERS as u32;
    for i in 0..flood {
        let mut jti = [0u8; 16];
        jti[..4].copy_from_slice(&i.to_be_bytes());
        revs.revoke_published(throwaway(i).did(), CapabilityId(jti));
        let p = revs.published();
        assert!(p.publishers() <= MAX_PUBLISHERS);
        assert!(p.len() <= MAX_PUBLISHERS * PER_PUBLISHER);
    }
    assert_eq!(revs.published().publishers(), MAX_PUBLISHERS);
    // The pinned issuer kept its revocation; the early stranger was displaced.
    assert_eq!(decide(&revs), Err("revoked"));
    assert!(!revs.published().contains(&early, &id(9)));
    // One publisher flooding ids fills only its own quota.
    let noisy = throwaway(0).did();
    for i in 0..(2 * PER_PUBLISHER as u32) {
        let mut jti = [0xffu8; 16];
        jti[..4].copy_from_slice(&i.to_be_bytes());
        revs.revoke_published(noisy, CapabilityId(jti));
    }
    assert!(revs.published().len() <= MAX_PUBLISHERS * PER_PUBLISHER);
    assert!(revs.revoke_published(planner().did(), id(3)));
}

#[test]
fn a_publisher_pinned_after_it_published_is_kept_and_a_full_pinned_table_refuses() {
    let mut p: Published<u32> = Published::with_limits(4, 2, 8);
    // Publisher 1 publishes, then is seen issuing a link: pinned, and queued for saving.
    assert!(p.publish(1, id(1), false).applied());
    p.note(1);
    assert!(p.is_pinned(&1));
    assert_eq!(p.take_unsaved_pins(), vec![1]);
    assert!(p.take_unsaved_pins().is_empty());
    // Strangers churn the other three places, never publisher 1's.
    for k in 100..200 {
        match p.publish(k, id(1), false) {
            Publication::Applied { pinned, evicted } => {
                assert!(!pinned);
                assert_ne!(evicted.map(|(k, _)| k), Some(1));
            }
            other => panic!("{other:?}"),
        }
        assert!(p.publishers() <= 4);
    }
    assert!(p.contains(&1, &id(1)));
    // Its quota is its own: a third id is refused, known ones are known.
    assert!(p.publish(1, id(2), false).applied());
    assert_eq!(p.publish(1, id(3), false), Publication::Refused);
    assert_eq!(p.publish(1, id(1), false), Publication::Known);
    // When every place is pinned, a stranger is refused rather than displacing one.
    for k in 2..=4 {
        p.note(k);
        assert!(p.publish(k, id(1), false).applied());
    }
    assert_eq!(p.publish(999, id(1), false), Publication::Refused);
    // Issuers noted before publishing are remembered within their own bound.
    for k in 1000..3000 {
        p.note(k);
        assert!(p.known() <= 8);
    }
}
