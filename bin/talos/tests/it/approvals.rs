//! `apv` (FORMAT.md §3.5) between real `talos up` processes: a call under an approval
//! caveat is held (`pending`), the approver's node is asked, the approver approves, and
//! the same call sent again goes through, once per approval; a held call and its approval
//! survive the holder's restart; every step is on both audit logs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use talos_testkit::node::{NodeProc, TCP0, flags, init};

use crate::invoke::{agent, pair};
use crate::trust::{bodies, book, grant, kind, saw};

/// Waits until `approver` lists request `id` (asks travel beside the caller's answer).
async fn asked(approver: &NodeProc, id: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (s, v) = approver.call(Method::GET, "/v1/approvals", None).await;
        assert_eq!(s, 200, "{v}");
        if let Some(a) = v["approvals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == id)
        {
            return a.clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{id} never asked: {v}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Sends the call until it is no longer `pending` (an approval reaches the holder just
/// after the approver's API answered), at most a minute.
async fn until_answered(a: &NodeProc, b: &NodeProc, chain: &[String]) -> (u16, Value) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (s, v) = book(a, b, chain, json!({"amount": 300})).await;
        if s != 202 || tokio::time::Instant::now() > deadline {
            return (s, v);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_call_goes_through_once_per_approval_and_survives_a_restart() {
    let root = tempfile::tempdir().unwrap();
    let (a, mut b) = pair(root.path(), &[]).await;
    let p = NodeProc::up(
        &init(
            root.path(),
            "p",
            &flags(&[("--listen", TCP0), ("--bootstrap", &a.addr())]),
        ),
        &[],
    )
    .await;
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let worker = agent(b.api.clone(), stop.clone(), seen.clone());
    // B grants A booking, each call to be approved by P.
    let cap = json!({"res": "talos://booking/**", "act": ["book"],
                     "cav": {"apv": {"by": [p.did], "k": 1}}});
    let chain = grant(&b, &a.did, cap).await;

    // Held: 202 `pending`, with the request id; sent again, still pending, same id.
    let (s, v) = book(&a, &b, &chain, json!({"amount": 300})).await;
    assert_eq!((s, kind(&v)), (202, "pending"), "{v}");
    let id = v["approval"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 32);
    let (s, v) = book(&a, &b, &chain, json!({"amount": 300})).await;
    assert_eq!((s, v["approval"].as_str()), (202, Some(id.as_str())), "{v}");
    // Another call (other arguments) is another request.
    let (s, v) = book(&a, &b, &chain, json!({"amount": 301})).await;
    assert_eq!(s, 202, "{v}");
    assert_ne!(v["approval"].as_str(), Some(id.as_str()));

    // P was asked: who, what, and the digest it signs; P approves.
    let ask = asked(&p, &id).await;
    assert_eq!(
        (ask["holder"].as_str(), ask["caller"].as_str()),
        (Some(b.did.as_str()), Some(a.did.as_str()))
    );
    assert_eq!(ask["action"], "book");
    let (s, granted) = p
        .call(Method::POST, &format!("/v1/approvals/{id}"), None)
        .await;
    assert_eq!(s, 200, "{granted}");
    let (s, v) = p
        .call(Method::POST, &format!("/v1/approvals/{id}"), None)
        .await;
    assert_eq!((s, kind(&v)), (404, "not_found"), "approved once: {v}");

    // The same call goes through, and the agent saw it once.
    let (s, v) = until_answered(&a, &b, &chain).await;
    assert_eq!(s, 200, "{v}");
    saw(&seen, 1).await;
    // One approval admits one call: the next identical call is held again.
    let (s, v) = book(&a, &b, &chain, json!({"amount": 300})).await;
    assert_eq!((s, v["approval"].as_str()), (202, Some(id.as_str())), "{v}");

    // Approved while held, then B restarts: the request and its approval were durable.
    asked(&p, &id).await;
    let (s, v) = p
        .call(Method::POST, &format!("/v1/approvals/{id}"), None)
        .await;
    assert_eq!(s, 200, "{v}");
    stop.store(true, Ordering::Relaxed);
    worker.await.unwrap();
    b.term().await;
    b.restart().await;
    let stop = Arc::new(AtomicBool::new(false));
    let worker = agent(b.api.clone(), stop.clone(), seen.clone());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let (s, v) = loop {
        // A redials the restarted B (same address); until then the call is a 502.
        let (s, v) = until_answered(&a, &b, &chain).await;
        if s != 502 || tokio::time::Instant::now() > deadline {
            break (s, v);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(s, 200, "{v}");
    saw(&seen, 2).await;

    // Both logs tell it: B asked, received P's approval, admitted by it; P granted the
    // very approval B recorded.
    let requested = bodies(&b, "approval_requested").await;
    assert!(
        requested.iter().all(|e| e["caller"] == a.did.as_str()),
        "{requested:?}"
    );
    assert!(requested.len() >= 2, "{requested:?}");
    let received = bodies(&b, "approval_received").await;
    let approved = bodies(&b, "approved").await;
    assert_eq!(
        (received.len(), approved.len()),
        (2, 2),
        "{received:?} {approved:?}"
    );
    let first = granted["approval"].clone();
    assert!(
        received
            .iter()
            .any(|e| e["approval"] == first && e["approver"] == p.did.as_str())
    );
    assert!(
        approved.iter().any(|e| e["approvals"][0] == first),
        "{approved:?}"
    );
    let on_p = bodies(&p, "approval_granted").await;
    assert_eq!(on_p.len(), 2, "{on_p:?}");
    assert!(on_p.iter().all(|e| e["holder"] == b.did.as_str()));
    stop.store(true, Ordering::Relaxed);
    worker.await.unwrap();
}
