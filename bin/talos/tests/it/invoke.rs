//! Calls between agents under capabilities, through the HTTP API of real `talos up`
//! processes: the callee's node decides every call before its agent sees it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use talos_testkit::node::{Api, NodeProc, PASS, TCP0, flags, free_port, init};

/// A (the caller) and B (the callee, bootstrapped from A), with B's extra init flags.
pub(crate) async fn pair(root: &std::path::Path, b_flags: &[(&str, &str)]) -> (NodeProc, NodeProc) {
    let a = NodeProc::up(&init(root, "a", &flags(&[("--listen", TCP0)])), &[]).await;
    let boot = a.addr();
    // A fixed port, so a restarted B is where A last saw it.
    let b_listen = format!("/ip4/127.0.0.1/tcp/{}", free_port());
    let mut fb = vec![
        ("--listen", b_listen.as_str()),
        ("--bootstrap", boot.as_str()),
    ];
    fb.extend_from_slice(b_flags);
    let b = NodeProc::up(&init(root, "b", &flags(&fb)), &[]).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    (a, b)
}

/// `talos cap issue` with `issuer`'s identity: (chain, jti).
pub(crate) fn issue(issuer: &NodeProc, to: &str, act: &str, ttl: u64) -> (Vec<String>, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_talos"))
        .arg("--home")
        .arg(&issuer.home)
        .args([
            "cap",
            "issue",
            "--to",
            to,
            "--res",
            "talos://booking/flights/*",
        ])
        .args([
            "--act",
            act,
            "--max",
            "amount=500",
            "--ttl",
            &ttl.to_string(),
        ])
        .arg("--json")
        .env("TALOS_PASSPHRASE", PASS)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let chain = v["chain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    (chain, v["jti"].as_str().unwrap().to_string())
}

pub(crate) fn call(to: &str, chain: &[String], flight: &str, amount: u64) -> Value {
    json!({
        "to": to,
        "chain": chain,
        "resource": format!("talos://booking/flights/{flight}"),
        "action": "book",
        "args": { "amount": amount },
    })
}

/// B's agent: answers every call it is shown (an error for flight SOLDOUT) and keeps
/// what it saw.
pub(crate) fn agent(
    api: Api,
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<Value>>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut after = 0u64;
        while !stop.load(Ordering::Relaxed) {
            let path = format!("/v1/calls?after={after}&waitMs=300");
            let (status, v) = api.call(Method::GET, &path, None).await;
            if status != 200 {
                continue;
            }
            for c in v["calls"].as_array().cloned().unwrap_or_default() {
                after = c["id"].as_u64().unwrap();
                let answer = if c["resource"].as_str().unwrap().ends_with("SOLDOUT") {
                    json!({ "error": "no seats left" })
                } else {
                    json!({ "result": { "booked": c["resource"], "amount": c["args"]["amount"] } })
                };
                let (s, _) = api
                    .call(Method::POST, &format!("/v1/calls/{after}"), Some(answer))
                    .await;
                assert_eq!(s, 204);
                seen.lock().await.push(c);
            }
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_callee_node_decides_every_call_before_its_agent_sees_it() {
    let root = tempfile::tempdir().unwrap();
    let (a, mut b) = pair(root.path(), &[]).await;
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut worker = agent(b.api.clone(), stop.clone(), seen.clone());
    let (chain, jti) = issue(&b, &a.did, "book", 600);

    // Allowed: within scope and caveats; B's agent answers.
    let (s, ok) = a
        .call(
            Method::POST,
            "/v1/invoke",
            Some(call(&b.did, &chain, "LH123", 300)),
        )
        .await;
    assert_eq!(s, 200, "{ok}");
    assert_eq!(ok["result"]["booked"], "talos://booking/flights/LH123");
    assert_eq!(ok["result"]["amount"], 300);

    // Over the caveat, wrong action, wrong resource: refused by B's node.
    let (s, v) = a
        .call(
            Method::POST,
            "/v1/invoke",
            Some(call(&b.did, &chain, "LH123", 900)),
        )
        .await;
    assert_eq!(
        (s, v["kind"].as_str()),
        (403, Some("not_authorized")),
        "{v}"
    );
    let mut cancel = call(&b.did, &chain, "LH123", 100);
    cancel["action"] = "cancel".into();
    let (s, v) = a.call(Method::POST, "/v1/invoke", Some(cancel)).await;
    assert_eq!(
        (s, v["kind"].as_str()),
        (403, Some("not_authorized")),
        "{v}"
    );
    let mut hotel = call(&b.did, &chain, "LH123", 100);
    hotel["resource"] = "talos://booking/hotels/1".into();
    let (s, v) = a.call(Method::POST, "/v1/invoke", Some(hotel)).await;
    assert_eq!(
        (s, v["kind"].as_str()),
        (403, Some("not_authorized")),
        "{v}"
    );

    // Replayed: the allowed call sent again with its id and time.
    let mut replay = call(&b.did, &chain, "LH123", 300);
    replay["nonce"] = ok["nonce"].clone();
    replay["atMs"] = ok["atMs"].clone();
    let (s, v) = a
        .call(Method::POST, "/v1/invoke", Some(replay.clone()))
        .await;
    assert_eq!((s, v["kind"].as_str()), (403, Some("replay")), "{v}");
    // A call carried with a detached invocation signed by the holder: allowed, once.
    let mut detached = call(&b.did, &chain, "LH126", 200);
    detached["detached"] = true.into();
    let (s, v) = a
        .call(Method::POST, "/v1/invoke", Some(detached.clone()))
        .await;
    assert_eq!(s, 200, "{v}");
    detached["nonce"] = v["nonce"].clone();
    detached["atMs"] = v["atMs"].clone();
    let (s, v) = a.call(Method::POST, "/v1/invoke", Some(detached)).await;
    assert_eq!((s, v["kind"].as_str()), (403, Some("replay")), "{v}");
    // A stale call (its time far from the callee's clock).
    replay["nonce"] = "00112233445566778899aabbccddeeff".into();
    replay["atMs"] = 1_000.into();
    let (s, v) = a.call(Method::POST, "/v1/invoke", Some(replay)).await;
    assert_eq!((s, v["kind"].as_str()), (403, Some("replay")), "{v}");

    // A chain whose root B never issued (A issued it to itself).
    let (own, _) = issue(&a, &a.did, "book", 600);
    let (s, v) = a
        .call(
            Method::POST,
            "/v1/invoke",
            Some(call(&b.did, &own, "LH123", 1)),
        )
        .await;
    assert_eq!(
        (s, v["kind"].as_str()),
        (403, Some("untrusted_root")),
        "{v}"
    );

    // Expired.
    let (short, _) = issue(&b, &a.did, "book", 1);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (s, v) = a
        .call(
            Method::POST,
            "/v1/invoke",
            Some(call(&b.did, &short, "LH1", 1)),
        )
        .await;
    assert_eq!((s, v["kind"].as_str()), (403, Some("expired")), "{v}");

    // The agent's own failure reaches the caller as such.
    let (s, v) = a
        .call(
            Method::POST,
            "/v1/invoke",
            Some(call(&b.did, &chain, "SOLDOUT", 1)),
        )
        .await;
    assert_eq!((s, v["kind"].as_str()), (502, Some("agent_error")), "{v}");
    assert!(v["detail"].as_str().unwrap().contains("no seats left"));

    // Revoked by B: refused from the next call on, and still after B restarts.
    let (s, v) = b
        .call(
            Method::POST,
            "/v1/capabilities/revoke",
            Some(json!({ "id": jti })),
        )
        .await;
    assert_eq!((s, v["fresh"].as_bool()), (200, Some(true)), "{v}");
    let (s, v) = a
        .call(
            Method::POST,
            "/v1/invoke",
            Some(call(&b.did, &chain, "LH124", 10)),
        )
        .await;
    assert_eq!((s, v["kind"].as_str()), (403, Some("revoked")), "{v}");
    // B's metrics count the decisions (fixed labels only) and need the token.
    let text = b.metrics_text().await;
    assert!(
        text.contains(r#"talos_calls_total{outcome="allowed",kind="none"} 3"#),
        "{text}"
    );
    assert!(
        text.contains(r#"talos_calls_total{outcome="refused",kind="not_authorized"} 3"#),
        "{text}"
    );
    assert!(
        text.contains(r#"talos_calls_total{outcome="refused",kind="replay"} 3"#),
        "{text}"
    );
    assert!(text.contains("talos_revocations_total 1"), "{text}");
    assert!(!text.contains(&a.did), "a DID in the metrics");
    let (http, url, _) = b.http();
    let anon = http.get(format!("{url}/metrics")).send().await.unwrap();
    assert_eq!(anon.status(), 401);
    stop.store(true, Ordering::Relaxed);
    worker.await.unwrap();
    b.kill9().await;
    b.restart().await;
    stop.store(false, Ordering::Relaxed);
    worker = agent(b.api.clone(), stop.clone(), seen.clone());
    let (s, v) = a
        .call(
            Method::POST,
            "/v1/invoke",
            Some(call(&b.did, &chain, "LH125", 10)),
        )
        .await;
    assert_eq!((s, v["kind"].as_str()), (403, Some("revoked")), "{v}");

    // B's agent saw exactly the three calls its node let through.
    stop.store(true, Ordering::Relaxed);
    worker.await.unwrap();
    let seen = seen.lock().await;
    let flights: Vec<&str> = seen
        .iter()
        .map(|c| c["resource"].as_str().unwrap())
        .collect();
    assert_eq!(
        flights,
        [
            "talos://booking/flights/LH123",
            "talos://booking/flights/LH126",
            "talos://booking/flights/SOLDOUT"
        ]
    );
    assert_eq!(seen[0]["from"], a.did.as_str());

    // Malformed calls are the caller's node's 400s, and nothing leaves.
    let (s, v) = a
        .call(
            Method::POST,
            "/v1/invoke",
            Some(call(&b.did, &[], "LH1", 1)),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = a
        .call(
            Method::POST,
            "/v1/invoke",
            Some(call("did:web:x", &chain, "LH1", 1)),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = b
        .call(Method::POST, "/v1/calls/999", Some(json!({ "result": 1 })))
        .await;
    assert_eq!(s, 404, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_over_the_rate_get_429() {
    let root = tempfile::tempdir().unwrap();
    let (a, b) = pair(
        root.path(),
        &[("--invoke-rate", "1"), ("--invoke-burst", "3")],
    )
    .await;
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let worker = agent(b.api.clone(), stop.clone(), seen.clone());
    let (chain, _) = issue(&b, &a.did, "book", 600);
    let mut statuses = Vec::new();
    for i in 0..10u64 {
        let (s, v) = a
            .call(
                Method::POST,
                "/v1/invoke",
                Some(call(&b.did, &chain, "LH1", i)),
            )
            .await;
        if s == 429 {
            assert_eq!(v["kind"], "rate_limited");
        }
        statuses.push(s);
    }
    stop.store(true, Ordering::Relaxed);
    worker.await.unwrap();
    let ok = statuses.iter().filter(|s| **s == 200).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(ok + limited, 10, "{statuses:?}");
    // A burst of 3 plus at most a couple refilled while the calls ran.
    assert!((3..=6).contains(&ok), "{statuses:?}");
    assert_eq!(seen.lock().await.len(), ok);
}

/// `talos cap delegate` by `holder` of `parent` to `to`: (chain, leaf jti).
pub(crate) fn delegate(holder: &NodeProc, parent: &[String], to: &str) -> (Vec<String>, String) {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_talos"))
        .arg("--home")
        .arg(&holder.home)
        .args(["cap", "delegate", "--parent", "-", "--to", to])
        .args([
            "--res",
            "talos://booking/flights/*",
            "--act",
            "book",
            "--ttl",
            "300",
            "--max",
            "amount=500",
        ])
        .arg("--json")
        .env("TALOS_PASSPHRASE", PASS)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(parent.join("\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let chain = v["chain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    (chain, v["jti"].as_str().unwrap().to_string())
}

/// B issues to the planner P, P delegates to A, A calls B. P revokes what it delegated:
/// its notice crosses the gossip topic and B refuses A's next call within seconds, with
/// no chain involved. A revoking the root it does not own changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_gossiped_by_the_delegator_reaches_the_verifier_in_seconds() {
    let root = tempfile::tempdir().unwrap();
    let b = NodeProc::up(&init(root.path(), "b", &flags(&[("--listen", TCP0)])), &[]).await;
    let boot = b.addr();
    let p = NodeProc::up(
        &init(
            root.path(),
            "p",
            &flags(&[("--listen", TCP0), ("--bootstrap", &boot)]),
        ),
        &[],
    )
    .await;
    let a = NodeProc::up(
        &init(
            root.path(),
            "a",
            &flags(&[("--listen", TCP0), ("--bootstrap", &boot)]),
        ),
        &[],
    )
    .await;
    // Connections, subscriptions and one gossip heartbeat.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let worker = agent(b.api.clone(), stop.clone(), seen.clone());
    let (root_chain, root_jti) = issue(&b, &p.did, "book", 600);
    let (chain, leaf_jti) = delegate(&p, &root_chain, &a.did);
    assert_eq!(chain.len(), 2);
    let (s, v) = a
        .call(
            Method::POST,
            "/v1/invoke",
            Some(call(&b.did, &chain, "LH1", 100)),
        )
        .await;
    assert_eq!(s, 200, "{v}");

    // A publishes a revocation of the root: B applies it to nothing (A issued no link).
    let (s, _) = a
        .call(
            Method::POST,
            "/v1/capabilities/revoke",
            Some(json!({ "id": root_jti })),
        )
        .await;
    assert_eq!(s, 200);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let (s, v) = a
        .call(
            Method::POST,
            "/v1/invoke",
            Some(call(&b.did, &chain, "LH2", 100)),
        )
        .await;
    assert_eq!(s, 200, "{v}");

    // P revokes its delegation on its own node; B learns it by gossip.
    let (s, v) = p
        .call(
            Method::POST,
            "/v1/capabilities/revoke",
            Some(json!({ "id": leaf_jti })),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let t = std::time::Instant::now();
    let mut refused = None;
    while t.elapsed() < Duration::from_secs(10) {
        let (s, v) = a
            .call(
                Method::POST,
                "/v1/invoke",
                Some(call(&b.did, &chain, "LH3", 100)),
            )
            .await;
        if s == 403 {
            refused = Some((v["kind"].as_str().unwrap().to_string(), t.elapsed()));
            break;
        }
        assert_eq!(s, 200, "{v}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (kind, after) = refused.expect("the revocation never reached B");
    assert_eq!(kind, "revoked");
    assert!(after < Duration::from_secs(5), "took {after:?}");
    eprintln!("revocation gossip reached the verifier in {after:?}");
    stop.store(true, Ordering::Relaxed);
    worker.await.unwrap();
}

/// An agent answers a batch of calls with one request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_calls_answered_with_one_request() {
    let root = tempfile::tempdir().unwrap();
    let (a, b) = pair(root.path(), &[]).await;
    let (chain, _) = issue(&b, &a.did, "book", 600);
    let calls: Vec<_> = (1..=3u64)
        .map(|i| {
            let (api, body) = (a.api.clone(), call(&b.did, &chain, "LH1", i));
            tokio::spawn(async move { api.call(Method::POST, "/v1/invoke", Some(body)).await })
        })
        .collect();
    let mut got = Vec::new();
    while got.len() < 3 {
        let (_, v) = b
            .call(Method::GET, "/v1/calls?after=0&waitMs=2000", None)
            .await;
        got = v["calls"].as_array().unwrap().clone();
    }
    let mut answers: Vec<Value> = got
        .iter()
        .map(|c| json!({ "id": c["id"], "result": { "amount": c["args"]["amount"] } }))
        .collect();
    // A malformed batch answers nothing.
    let bad = json!({ "answers": [{ "id": 1 }] });
    let (s, _) = b.call(Method::POST, "/v1/calls/answers", Some(bad)).await;
    assert_eq!(s, 400);
    answers.push(json!({ "id": 999, "error": "no such call" }));
    let (s, v) = b
        .call(
            Method::POST,
            "/v1/calls/answers",
            Some(json!({ "answers": answers })),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["results"][0], true);
    assert!(v["results"][3]["error"].as_str().unwrap().contains("999"));
    let mut amounts = Vec::new();
    for c in calls {
        let (s, v) = c.await.unwrap();
        assert_eq!(s, 200, "{v}");
        amounts.push(v["result"]["amount"].as_u64().unwrap());
    }
    amounts.sort_unstable();
    assert_eq!(amounts, [1, 2, 3]);
}
