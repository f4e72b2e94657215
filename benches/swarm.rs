//! A swarm of `SWARM_N` real `talos up` processes on loopback (default 10), each with its
//! own home and RocksDB, all bootstrapped from the first: what one node costs, how
//! directory lookups and first contacts behave as N grows, and the swarm's message rate.
//! Needs the release binary (`cargo build --release -p talos`, or `TALOS_BIN`):
//!
//! ```sh
//! for n in 10 50 100; do SWARM_N=$n cargo bench -p talos-benches --bench swarm; done
//! ```
//!
//! Drop the page cache before each run (`sync; echo 3 > /proc/sys/vm/drop_caches`, as
//! root): a binary just linked or copied maps ~5 MiB more of its code per process than
//! the same binary read back from disk, so RSS figures are only comparable that way.
//!
//! Figures, printed as Markdown table rows at the end:
//! - memory of each idle node after the swarm settled: RSS, its anonymous part, and PSS
//!   (the executable's pages are shared by every node on the machine, so PSS is what
//!   one more node costs); again `SWARM_SETTLE_SECS` (135) later, once idle connections
//!   closed, with the peers each node is still connected to (a second table);
//! - directory lookups (`GET /v1/peers/{did}/attestations`: a Kademlia `GET_VALUE` of
//!   the peer's signed record, verified), p50 and p99, from random nodes for random DIDs,
//!   and how many peers a lookup queried on average (the nodes' `talos_dht_lookups` and
//!   `talos_dht_lookup_requests`);
//! - first contact: one message from each node to a random node it never talked to,
//!   from the POST until the receiver's agent has it (the bundle from the DHT, PQXDH,
//!   delivery), p50 and p99;
//! - messages per second across the swarm: every node sends a batch to its first-contact
//!   peer at once, until every receiver's agent has all of them; then peak RSS;
//! - revocation propagation: the first node revokes a capability id, and each other node
//!   is polled (every 10 ms, `/metrics`) until it has applied the notice from gossip,
//!   after which its gate refuses that id: the times for 99 % and 100 % of the nodes;
//! - recovery: every node sends numbered messages to that peer, one POST each, while
//!   10 % of the nodes are killed with -9 and restarted; then every acknowledged message
//!   must reach its receiver's agent, and none may arrive twice. The time from the last
//!   restart until then is the figure.
//!
//! Pairs are drawn from a fixed-seed generator, so every run measures the same pairs.
//! Every node runs one runtime worker (`--workers 1`; `SWARM_WORKERS` overrides): N
//! nodes share the machine's cores.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::json;

use talos_testkit::node::{NodeProc, flags, init};

#[path = "swarm/recovery.rs"]
mod recovery;

/// Nodes started at once (each unlocks its keystore with argon2id on 2 cores).
const START_AT_ONCE: usize = 8;
/// Directory lookups measured.
const LOOKUPS: usize = 200;
/// Messages each node sends in the throughput round.
const PER_NODE: usize = 250;

/// xorshift64*: a fixed, dependency-free sequence (the same pairs on every run).
struct Pairs(u64);

impl Pairs {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    }

    /// A node other than `i`.
    fn other(&mut self, i: usize, n: usize) -> usize {
        (i + 1 + self.below(n - 1)) % n
    }
}

