//! `@modelcontextprotocol/conformance` (pinned in `mcp-servers/`) against `talos mcp
//! serve --http`: the active server suite must match the committed baseline
//! (`mcp-servers/conformance-baseline.yml`, each entry explained in docs/mcp.md), so a
//! scenario that starts failing, or one in the baseline that starts passing, fails here.
//! The suite cannot send a bearer token, so `mcp-servers/bearer-proxy.mjs` adds the
//! node's, and passes any foreign Host or Origin through for the DNS-rebinding scenario.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use talos_testkit::node::talos_bin;
use tokio::io::AsyncBufReadExt;
use tokio::process::Child;

use super::processes::network;

fn servers() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../mcp-servers")
}

/// The npm tools first on PATH (the pinned Node 22 the suite needs).
fn path() -> String {
    let bin = servers().join("node_modules/.bin");
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Spawns `cmd` with stderr or stdout piped and returns it with the first JSON line.
async fn spawn_json(mut cmd: tokio::process::Command, stderr: bool) -> (Child, Value) {
    if stderr {
        cmd.stderr(Stdio::piped()).stdout(Stdio::null());
    } else {
        cmd.stdout(Stdio::piped()).stderr(Stdio::null());
    }
    let mut child = cmd.kill_on_drop(true).spawn().unwrap();
    let out: Box<dyn tokio::io::AsyncRead + Unpin + Send> = if stderr {
        Box::new(child.stderr.take().unwrap())
    } else {
        Box::new(child.stdout.take().unwrap())
    };
    let mut lines = tokio::io::BufReader::new(out).lines();
    let v = tokio::time::timeout(Duration::from_secs(120), async {
        loop {
            let line = lines.next_line().await.unwrap().expect("exited early");
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                return v;
            }
        }
    })
    .await
    .unwrap();
    (child, v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mcp_conformance_suite_matches_its_baseline() {
    let root = tempfile::tempdir().unwrap();
    let nodes = network(root.path(), 1).await;
    let a = &nodes[0];
    let mut serve = tokio::process::Command::new(talos_bin());
    serve
        .arg("--home")
        .arg(&a.home)
        .args(["mcp", "serve", "--http", "127.0.0.1:0"]);
    let (_serve, bound) = spawn_json(serve, true).await;
    let mut proxy = tokio::process::Command::new("node");
    proxy
        .arg(servers().join("bearer-proxy.mjs"))
        .env("PATH", path())
        .env("TARGET", bound["mcp"].as_str().unwrap())
        .env("TALOS_TOKEN", a.token());
    let (_proxy, fwd) = spawn_json(proxy, false).await;
    let out = tokio::process::Command::new("conformance")
        .env("PATH", path())
        .args(["server", "--url", fwd["url"].as_str().unwrap()])
        .arg("--expected-failures")
        .arg(servers().join("conformance-baseline.yml"))
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "conformance: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("Baseline check passed"), "{stdout}");
}
