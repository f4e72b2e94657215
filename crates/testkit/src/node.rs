//! Real `talos up` processes on loopback: init a home, start the node,
//! read its ready line, talk to its HTTP API, kill it (-9 or TERM) and start it again.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub use crate::free_port;

/// The keystore passphrase every harnessed node uses.
pub const PASS: &str = "process-test-passphrase";
/// A loopback TCP listen address on any free port.
pub const TCP0: &str = "/ip4/127.0.0.1/tcp/0";

mod threads;
pub use threads::{Threads, ThreadsUsage};

/// `--flag value` pairs as arguments.
pub fn flags(pairs: &[(&str, &str)]) -> Vec<String> {
    pairs
        .iter()
        .flat_map(|(k, v)| [k.to_string(), v.to_string()])
        .collect()
}

/// `talos init` in `root/name` with these flags.
pub fn init(root: &Path, name: &str, flags: &[String]) -> PathBuf {
    let home = root.join(name);
    let out = std::process::Command::new(talos_bin())
        .arg("--home")
        .arg(&home)
        .arg("init")
        .args(["--mdns", "false"])
        // TCP on a free port unless the test picks the API's address itself.
        .args(if flags.iter().any(|f| f == "--api") {
            vec![]
        } else {
            vec!["--api", "127.0.0.1:0"]
        })
        .args(flags)
        .env("TALOS_PASSPHRASE", PASS)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "init failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    home
}

/// Sets `key = value` in a home's config.toml (the line `talos init` wrote).
pub fn set_config(home: &Path, settings: &[(&str, &str)]) {
    let path = home.join("config.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for (key, value) in settings {
        let line = lines
            .iter_mut()
            .find(|l| l.split('=').next().map(str::trim) == Some(key))
            .unwrap_or_else(|| panic!("no {key} in config.toml"));
        *line = format!("{key} = {value}");
    }
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
}

/// A running `talos up`.
pub struct NodeProc {
    /// Its home directory.
    pub home: PathBuf,
    child: Child,
    /// Its DID (did:key).
    pub did: String,
    /// Listen addresses, each ending in /p2p/<PeerId>.
    pub listen: Vec<String>,
    /// Its API.
    pub api: Api,
    /// Its ready line.
    pub ready: Value,
    args: Vec<String>,
}

impl std::ops::Deref for NodeProc {
    type Target = Api;
    fn deref(&self) -> &Api {
        &self.api
    }
}

/// A node's HTTP API (cloneable, so an agent task can keep using it while the test
/// kills and restarts the process).
#[derive(Clone)]
pub struct Api {
    /// The same client `talos agent` uses; this adds the tests' typed shortcuts.
    client: talos_node::client::ApiClient,
}

