//! Reputation between real `talos up` processes (`crates/reputation/FORMAT.md`): a
//! seed's report crosses the gossip topic, the callee's node refuses the reported
//! caller (`low_reputation`) and keeps refusing it after a restart, a stranger's report
//! moves a score by at most the bound, every node holding the same reports computes
//! the same scores, and a node that joins later gets the reports filed before it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use talos_testkit::node::{NodeProc, PASS, TCP0, flags, free_port, init, set_config, talos_run};

use crate::invoke::{agent, call, issue};
use crate::trust::bodies;

async fn score(node: &NodeProc, did: &str) -> Value {
    let (s, v) = node
        .call(Method::GET, &format!("/v1/reputation/{did}"), None)
        .await;
    assert_eq!(s, 200, "{v}");
    v
}

/// Waits until `node`'s view of `did` is `want` (score and reports counted: they arrive
/// by gossip, so this waits on progress; the deadline only bounds a failure).
async fn until_score(node: &NodeProc, did: &str, points: u64) -> Value {
    until(node, did, |v| v["score"] == points).await
}

async fn until(node: &NodeProc, did: &str, want: impl Fn(&Value) -> bool) -> Value {
    // Long enough for a republication that gossipsub defers (it refuses to send a
    // message again within a minute of the last time, and the node retries every 30 s).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(150);
    loop {
        let v = score(node, did).await;
        if want(&v) {
            return v;
        }
        assert!(tokio::time::Instant::now() < deadline, "{did}: {v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `a` books flight `flight` for 100 at `b` under `chain`: (status, body).
async fn book(a: &NodeProc, b: &NodeProc, chain: &[String], flight: &str) -> (u16, Value) {
    let body = call(&b.did, chain, flight, 100);
    a.call(Method::POST, "/v1/invoke", Some(body)).await
}

async fn report(node: &NodeProc, subject: &str, kind: &str) -> Value {
    let body = json!({"subject": subject, "kind": kind, "evidence": ["ab".repeat(32)]});
    let (s, v) = node.call(Method::POST, "/v1/reports", Some(body)).await;
    assert_eq!(s, 201, "{v}");
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seeds_report_gets_a_caller_refused_everywhere_alike_and_strangers_barely_count() {
    let root = tempfile::tempdir().unwrap();
    // The operator O (the seed), the callee B (refusing below 700) and the caller A, all
    // three weighing reports by O alone, B and A bootstrapping from O.
    let o_home = init(root.path(), "o", &flags(&[("--listen", TCP0)]));
    let out = talos_run(&o_home, PASS, &["id", "show", "--json"], "");
    let o_did = serde_json::from_slice::<Value>(&out.stdout).unwrap()["did"]
        .as_str()
        .unwrap()
        .to_string();
    let seeds = format!("[\"{o_did}\"]");
    set_config(&o_home, &[("reputation_seeds", &seeds)]);
    let o = NodeProc::up(&o_home, &[]).await;
    assert_eq!(o.did, o_did);
    let boot = o.addr();
    let home = |name: &str, listen: &str| {
        init(
            root.path(),
            name,
            &flags(&[("--listen", listen), ("--bootstrap", &boot)]),
        )
    };
    // A fixed port, so a restarted B is where A last saw it.
    let b_home = home("b", &format!("/ip4/127.0.0.1/tcp/{}", free_port()));
    set_config(
        &b_home,
        &[("reputation_seeds", &seeds), ("min_reputation", "700")],
    );
    let mut b = NodeProc::up(&b_home, &[]).await;
    let a_home = home("a", TCP0);
    set_config(&a_home, &[("reputation_seeds", &seeds)]);
    let a = NodeProc::up(&a_home, &[]).await;

    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let worker = agent(b.api.clone(), stop.clone(), seen.clone());
    let (chain, _) = issue(&b, &a.did, "book", 600);
    let (s, v) = book(&a, &b, &chain, "LH1").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(score(&b, &a.did).await["score"], 1000);

    // A report with a bad kind, or about oneself, is a 400.
    let (s, v) = o
        .call(
            Method::POST,
            "/v1/reports",
            Some(json!({"subject": a.did, "kind": "spam"})),
        )
        .await;
    assert_eq!((s, v["kind"].as_str()), (400, Some("bad_request")), "{v}");
    let (s, _) = o
        .call(
            Method::POST,
            "/v1/reports",
            Some(json!({"subject": o.did, "kind": "bad_answer"})),
        )
        .await;
    assert_eq!(s, 400);

    // O files an operator report about A: 400 points. It reaches B by gossip, or, if B
    // has not subscribed yet, when O republishes its reports to the new subscriber.
    // Two of them: O's 400-point cap then holds even if the run crosses an hour (one
    // report an hour old weighs 399), so the score is exactly 600 throughout.
    let filed = report(&o, &a.did, "operator_report").await;
    report(&o, &a.did, "operator_report").await;
    until_score(&b, &a.did, 600).await;
    // Every report O filed reaches B (one, or more if the first found no subscriber).
    let at_o = score(&o, &a.did).await;
    let at_b = until(&b, &a.did, |v| v["reports"] == at_o["reports"]).await;
    assert_eq!(at_b["from_seeds"], at_b["reports"]);
    let (s, v) = book(&a, &b, &chain, "LH2").await;
    assert_eq!(
        (s, v["kind"].as_str()),
        (403, Some("low_reputation")),
        "{v}"
    );
    // Audited at B like any refusal (refusals are written behind the answer, so this
    // waits for it); the report's commitment is in O's log before O's API answered.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let denied = bodies(&b, "capability_denied").await;
        if denied.iter().any(|e| e["kind"] == "low_reputation") {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{denied:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let filed_events = bodies(&o, "report_filed").await;
    assert!(
        filed_events
            .iter()
            .any(|e| e["report"] == filed["commitment"] && e["subject"] == a.did.as_str()),
        "{filed_events:?}"
    );

    // The same reports and seeds: the same score at O, at A and at B.
    let at_a = until(&a, &a.did, |v| v["reports"] == at_o["reports"]).await;
    for v in [&at_o, &at_a] {
        assert_eq!(
            (&v["score"], &v["reports"], &v["from_seeds"]),
            (&at_b["score"], &at_b["reports"], &at_b["from_seeds"])
        );
    }

    // A (a stranger everywhere, standing 600) reports O: 150 × 0.6 = 90, capped at 50.
    report(&a, &o.did, "bad_answer").await;
    let o_at_b = until_score(&b, &o.did, 950).await;
    assert_eq!(o_at_b["from_seeds"], 0);
    until_score(&o, &o.did, 950).await;

    // B restarts: the reports are durable, A is still refused (before its agent could
    // see the call, so the agent stops first).
    stop.store(true, Ordering::Relaxed);
    let _ = worker.await;
    b.term().await;
    b.restart().await;
    assert_eq!(score(&b, &a.did).await["score"], 600);
    // A redials B (same address); until it has, the call is `peer_unreachable`.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let (s, v) = loop {
        let (s, v) = book(&a, &b, &chain, "LH3").await;
        if s != 502 || tokio::time::Instant::now() > deadline {
            break (s, v);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        (s, v["kind"].as_str()),
        (403, Some("low_reputation")),
        "{v}"
    );

    // C joins after every report was filed and nothing is filed again: gossip keeps no
    // history, so C learns them only because O and A republish their own reports when
    // a peer subscribes.
    let c_home = home("c", TCP0);
    set_config(&c_home, &[("reputation_seeds", &seeds)]);
    let c = NodeProc::up(&c_home, &[]).await;
    let at_c = until(&c, &a.did, |v| v["reports"] == at_o["reports"]).await;
    assert_eq!(
        (&at_c["score"], &at_c["from_seeds"]),
        (&at_b["score"], &at_b["from_seeds"])
    );
    until_score(&c, &o.did, 950).await;
}
