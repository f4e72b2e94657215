//! Aggregate proofs: a valid one verifies; every change to what it binds is refused with
//! a typed error; the parser never panics and round-trips; the known-answer file
//! `test-vectors/aggregate-proof.txt` is current.

use proptest::prelude::*;
use talos_audit::aggregate::{AggregateError, AggregateProof};
use talos_audit::event::EventKind;
use talos_identity::IdentityKey;
use talos_primitives::{Hash32, TreeHead};

const PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/test-vectors/aggregate-proof.txt"
);

fn build(
    agent: &IdentityKey,
    aggregator: &IdentityKey,
    head: TreeHead,
    change: impl FnOnce(EventKind) -> EventKind,
) -> AggregateProof {
    talos_testkit::aggregate::build(agent, aggregator, head, change).0
}

fn keys() -> (IdentityKey, IdentityKey) {
    (
        talos_testkit::keys::identity(31),
        talos_testkit::keys::identity(32),
    )
}

fn head() -> TreeHead {
    TreeHead {
        size: 42,
        root: Hash32([0xab; 32]),
    }
}

#[test]
fn a_valid_proof_verifies_and_round_trips() {
    let (agent, aggregator) = keys();
    let p = build(&agent, &aggregator, head(), |k| k);
    let got = p.verify().unwrap();
    assert_eq!(got.agent, agent.did());
    assert_eq!(got.aggregator, aggregator.did());
    assert_eq!(got.head, head());
    assert_eq!((got.index, got.aggregator_head.size), (6, 11));
    assert_eq!(AggregateProof::parse(&p.to_text()).unwrap(), p);
}

#[test]
fn a_record_of_anything_else_is_refused() {
    let (agent, aggregator) = keys();
    let other = talos_testkit::keys::identity(33);
    type Change = Box<dyn FnOnce(EventKind) -> EventKind>;
    let cases: Vec<(&str, Change)> = vec![
        (
            "the entry names another agent",
            Box::new(move |k| match k {
                EventKind::CheckpointAggregated {
                    size, root, note, ..
                } => EventKind::CheckpointAggregated {
                    agent: other.did(),
                    size,
                    root,
                    note,
                },
                k => k,
            }),
        ),
        (
            "the entry names another head",
            Box::new(|k| match k {
                EventKind::CheckpointAggregated {
                    agent, root, note, ..
                } => EventKind::CheckpointAggregated {
                    agent,
                    size: 43,
                    root,
                    note,
                },
                k => k,
            }),
        ),
        (
            "the entry names another note",
            Box::new(|k| match k {
                EventKind::CheckpointAggregated {
                    agent, size, root, ..
                } => EventKind::CheckpointAggregated {
                    agent,
                    size,
                    root,
                    note: Hash32([0; 32]),
                },
                k => k,
            }),
        ),
        (
            "the entry is not checkpoint_aggregated",
            Box::new(|_| EventKind::SessionClosed {
                peer: talos_testkit::keys::identity(34).did(),
                session: Hash32([2; 32]),
            }),
        ),
    ];
    for (why, change) in cases {
        let p = build(&agent, &aggregator, head(), change);
        assert_eq!(p.verify().unwrap_err(), AggregateError::Mismatch(why));
    }
}

#[test]
fn signatures_and_paths_are_checked() {
    let (agent, aggregator) = keys();
    let good = build(&agent, &aggregator, head(), |k| k);

    // The agent's note signed by someone else (origin still the agent's).
    let mut p = good.clone();
    p.checkpoint = talos_audit::checkpoint::Checkpoint {
        origin: talos_audit::checkpoint::talos_origin(&agent.did()),
        head: head(),
        extensions: vec![],
    }
    .sign(&agent.did().to_string(), &aggregator)
    .unwrap();
    assert!(matches!(p.verify(), Err(AggregateError::Agent(_))));

    // A path that leads elsewhere.
    let mut p = good.clone();
    p.proof.path[0] = Hash32([9; 32]);
    assert!(matches!(p.verify(), Err(AggregateError::Proof(_))));

    // The aggregator's checkpoint claiming another index.
    let mut p = good.clone();
    p.proof.index = 5;
    assert!(matches!(p.verify(), Err(AggregateError::Proof(_))));

    // An entry that is not a signed event.
    let mut p = good;
    p.proof.extra = Some(b"{}".to_vec());
    assert!(matches!(p.verify(), Err(AggregateError::Proof(_))));
}

#[test]
fn the_known_answer_file_is_current() {
    let (agent, aggregator) = keys();
    let text = build(&agent, &aggregator, head(), |k| k).to_text();
    if std::env::var_os("TALOS_REGEN_VECTORS").is_some() {
        std::fs::write(PATH, &text).unwrap();
    }
    let on_disk =
        std::fs::read_to_string(PATH).expect("run with TALOS_REGEN_VECTORS=1 to create the file");
    assert_eq!(on_disk, text, "the file is stale: TALOS_REGEN_VECTORS=1");
    let got = AggregateProof::parse(&on_disk).unwrap().verify().unwrap();
    assert_eq!(got.agent, agent.did());
}

proptest! {
    /// Any bytes: a typed result, never a panic; what parses prints back the same.
    #[test]
    fn parse_is_total(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        if let Ok(s) = std::str::from_utf8(&bytes)
            && let Ok(p) = AggregateProof::parse(s)
        {
            prop_assert_eq!(AggregateProof::parse(&p.to_text()).unwrap(), p.clone());
            let _ = p.verify();
        }
    }

    /// Any one byte of a valid proof changed: refused or, when the change is outside
    /// what is signed and proven (the note's signature line encodings cannot change
    /// without breaking), the same verified result.
    #[test]
    fn a_changed_byte_is_refused_or_harmless(at in 0usize..4096, to in any::<u8>()) {
        let (agent, aggregator) = keys();
        let good = build(&agent, &aggregator, head(), |k| k);
        let want = good.verify().unwrap();
        let mut bytes = good.to_text().into_bytes();
        let at = at % bytes.len();
        prop_assume!(bytes[at] != to);
        bytes[at] = to;
        if let Ok(s) = String::from_utf8(bytes)
            && let Ok(got) = AggregateProof::parse(&s).and_then(|p| p.verify())
        {
            prop_assert_eq!(got, want);
        }
    }
}
