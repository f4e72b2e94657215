//! Events: canonical, signed, digests only.

use talos_audit::event::{AuditEvent, DenyKind, EventKind, FrameRef, SignedEvent};
use talos_identity::IdentityKey;
use talos_primitives::{CapabilityId, Commitment, Hash32};

use talos_testkit::keys::identity as key;

const MARKER: &str = "PLAINTEXT-MARKER-do-not-log";

fn samples(agent: &IdentityKey) -> Vec<AuditEvent> {
    let peer = key(2).did();
    let session = Hash32([7; 32]);
    let secret_message = format!("{MARKER}: transfer 450 EUR");
    let kinds = vec![
        EventKind::SessionOpened { peer, session },
        EventKind::frame_sent(peer, session, secret_message.as_bytes()),
        EventKind::frame_received(peer, session, secret_message.as_bytes()),
        EventKind::FramesSent {
            peer,
            session,
            frames: vec![FrameRef::of(secret_message.as_bytes()), FrameRef::of(b"x")],
        },
        EventKind::FramesReceived {
            peer,
            session,
            frames: vec![FrameRef::of(secret_message.as_bytes())],
        },
        EventKind::tool_invocation(MARKER, MARKER.as_bytes(), MARKER.as_bytes()),
        EventKind::CapabilityRevoked {
            id: CapabilityId([1; 16]),
        },
        EventKind::ReportFiled {
            report: Commitment(Hash32([4; 32])),
            subject: peer,
            kind: DenyKind::new("bad_answer").unwrap(),
        },
        EventKind::ApprovalRequested {
            request: Hash32([5; 32]),
            caller: peer,
        },
        EventKind::ApprovalGranted {
            approval: Commitment(Hash32([6; 32])),
            holder: peer,
            request: Hash32([5; 32]),
        },
        EventKind::ApprovalReceived {
            approval: Commitment(Hash32([6; 32])),
            approver: peer,
            request: Hash32([5; 32]),
        },
        EventKind::Approved {
            request: Hash32([5; 32]),
            approvals: vec![Commitment(Hash32([6; 32]))],
        },
        EventKind::CapabilityDenied {
            caller: peer,
            kind: DenyKind::new("not_authorized").unwrap(),
            request: Hash32([3; 32]),
        },
        EventKind::AnchorConfirmed {
            size: 10,
            root: Hash32([4; 32]),
            tx: Hash32([5; 32]),
            block: 99,
        },
        EventKind::BudgetSpent {
            link: Commitment(Hash32([7; 32])),
            cap: 0,
            window: 1_764_806_400,
            amount: 400,
            total: 900,
            limit: 1000,
        },
        EventKind::BudgetExceeded {
            link: Commitment(Hash32([7; 32])),
            cap: 0,
            total: 1_100,
            limit: 1000,
        },
        EventKind::WitnessShortfall {
            size: 10,
            got: 1,
            need: 2,
            missing: vec!["witness.example/w2".into()],
        },
    ];
    kinds
        .into_iter()
        .enumerate()
        .map(|(i, event)| AuditEvent {
            agent: agent.did(),
            seq: i as u64,
            ts: 1_763_782_400_000,
            event,
        })
        .collect()
}

#[test]
fn events_sign_round_trip_and_carry_no_plaintext() {
    let agent = key(1);
    for body in samples(&agent) {
        let signed = SignedEvent::sign(&agent, body).unwrap();
        let leaf = signed.to_leaf().unwrap();
        let text = String::from_utf8(leaf.clone()).unwrap();
        assert!(!text.contains(MARKER), "{text}");
        assert!(!text.contains("EUR"), "{text}");
        assert_eq!(SignedEvent::from_leaf(&leaf).unwrap(), signed);
    }
}

#[test]
fn tampered_or_foreign_events_are_rejected() {
    let agent = key(1);
    let signed = SignedEvent::sign(&agent, samples(&agent).remove(0)).unwrap();
    let leaf = String::from_utf8(signed.to_leaf().unwrap()).unwrap();
    let tampered = leaf.replace("\"seq\":0", "\"seq\":1");
    assert!(SignedEvent::from_leaf(tampered.as_bytes()).is_err());
    let spaced = leaf.replacen(':', ": ", 1);
    assert!(SignedEvent::from_leaf(spaced.as_bytes()).is_err());
    assert!(DenyKind::new("Free text!").is_none());
    // A batch event lists 1 to 256 frames.
    for n in [0usize, 257] {
        let body = AuditEvent {
            agent: agent.did(),
            seq: 0,
            ts: 0,
            event: EventKind::FramesSent {
                peer: key(2).did(),
                session: Hash32([7; 32]),
                frames: vec![FrameRef::of(b"f"); n],
            },
        };
        let leaf = SignedEvent::sign(&agent, body).unwrap().to_leaf().unwrap();
        assert!(SignedEvent::from_leaf(&leaf).is_err(), "{n} frames");
    }
    assert!(
        serde_json::from_str::<EventKind>(
            r#"{"type":"capability_denied","caller":"x","kind":"bad kind","request":"00"}"#
        )
        .is_err()
    );
}
