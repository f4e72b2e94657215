//! Two `talos up` processes on loopback: 35-byte messages from the sending agent (HTTP
//! to node A) to the receiving agent (long-poll on node B), with durable state on both
//! sides. Needs the release binary: `make bench` builds it first (or set `TALOS_BIN`).
//!
//! - `node/latency`: one message at a time, from the POST to A until B's agent has it;
//! - `node/throughput_batched`: the same through `POST /v1/messages/batch`, 250 per
//!   request, 4 requests in flight;
//! - `node/throughput`: 2,000 messages per iteration, 64 POSTs in flight, until B's
//!   agent has them all.
//!
//! - `node/floor`: what no durable message can beat on this machine, measured in the
//!   same run on the same disk: two `fdatasync`s of a small append in sequence (A's
//!   outbox, then B's inbox and event) plus one loopback TCP round trip;
//! - `node/floor_paced`: the same after 1 ms of idle before each sample, as a message
//!   sent one at a time finds the machine (on a VM, halted vCPUs wake up slower).
//!
//! Percentiles of the latency and floor samples, their ratio, what one message cost each
//! node's threads, and both nodes' peak RSS (VmHWM) are printed at the end.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use talos_testkit::node::{NodeProc as Node, start};

const BATCH: usize = 2_000;
const IN_FLIGHT: usize = 64;

