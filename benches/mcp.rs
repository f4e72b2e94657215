//! The MCP proxy's cost, side by side in one run, for a trivial tool (server-everything's
//! `echo`, from `mcp-servers/`):
//!
//! - `mcp/direct`: an rmcp client calling the upstream over stdio (no talos);
//! - `mcp/two_node`: agent A's `POST /v1/invoke` of `mcp://everything/echo` to node B,
//!   through B's sidecar and `talos mcp proxy` to the same upstream and back;
//! - `mcp/mounted`: an MCP host calling `everything.echo` on A's `talos mcp serve
//!   --mount` (stdio), which makes the same talos call.
//!
//! Percentiles of each and the talos overhead (two_node − direct) are printed at the
//! end. Needs the release binary (`make bench` builds it first, or set `TALOS_BIN`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, JsonObject};
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::TokioChildProcess;
use serde_json::{Value, json};
use talos_testkit::node::{NodeProc, start, talos_bin};
use tokio::io::AsyncBufReadExt;

type Client = RunningService<RoleClient, ()>;

fn everything() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../mcp-servers/node_modules/.bin/mcp-server-everything")
}

async fn proxy(b: &NodeProc) -> tokio::process::Child {
    let mut child = tokio::process::Command::new(talos_bin())
        .arg("--home")
        .arg(&b.home)
        .args(["mcp", "proxy", "--name", "everything", "--"])
        .arg(everything())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    loop {
        let line = lines.next_line().await.unwrap().expect("proxy exited");
        if serde_json::from_str::<Value>(&line).is_ok_and(|v| v.get("proxy").is_some()) {
            break;
        }
    }
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    child
}

async fn client(cmd: tokio::process::Command) -> Client {
    ().serve(TokioChildProcess::new(cmd).unwrap())
        .await
        .unwrap()
}

async fn echo(c: &Client, name: &'static str) {
    let args: JsonObject = json!({ "message": "hi" }).as_object().cloned().unwrap();
    let r = c
        .call_tool(CallToolRequestParams::new(name).with_arguments(args))
        .await
        .unwrap();
    assert_ne!(r.is_error, Some(true), "{r:?}");
}

fn pct(v: &mut [Duration], p: f64) -> Duration {
    v.sort_unstable();
    v[((v.len() as f64 - 1.0) * p) as usize]
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let root = tempfile::tempdir().unwrap();
    let (a, b, _proxy, chain, direct, mounted) = rt.block_on(async {
        let a = start(root.path(), "a", None, &[]).await;
        // Above the default 200 calls/s per peer: the benchmark is one busy caller.
        let rate = ["--invoke-rate", "1000000", "--invoke-burst", "1000000"];
        let b = start(root.path(), "b", Some(&a.addr()), &rate).await;
        let p = proxy(&b).await;
        let (s, issued) = b
            .call(
                reqwest::Method::POST,
                "/v1/capabilities",
                Some(json!({ "to": a.did, "cap": [{ "res": "mcp://everything/**", "act": ["call", "list"] }] })),
            )
            .await;
        assert_eq!(s, 200, "{issued}");
        let chain = issued["chain"].clone();
        let file = root.path().join("chain.txt");
        let tokens: Vec<&str> = chain.as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
        std::fs::write(&file, tokens.join("\n")).unwrap();
        let direct = client(tokio::process::Command::new(everything())).await;
        let mut serve = tokio::process::Command::new(talos_bin());
        serve
            .arg("--home")
            .arg(&a.home)
            .args(["mcp", "serve", "--mount"])
            .arg(format!("{}=everything:{}", b.did, file.display()))
            .stderr(Stdio::null());
        let mounted = client(serve).await;
        (a, b, p, chain, direct, mounted)
    });
    let http = reqwest::Client::new();
    let body = json!({
        "to": b.did, "chain": chain, "resource": "mcp://everything/echo", "action": "call",
        "args": { "message": "hi" },
    });
    let invoke = || async {
        let r = http
            .post(format!("{}/v1/invoke", a.url()))
            .bearer_auth(a.token())
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    };
    // Warm up: sessions, connections, the upstream's first call.
    rt.block_on(async {
        for _ in 0..20 {
            echo(&direct, "echo").await;
            invoke().await;
            echo(&mounted, "everything.echo").await;
        }
    });

    let mut samples: [Vec<Duration>; 3] = Default::default();
    let mut g = c.benchmark_group("mcp");
    g.bench_function("direct", |bench| {
        bench.iter_custom(|iters| {
            let t = Instant::now();
            for _ in 0..iters {
                let s = Instant::now();
                rt.block_on(echo(&direct, "echo"));
                samples[0].push(s.elapsed());
            }
            t.elapsed()
        })
    });
    g.bench_function("two_node", |bench| {
        bench.iter_custom(|iters| {
            let t = Instant::now();
            for _ in 0..iters {
                let s = Instant::now();
                rt.block_on(invoke());
                samples[1].push(s.elapsed());
            }
            t.elapsed()
        })
    });
    g.bench_function("mounted", |bench| {
        bench.iter_custom(|iters| {
            let t = Instant::now();
            for _ in 0..iters {
                let s = Instant::now();
                rt.block_on(echo(&mounted, "everything.echo"));
                samples[2].push(s.elapsed());
            }
            t.elapsed()
        })
    });
    g.finish();
    let names = ["direct", "two_node", "mounted"];
    let mut p50 = [Duration::ZERO; 3];
    for (i, s) in samples.iter_mut().enumerate() {
        if s.is_empty() {
            continue;
        }
        p50[i] = pct(s, 0.5);
        println!(
            "mcp/{} over {} calls: p50 {:?}, p90 {:?}, p99 {:?}",
            names[i],
            s.len(),
            p50[i],
            pct(s, 0.9),
            pct(s, 0.99)
        );
    }
    println!(
        "talos overhead at p50: two_node − direct {:?}, mounted − direct {:?} (the seed connector's stdio round trip: 12.5 ms)",
        p50[1].saturating_sub(p50[0]),
        p50[2].saturating_sub(p50[0])
    );
    rt.block_on(async move {
        direct.cancel().await.ok();
        mounted.cancel().await.ok();
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
