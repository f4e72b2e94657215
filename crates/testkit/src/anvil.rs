//! Runs a real anvil (from contracts/node_modules, installed by scripts/bootstrap.sh) on a
//! loopback port, optionally persisting its chain to a state file so a restart keeps it.

use std::net::TcpStream;

use crate::free_port;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One JSON-RPC call to the node at `url`: its `result`. Panics, naming the method, if
/// the node answers with an error.
pub async fn rpc(url: &str, method: &str, params: serde_json::Value) -> serde_json::Value {
    let body = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let answer: serde_json::Value = reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(answer.get("error").is_none(), "{method}: {answer}");
    answer["result"].clone()
}

/// A running anvil, killed on drop.
pub struct Anvil {
    child: Option<Child>,
    /// Its JSON-RPC port on loopback.
    pub port: u16,
}

fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("TALOS_ANVIL") {
        return p.into();
    }
    // The native binary of @foundry-rs/anvil's platform package, not the node wrapper in
    // .bin: killing the wrapper would orphan the real anvil.
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contracts/node_modules/@foundry-rs");
    std::fs::read_dir(&dir)
        .ok()
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("anvil-"))
        .map(|e| e.path().join("bin/anvil"))
        .find(|p| p.exists())
        .unwrap_or_else(|| {
            panic!(
                "anvil not found under {}: run scripts/bootstrap.sh (npm install in contracts/)",
                dir.display()
            )
        })
}

impl Anvil {
    /// A fresh anvil on a free port. `state`: load from and dump to this file (every
    /// second), so a killed anvil restarts with its chain.
    pub fn start(state: Option<&Path>) -> Self {
        Self::start_on(free_port(), state)
    }

    /// A fresh anvil on `port` (a restart takes the same port).
    pub fn start_on(port: u16, state: Option<&Path>) -> Self {
        Self::start_with(port, state, &[])
    }

    /// A fresh anvil on `port` with `extra` arguments (`--block-time 2` for interval
    /// mining, say).
    pub fn start_with(port: u16, state: Option<&Path>, extra: &[&str]) -> Self {
        let mut cmd = Command::new(binary());
        cmd.args(extra);
        cmd.args([
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--silent",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        if let Some(s) = state {
            cmd.arg("--state").arg(s).args(["--state-interval", "1"]);
        }
        let child = cmd.spawn().expect("spawning anvil");
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "anvil did not listen on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            child: Some(child),
            port,
        }
    }

    /// Its HTTP JSON-RPC URL.
    pub fn http(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Its WebSocket JSON-RPC URL.
    pub fn ws(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    /// kill -9: no chance to dump state or finish anything.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        self.kill();
    }
}
