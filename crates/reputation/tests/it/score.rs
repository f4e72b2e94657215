//! The score: weights, caps, seeds and strangers, the Sybil bound, determinism.

use std::collections::BTreeSet;

use proptest::prelude::*;
use talos_primitives::CapabilityId;
use talos_reputation::book::{MAX_PER_REPORTER, MAX_STRANGER_REPORTS, MAX_STRANGERS_PER_SUBJECT};
use talos_reputation::score::{self, HALF_LIFE_HOURS, MAX_AGE_HOURS, STRANGER_CAP, weight};
use talos_reputation::{Book, BookError, Inserted, Kind, Report};

use crate::common::*;

fn book(seeds: &[&talos_identity::IdentityKey]) -> Book {
    Book::new(seeds.iter().map(|k| k.did()).collect()).unwrap()
}

#[test]
fn weights_halve_every_week_linearly_in_between_and_end_at_ninety_days() {
    assert_eq!(weight(Kind::OperatorReport, 0), 400);
    assert_eq!(weight(Kind::OperatorReport, HALF_LIFE_HOURS / 2), 300);
    assert_eq!(weight(Kind::OperatorReport, HALF_LIFE_HOURS), 200);
    assert_eq!(weight(Kind::OperatorReport, 2 * HALF_LIFE_HOURS), 100);
    // The decrement rounds down: an hour takes nothing from 100, four hours take 1.
    assert_eq!(weight(Kind::RefusedStorm, 1), 100);
    assert_eq!(weight(Kind::RefusedStorm, 4), 99);
    assert_eq!(weight(Kind::OperatorReport, MAX_AGE_HOURS - 1), 0);
    assert_eq!(weight(Kind::OperatorReport, MAX_AGE_HOURS), 0);
}

#[test]
fn a_seed_takes_at_most_its_cap_and_seeds_add_up() {
    let (s1, s2, agent) = (key(1, 0), key(1, 1), key(2, 0));
    let mut b = book(&[&s1, &s2]);
    assert_eq!(b.score(&agent.did(), NOW).points, 1000);
    for j in 0..3 {
        b.insert(report(&s1, agent.did(), Kind::OperatorReport, NOW, j), NOW)
            .unwrap();
    }
    // Three reports of 400 by one seed: capped at 400.
    let s = b.score(&agent.did(), NOW);
    assert_eq!((s.points, s.reports, s.from_seeds), (600, 3, 3));
    b.insert(report(&s2, agent.did(), Kind::BadAnswer, NOW, 9), NOW)
        .unwrap();
    assert_eq!(b.score(&agent.did(), NOW).points, 450);
    // A week later each weighs half: the first seed's three still reach its cap (600
    // → 400), the second's drops to 75.
    assert_eq!(
        b.score(&agent.did(), NOW + 168 * 3600).points,
        1000 - 400 - 75
    );
}

#[test]
fn strangers_count_by_their_standing_and_together_at_most_the_cap() {
    let (seed, agent, stranger, shady) = (key(1, 0), key(2, 0), key(3, 0), key(3, 1));
    let mut b = book(&[&seed]);
    b.insert(
        report(&stranger, agent.did(), Kind::RefusedStorm, NOW, 1),
        NOW,
    )
    .unwrap();
    // 100 points × standing 1000 / 1000, capped at 50.
    assert_eq!(
        b.score(&agent.did(), NOW).points,
        1000 - STRANGER_CAP as u16
    );
    // A stranger the seed reported counts by its remaining standing (600 → 100 × 0.6).
    let mut b = book(&[&seed]);
    b.insert(
        report(&seed, shady.did(), Kind::OperatorReport, NOW, 1),
        NOW,
    )
    .unwrap();
    b.insert(
        report(&shady, agent.did(), Kind::ProtocolViolation, NOW, 2),
        NOW,
    )
    .unwrap();
    // 200 × 600 / 1000 = 120, capped at 50; a lighter report below shows the weighting.
    assert_eq!(b.score(&agent.did(), NOW).points, 950);
    let s2 = key(1, 1);
    let mut b2 = book(&[&seed, &s2]);
    b2.insert(
        report(&seed, shady.did(), Kind::OperatorReport, NOW, 1),
        NOW,
    )
    .unwrap();
    b2.insert(
        report(&s2, shady.did(), Kind::BrokenAttestation, NOW, 2),
        NOW,
    )
    .unwrap();
    // shady's standing: 1000 - 400 - 300 = 300; its 100-point report counts 30.
    b2.insert(report(&shady, agent.did(), Kind::RefusedStorm, NOW, 3), NOW)
        .unwrap();
    assert_eq!(b2.score(&agent.did(), NOW).points, 970);
}

