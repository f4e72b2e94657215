//! The public log at 1 M entries, side by side in one run with the per-proof agent API
//! doing the same work:
//!
//! - `transparency/tile_http`: a random full level-0 hash tile (256 hashes) from the
//!   public log over HTTP, 8 requests in flight;
//! - `transparency/proof_api`: a random inclusion proof from `GET /v1/audit/proof`, 8 in
//!   flight (what a reader does without tiles);
//! - `transparency/monitor_catch_up`: a fresh monitor reading the whole log from the
//!   tiles (every entry fetched, its signature verified, the root rebuilt);
//! - `transparency/per_proof_catch_up_10k`: the same work through the agent API for the
//!   first 10,000 entries (events 256 at a time, one proof per entry, each verified):
//!   1 M that way would take tens of minutes, so its rate is compared.
//!
//! Set-up writes 1 M real signed events into a node's log before `talos up` (about a
//! minute). Needs the release binary (`make bench` builds it, or set `TALOS_BIN`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use reqwest::Method;
use serde_json::Value;
use talos_audit::event::{AuditEvent, EventKind, SignedEvent};
use talos_node::home::Home;
use talos_testkit::node::{NodeProc, PASS, flags, init};

const ENTRIES: u64 = 1_000_000;
const IN_FLIGHT: usize = 8;

/// Writes `n` signed events by the home's key into its (stopped) log.
fn fill(home: &std::path::Path, n: u64) {
    let key = Home::resolve(Some(home.to_path_buf()))
        .unwrap()
        .load_identity(&talos_identity::keystore::Passphrase::new(PASS.into()))
        .unwrap();
    let (_, log) = Home::resolve(Some(home.to_path_buf()))
        .unwrap()
        .open_stores()
        .unwrap();
    let mut at = log.size();
    while at < n {
        let batch: Vec<Vec<u8>> = (at..(at + 4096).min(n))
            .map(|seq| {
                let mut id = [0u8; 16];
                id[8..].copy_from_slice(&seq.to_be_bytes());
                let body = AuditEvent {
                    agent: key.did(),
                    seq,
                    ts: 1_700_000_000_000 + seq,
                    event: EventKind::CapabilityRevoked {
                        id: talos_primitives::CapabilityId(id),
                    },
                };
                SignedEvent::sign(&key, body).unwrap().to_leaf().unwrap()
            })
            .collect();
        at += batch.len() as u64;
        log.append_many(batch).unwrap();
    }
}

