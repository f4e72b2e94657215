//! Runs a real `talos-chain` node (the consortium chain's node, built in this workspace)
//! on loopback ports: `--dev` (one validator, Alice) or one validator of a spec file.

use std::net::TcpStream;

use crate::free_port;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `talos-chain` node, killed on drop.
pub struct TalosChain {
    child: Option<Child>,
    /// Its RPC port (WebSocket and HTTP).
    pub rpc_port: u16,
    /// Its p2p port.
    pub p2p_port: u16,
    args: Vec<String>,
    log: PathBuf,
}

/// The `talos-chain` binary: `TALOS_CHAIN`, or beside this test binary's directory
/// (`target/<profile>/talos-chain`; cargo and nextest build every workspace binary
/// before running integration tests).
pub fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("TALOS_CHAIN") {
        return p.into();
    }
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let p = profile_dir.join("talos-chain");
    assert!(
        p.exists(),
        "{} not found: build it first (cargo build -p talos-chain-node)",
        p.display()
    );
    p
}

impl TalosChain {
    /// `talos-chain --dev` with its database in `base`.
    pub fn dev(base: &Path) -> Self {
        Self::start(vec![
            "--dev".into(),
            "--base-path".into(),
            base.display().to_string(),
        ])
    }

    /// A node with these extra arguments (ports and quiet flags are added).
    pub fn start(extra: Vec<String>) -> Self {
        let rpc_port = free_port();
        let p2p_port = free_port();
        let mut args = extra;
        args.extend(
            [
                "--rpc-port",
                &rpc_port.to_string(),
                "--port",
                &p2p_port.to_string(),
                "--no-telemetry",
                "--no-prometheus",
                "--no-mdns",
            ]
            .map(String::from),
        );
        let log = std::env::temp_dir().join(format!("talos-chain-{rpc_port}.log"));
        let mut me = Self {
            child: None,
            rpc_port,
            p2p_port,
            args,
            log,
        };
        me.restart();
        me
    }

    /// (Re)starts the process with the same arguments and ports.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "still running");
        let log = std::fs::File::create(&self.log).unwrap();
        let child = Command::new(binary())
            .args(&self.args)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawning talos-chain");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", self.rpc_port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "talos-chain did not open its RPC port; log: {}",
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Its WebSocket RPC URL.
    pub fn ws(&self) -> String {
        format!("ws://127.0.0.1:{}", self.rpc_port)
    }

    /// The last lines of the node's log, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// SIGKILL.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for TalosChain {
    fn drop(&mut self) {
        self.kill();
        // The log stays for a test that failed (its tail is in the panic message, the
        // rest is here); otherwise every run left one in the temp directory.
        if !std::thread::panicking() {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

/// One JSON-RPC call over HTTP to the node on `port`: its `result`, or `None` when the
/// node is unreachable or answers with an error (no subxt: this is also what an operator
/// would run with curl).
pub fn rpc(port: u16, method: &str, params: serde_json::Value) -> Option<serde_json::Value> {
    use std::io::{Read, Write};
    let body = serde_json::json!({"jsonrpc":"2.0","id":1,"method":method,"params":params});
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let text = body.to_string();
    write!(
        s,
        "POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        text.len(),
        text
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let json = out.split("\r\n\r\n").nth(1)?;
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    v.get("result").cloned()
}

/// The finalized block number, over JSON-RPC.
pub fn finalized(port: u16) -> Option<u64> {
    let hash = rpc(port, "chain_getFinalizedHead", serde_json::json!([]))?;
    let header = rpc(port, "chain_getHeader", serde_json::json!([hash]))?;
    let n = header.get("number")?.as_str()?;
    u64::from_str_radix(n.trim_start_matches("0x"), 16).ok()
}

/// Waits until the node's finalized head reaches `n`; panics after `within`.
pub fn wait_finalized(chain: &TalosChain, n: u64, within: Duration) -> u64 {
    let deadline = Instant::now() + within;
    loop {
        let seen = finalized(chain.rpc_port);
        if let Some(f) = seen
            && f >= n
        {
            return f;
        }
        assert!(
            Instant::now() < deadline,
            "finality did not reach {n} on port {} (last seen {seen:?}); log:\n{}",
            chain.rpc_port,
            chain.log_tail()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}
