//! Aggregated anchoring at agent scale: one real `talos up` aggregator (release binary,
//! its own RocksDB, the embedded chain) serving `AGG_AGENTS` agents (default 10,000).
//! Needs the release binary (`cargo build --release -p talos`, or `TALOS_BIN`):
//!
//! ```sh
//! AGG_AGENTS=10000 cargo bench -p talos-benches --bench aggregation
//! ```
//!
//! Phases, each printed as one line, then one Markdown table row:
//! - ingest: every agent's signed checkpoint POSTed to `/aggregate/add-checkpoint`,
//!   `AGG_CONCURRENCY` (default 64) in flight over HTTP/1.1 keep-alive, until every one
//!   is acknowledged (durable): checkpoints per second and the p50/p99 latency;
//! - anchor: one `POST /v1/audit/anchor` committing all of them, its time;
//! - proofs: `/aggregate/proof/{did}` for 1,000 agents, each verified offline
//!   (`AggregateProof::verify`): proofs served per second and the verification's cost;
//! - the aggregator's peak RSS.
//!
//! The chain's side does not change: one anchor is one `anchor_root`, whatever it
//! carries (`chain_capacity.rs`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::Method;
use talos_audit::aggregate::AggregateProof;
use talos_audit::checkpoint::sign_talos;
use talos_primitives::{Hash32, TreeHead};
use talos_testkit::node::{NodeProc, TCP0, flags, init, set_config};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // cargo bench passes `--bench`; nothing to filter here.
    let n = env("AGG_AGENTS", 10_000);
    let concurrency = env("AGG_CONCURRENCY", 64);

    let t = Instant::now();
    let agents: Vec<_> = (0..n)
        .map(|i| {
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&(i as u64).to_le_bytes());
            seed[31] = 0xa6;
            let key = talos_testkit::keys::from_seed(seed);
            let head = TreeHead {
                size: 1_000 + i as u64,
                root: Hash32([(i % 251) as u8; 32]),
            };
            (key.did(), sign_talos(&key, head).unwrap().to_text())
        })
        .collect();
    println!(
        "signed {n} checkpoints in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let root = tempfile::tempdir().unwrap();
    let home = init(
        root.path(),
        "aggregator",
        &flags(&[
            ("--listen", TCP0),
            ("--anchor-secs", "0"),
            ("--public-log", "127.0.0.1:0"),
            ("--publish-secs", "100000"),
            // One client address sends everything here; agents come from many.
            ("--public-log-rate", "1000000"),
            ("--public-log-burst", "1000000"),
        ]),
    );
    // Too long for one command-line argument (128 KiB): straight into config.toml.
    let list: Vec<String> = agents
        .iter()
        .map(|(d, _)| format!("{:?}", d.to_string()))
        .collect();
    set_config(
        &home,
        &[("aggregate_for", &format!("[{}]", list.join(", ")))],
    );
    let node = NodeProc::up(&home, &[]).await;
    let base = format!("http://{}", node.ready["publicLog"].as_str().unwrap());
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();

    // Ingest.
    let t = Instant::now();
    let mut lat: Vec<Duration> = futures::stream::iter(agents.iter())
        .map(|(_, note)| {
            let (http, url) = (http.clone(), format!("{base}/aggregate/add-checkpoint"));
            async move {
                let t = Instant::now();
                let r = http.post(url).body(note.clone()).send().await.unwrap();
                assert_eq!(r.status().as_u16(), 200, "{}", r.text().await.unwrap());
                t.elapsed()
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let ingest = t.elapsed();
    lat.sort();
    let rate = n as f64 / ingest.as_secs_f64();
    println!(
        "ingest: {n} checkpoints in {:.2} s, {rate:.0}/s, p50 {:.2} ms, p99 {:.2} ms",
        ingest.as_secs_f64(),
        pct(&lat, 0.5),
        pct(&lat, 0.99)
    );

    // One anchor for all of them.
    let t = Instant::now();
    let (s, a) = node.call(Method::POST, "/v1/audit/anchor", None).await;
    assert_eq!(s, 200, "{a}");
    let anchor = t.elapsed();
    println!(
        "anchor: tree size {} in {:.0} ms",
        a["treeSize"],
        anchor.as_secs_f64() * 1e3
    );

    // Proofs, served and verified.
    let sample = n.min(1_000);
    let t = Instant::now();
    let texts: Vec<String> =
        futures::stream::iter(agents.iter().step_by((n / sample).max(1)).take(sample))
            .map(|(did, _)| {
                let (http, url) = (http.clone(), format!("{base}/aggregate/proof/{did}"));
                async move {
                    let r = http.get(url).send().await.unwrap();
                    assert_eq!(r.status().as_u16(), 200);
                    r.text().await.unwrap()
                }
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
    let serve = t.elapsed();
    let t = Instant::now();
    for text in &texts {
        AggregateProof::parse(text).unwrap().verify().unwrap();
    }
    let verify = t.elapsed() / texts.len() as u32;
    let bytes = texts.iter().map(String::len).sum::<usize>() / texts.len();
    println!(
        "proofs: {} served in {:.2} s ({:.0}/s), {bytes} B each, verified offline in {:.0} µs each",
        texts.len(),
        serve.as_secs_f64(),
        texts.len() as f64 / serve.as_secs_f64(),
        verify.as_secs_f64() * 1e6
    );
    let rss = node.peak_rss_kib() / 1024;
    println!("aggregator peak RSS {rss} MiB");
    println!(
        "| {n} | {rate:.0}/s | {:.2} / {:.2} ms | {:.0} ms | {:.0}/s | {bytes} B | {:.0} µs | {rss} MiB |",
        pct(&lat, 0.5),
        pct(&lat, 0.99),
        anchor.as_secs_f64() * 1e3,
        texts.len() as f64 / serve.as_secs_f64(),
        verify.as_secs_f64() * 1e6,
    );
}