async fn in_flight(urls: Vec<String>, client: &reqwest::Client, token: Option<&str>) {
    let mut pending = urls.into_iter();
    loop {
        let wave: Vec<String> = pending.by_ref().take(IN_FLIGHT).collect();
        if wave.is_empty() {
            return;
        }
        let reqs = wave.iter().map(|u| {
            let mut r = client.get(u);
            if let Some(t) = token {
                r = r.bearer_auth(t);
            }
            async move {
                let r = r.send().await.unwrap();
                assert!(r.status().is_success(), "{}", r.status());
                r.bytes().await.unwrap().len()
            }
        });
        futures::future::join_all(reqs).await;
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let root = tempfile::tempdir().unwrap();
    let home = init(
        root.path(),
        "big",
        &flags(&[
            ("--listen", "/ip4/127.0.0.1/tcp/0"),
            ("--chain", "none"),
            ("--public-log", "127.0.0.1:0"),
            ("--public-log-rate", "1000000"),
            ("--public-log-burst", "1000000"),
            ("--publish-secs", "100000"),
        ]),
    );
    let t = Instant::now();
    fill(&home, ENTRIES);
    eprintln!("wrote {ENTRIES} signed events in {:?}", t.elapsed());
    let node = rt.block_on(NodeProc::up(&home, &[]));
    let (s, p) = rt.block_on(node.call(Method::POST, "/v1/audit/publish", None));
    assert_eq!(s, 200, "{p}");
    let size = p["treeSize"].as_u64().unwrap();
    let base = format!("http://{}", node.ready["publicLog"].as_str().unwrap());
    let (_, api, token) = node.http();
    let (api, token) = (api.to_string(), token.to_string());
    let client = reqwest::Client::new();
    let mut seed = 7u64;
    let mut next = move |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 11) % n
    };

    let mut g = c.benchmark_group("transparency");
    g.sample_size(20);
    g.bench_function("tile_http", |b| {
        b.iter_custom(|iters| {
            let urls: Vec<String> = (0..iters)
                .map(|_| {
                    format!(
                        "{base}/{}",
                        talos_audit::tiles::Tile {
                            kind: talos_audit::tiles::TileKind::Hashes(0),
                            index: next(size / 256),
                            width: 256,
                        }
                    )
                })
                .collect();
            let t = Instant::now();
            rt.block_on(in_flight(urls, &client, None));
            t.elapsed()
        });
    });
    g.bench_function("proof_api", |b| {
        b.iter_custom(|iters| {
            let urls: Vec<String> = (0..iters)
                .map(|_| format!("{api}/v1/audit/proof?index={}&size={size}", next(size)))
                .collect();
            let t = Instant::now();
            rt.block_on(in_flight(urls, &client, Some(&token)));
            t.elapsed()
        });
    });
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(1));
    let n = std::sync::atomic::AtomicU64::new(0);
    g.bench_function("monitor_catch_up", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let dir = root.path().join(format!(
                    "m{}",
                    n.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                ));
                let monitor = talos_transparency::monitor::Monitor {
                    source: talos_transparency::source::LogSource::parse(&base).unwrap(),
                    did: node.did.parse().unwrap(),
                    anchor: None,
                    witnesses: vec![],
                    stall_rounds: 3,
                    state: talos_transparency::monitor::MonitorState::open(&dir).unwrap(),
                };
                let t = Instant::now();
                let round = rt.block_on(monitor.round()).unwrap();
                total += t.elapsed();
                assert!(
                    round.alarms.is_empty() && round.new_entries >= ENTRIES,
                    "{round:?}"
                );
            }
            total
        });
    });
    g.bench_function("per_proof_catch_up_10k", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let t = Instant::now();
                rt.block_on(per_proof(&node, 10_000, size));
                total += t.elapsed();
            }
            total
        });
    });
    g.finish();
}

/// What a reader without tiles does for entries `[0, n)`: the events, a proof each,
/// each entry's signature and proof verified.
async fn per_proof(node: &NodeProc, n: u64, size: u64) {
    let (s, head) = node.call(Method::GET, "/v1/audit/head", None).await;
    assert_eq!(s, 200);
    let mut at = 0;
    while at < n {
        let (s, v) = node
            .call(
                Method::GET,
                &format!("/v1/audit/events?from={at}&max=256"),
                None,
            )
            .await;
        assert_eq!(s, 200);
        let events = v["events"].as_array().unwrap().clone();
        let proofs = events.iter().map(|e| {
            let i = e["index"].as_u64().unwrap();
            let head = &head;
            async move {
                let (s, p): (u16, Value) = node
                    .call(
                        Method::GET,
                        &format!("/v1/audit/proof?index={i}&size={size}"),
                        None,
                    )
                    .await;
                assert_eq!(s, 200);
                assert!(size < head["treeSize"].as_u64().unwrap() || p["root"] == head["root"]);
                let proof: talos_audit::wire::InclusionProof = serde_json::from_value(p).unwrap();
                proof.verify().unwrap();
            }
        });
        for e in &events {
            // The entry's bytes are its JCS form; parsing them checks the signature.
            let leaf = serde_jcs::to_vec(&e["event"]).unwrap();
            SignedEvent::from_leaf(&leaf).unwrap();
        }
        let mut pending = proofs.collect::<Vec<_>>().into_iter();
        loop {
            let wave: Vec<_> = pending.by_ref().take(IN_FLIGHT).collect();
            if wave.is_empty() {
                break;
            }
            futures::future::join_all(wave).await;
        }
        at += events.len() as u64;
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
