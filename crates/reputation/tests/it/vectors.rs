//! The known-answer file `test-vectors/scores.json`: reports signed by fixed keys, the
//! seeds, and each subject's score at several times (FORMAT.md §2), for independent
//! implementations. Generated deterministically (Ed25519 signatures are), checked to be
//! up to date; set `TALOS_REGEN_VECTORS=1` to rewrite it after a rule change.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use talos_primitives::{CapabilityId, Did, Hash32};
use talos_reputation::{Book, Kind, Report};

use crate::common::*;

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/test-vectors/scores.json");

fn generate() -> Value {
    let seeds = [key(1, 0), key(1, 1)];
    let agents: Vec<_> = (0..3).map(|i| key(2, i)).collect();
    let strangers: Vec<_> = (0..4).map(|i| key(3, i)).collect();
    let mut reports = Vec::new();
    let mut sign = |by: &talos_identity::IdentityKey, sub: Did, kind, hours_ago: u64, j: u8| {
        let evd = vec![Hash32([j; 32])];
        let c = Report::sign(
            by,
            sub,
            kind,
            evd,
            NOW - hours_ago * 3600 - u64::from(j),
            CapabilityId([j; 16]),
        );
        reports.push(c.expect("sign"));
    };
    // agents[0]: one operator report by a seed, two by the other (capped), aging.
    sign(&seeds[0], agents[0].did(), Kind::OperatorReport, 0, 1);
    sign(&seeds[1], agents[0].did(), Kind::BadAnswer, 30, 2);
    sign(&seeds[1], agents[0].did(), Kind::BrokenAttestation, 200, 3);
    // agents[1]: strangers only (capped in all), one of whom a seed reported.
    sign(&seeds[0], strangers[0].did(), Kind::ProtocolViolation, 5, 4);
    for (i, s) in strangers.iter().enumerate() {
        sign(
            s,
            agents[1].did(),
            Kind::ALL[i],
            10 * i as u64,
            10 + i as u8,
        );
    }
    // agents[2]: one light stranger report: weighted by a reduced standing.
    sign(&seeds[0], strangers[3].did(), Kind::OperatorReport, 0, 20);
    sign(&seeds[1], strangers[3].did(), Kind::OperatorReport, 0, 21);
    sign(&strangers[3], agents[2].did(), Kind::RefusedStorm, 1, 22);
    let seed_dids: BTreeSet<Did> = seeds.iter().map(|k| k.did()).collect();
    let mut book = Book::new(seed_dids.clone()).expect("seeds");
    for r in &reports {
        book.insert(Report::verify(r).expect("verify"), NOW)
            .expect("insert");
    }
    let mut cases = Vec::new();
    let subjects: Vec<Did> = agents.iter().chain(&strangers).map(|k| k.did()).collect();
    for at in [NOW, NOW + 84 * 3600, NOW + 168 * 3600, NOW + 2000 * 3600] {
        for s in &subjects {
            let sc = book.compute(s, at);
            cases.push(json!({
                "subject": s, "at": at, "points": sc.points,
                "reports": sc.reports, "from_seeds": sc.from_seeds,
            }));
        }
    }
    json!({
        "description": "talos reputation scores (crates/reputation/FORMAT.md §2): verify every report, keep all of them, and compute each case's score with these seeds",
        "seeds": seed_dids,
        "reports": reports,
        "cases": cases,
    })
}

#[test]
fn the_known_answer_file_is_current_and_every_case_holds() {
    let fresh = generate();
    let text = serde_json::to_string_pretty(&fresh).unwrap() + "\n";
    if std::env::var_os("TALOS_REGEN_VECTORS").is_some() {
        std::fs::write(PATH, &text).unwrap();
    }
    let on_disk =
        std::fs::read_to_string(PATH).expect("run with TALOS_REGEN_VECTORS=1 to create the file");
    assert_eq!(
        on_disk, text,
        "test-vectors/scores.json is stale: TALOS_REGEN_VECTORS=1"
    );
    // And replay the file as an implementation reading it would.
    let v: Value = serde_json::from_str(&on_disk).unwrap();
    let seeds: BTreeSet<Did> = serde_json::from_value(v["seeds"].clone()).unwrap();
    let mut book = Book::new(seeds).unwrap();
    for r in v["reports"].as_array().unwrap() {
        book.insert(Report::verify(r.as_str().unwrap()).unwrap(), NOW)
            .unwrap();
    }
    let cases = v["cases"].as_array().unwrap();
    assert!(cases.len() >= 28);
    let mut distinct = BTreeSet::new();
    for c in cases {
        let s: Did = serde_json::from_value(c["subject"].clone()).unwrap();
        let sc = book.compute(&s, c["at"].as_u64().unwrap());
        assert_eq!(u64::from(sc.points), c["points"].as_u64().unwrap(), "{c}");
        distinct.insert(sc.points);
    }
    // The file exercises more than a couple of outcomes.
    assert!(distinct.len() >= 6, "{distinct:?}");
}
