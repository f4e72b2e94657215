//! The `/talos/approval/1.0.0` decoders: what parses re-encodes to the same value, every
//! bound is a typed error, and no input panics.

use proptest::prelude::*;
use talos_net::approval::{ApprovalAck, ApprovalMessage, Ask, MAX_APPROVAL_MESSAGE};
use talos_net::invoke::InvokeError;

fn ask() -> Ask {
    Ask {
        id: "ab".repeat(16),
        dig: "cd".repeat(32),
        caller: "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK".into(),
        resource: "talos://booking/flights/LH1".into(),
        action: "book".into(),
        args: "ef".repeat(32),
        exp: 1_796_343_300,
    }
}

#[test]
fn messages_round_trip_and_bounds_are_typed_errors() {
    for m in [
        ApprovalMessage::Ask(ask()),
        ApprovalMessage::Grant("a.b.c".into()),
    ] {
        assert_eq!(ApprovalMessage::parse(&m.encode().unwrap()).unwrap(), m);
    }
    let mut bad = ask();
    bad.id = "AB".repeat(16);
    let enc = serde_json::to_vec(&ApprovalMessage::Ask(bad)).unwrap();
    assert_eq!(ApprovalMessage::parse(&enc), Err(InvokeError::Bounds("id")));
    let mut bad = ask();
    bad.resource = String::new();
    let enc = serde_json::to_vec(&ApprovalMessage::Ask(bad)).unwrap();
    assert_eq!(
        ApprovalMessage::parse(&enc),
        Err(InvokeError::Bounds("resource"))
    );
    let huge = vec![b' '; MAX_APPROVAL_MESSAGE + 1];
    assert!(matches!(
        ApprovalMessage::parse(&huge),
        Err(InvokeError::TooLarge(_))
    ));
    assert!(matches!(
        ApprovalMessage::parse(br#"{"grant":"x","extra":1}"#),
        Err(InvokeError::Malformed(_))
    ));
    let ack = ApprovalAck::refused("busy");
    assert_eq!(ApprovalAck::parse(&ack.encode().unwrap()).unwrap(), ack);
    assert_eq!(
        ApprovalAck::parse(br#"{"ok":false,"kind":"Busy!"}"#),
        Err(InvokeError::Bounds("kind"))
    );
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = ApprovalMessage::parse(&data);
        let _ = ApprovalAck::parse(&data);
    }

    #[test]
    fn whatever_parses_re_encodes_to_itself(exp in any::<u64>(), action in "[a-z_]{1,40}", grant in "[A-Za-z0-9._-]{1,300}") {
        let mut a = ask();
        a.exp = exp;
        a.action = action;
        for m in [ApprovalMessage::Ask(a.clone()), ApprovalMessage::Grant(grant.clone())] {
            let parsed = ApprovalMessage::parse(&m.encode().unwrap()).unwrap();
            prop_assert_eq!(parsed, m);
        }
    }
}
