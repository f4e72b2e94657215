//! Capability-checked calls between agents.
//!
//! - `invoke/gate_warm`: the node's own decision code ([`talos_node::node::gate::Gate`])
//!   on a call whose chain is cached: rate limits, chain cache, possession by the
//!   connection, scope and caveats, the replay cache (a fresh nonce per call);
//! - `invoke/round_trip`: two release `talos up` processes on loopback. The calling
//!   agent POSTs `/v1/invoke` to node A; node B's gate decides; B's agent long-polls
//!   `/v1/calls` and answers each batch it reads with one `POST /v1/calls/answers`;
//!   A's POST returns the answer.
//!   One call at a time (latency), then 2,000 calls with 64 in flight (throughput).
//!
//! Needs the release binary: `make bench` builds it first (or set `TALOS_BIN`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value, json};
use talos_capability::Caveats;
use tokio::sync::Semaphore;

use talos_testkit::node::{NodeProc as Node, PASS, start, talos_bin};

// Shared with the other gate bench; each uses part of it.
#[allow(dead_code)]
#[path = "warm_gate.rs"]
mod warm;
use warm::warm_gate;

const CALLS: usize = 2_000;
const IN_FLIGHT: usize = 64;

fn gate_warm(c: &mut Criterion) {
    let mut cav = Caveats::default();
    cav.max.insert("amount".into(), 500);
    let mut warm = warm_gate(cav, 300, Vec::new());
    let mut g = c.benchmark_group("invoke");
    g.throughput(Throughput::Elements(1));
    g.bench_function("gate_warm", |bench| bench.iter(|| warm.call()));
    g.finish();
}

/// `talos cap issue` by `issuer` for `to`: the chain.
fn issue(issuer: &Node, to: &str) -> Vec<String> {
    let out = std::process::Command::new(talos_bin())
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
            "book",
            "--max",
            "amount=500",
            "--ttl",
            "3600",
            "--json",
        ])
        .env("TALOS_PASSPHRASE", PASS)
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["chain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect()
}

/// B's agent: answers every call it is shown, until `stop`.
async fn answer_calls(http: reqwest::Client, b: Arc<Node>, stop: Arc<AtomicBool>) {
    let mut after = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let v: Value = http
            .get(format!(
                "{}/v1/calls?after={after}&max=256&waitMs=200",
                b.url()
            ))
            .bearer_auth(b.token())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let calls = v["calls"].as_array().unwrap();
        if calls.is_empty() {
            continue;
        }
        // The batch of calls just read, answered with one request.
        let answers: Vec<Value> = calls
            .iter()
            .map(|c| {
                let id = c["id"].as_u64().unwrap();
                after = after.max(id);
                json!({ "id": id, "result": { "ok": true, "amount": c["args"]["amount"] } })
            })
            .collect();
        let r = http
            .post(format!("{}/v1/calls/answers", b.url()))
            .bearer_auth(b.token())
            .json(&json!({ "answers": answers }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
}

async fn invoke(http: &reqwest::Client, a: &Node, body: &Value) {
    let r = http
        .post(format!("{}/v1/invoke", a.url()))
        .bearer_auth(a.token())
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

fn round_trip(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let root = tempfile::tempdir().unwrap();
    let limits = ["--invoke-rate", "1000000", "--invoke-burst", "1000000"];
    let (a, b) = rt.block_on(async {
        let a = start(root.path(), "a", None, &[]).await;
        let b = start(root.path(), "b", Some(&a.addr()), &limits).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        (Arc::new(a), Arc::new(b))
    });
    let http = reqwest::Client::new();
    let chain = issue(&b, &a.did);
    let body = json!({
        "to": b.did,
        "chain": chain,
        "resource": "talos://booking/flights/LH123",
        "action": "book",
        "args": { "amount": 300 },
    });
    let stop = Arc::new(AtomicBool::new(false));
    let agent = rt.spawn(answer_calls(http.clone(), b.clone(), stop.clone()));
    // The first call connects and fills B's chain cache, outside the measurement.
    rt.block_on(invoke(&http, &a, &body));

    let mut samples: Vec<Duration> = Vec::new();
    let mut g = c.benchmark_group("invoke");
    g.throughput(Throughput::Elements(1));
    g.bench_function("round_trip", |bench| {
        bench.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let t = Instant::now();
                rt.block_on(invoke(&http, &a, &body));
                let d = t.elapsed();
                samples.push(d);
                total += d;
            }
            total
        })
    });
    g.throughput(Throughput::Elements(CALLS as u64));
    g.sample_size(10);
    g.bench_function("round_trip_throughput", |bench| {
        bench.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let t = Instant::now();
                rt.block_on(async {
                    let permits = Arc::new(Semaphore::new(IN_FLIGHT));
                    let mut tasks = Vec::with_capacity(CALLS);
                    for _ in 0..CALLS {
                        let p = permits.clone().acquire_owned().await.unwrap();
                        let (http, a, body) = (http.clone(), a.clone(), body.clone());
                        tasks.push(tokio::spawn(async move {
                            invoke(&http, &a, &body).await;
                            drop(p);
                        }));
                    }
                    for t in tasks {
                        t.await.unwrap();
                    }
                });
                total += t.elapsed();
            }
            total
        })
    });
    g.finish();
    stop.store(true, Ordering::Relaxed);
    rt.block_on(agent).unwrap();

    samples.sort_unstable();
    let pct = |p: f64| samples[((samples.len() as f64 - 1.0) * p) as usize];
    if !samples.is_empty() {
        println!(
            "invoke/round_trip over {} calls: p50 {:?}, p90 {:?}, p99 {:?}",
            samples.len(),
            pct(0.5),
            pct(0.9),
            pct(0.99)
        );
    }
    println!(
        "peak RSS: caller node {} MiB, callee node {} MiB",
        a.peak_rss_kib() / 1024,
        b.peak_rss_kib() / 1024
    );
}

criterion_group!(benches, gate_warm, round_trip);
criterion_main!(benches);
