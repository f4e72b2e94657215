//! Calls under a transaction token across three real nodes: planner → booking → payment.
//! The planner starts the transaction; booking, handling that call, calls payment within
//! it, and its node replaces the token for the next hop (never wider); payment's node
//! verifies every hop before its agent sees the call.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use talos_testkit::node::{Api, NodeProc, TCP0, flags, init};

/// One call from `api`'s long-poll (waits up to 10 s).
async fn next_call(api: &Api, after: u64) -> Value {
    for _ in 0..20 {
        let (s, v) = api
            .call(
                Method::GET,
                &format!("/v1/calls?after={after}&waitMs=500"),
                None,
            )
            .await;
        assert_eq!(s, 200);
        if let Some(c) = v["calls"].as_array().and_then(|c| c.first()) {
            return c.clone();
        }
    }
    panic!("no call arrived");
}

async fn answer(api: &Api, id: u64, body: Value) {
    let (s, v) = api
        .call(Method::POST, &format!("/v1/calls/{id}"), Some(body))
        .await;
    assert_eq!(s, 204, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_token_is_replaced_hop_by_hop() {
    let root = tempfile::tempdir().unwrap();
    let p = NodeProc::up(
        &init(root.path(), "planner", &flags(&[("--listen", TCP0)])),
        &[],
    )
    .await;
    let boot = p.addr();
    let trusted = p.did.clone();
    let with_trust = flags(&[
        ("--listen", TCP0),
        ("--bootstrap", &boot),
        ("--trust-txn", &trusted),
    ]);
    let b = NodeProc::up(&init(root.path(), "booking", &with_trust), &[]).await;
    let y = NodeProc::up(&init(root.path(), "payment", &with_trust), &[]).await;
    // An agent nobody trusts for transactions.
    let m = NodeProc::up(
        &init(
            root.path(),
            "mallory",
            &flags(&[("--listen", TCP0), ("--bootstrap", &boot)]),
        ),
        &[],
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let azd = json!([
        { "res": "talos://booking/flights/*", "act": ["book"], "cav": { "max": { "amount": 1000 } } },
        { "res": "talos://payment/card", "act": ["charge"], "cav": { "max": { "amount": 1000 } } },
    ]);
    let trip = json!({
        "to": b.did,
        "txn": { "purp": "trip to JFK", "azd": azd },
        "resource": "talos://booking/flights/LHR-JFK",
        "action": "book",
        "args": { "amount": 450 },
    });
    let planner = {
        let api = p.api.clone();
        tokio::spawn(async move { api.call(Method::POST, "/v1/invoke", Some(trip)).await })
    };

    // Booking's agent handles the call; within it, it calls payment, narrowing the
    // authorization to the charge it needs.
    let call = next_call(&b.api, 0).await;
    let id = call["id"].as_u64().unwrap();
    assert_eq!(call["txn"]["purp"], "trip to JFK");
    assert_eq!(call["txn"]["sub"], p.did.as_str());
    assert_eq!(call["txn"]["hops"], 1);
    let charge = |amount: u64, azd: Value| {
        json!({
            "to": y.did,
            "within": id,
            "azd": azd,
            "resource": "talos://payment/card",
            "action": "charge",
            "args": { "amount": amount },
        })
    };
    let narrow = json!([{ "res": "talos://payment/card", "act": ["charge"], "cav": { "max": { "amount": 450 } } }]);
    let paying = {
        let (api, body) = (b.api.clone(), charge(450, narrow.clone()));
        tokio::spawn(async move { api.call(Method::POST, "/v1/invoke", Some(body)).await })
    };
    let pay_call = next_call(&y.api, 0).await;
    assert_eq!(pay_call["txn"]["hops"], 2);
    assert_eq!(pay_call["txn"]["id"], call["txn"]["id"]);
    assert_eq!(pay_call["from"], b.did.as_str());
    // The payment node lists the transaction with both hops' claims (what the dashboard
    // shows): the planner minted the first for booking, booking the second for payment.
    let (s, recent) = y.call(Method::GET, "/v1/transactions", None).await;
    assert_eq!(s, 200, "{recent}");
    let t = &recent["transactions"][0];
    assert_eq!(t["txn"]["id"], call["txn"]["id"], "{recent}");
    let hops = t["txn"]["chain"].as_array().unwrap();
    assert_eq!(hops.len(), 2, "{recent}");
    assert_eq!(
        (hops[0]["iss"].as_str(), hops[0]["aud"].as_str()),
        (Some(p.did.as_str()), Some(b.did.as_str()))
    );
    assert_eq!(
        (hops[1]["iss"].as_str(), hops[1]["aud"].as_str()),
        (Some(b.did.as_str()), Some(y.did.as_str()))
    );
    assert_eq!(hops[1]["azd"], narrow, "{recent}");
    answer(
        &y.api,
        pay_call["id"].as_u64().unwrap(),
        json!({ "result": { "charged": 450 } }),
    )
    .await;
    let (s, paid) = paying.await.unwrap();
    assert_eq!(
        (s, &paid["result"]["charged"]),
        (200, &json!(450)),
        "{paid}"
    );
    assert_eq!(paid["txn"], call["txn"]["id"]);

    // Over the narrowed caveat: payment's node refuses, payment's agent never sees it.
    let (s, v) = b
        .call(
            Method::POST,
            "/v1/invoke",
            Some(charge(900, narrow.clone())),
        )
        .await;
    assert_eq!(
        (s, v["kind"].as_str()),
        (403, Some("not_authorized")),
        "{v}"
    );
    // Wider than what booking was given: booking's own node will not mint it.
    let wider = json!([{ "res": "talos://payment/**", "act": ["charge", "refund"] }]);
    let (s, v) = b
        .call(Method::POST, "/v1/invoke", Some(charge(10, wider)))
        .await;
    assert_eq!(s, 400, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("widen"), "{v}");

    // Booking answers the planner.
    answer(
        &b.api,
        id,
        json!({ "result": { "booked": "LHR-JFK", "paid": 450 } }),
    )
    .await;
    let (s, done) = planner.await.unwrap();
    assert_eq!((s, &done["result"]["paid"]), (200, &json!(450)), "{done}");

    // Once answered, the call is no transaction to call within.
    let (s, v) = b
        .call(Method::POST, "/v1/invoke", Some(charge(10, narrow)))
        .await;
    assert_eq!(s, 400, "{v}");
    // A transaction started by an agent payment does not trust.
    let (s, v) = m
        .call(
            Method::POST,
            "/v1/invoke",
            Some(json!({
                "to": y.did,
                "txn": { "purp": "x", "azd": azd },
                "resource": "talos://payment/card",
                "action": "charge",
                "args": { "amount": 1 },
            })),
        )
        .await;
    assert_eq!(
        (s, v["kind"].as_str()),
        (403, Some("untrusted_root")),
        "{v}"
    );
    // Payment's agent saw exactly the one charge.
    let (_, v) = y
        .call(Method::GET, "/v1/calls?after=1&waitMs=200", None)
        .await;
    assert!(v["calls"].as_array().unwrap().is_empty(), "{v}");
}