/// The Sybil test of issue 22: a thousand fresh keys, each filing the heaviest report
/// about an honest agent, move its score by no more than the documented bound
/// (`STRANGER_CAP`, FORMAT.md §2.3), and not at all what the seeds say.
#[test]
fn a_thousand_fresh_keys_move_an_honest_agent_by_at_most_the_bound() {
    let (seed, honest) = (key(1, 0), key(2, 0));
    let mut b = book(&[&seed]);
    let before = b.score(&honest.did(), NOW).points;
    let (mut kept, mut refused) = (0, 0);
    for i in 0..1000 {
        let sybil = key(7, i);
        for j in 0..2 {
            // Past the 256 strangers' reports kept about one subject, a newer one
            // displaces the oldest and an older one is refused.
            match b.insert(
                report(&sybil, honest.did(), Kind::OperatorReport, NOW, j),
                NOW,
            ) {
                Ok(Inserted::Added { .. }) => kept += 1,
                Err(BookError::Quota) => refused += 1,
                other => panic!("{other:?}"),
            }
        }
    }
    assert_eq!(kept + refused, 2000);
    assert_eq!(b.len(), MAX_STRANGERS_PER_SUBJECT);
    let after = b.score(&honest.did(), NOW);
    assert_eq!(after.reports, MAX_STRANGERS_PER_SUBJECT);
    assert_eq!(after.from_seeds, 0);
    assert!(
        u64::from(before - after.points) <= STRANGER_CAP,
        "{before} -> {}",
        after.points
    );
    assert_eq!(after.points, 950);
    // A seed's one report still counts in full beside them.
    b.insert(report(&seed, honest.did(), Kind::BadAnswer, NOW, 1), NOW)
        .unwrap();
    assert_eq!(b.score(&honest.did(), NOW).points, 800);
}

