//! The book's owner: its reports are bounded only per reporter, and weigh as anyone's.

use talos_reputation::book::MAX_STRANGERS_PER_SUBJECT;
use talos_reputation::{Book, Inserted, Kind};

use crate::common::*;

/// Strangers flooding one subject fill their 256 and displace each other, never the
/// owner's older report; the owner's report still weighs as a stranger's (its owner has
/// no standing with the seeds here), so a book with an owner scores like one without.
#[test]
fn strangers_never_displace_the_owners_report_and_it_weighs_as_anyones() {
    let (seed, me, agent) = (key(1, 0), key(3, 0), key(2, 0));
    let mut owned = Book::new([seed.did()].into()).unwrap().owned_by(me.did());
    let mut plain = Book::new([seed.did()].into()).unwrap();
    let mine = report(&me, agent.did(), Kind::OperatorReport, NOW - 7200, 1);
    for b in [&mut owned, &mut plain] {
        b.insert(mine.clone(), NOW).unwrap();
    }
    let mut displaced = Vec::new();
    for i in 0..(MAX_STRANGERS_PER_SUBJECT as u32 + 10) {
        let r = report(
            &key(8, i),
            agent.did(),
            Kind::BadAnswer,
            NOW - 3600 + u64::from(i),
            1,
        );
        if let Ok(Inserted::Added { evicted }) = owned.insert(r.clone(), NOW) {
            displaced.extend(evicted);
        }
        let _ = plain.insert(r, NOW);
    }
    assert_eq!(displaced.len(), 10);
    assert!(!displaced.contains(&mine.commitment));
    assert_eq!(owned.reports_by(&me.did()), vec![mine.commitment]);
    // The unowned book lost it to the flood.
    assert!(plain.reports_by(&me.did()).is_empty());
    assert_eq!(owned.len(), MAX_STRANGERS_PER_SUBJECT + 1);
    // Strangers together take at most 50 points, the owner's report among them.
    let s = owned.score(&agent.did(), NOW);
    assert_eq!(
        (s.points, s.reports, s.from_seeds),
        (950, MAX_STRANGERS_PER_SUBJECT + 1, 0)
    );
    // With the same reports, an owned book and an unowned one score alike: the owner's
    // report weighs by the owner's standing with the seeds (850: 340 points, capped to
    // the strangers' 50).
    let mut alone = Book::new([seed.did()].into()).unwrap().owned_by(me.did());
    let mut twin = Book::new([seed.did()].into()).unwrap();
    for b in [&mut alone, &mut twin] {
        b.insert(mine.clone(), NOW).unwrap();
        b.insert(report(&seed, me.did(), Kind::BadAnswer, NOW, 2), NOW)
            .unwrap();
    }
    let s = alone.score(&agent.did(), NOW);
    assert_eq!(s, twin.score(&agent.did(), NOW));
    assert_eq!((s.points, s.reports, s.from_seeds), (950, 1, 0));
}
