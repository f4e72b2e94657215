//! The `/talos/invoke/1.0.0` decoders: what parses re-encodes to the same value, every
//! bound is a typed error, and no input panics.

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use talos_net::invoke::{
    InvokeError, InvokeRequest, InvokeResponse, MAX_CHAIN, MAX_INVOKE_REQUEST, MAX_JWS,
};

fn request(chain: Vec<String>, args: Map<String, Value>) -> InvokeRequest {
    InvokeRequest {
        chain,
        txn: Vec::new(),
        nonce: "00112233445566778899aabbccddeeff".into(),
        at_ms: 1_700_000_000_000,
        invocation: Some("e30.e30.sig".into()),
        resource: "talos://booking/flights/LH1".into(),
        action: "book".into(),
        args,
        traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            .parse()
            .ok(),
        att: Vec::new(),
    }
}

#[test]
fn a_traceparent_is_carried_and_a_malformed_one_is_refused() {
    let req = request(vec!["a.b.c".into()], Map::new());
    let bytes = req.encode().unwrap();
    assert_eq!(InvokeRequest::parse(&bytes).unwrap(), req);
    let mut v: Value = serde_json::from_slice(&bytes).unwrap();
    v["traceparent"] = json!("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01");
    let bad = serde_json::to_vec(&v).unwrap();
    assert!(matches!(
        InvokeRequest::parse(&bad),
        Err(InvokeError::Malformed(_))
    ));
}

fn arb_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[a-z0-9 ]{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn requests_and_responses_round_trip(
        chain in prop::collection::vec("[A-Za-z0-9_.-]{1,64}", 1..=MAX_CHAIN),
        args in prop::collection::btree_map("[a-z]{1,8}", arb_value(), 0..5),
        result in arb_value(),
        kind in "[a-z_]{1,32}",
    ) {
        let req = request(chain, args.into_iter().collect());
        prop_assert_eq!(InvokeRequest::parse(&req.encode().unwrap()).unwrap(), req);
        for resp in [
            InvokeResponse::Ok { result },
            InvokeResponse::refused(&kind),
            InvokeResponse::Failed { kind: kind.clone(), detail: Some("x".into()) },
        ] {
            prop_assert_eq!(InvokeResponse::parse(&resp.encode().unwrap()).unwrap(), resp);
        }
    }

    #[test]
    fn any_bytes_give_a_value_or_a_typed_error(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = InvokeRequest::parse(&bytes);
        let _ = InvokeResponse::parse(&bytes);
    }

    #[test]
    fn truncations_of_a_valid_request_are_errors(cut in 0usize..200) {
        let bytes = request(vec!["t".into()], Map::new()).encode().unwrap();
        let cut = cut.min(bytes.len() - 1);
        prop_assert!(InvokeRequest::parse(&bytes[..cut]).is_err());
    }
}

#[test]
fn bounds_are_typed() {
    let too_long = request(vec!["t".into(); MAX_CHAIN + 1], Map::new());
    let bytes = serde_json::to_vec(&too_long).unwrap();
    assert_eq!(
        InvokeRequest::parse(&bytes),
        Err(InvokeError::Bounds("chain"))
    );
    let empty = request(Vec::new(), Map::new());
    let bytes = serde_json::to_vec(&empty).unwrap();
    assert_eq!(
        InvokeRequest::parse(&bytes),
        Err(InvokeError::Bounds("chain"))
    );
    let big_token = request(vec!["t".repeat(MAX_JWS + 1)], Map::new());
    let bytes = serde_json::to_vec(&big_token).unwrap();
    assert_eq!(
        InvokeRequest::parse(&bytes),
        Err(InvokeError::Bounds("chain"))
    );
    let mut no_inv = request(vec!["t".into()], Map::new());
    no_inv.invocation = Some(String::new());
    let bytes = serde_json::to_vec(&no_inv).unwrap();
    assert_eq!(
        InvokeRequest::parse(&bytes),
        Err(InvokeError::Bounds("invocation"))
    );
    // Without one it is fine (the connection proves possession).
    no_inv.invocation = None;
    let bytes = serde_json::to_vec(&no_inv).unwrap();
    assert_eq!(InvokeRequest::parse(&bytes).unwrap(), no_inv);
    for nonce in ["", "0011", "zz112233445566778899aabbccddeeff"] {
        let mut bad = request(vec!["t".into()], Map::new());
        bad.nonce = nonce.into();
        let bytes = serde_json::to_vec(&bad).unwrap();
        assert_eq!(
            InvokeRequest::parse(&bytes),
            Err(InvokeError::Bounds("nonce"))
        );
    }
    // Oversize is refused before any parsing.
    let huge = vec![b' '; MAX_INVOKE_REQUEST + 1];
    assert_eq!(
        InvokeRequest::parse(&huge),
        Err(InvokeError::TooLarge(MAX_INVOKE_REQUEST + 1))
    );
    // Unknown fields and bad kinds.
    let mut v = serde_json::to_value(request(vec!["t".into()], Map::new())).unwrap();
    v["extra"] = json!(1);
    assert!(matches!(
        InvokeRequest::parse(v.to_string().as_bytes()),
        Err(InvokeError::Malformed(_))
    ));
    for kind in ["", "Expired", "a-b", &"x".repeat(33)] {
        let bytes = json!({ "status": "refused", "kind": kind }).to_string();
        assert_eq!(
            InvokeResponse::parse(bytes.as_bytes()),
            Err(InvokeError::Bounds("kind")),
            "{kind:?}"
        );
    }
    let bytes = json!({ "status": "maybe" }).to_string();
    assert!(matches!(
        InvokeResponse::parse(bytes.as_bytes()),
        Err(InvokeError::Malformed(_))
    ));
    // Deep nesting is an error, not a stack overflow.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(InvokeResponse::parse(deep.as_bytes()).is_err());
}

#[test]
fn a_call_carries_a_chain_or_a_transaction_token_never_both() {
    let mut both = request(vec!["t".into()], Map::new());
    both.txn = vec!["x".into()];
    let bytes = serde_json::to_vec(&both).unwrap();
    assert_eq!(
        InvokeRequest::parse(&bytes),
        Err(InvokeError::Bounds("chain"))
    );
    both.chain.clear();
    let bytes = serde_json::to_vec(&both).unwrap();
    assert_eq!(InvokeRequest::parse(&bytes).unwrap(), both);
    both.txn = vec!["x".into(); MAX_CHAIN + 1];
    let bytes = serde_json::to_vec(&both).unwrap();
    assert_eq!(
        InvokeRequest::parse(&bytes),
        Err(InvokeError::Bounds("chain"))
    );
}