impl NodeProc {
    /// Starts `talos up` over `home` with extra flags and waits for its ready line.
    pub async fn up(home: &Path, args: &[String]) -> NodeProc {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(home.join("node.log"))
            .unwrap();
        let mut child = Command::new(talos_bin())
            .arg("--home")
            .arg(home)
            .arg("up")
            .args(args)
            .env("TALOS_PASSPHRASE", PASS)
            .env(
                "RUST_LOG",
                std::env::var("TALOS_TEST_LOG")
                    .unwrap_or_else(|_| "info,libp2p_kad=warn,libp2p_mdns=warn".into()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("no ready line from {}", home.display()))
            .unwrap()
            .unwrap_or_else(|| {
                let log = std::fs::read_to_string(home.join("node.log")).unwrap_or_default();
                panic!("talos up exited early:\n{log}")
            });
        // Keep draining stdout so the node never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let ready: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(ready["event"], "ready");
        let token = std::fs::read_to_string(home.join("api-token")).unwrap();
        let client = talos_node::client::ApiClient::new(
            ready["api"].as_str().unwrap(),
            &home.join("api.sock"),
            token.trim().to_string(),
        )
        .unwrap();
        NodeProc {
            home: home.to_path_buf(),
            child,
            api: Api { client },
            did: ready["did"].as_str().unwrap().to_string(),
            listen: ready["listen"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect(),
            ready,
            args: args.to_vec(),
        }
    }

    /// The first listen address (with /p2p/), for others to bootstrap from.
    pub fn addr(&self) -> String {
        self.listen[0].clone()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id().unwrap()
    }

    /// Peak resident memory (VmHWM) in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    /// What each of the process's live threads has used so far (Linux `schedstat` and
    /// `status` of each thread).
    pub fn threads(&self) -> Threads {
        Threads::of(self.pid())
    }

    /// The node's `/metrics` page (Prometheus text).
    pub async fn metrics_text(&self) -> String {
        let (client, url, token) = self.http();
        client
            .get(format!("{url}/metrics"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// The value of the series `name` (with its labels, if any) on `/metrics`, 0 when
    /// absent.
    pub async fn metric(&self, name: &str) -> u64 {
        self.metrics_text()
            .await
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .map_or(0, |v| v as u64)
    }

    /// kill -9: no chance to flush or drain.
    pub async fn kill9(&mut self) {
        self.child.kill().await.unwrap();
    }

    /// SIGTERM, then waits for the exit status.
    pub async fn term(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().unwrap();
        let ok = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("node did not stop after SIGTERM")
            .unwrap();
        if !status.success() {
            let log = std::fs::read_to_string(self.home.join("node.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(15).collect();
            eprintln!(
                "{} exited with {status}:\n{}",
                self.home.display(),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        status
    }

    /// Starts the same node again (same home, same flags).
    pub async fn restart(&mut self) {
        let again = NodeProc::up(&self.home, &self.args).await;
        *self = again;
    }
}

impl Api {
    /// POST /v1/messages. `Ok(seq)` means the node has made the message durable.
    pub async fn send(&self, to: &str, data: &[u8]) -> Result<u64, String> {
        let resp = self
            .client
            .http()
            .post(format!("{}/v1/messages", self.url()))
            .bearer_auth(self.token())
            .json(&serde_json::json!({ "to": to, "data": B64.encode(data) }))
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = resp.status();
        let body: Value = resp.json().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("{status}: {body}"));
        }
        Ok(body["seq"].as_u64().unwrap())
    }

    /// GET /v1/messages from `from`, long-polling up to `wait_ms`.
    pub async fn read(&self, from: u64, wait_ms: u64) -> Vec<(u64, String, u64, Vec<u8>)> {
        let resp: Value = self
            .client
            .http()
            .get(format!(
                "{}/v1/messages?from={from}&max=1024&waitMs={wait_ms}",
                self.url()
            ))
            .bearer_auth(self.token())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        resp["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["index"].as_u64().unwrap(),
                    m["from"].as_str().unwrap().to_string(),
                    m["seq"].as_u64().unwrap(),
                    B64.decode(m["data"].as_str().unwrap()).unwrap(),
                )
            })
            .collect()
    }

    /// Reads the inbox until `n` messages have arrived or `timeout` passes.
    pub async fn read_until(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Vec<(u64, String, u64, Vec<u8>)> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut all = Vec::new();
        let mut from = 0;
        while all.len() < n && tokio::time::Instant::now() < deadline {
            let got = self.read(from, 500).await;
            if let Some(last) = got.last() {
                from = last.0 + 1;
            }
            all.extend(got);
        }
        all
    }

    /// A JSON request to the API: (status, body).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        self.client.call(method, path, body.as_ref()).await.unwrap()
    }

    /// Group messages in the inbox: (group, from, body), until `n` or `timeout`.
    pub async fn read_group_until(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Vec<(String, String, Vec<u8>)> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut all = Vec::new();
        let mut from = 0;
        while all.len() < n && tokio::time::Instant::now() < deadline {
            let path = format!("/v1/messages?from={from}&max=1024&waitMs=500");
            let (_, resp) = self.call(reqwest::Method::GET, &path, None).await;
            for m in resp["messages"].as_array().unwrap() {
                from = m["index"].as_u64().unwrap() + 1;
                if let Some(g) = m["group"].as_str() {
                    all.push((
                        g.to_string(),
                        m["from"].as_str().unwrap().to_string(),
                        B64.decode(m["data"].as_str().unwrap()).unwrap(),
                    ));
                }
            }
        }
        all
    }

    /// A raw request to the API (for the malformed-input tests).
    pub fn http(&self) -> (&reqwest::Client, &str, &str) {
        (self.client.http(), self.client.url(), self.client.token())
    }

    /// Its base URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> &str {
        self.client.url()
    }

    /// Its bearer token.
    pub fn token(&self) -> &str {
        self.client.token()
    }
}

/// The `talos` binary under test.
pub fn talos() -> std::process::Command {
    std::process::Command::new(talos_bin())
}

/// Runs `talos --home HOME ARGS` to its end with `pass` as the keystore passphrase and
/// `stdin` on its standard input; its exit code and output are in the result.
pub fn talos_run(home: &Path, pass: &str, args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = talos()
        .arg("--home")
        .arg(home)
        .args(args)
        .env("TALOS_PASSPHRASE", pass)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// The `talos` binary: `TALOS_BIN`, or beside the running test or bench binary
/// (`target/<profile>/deps/<test>` → `target/<profile>/talos`; cargo builds a package's
/// binaries before its integration tests, and `make bench` builds the release one).
pub fn talos_bin() -> PathBuf {
    if let Ok(p) = std::env::var("TALOS_BIN") {
        return p.into();
    }
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().unwrap().parent().unwrap().join("talos");
    assert!(
        bin.exists(),
        "{} missing: build it (cargo build -p talos) or set TALOS_BIN",
        bin.display()
    );
    bin
}

/// `talos init` (loopback TCP on a free port, the API on loopback TCP, no mDNS, an
/// optional bootstrap peer and `extra` flags) and `talos up` in `root/name`.
pub async fn start(root: &Path, name: &str, bootstrap: Option<&str>, extra: &[&str]) -> NodeProc {
    let mut f = vec!["--listen".to_string(), TCP0.to_string()];
    if let Some(b) = bootstrap {
        f.extend(["--bootstrap".to_string(), b.to_string()]);
    }
    f.extend(extra.iter().map(|s| s.to_string()));
    let home = init(root, name, &f);
    NodeProc::up(&home, &[]).await
}