fn field_kib(path: &str, name: &str) -> u64 {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// (RSS, anonymous RSS, PSS, peak RSS) of a process, KiB.
fn memory(pid: u32) -> [u64; 4] {
    let status = format!("/proc/{pid}/status");
    [
        field_kib(&status, "VmRSS:"),
        field_kib(&status, "RssAnon:"),
        field_kib(&format!("/proc/{pid}/smaps_rollup"), "Pss:"),
        field_kib(&status, "VmHWM:"),
    ]
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// Median and maximum of KiB figures, in MiB with one decimal (an idle node's RSS is
/// compared with a bound of 40 MiB, where flooring would hide a 0.9 MiB overshoot).
fn median_max(mut v: Vec<u64>) -> String {
    v.sort_unstable();
    let mib = |k: u64| k as f64 / 1024.0;
    format!("{:.1} / {:.1}", mib(v[v.len() / 2]), mib(v[v.len() - 1]))
}

/// Runtime workers per node: N nodes share this machine's cores, so one each, as
/// docs/node.md advises (`SWARM_WORKERS` overrides; 0 is one per core).
fn workers() -> String {
    std::env::var("SWARM_WORKERS").unwrap_or_else(|_| "1".into())
}

/// `talos init` and `talos up` on a fixed port, so a node restarted after kill -9 is
/// where its peers last saw it.
async fn start(root: &std::path::Path, name: &str, bootstrap: Option<&str>) -> NodeProc {
    let listen = format!("/ip4/127.0.0.1/tcp/{}", talos_testkit::free_port());
    let workers = workers();
    let mut f = vec![
        ("--listen", listen.as_str()),
        ("--workers", workers.as_str()),
    ];
    if let Some(b) = bootstrap {
        f.push(("--bootstrap", b));
    }
    let home = init(root, name, &flags(&f));
    NodeProc::up(&home, &[]).await
}

async fn start_all(root: &std::path::Path, n: usize) -> Vec<NodeProc> {
    println!("swarm: {n} nodes, {} runtime worker(s) each", workers());
    let first = start(root, "n0", None).await;
    let boot = first.addr();
    let mut nodes = vec![first];
    let mut next = 1;
    while next < n {
        let mut set = tokio::task::JoinSet::new();
        for i in next..(next + START_AT_ONCE).min(n) {
            let (root, boot) = (root.to_path_buf(), boot.clone());
            set.spawn(async move { (i, start(&root, &format!("n{i}"), Some(&boot)).await) });
        }
        let mut started: Vec<(usize, NodeProc)> = set.join_all().await;
        started.sort_by_key(|(i, _)| *i);
        next += started.len();
        nodes.extend(started.into_iter().map(|(_, p)| p));
    }
    nodes
}

/// (lookups, peers queried) summed over the swarm.
async fn dht_totals(nodes: &[NodeProc]) -> (u64, u64) {
    let mut t = (0, 0);
    for node in nodes {
        t.0 += node.metric("talos_dht_lookups").await;
        t.1 += node.metric("talos_dht_lookup_requests").await;
    }
    t
}

/// Looks `did` up from `node`: the time, if the record was found.
async fn lookup(node: &NodeProc, did: &str) -> Option<Duration> {
    let t = Instant::now();
    let (status, _) = node
        .call(
            reqwest::Method::GET,
            &format!("/v1/peers/{did}/attestations"),
            None,
        )
        .await;
    (status == 200).then(|| t.elapsed())
}

/// Waits until every node's record can be looked up from another node: the directory
/// has formed. Progress, not a fixed time: each DID is retried until found (bounded).
async fn wait_for_directory(nodes: &[NodeProc], pairs: &mut Pairs) {
    let n = nodes.len();
    for j in 0..n {
        let mut found = false;
        for _ in 0..120 {
            if lookup(&nodes[pairs.other(j, n)], &nodes[j].did)
                .await
                .is_some()
            {
                found = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        assert!(found, "node {j}'s record never became findable");
    }
}

/// Reads `node`'s inbox from `cursor` until a message with `body` arrives; returns the
/// cursor after it.
async fn wait_for(node: &NodeProc, mut cursor: u64, body: &[u8]) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        for (index, _, _, data) in node.read(cursor, 5_000).await {
            cursor = index + 1;
            if data == body {
                return cursor;
            }
        }
    }
    panic!("a first-contact message never arrived");
}

async fn send_batch(node: &NodeProc, to: &str, n: usize) {
    let (http, url, token) = node.http();
    let messages: Vec<_> = (0..n)
        .map(|i| json!({ "to": to, "data": B64.encode(format!("load {i}")) }))
        .collect();
    for chunk in messages.chunks(250) {
        let r = http
            .post(format!("{url}/v1/messages/batch"))
            .bearer_auth(token)
            .json(&json!({ "messages": chunk }))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    }
}

/// Reads `node`'s inbox from `cursor` until `n` more messages arrived.
async fn drain(node: &NodeProc, mut cursor: u64, n: usize) {
    let mut got = 0;
    let deadline = Instant::now() + Duration::from_secs(300);
    while got < n {
        assert!(Instant::now() < deadline, "the load never fully arrived");
        let batch = node.read(cursor, 5_000).await;
        if let Some(last) = batch.last() {
            cursor = last.0 + 1;
        }
        got += batch.len();
    }
}

/// How many revocations `node` has applied from gossip.
async fn learned(node: &NodeProc) -> u64 {
    node.metric("talos_revocations_learned_total").await
}

/// The first node revokes a fresh id; returns, sorted, how long each other node took to
/// apply it.
async fn revocation(nodes: &[NodeProc]) -> Vec<Duration> {
    let before = futures::future::join_all(nodes.iter().skip(1).map(learned)).await;
    let id: String = format!("{:032x}", u128::from(nodes.len() as u64) << 64 | 0x7e57);
    let t = Instant::now();
    let (status, body) = nodes[0]
        .call(
            reqwest::Method::POST,
            "/v1/capabilities/revoke",
            Some(json!({ "id": id })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let mut times = futures::future::join_all(nodes.iter().skip(1).zip(before).map(
        |(node, had)| async move {
            let deadline = Instant::now() + Duration::from_secs(120);
            while learned(node).await <= had {
                assert!(
                    Instant::now() < deadline,
                    "a node never learned the revocation"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            t.elapsed()
        },
    ))
    .await;
    times.sort_unstable();
    times
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("SWARM_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    assert!(n >= 2, "SWARM_N must be at least 2");
    let root = tempfile::tempdir().unwrap();
    let mut pairs = Pairs(0x7a1c_05e5_3a11_0001);

    let t = Instant::now();
    let mut nodes = start_all(root.path(), n).await;
    let started = t.elapsed();
    wait_for_directory(&nodes, &mut pairs).await;
    let formed = t.elapsed();
    // Idle: nothing is sent for a while, so only the swarm's own upkeep runs.
    tokio::time::sleep(Duration::from_secs(10)).await;
    let idle: Vec<[u64; 4]> = nodes.iter().map(|p| memory(p.pid())).collect();
    let idle_peers = peers(&nodes).await;
    // Settled: a connection nothing keeps alive (no gossipsub mesh, no exchange under
    // way) closes after the idle timeout (60 s), so a node idle for longer holds fewer.
    let settle: u64 = std::env::var("SWARM_SETTLE_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(135);
    tokio::time::sleep(Duration::from_secs(settle)).await;
    let settled: Vec<[u64; 4]> = nodes.iter().map(|p| memory(p.pid())).collect();
    let settled_peers = peers(&nodes).await;

    let dht_before = dht_totals(&nodes).await;
    let mut lookups = Vec::new();
    let mut missed = 0;
    for _ in 0..LOOKUPS {
        let i = pairs.below(n);
        let j = pairs.other(i, n);
        match lookup(&nodes[i], &nodes[j].did).await {
            Some(d) => lookups.push(d),
            None => missed += 1,
        }
    }
    lookups.sort_unstable();
    let dht_after = dht_totals(&nodes).await;
    // Every lookup in between was one of ours: the nodes look nothing up on their own
    // while the swarm is idle.
    let per_lookup =
        (dht_after.1 - dht_before.1) as f64 / (dht_after.0 - dht_before.0).max(1) as f64;

    // First contact, one pair at a time so each is timed alone.
    let peer_of: Vec<usize> = (0..n).map(|i| pairs.other(i, n)).collect();
    let mut cursors = vec![0u64; n];
    let mut contacts = Vec::new();
    for (i, &j) in peer_of.iter().enumerate() {
        let body = format!("hello {i} -> {j}").into_bytes();
        let t = Instant::now();
        nodes[i].send(&nodes[j].did, &body).await.unwrap();
        cursors[j] = wait_for(&nodes[j], cursors[j], &body).await;
        contacts.push(t.elapsed());
    }
    contacts.sort_unstable();

    // Load: every node sends to its peer at once; each receiver reads all it is owed.
    let mut owed = vec![0usize; n];
    for &j in &peer_of {
        owed[j] += PER_NODE;
    }
    let t = Instant::now();
    let sends = futures::future::join_all(
        (0..n).map(|i| send_batch(&nodes[i], &nodes[peer_of[i]].did, PER_NODE)),
    );
    let reads = futures::future::join_all(
        (0..n)
            .filter(|j| owed[*j] > 0)
            .map(|j| drain(&nodes[j], cursors[j], owed[j])),
    );
    tokio::join!(sends, reads);
    let rate = (n * PER_NODE) as f64 / t.elapsed().as_secs_f64();
    let loaded: Vec<[u64; 4]> = nodes.iter().map(|p| memory(p.pid())).collect();
    let revoked = revocation(&nodes).await;
    let (killed, acked, recovered) = recovery::recovery(&mut nodes, &peer_of, &mut pairs).await;

    println!(
        "| N | started / directory formed | idle RSS (MiB, median / max) | idle anonymous | idle PSS | lookup p50 / p99 (missed), peers queried per lookup | first contact p50 / p99 | msg/s, all nodes sending | peak RSS under load | revocation applied by 99 % / 100 % | kill -9 recovery |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {n} | {:.1} s / {:.1} s | {} | {} | {} | {} / {} ({missed} of {LOOKUPS}), {per_lookup:.1} | {} / {} | {:.0} | {} | {} / {} | {killed} killed, all {acked} acknowledged arrived once, {:.1} s after the restarts |",
        started.as_secs_f64(),
        formed.as_secs_f64(),
        median_max(idle.iter().map(|m| m[0]).collect()),
        median_max(idle.iter().map(|m| m[1]).collect()),
        median_max(idle.iter().map(|m| m[2]).collect()),
        ms(pct(&lookups, 0.5)),
        ms(pct(&lookups, 0.99)),
        ms(pct(&contacts, 0.5)),
        ms(pct(&contacts, 0.99)),
        rate,
        median_max(loaded.iter().map(|m| m[3]).collect()),
        ms(pct(&revoked, 0.99)),
        ms(revoked[revoked.len() - 1]),
        recovered.as_secs_f64(),
    );
    println!();
    println!(
        "| N | connected peers, median (idle → {settle} s later) | RSS {settle} s later (MiB, median / max) | anonymous {settle} s later |"
    );
    println!("|---|---|---|---|");
    println!(
        "| {n} | {idle_peers} → {settled_peers} | {} | {} |",
        median_max(settled.iter().map(|m| m[0]).collect()),
        median_max(settled.iter().map(|m| m[1]).collect()),
    );
}

/// The median of the nodes' connected peers (`talos_peers_connected`).
async fn peers(nodes: &[NodeProc]) -> u64 {
    let mut v = Vec::with_capacity(nodes.len());
    for n in nodes {
        v.push(n.metric("talos_peers_connected").await);
    }
    v.sort_unstable();
    v[v.len() / 2]
}
