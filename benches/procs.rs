//! Shared by the process benchmarks (`node`, `invoke`): start release `talos up`
//! processes on loopback and read their peak RSS. Included with `#[path]`, since bench
//! targets cannot share a module otherwise without making the library depend on them.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub(crate) const PASS: &str = "bench-passphrase";

pub(crate) fn talos_bin() -> PathBuf {
    if let Ok(p) = std::env::var("TALOS_BIN") {
        return p.into();
    }
    // target/release/deps/node-… → target/release/talos
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().unwrap().parent().unwrap().join("talos");
    assert!(
        bin.exists(),
        "{} missing: run `cargo build --release -p talos-node` (make bench does) or set TALOS_BIN",
        bin.display()
    );
    bin
}

/// A running `talos up` and its API.
pub(crate) struct Node {
    pub(crate) child: Child,
    pub(crate) home: PathBuf,
    pub(crate) url: String,
    pub(crate) token: String,
    pub(crate) did: String,
    pub(crate) addr: String,
}

/// `talos init` (with `extra` flags) and `talos up` in `root/name`.
pub(crate) async fn start(
    root: &Path,
    name: &str,
    bootstrap: Option<&str>,
    extra: &[&str],
) -> Node {
    let home = root.join(name);
    let mut init = std::process::Command::new(talos_bin());
    init.arg("--home").arg(&home).args([
        "init",
        "--api",
        "127.0.0.1:0",
        "--listen",
        "/ip4/127.0.0.1/tcp/0",
        "--mdns",
        "false",
    ]);
    if let Some(b) = bootstrap {
        init.args(["--bootstrap", b]);
    }
    init.args(extra);
    let out = init.env("TALOS_PASSPHRASE", PASS).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut child = Command::new(talos_bin())
        .arg("--home")
        .arg(&home)
        .arg("up")
        .env("TALOS_PASSPHRASE", PASS)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let ready: Value = serde_json::from_str(&lines.next_line().await.unwrap().unwrap()).unwrap();
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Node {
        child,
        home: home.clone(),
        url: format!("http://{}", ready["api"].as_str().unwrap()),
        token: std::fs::read_to_string(home.join("api-token"))
            .unwrap()
            .trim()
            .into(),
        did: ready["did"].as_str().unwrap().into(),
        addr: ready["listen"][0].as_str().unwrap().into(),
    }
}

/// The process's peak RSS (VmHWM).
pub(crate) fn peak_rss_kib(child: &Child) -> u64 {
    let pid = child.id().unwrap();
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0)
}
