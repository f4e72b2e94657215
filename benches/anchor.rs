//! Anchor call latencies: the embedded EVM (revm + synced RocksDB block) and a real anvil
//! over HTTP (automining, one confirmation), through the same `Anchor` trait.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use talos_anchor::Anchor;
use talos_anchor::embedded::{Clock, EmbeddedAnchor, EmbeddedChain};
use talos_anchor::evm::{EvmAnchor, EvmConfig, PrivateKeySigner, deploy};
use talos_primitives::{CapabilityId, Hash32, TreeHead};
use talos_store::Store;

fn signer() -> PrivateKeySigner {
    "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
        .parse()
        .unwrap()
}

/// The benchmarked agent's identity (registration signs an owner binding with it).
fn identity() -> talos_identity::IdentityKey {
    talos_identity::IdentityKey::from_seed(&talos_identity::IdentitySeed::from_bytes([7; 32]))
        .unwrap()
}

fn anvil_binary() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../contracts/node_modules/@foundry-rs");
    std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("anvil-"))
        .map(|e| e.path().join("bin/anvil"))
        .find(|p| p.exists())
        .expect("anvil: run scripts/bootstrap.sh")
}

struct Anvil(Child);

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_anvil(port: u16) -> Anvil {
    let child = Command::new(anvil_binary())
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--silent",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        std::thread::sleep(Duration::from_millis(50));
    }
    Anvil(child)
}

/// The same three operations on any backend.
fn bench_backend(c: &mut Criterion, name: &str, rt: &tokio::runtime::Runtime, a: &dyn Anchor) {
    let key = identity();
    let d = key.did();
    rt.block_on(a.register_did(&key, Hash32([1; 32]))).unwrap();
    let size = AtomicU64::new(0);
    let mut g = c.benchmark_group(format!("anchor/{name}"));
    g.sample_size(30).measurement_time(Duration::from_secs(6));
    g.bench_function("anchor_root (write, confirmed)", |b| {
        b.iter(|| {
            let s = size.fetch_add(1, Ordering::Relaxed) + 1;
            let root = Hash32(root_for(s));
            rt.block_on(a.anchor_root(&d, TreeHead { size: s, root }))
                .unwrap()
        })
    });
    g.bench_function("latest_root (read)", |b| {
        b.iter(|| rt.block_on(a.latest_root(&d)).unwrap())
    });
    let batch = AtomicU64::new(0);
    g.bench_function("revoke 100 ids (write, confirmed)", |b| {
        b.iter(|| {
            let n = batch.fetch_add(1, Ordering::Relaxed);
            let ids: Vec<CapabilityId> = (0..100u64)
                .map(|i| {
                    let mut id = [0u8; 16];
                    id[..8].copy_from_slice(&n.to_be_bytes());
                    id[8..].copy_from_slice(&i.to_be_bytes());
                    CapabilityId(id)
                })
                .collect();
            rt.block_on(a.revoke(&d, &ids)).unwrap()
        })
    });
    g.finish();
}

/// A distinct non-zero root per size.
fn root_for(s: u64) -> [u8; 32] {
    let mut r = [0xa5u8; 32];
    r[..8].copy_from_slice(&s.to_be_bytes());
    r
}

fn anchor(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("embedded")).unwrap());
    let chain = EmbeddedChain::open(store, Clock::System, signer().address()).unwrap();
    let embedded = EmbeddedAnchor::embedded(chain, signer().address());
    bench_backend(c, "embedded", &rt, &embedded);

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _anvil = start_anvil(port);
    let url = format!("http://127.0.0.1:{port}");
    let contract = rt.block_on(deploy(&url, signer())).unwrap();
    let mut cfg = EvmConfig::new(&url, contract);
    cfg.poll_interval = Duration::from_millis(5);
    let pending = Arc::new(Store::open(&dir.path().join("pending")).unwrap());
    let evm = rt
        .block_on(EvmAnchor::connect(cfg, signer(), pending))
        .unwrap();
    bench_backend(c, "anvil-http", &rt, &evm);
}

criterion_group!(benches, anchor);
criterion_main!(benches);