#[test]
fn a_flood_of_strangers_never_displaces_a_seeds_report() {
    let (seed, agent) = (key(1, 0), key(2, 0));
    let mut b = book(&[&seed]);
    b.insert(
        report(&seed, agent.did(), Kind::OperatorReport, NOW - 3600, 1),
        NOW,
    )
    .unwrap();
    // Each stranger reports another subject, each a second later than the one before:
    // the global bound fills, and each newer report displaces the oldest.
    let mut evicted = 0;
    for i in 0..(MAX_STRANGER_REPORTS as u32 + 100) {
        let (about, at) = (key(9, i).did(), NOW - 20_000 + u64::from(i));
        match b.insert(report(&key(8, i), about, Kind::BadAnswer, at, 1), NOW) {
            Ok(Inserted::Added { evicted: e }) => evicted += e.len(),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(evicted, 100);
    assert_eq!(b.len(), MAX_STRANGER_REPORTS + 1);
    // About the seed's subject, strangers fill only their own 256.
    for i in 0..300u32 {
        let _ = b.insert(
            report(&key(10, i), agent.did(), Kind::BadAnswer, NOW, 1),
            NOW,
        );
    }
    let s = b.score(&agent.did(), NOW);
    assert_eq!(
        (s.reports, s.from_seeds),
        (MAX_STRANGERS_PER_SUBJECT + 1, 1)
    );
    // The seed's report, an hour old and older than every stranger's, is still there.
    let seed_w = weight(Kind::OperatorReport, 1) as u16;
    assert_eq!(s.points, 1000 - seed_w - 50);
}

#[test]
fn each_reporter_keeps_its_newest_reports_and_refuses_older_ones_at_the_bound() {
    let (by, agent) = (key(3, 0), key(2, 0));
    let mut b = book(&[]);
    for j in 0..MAX_PER_REPORTER as u8 {
        b.insert(
            report(
                &by,
                agent.did(),
                Kind::BadAnswer,
                NOW - 100 + u64::from(j),
                j,
            ),
            NOW,
        )
        .unwrap();
    }
    let older = report(&by, agent.did(), Kind::BadAnswer, NOW - 1000, 200);
    assert_eq!(b.insert(older, NOW), Err(BookError::Quota));
    let newer = report(&by, agent.did(), Kind::BadAnswer, NOW, 201);
    assert!(matches!(b.insert(newer, NOW), Ok(Inserted::Added { evicted }) if evicted.len() == 1));
    assert_eq!(b.len(), MAX_PER_REPORTER);
}

#[test]
fn future_and_stale_reports_are_not_kept_and_the_sweep_drops_expired_ones() {
    let (by, agent) = (key(3, 0), key(2, 0));
    let mut b = book(&[]);
    let future = report(&by, agent.did(), Kind::BadAnswer, NOW + 301, 1);
    assert_eq!(b.insert(future, NOW), Err(BookError::NotYetValid));
    let stale = report(
        &by,
        agent.did(),
        Kind::BadAnswer,
        NOW - MAX_AGE_HOURS * 3600,
        2,
    );
    assert_eq!(b.insert(stale, NOW), Err(BookError::TooOld));
    b.insert(report(&by, agent.did(), Kind::BadAnswer, NOW, 3), NOW)
        .unwrap();
    assert!(b.sweep(NOW + 3600).is_empty());
    assert_eq!(b.sweep(NOW + MAX_AGE_HOURS * 3600).len(), 1);
    assert!(b.is_empty());
}

#[test]
fn the_same_reporter_and_id_keeps_the_smaller_commitment_whatever_the_order() {
    let (by, agent) = (key(3, 0), key(2, 0));
    let signed = |kind| {
        let c = Report::sign(&by, agent.did(), kind, vec![], NOW, CapabilityId([1; 16])).unwrap();
        Report::verify(&c).unwrap()
    };
    let (a, b) = (signed(Kind::BadAnswer), signed(Kind::OperatorReport));
    let (small, large) = if a.commitment < b.commitment {
        (a, b)
    } else {
        (b, a)
    };
    let mut x = book(&[]);
    x.insert(small.clone(), NOW).unwrap();
    assert_eq!(x.insert(large.clone(), NOW), Ok(Inserted::Known));
    let mut y = book(&[]);
    y.insert(large.clone(), NOW).unwrap();
    assert_eq!(
        y.insert(small, NOW),
        Ok(Inserted::Added {
            evicted: vec![large.commitment]
        })
    );
    assert_eq!(x.len(), 1);
    assert_eq!(x.compute(&agent.did(), NOW), y.compute(&agent.did(), NOW));
}

#[test]
fn too_many_seeds_are_refused() {
    let seeds: BTreeSet<_> = (0..65).map(|i| key(1, i).did()).collect();
    assert_eq!(
        talos_reputation::Book::new(seeds).unwrap_err(),
        BookError::TooManySeeds
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Two nodes holding the same reports compute the same scores, whatever order the
    /// reports arrived in (issue 22: "two nodes with the same reports compute the same
    /// score").
    #[test]
    fn the_score_does_not_depend_on_arrival_order(
        reports in proptest::collection::vec((0u32..6, 0u32..6, 0usize..5, 0u64..400, any::<u8>()), 1..40),
        perm_seed in any::<u64>(),
        later in 0u64..3000,
    ) {
        let seeds: BTreeSet<_> = (0..2).map(|i| key(1, i).did()).collect();
        let who = |i: u32| if i < 2 { key(1, i) } else { key(4, i) };
        let signed: Vec<_> = reports
            .iter()
            .filter(|(r, s, ..)| r != s)
            .map(|(r, s, k, age, j)| report(&who(*r), who(*s).did(), Kind::ALL[*k], NOW - age * 3600, *j))
            .collect();
        let mut shuffled = signed.clone();
        // A deterministic shuffle from the seed.
        let mut x = perm_seed | 1;
        for i in (1..shuffled.len()).rev() {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            shuffled.swap(i, (x % (i as u64 + 1)) as usize);
        }
        let mut a = Book::new(seeds.clone()).unwrap();
        let mut b = Book::new(seeds).unwrap();
        // Scores read between inserts come from the cache where it holds: each must
        // equal a fresh computation (the cache forgets exactly what a report changes).
        for r in signed {
            let _ = a.insert(r, NOW);
            for i in 0..6 {
                let d = who(i).did();
                prop_assert_eq!(a.score(&d, NOW), a.compute(&d, NOW));
            }
        }
        for r in shuffled { let _ = b.insert(r, NOW); }
        let t = NOW + later * 3600;
        for i in 0..6 {
            let d = who(i).did();
            prop_assert_eq!(a.compute(&d, t), b.compute(&d, t));
            prop_assert_eq!(a.score(&d, t), a.compute(&d, t));
        }
    }

    /// A weight never grows with age and never exceeds the kind's severity.
    #[test]
    fn weights_only_decay(k in 0usize..5, age in 0u64..3000) {
        let kind = Kind::ALL[k];
        prop_assert!(weight(kind, age + 1) <= weight(kind, age));
        prop_assert!(weight(kind, age) <= kind.severity());
    }

    /// The stranger penalty is bounded whatever the reports.
    #[test]
    fn strangers_never_take_more_than_the_cap(sums in proptest::collection::vec((any::<u64>(), any::<u64>()), 0..200)) {
        prop_assert!(score::stranger_penalty(sums) <= STRANGER_CAP);
    }
}

/// A report refused by a later bound changes nothing: the reporter's oldest report, which
/// the per-reporter bound would have displaced, is still held (review finding).
#[test]
fn a_refused_report_displaces_nothing() {
    let (by, target) = (key(3, 0), key(2, 0));
    let mut b = book(&[]);
    for j in 0..MAX_PER_REPORTER as u32 {
        let about = key(11, j).did();
        let r = report(
            &by,
            about,
            Kind::BadAnswer,
            NOW - 100 + u64::from(j),
            j as u8,
        );
        b.insert(r, NOW).unwrap();
    }
    for i in 0..MAX_STRANGERS_PER_SUBJECT as u32 {
        b.insert(
            report(&key(12, i), target.did(), Kind::BadAnswer, NOW, 1),
            NOW,
        )
        .unwrap();
    }
    let before = b.len();
    let late = report(&by, target.did(), Kind::BadAnswer, NOW - 1, 200);
    assert_eq!(b.insert(late, NOW), Err(BookError::Quota));
    assert_eq!(b.len(), before);
    // The reporter's oldest report (about key(11, 0)) is still there.
    assert_eq!(b.compute(&key(11, 0).did(), NOW).reports, 1);
}
