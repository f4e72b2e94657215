//! The stateful caveats (FORMAT.md §3.5) between real `talos up` processes: `att` (the
//! caller must be attested) and `bud` (budgets the callee's node counts durably).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use talos_testkit::node::{NodeProc, PASS, TCP0, flags, init, talos_run};

use crate::invoke::{agent, pair};
use crate::mcp_proxy::event_where;

/// `cap` issued by `callee` to `to` over the API: the chain.
pub(crate) async fn grant(callee: &NodeProc, to: &str, cap: Value) -> Vec<String> {
    let (s, v) = callee
        .call(
            Method::POST,
            "/v1/capabilities",
            Some(json!({"to": to, "cap": [cap]})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    serde_json::from_value(v["chain"].clone()).unwrap()
}

/// `caller` calls `callee`'s booking under `chain`: (status, body).
pub(crate) async fn book(
    caller: &NodeProc,
    callee: &NodeProc,
    chain: &[String],
    args: Value,
) -> (u16, Value) {
    let body = json!({
        "to": callee.did, "chain": chain, "resource": "talos://booking/flights/LH1",
        "action": "book", "args": args,
    });
    caller.call(Method::POST, "/v1/invoke", Some(body)).await
}

/// Waits until the agent has recorded `n` calls: it records a call after answering it,
/// so the caller may hold the answer first (progress, not time).
pub(crate) async fn saw(seen: &Mutex<Vec<Value>>, n: usize) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let got = seen.lock().await.len();
        if got == n {
            return;
        }
        assert!(
            got < n && tokio::time::Instant::now() < deadline,
            "{got} calls, want {n}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

pub(crate) fn kind(v: &Value) -> &str {
    v["kind"].as_str().unwrap_or("")
}

/// The bodies of `node`'s audit events of type `ty` (every page).
pub(crate) async fn bodies(node: &NodeProc, ty: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut from = 0;
    loop {
        let path = format!("/v1/audit/events?from={from}&max=256");
        let (s, v) = node.call(Method::GET, &path, None).await;
        assert_eq!(s, 200, "{v}");
        let page = v["events"].as_array().unwrap().clone();
        from += page.len();
        out.extend(
            page.iter()
                .map(|e| e["event"]["body"]["event"].clone())
                .filter(|e| e["type"] == ty),
        );
        if page.len() < 256 {
            return out;
        }
    }
}

/// `talos attest issue` from `attester`'s home about `subject`: the credential's text.
fn attest(attester: &std::path::Path, subject: &str, model: &str) -> String {
    let h = "11".repeat(32);
    let out = talos_run(
        attester,
        PASS,
        &[
            "attest",
            "issue",
            "--subject",
            subject,
            "--binary-sha256",
            &h,
            "--config-sha256",
            &h,
            "--model",
            model,
            "--policy-sha256",
            &h,
            "--days",
            "1",
        ],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unattested_caller_is_refused_then_admitted_until_its_credential_is_revoked() {
    let root = tempfile::tempdir().unwrap();
    let (a, b) = pair(root.path(), &[]).await;
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let answering = agent(b.api.clone(), stop.clone(), seen.clone());
    // The attester: a home of its own (a consortium operator), never running a node.
    let attester = init(root.path(), "attester", &flags(&[("--listen", TCP0)]));
    let credential = attest(&attester, &a.did, "gpt-x");
    let cred: Value = serde_json::from_str(&credential).unwrap();
    let issuer = cred["issuer"].as_str().unwrap().to_string();

    let att = |clm: Value| {
        json!({"res": "talos://booking/**", "act": ["book"],
               "cav": {"att": {"iss": [issuer.clone()], "clm": clm}}})
    };
    let chain = grant(&b, &a.did, att(json!({"model": "gpt-x"}))).await;
    let other_model = grant(&b, &a.did, att(json!({"model": "other"}))).await;
    let (s, v) = book(&a, &b, &chain, json!({})).await;
    assert_eq!((s, kind(&v)), (403, "not_attested"), "{v}");

    // A holds the credential: presented with the call, it is admitted.
    let path = root.path().join("cred.json");
    std::fs::write(&path, &credential).unwrap();
    let out = talos_run(
        &a.home,
        PASS,
        &["attest", "install", path.to_str().unwrap()],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (s, v) = a.call(Method::GET, "/v1/attestations", None).await;
    assert_eq!(
        (s, v["attestations"][0]["issuer"].as_str()),
        (200, Some(issuer.as_str())),
        "{v}"
    );
    // A republished its directory record with the credential: B sees it there, verified
    // (the DHT answers once A's put reached B; progress, not time).
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let (s, v) = b
            .call(
                Method::GET,
                &format!("/v1/peers/{}/attestations", a.did),
                None,
            )
            .await;
        if s == 200 && v["attestations"][0]["issuer"] == issuer.as_str() {
            assert_eq!(v["attestations"][0]["subject"], a.did.as_str(), "{v}");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{s} {v}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (s, v) = book(&a, &b, &chain, json!({})).await;
    assert_eq!(s, 200, "{v}");
    saw(&seen, 1).await;
    // The same credential does not satisfy a capability asking for another model.
    let (s, v) = book(&a, &b, &other_model, json!({})).await;
    assert_eq!((s, kind(&v)), (403, "not_attested"), "{v}");

    // A credential about someone else is not taken; nor by the node that would hold it.
    let about_b = attest(&attester, &b.did, "gpt-x");
    let body: Value = serde_json::from_str(&about_b).unwrap();
    let (s, v) = a.call(Method::POST, "/v1/attestations", Some(body)).await;
    assert_eq!((s, kind(&v)), (400, "bad_request"), "{v}");

    // B revokes the credential by its id: refused again.
    let id = {
        let (_, v) = a.call(Method::GET, "/v1/attestations", None).await;
        v["attestations"][0]["revocationId"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (s, v) = b
        .call(
            Method::POST,
            "/v1/capabilities/revoke",
            Some(json!({"id": id})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = book(&a, &b, &chain, json!({})).await;
    assert_eq!((s, kind(&v)), (403, "not_attested"), "{v}");
    // Refusals are audited without the answer waiting for them: wait for progress.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let denied = bodies(&b, "capability_denied").await;
        let n = denied
            .iter()
            .filter(|e| e["kind"] == "not_attested")
            .count();
        if n == 3 {
            break;
        }
        assert!(
            n < 3 && tokio::time::Instant::now() < deadline,
            "{denied:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        seen.lock().await.len(),
        1,
        "the agent saw only the admitted call"
    );
    stop.store(true, Ordering::Relaxed);
    answering.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn budgets_refuse_in_hard_mode_warn_in_warn_mode_and_are_visible() {
    let root = tempfile::tempdir().unwrap();
    let (a, b) = pair(root.path(), &[]).await;
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let answering = agent(b.api.clone(), stop.clone(), seen.clone());
    let bud = |limit: u64, mode: &str, arg: Option<&str>| {
        let mut bud = json!({"limit": limit, "window": "24h", "mode": mode});
        if let Some(arg) = arg {
            bud["arg"] = json!(arg);
        }
        json!({"res": "talos://booking/**", "act": ["book"], "cav": {"bud": bud}})
    };
    let hard = grant(&b, &a.did, bud(1000, "hard", Some("amount"))).await;
    for (amount, want) in [(400, 200), (400, 200), (400, 403), (200, 200), (1, 403)] {
        let (s, v) = book(&a, &b, &hard, json!({"amount": amount})).await;
        assert_eq!(s, want, "{amount}: {v}");
        if s == 403 {
            assert_eq!(kind(&v), "over_budget", "{v}");
        }
    }
    // A call without the argument the budget counts is outside the grant.
    let (s, v) = book(&a, &b, &hard, json!({})).await;
    assert_eq!((s, kind(&v)), (403, "not_authorized"), "{v}");

    let warn = grant(&b, &a.did, bud(2, "warn", None)).await;
    for _ in 0..3 {
        let (s, v) = book(&a, &b, &warn, json!({})).await;
        assert_eq!(s, 200, "{v}");
    }
    let (s, v) = b.call(Method::GET, "/v1/budgets", None).await;
    assert_eq!(s, 200, "{v}");
    let list = v["budgets"].as_array().unwrap();
    let by_limit = |l: u64| list.iter().find(|c| c["budget"]["limit"] == l).unwrap();
    assert_eq!(
        (
            by_limit(1000)["spent"].as_u64(),
            by_limit(1000)["left"].as_u64()
        ),
        (Some(1000), Some(0))
    );
    assert_eq!(by_limit(2)["spent"].as_u64(), Some(3));
    // Every spend is on the log, with its running total; the warn-mode overrun too.
    event_where(&b, "budget_exceeded", |e| e["type"] == "budget_exceeded").await;
    let spent: Vec<(u64, u64)> = bodies(&b, "budget_spent")
        .await
        .iter()
        .map(|e| (e["limit"].as_u64().unwrap(), e["total"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        spent,
        [
            (1000, 400),
            (1000, 800),
            (1000, 1000),
            (2, 1),
            (2, 2),
            (2, 3)
        ]
    );
    let exceeded = bodies(&b, "budget_exceeded").await;
    assert_eq!(exceeded.len(), 1, "{exceeded:?}");
    assert_eq!(exceeded[0]["total"], 3);
    let (http, api, token) = b.http();
    let text = http
        .get(format!("{api}/metrics"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let text = text.text().await.unwrap();
    assert!(text.contains("talos_budget_spent_total 1003"), "{text}");
    assert!(text.contains("talos_budget_exceeded_total 1"), "{text}");
    assert!(text.contains("kind=\"over_budget\""), "{text}");
    saw(&seen, 6).await;
    stop.store(true, Ordering::Relaxed);
    answering.await.unwrap();
}

/// kill -9 of the callee while four callers spend a budget of 100 calls: after the
/// restart no call was admitted beyond the limit and no spend was counted twice (the
/// log's running totals are exactly 1..=100, and the counter says 100).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_budget_survives_kill_9_without_overspending_or_double_counting() {
    const LIMIT: u64 = 100;
    let root = tempfile::tempdir().unwrap();
    let (a, mut b) = pair(root.path(), &[]).await;
    let cap = json!({"res": "talos://booking/**", "act": ["book"],
                     "cav": {"bud": {"limit": LIMIT, "window": "total", "mode": "hard"}}});
    let chain = grant(&b, &a.did, cap).await;
    let a = Arc::new(a);
    let ok = Arc::new(AtomicU64::new(0));
    let mut stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut answering = agent(b.api.clone(), stop.clone(), seen.clone());
    let to = b.did.clone();
    let callers: Vec<_> = (0..4)
        .map(|_| {
            let (a, ok, chain, to) = (a.clone(), ok.clone(), chain.clone(), to.clone());
            tokio::spawn(async move {
                loop {
                    let body = json!({"to": to, "chain": chain, "resource": "talos://booking/x",
                                      "action": "book", "args": {}});
                    let (s, v) = a.call(Method::POST, "/v1/invoke", Some(body)).await;
                    match (s, kind(&v)) {
                        (200, _) => {
                            ok.fetch_add(1, Ordering::SeqCst);
                        }
                        (403, "over_budget") => return,
                        _ => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
                    }
                }
            })
        })
        .collect();
    // Progress, not time: kill once a few spends are durable, mid-way (the spends on
    // the log just before the kill are well under the limit).
    event_where(&b, "ten spends", |e| {
        e["type"] == "budget_spent" && e["total"] == 10
    })
    .await;
    let before_kill = bodies(&b, "budget_spent").await.len() as u64;
    b.kill9().await;
    assert!(before_kill < LIMIT / 2, "{before_kill}: not mid-way");
    stop.store(true, Ordering::Relaxed);
    let _ = answering.await;
    b.restart().await;
    stop = Arc::new(AtomicBool::new(false));
    answering = agent(b.api.clone(), stop.clone(), seen.clone());
    for c in callers {
        c.await.unwrap();
    }
    let (s, v) = b.call(Method::GET, "/v1/budgets", None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["budgets"][0]["spent"].as_u64(), Some(LIMIT), "{v}");
    let totals: Vec<u64> = bodies(&b, "budget_spent")
        .await
        .iter()
        .map(|e| e["total"].as_u64().unwrap())
        .collect();
    assert_eq!(totals, (1..=LIMIT).collect::<Vec<_>>());
    let used = bodies(&b, "capability_used").await.len() as u64;
    assert_eq!(used, LIMIT, "every admitted call spent once");
    // Calls in flight at the kill were counted but may not have been answered.
    let answered = ok.load(Ordering::SeqCst);
    assert!((LIMIT - 4..=LIMIT).contains(&answered), "{answered}");
    stop.store(true, Ordering::Relaxed);
    answering.await.unwrap();
}