async fn send(http: &reqwest::Client, a: &Node, to: &str, body: &[u8]) {
    let r = http
        .post(format!("{}/v1/messages", a.url()))
        .bearer_auth(a.token())
        .json(&json!({ "to": to, "data": B64.encode(body) }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
}

/// B's agent is done with everything before `cursor`: deleted (outside the timings), as
/// an agent does; the per-peer inbox quota would otherwise stop A after 100,000.
async fn ack(http: &reqwest::Client, b: &Node, cursor: u64) {
    let r = http
        .delete(format!(
            "{}/v1/messages?through={}",
            b.url(),
            cursor.saturating_sub(1)
        ))
        .bearer_auth(b.token())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
}

/// Long-polls B until `n` messages after `cursor` have arrived; returns the new cursor.
async fn receive(http: &reqwest::Client, b: &Node, mut cursor: u64, n: usize) -> u64 {
    let mut got = 0;
    while got < n {
        let v: Value = http
            .get(format!(
                "{}/v1/messages?from={cursor}&max=1024&waitMs=10000",
                b.url()
            ))
            .bearer_auth(b.token())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let msgs = v["messages"].as_array().unwrap();
        assert!(!msgs.is_empty(), "nothing arrived within 10 s");
        got += msgs.len();
        cursor = v["next"].as_u64().unwrap();
    }
    cursor
}

/// One floor sample: two synced appends in sequence and a 1-byte loopback round trip.
fn floor_once(files: &mut [std::fs::File; 2], echo: &mut std::net::TcpStream) -> Duration {
    use std::io::{Read, Write};
    let t = Instant::now();
    for f in files.iter_mut() {
        f.write_all(&[0x42; 100]).unwrap();
        f.sync_data().unwrap();
    }
    echo.write_all(&[1]).unwrap();
    let mut b = [0u8; 1];
    echo.read_exact(&mut b).unwrap();
    t.elapsed()
}

/// A loopback echo server on its own thread; returns a connected client.
fn echo() -> std::net::TcpStream {
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        s.set_nodelay(true).unwrap();
        let mut b = [0u8; 1];
        while s.read_exact(&mut b).is_ok() && s.write_all(&b).is_ok() {}
    });
    let c = std::net::TcpStream::connect(addr).unwrap();
    c.set_nodelay(true).unwrap();
    c
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let root = tempfile::tempdir().unwrap();
    // Two nodes share this machine: each gets half its cores as runtime workers, as
    // docs/node.md advises (`NODE_WORKERS` overrides; 0 is tokio's one per core).
    let workers = std::env::var("NODE_WORKERS").unwrap_or_else(|_| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        (cores / 2).max(1).to_string()
    });
    println!("node: each node runs {workers} runtime worker(s) (0: one per core)");
    let extra = ["--workers", workers.as_str()];
    let (a, b) = rt.block_on(async {
        let a = start(root.path(), "a", None, &extra).await;
        let b = start(root.path(), "b", Some(&a.addr()), &extra).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        (a, b)
    });
    let http = reqwest::Client::new();
    let msg = [0x42u8; 35];
    // The session (PQXDH) is set up by the first message, outside the measurement.
    let mut cursor = rt.block_on(async {
        send(&http, &a, &b.did, &msg).await;
        receive(&http, &b, 0, 1).await
    });

    let mut samples: Vec<Duration> = Vec::new();
    // The POST alone (A has the message durable in its outbox): A's share of the latency.
    let mut posts: Vec<Duration> = Vec::new();
    let mut g = c.benchmark_group("node");
    g.throughput(Throughput::Elements(1));
    // One thread for the agents' side of a message: both HTTP calls and their connections
    // run on the thread that times them, so the bench adds no hand-offs between threads
    // of its own to what it measures (a multi-thread runtime put each response on a
    // worker and woke the timing thread for it: two thread switches per call).
    let local = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // A client whose pooled connections belong to that runtime.
    let local_http = reqwest::Client::new();
    let before = (a.threads(), b.threads());
    g.bench_function("latency", |bench| {
        bench.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let t = Instant::now();
                local.block_on(async {
                    let recv = receive(&local_http, &b, cursor, 1);
                    let sent = async {
                        send(&local_http, &a, &b.did, &msg).await;
                        t.elapsed()
                    };
                    let (c, posted) = tokio::join!(recv, sent);
                    cursor = c;
                    posts.push(posted);
                });
                let d = t.elapsed();
                samples.push(d);
                total += d;
            }
            rt.block_on(ack(&http, &b, cursor));
            total
        })
    });
    // Counted before the throughput runs: what one message at a time costs each node.
    let used = (a.threads().since(&before.0), b.threads().since(&before.1));
    g.throughput(Throughput::Elements(BATCH as u64));
    g.sample_size(10);
    let a = Arc::new(a);
    g.bench_function("throughput", |bench| {
        bench.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let t = Instant::now();
                rt.block_on(async {
                    let permits = Arc::new(Semaphore::new(IN_FLIGHT));
                    let mut tasks = Vec::with_capacity(BATCH);
                    for _ in 0..BATCH {
                        let p = permits.clone().acquire_owned().await.unwrap();
                        let (http, a, to) = (http.clone(), a.clone(), b.did.clone());
                        tasks.push(tokio::spawn(async move {
                            send(&http, &a, &to, &msg).await;
                            drop(p);
                        }));
                    }
                    let recv = receive(&http, &b, cursor, BATCH);
                    cursor = recv.await;
                    for t in tasks {
                        t.await.unwrap();
                    }
                });
                total += t.elapsed();
                rt.block_on(ack(&http, &b, cursor));
            }
            total
        })
    });
    // The same 2,000 messages through the batch endpoint: 250 per POST, 4 POSTs in
    // flight (what an agent that sends many messages does).
    g.bench_function("throughput_batched", |bench| {
        bench.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let t = Instant::now();
                rt.block_on(async {
                    let permits = Arc::new(Semaphore::new(4));
                    let mut tasks = Vec::new();
                    for _ in 0..BATCH / 250 {
                        let p = permits.clone().acquire_owned().await.unwrap();
                        let (http, a, to) = (http.clone(), a.clone(), b.did.clone());
                        tasks.push(tokio::spawn(async move {
                            let messages: Vec<Value> = (0..250)
                                .map(|_| json!({ "to": to, "data": B64.encode(msg) }))
                                .collect();
                            let r = http
                                .post(format!("{}/v1/messages/batch", a.url()))
                                .bearer_auth(a.token())
                                .json(&json!({ "messages": messages }))
                                .send()
                                .await
                                .unwrap();
                            assert!(r.status().is_success());
                            drop(p);
                        }));
                    }
                    cursor = receive(&http, &b, cursor, BATCH).await;
                    for t in tasks {
                        t.await.unwrap();
                    }
                });
                total += t.elapsed();
                rt.block_on(ack(&http, &b, cursor));
            }
            total
        })
    });
    // The floor, on the disk the nodes write to.
    let mut floors: Vec<Duration> = Vec::new();
    let mut files = [0, 1].map(|i| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(root.path().join(format!("floor-{i}")))
            .unwrap()
    });
    let mut conn = echo();
    g.throughput(Throughput::Elements(1));
    g.sample_size(100);
    g.bench_function("floor", |bench| {
        bench.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let d = floor_once(&mut files, &mut conn);
                floors.push(d);
                total += d;
            }
            total
        })
    });
    // The same floor paced like the latency loop: one sample after 1 ms of idle. On a
    // VM an idle vCPU is halted, and waking it for the disk's completion and the echo
    // costs what back-to-back samples never pay; a message one at a time pays it.
    let mut paced: Vec<Duration> = Vec::new();
    g.measurement_time(Duration::from_secs(2));
    g.bench_function("floor_paced", |bench| {
        bench.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                std::thread::sleep(Duration::from_millis(1));
                let d = floor_once(&mut files, &mut conn);
                paced.push(d);
                total += d;
            }
            total
        })
    });
    g.finish();

    paced.sort_unstable();
    floors.sort_unstable();
    samples.sort_unstable();
    posts.sort_unstable();
    if !posts.is_empty() {
        println!(
            "node/latency: the POST alone (durable at A) p50 {:?}, p90 {:?}",
            posts[posts.len() / 2],
            posts[posts.len() * 9 / 10]
        );
    }
    let pct = |p: f64| samples[((samples.len() as f64 - 1.0) * p) as usize];
    if !samples.is_empty() {
        println!(
            "node/latency over {} messages: p50 {:?}, p90 {:?}, p99 {:?}, max {:?}",
            samples.len(),
            pct(0.5),
            pct(0.9),
            pct(0.99),
            samples[samples.len() - 1]
        );
    }
    // What one message cost each node's threads: CPU, waiting for a CPU, and switches.
    if !samples.is_empty() {
        let n = samples.len() as u32;
        for (name, u) in [("sender", used.0), ("receiver", used.1)] {
            println!(
                "node/latency per message, {name} node: on CPU {:?}, runnable but waiting {:?}, \
                 {:.1} voluntary + {:.1} involuntary thread switches",
                u.on_cpu / n,
                u.runnable / n,
                u.voluntary as f64 / f64::from(n),
                u.involuntary as f64 / f64::from(n),
            );
            if u.exited > 0 {
                println!(
                    "  ({} of its threads exited meanwhile: a lower bound)",
                    u.exited
                );
            }
        }
    }
    // Each floor beside the latency: its p50, p90 and the ratio of the two p50s.
    let report = |name: &str, floors: &[Duration]| {
        if floors.is_empty() || samples.is_empty() {
            return;
        }
        let floor = floors[floors.len() / 2];
        let p50 = samples[samples.len() / 2];
        println!(
            "node/{name} over {} samples: p50 {:?}, p90 {:?}; latency p50 / {name} p50 = {:.2}",
            floors.len(),
            floor,
            floors[floors.len() * 9 / 10],
            p50.as_secs_f64() / floor.as_secs_f64()
        );
    };
    report("floor", &floors);
    report("floor_paced", &paced);
    println!(
        "peak RSS: sender node {} MiB, receiver node {} MiB",
        a.peak_rss_kib() / 1024,
        b.peak_rss_kib() / 1024
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
