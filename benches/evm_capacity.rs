//! The EVM anchor contract's capacity at agent scale: how many DID registrations,
//! audit-root anchors and single-id revocations one anvil (interval mining, 2-second
//! blocks, a 30 M gas limit, as on mainnet-like chains) includes per block once its
//! blocks are full, and the gas of each. The counterpart of `chain_capacity.rs`.
//!
//! ```sh
//! CAP_AGENTS=3000 cargo bench -p talos-benches --bench evm_capacity
//! ```
//!
//! `CAP_AGENTS` agents (default 3,000), each its own funded EVM account and did:key,
//! written through the node's own EVM backend (`EvmAnchor`: its nonce handling, its
//! owner binding, its receipt polling), all at once per phase. Afterwards every block of
//! the phase is read: transactions and gas used per block; every block but a phase's
//! last is full (all was pending at once). Printed as Markdown table rows.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};
use talos_anchor::Anchor;
use talos_anchor::evm::{EvmAnchor, EvmConfig, deploy};
use talos_identity::IdentityKey;
use talos_primitives::{CapabilityId, Hash32, TreeHead};
use talos_store::Store;
use talos_testkit::anvil::{Anvil, rpc};

const BLOCK_SECS: f64 = 2.0;
const GAS_LIMIT: u64 = 30_000_000;
/// anvil's first dev account (its default mnemonic): the deployer.
const DEPLOYER: &str = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

fn hex_u64(v: &Value) -> u64 {
    u64::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

async fn block_number(url: &str) -> u64 {
    hex_u64(&rpc(url, "eth_blockNumber", json!([])).await)
}

/// Reads blocks `from..=to`: (transactions, gas used) of each that has any.
async fn blocks(url: &str, from: u64, to: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    for n in from..=to {
        let b = rpc(
            url,
            "eth_getBlockByNumber",
            json!([format!("0x{n:x}"), false]),
        )
        .await;
        let txs = b["transactions"].as_array().map_or(0, Vec::len) as u64;
        if txs > 0 {
            out.push((txs, hex_u64(&b["gasUsed"])));
        }
    }
    out
}

#[derive(Clone, Copy)]
enum Op {
    Register,
    Anchor,
    Revoke,
}

async fn run(op: Op, i: usize, key: &IdentityKey, a: &EvmAnchor) {
    match op {
        Op::Register => {
            a.register_did(key, Hash32([1; 32])).await.unwrap();
        }
        Op::Anchor => {
            let head = TreeHead {
                size: 100 + i as u64,
                root: Hash32([(i % 250) as u8 + 1; 32]),
            };
            a.anchor_root(&key.did(), head).await.unwrap();
        }
        Op::Revoke => {
            let mut id = [0u8; 16];
            id[..8].copy_from_slice(&(i as u64).to_le_bytes());
            a.revoke(&key.did(), &[CapabilityId(id)]).await.unwrap();
        }
    }
}

/// Runs `op` for every agent at once, then prints the phase's row.
async fn phase(name: &str, url: &str, agents: &[(IdentityKey, EvmAnchor)], op: Op) {
    let start = block_number(url).await;
    let t = Instant::now();
    futures::stream::iter(agents.iter().enumerate())
        .map(|(i, (key, anchor))| run(op, i, key, anchor))
        .buffer_unordered(agents.len())
        .collect::<Vec<()>>()
        .await;
    let took = t.elapsed();
    let end = block_number(url).await;
    let bs = blocks(url, start + 1, end).await;
    let total: u64 = bs.iter().map(|(n, _)| n).sum();
    let gas_per_tx = bs.iter().map(|(_, g)| g).sum::<u64>() / total.max(1);
    // Everything was pending at once, so every block but the phase's last took all the
    // transactions that fit (the packer counts each transaction's gas limit, which the
    // backend sets above its estimate, so a full block has some gas left unused).
    let full = &bs[..bs.len().saturating_sub(1)];
    let per_block = full.iter().map(|(n, _)| *n).max().unwrap_or(0);
    let fill = full
        .iter()
        .map(|(_, g)| *g as f64 / GAS_LIMIT as f64)
        .fold(0.0, f64::max);
    println!(
        "{name}: {total} in {} blocks ({} full), {:.1} s; per block {:?}",
        bs.len(),
        full.len(),
        took.as_secs_f64(),
        bs.iter().map(|(n, _)| n).collect::<Vec<_>>()
    );
    println!(
        "| {name} | {gas_per_tx} | {per_block} | {:.0} | {:.1} % |",
        per_block as f64 / BLOCK_SECS,
        fill * 100.0
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::var("CAP_AGENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3_000);
    let anvil = Anvil::start_with(
        talos_testkit::free_port(),
        None,
        &["--block-time", "2", "--gas-limit", &GAS_LIMIT.to_string()],
    );
    let url = anvil.http();
    let contract = deploy(&url, DEPLOYER.parse().unwrap()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let mut cfg = EvmConfig::new(url.clone(), contract);
    // n writers poll their receipts: keep that load on anvil modest.
    cfg.poll_interval = Duration::from_secs(1);
    cfg.confirm_timeout = Duration::from_secs(600);

    let mut agents = Vec::with_capacity(n);
    for i in 0..n {
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&(i as u64).to_le_bytes());
        seed[31] = 0xe7;
        let key = talos_testkit::keys::from_seed(seed);
        let mut evm = [0u8; 32];
        evm[..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
        evm[31] = 0x5e;
        let signer = alloy::signers::local::PrivateKeySigner::from_bytes(&evm.into()).unwrap();
        rpc(
            &url,
            "anvil_setBalance",
            json!([signer.address().to_string(), "0x56BC75E2D63100000"]),
        )
        .await;
        let anchor = EvmAnchor::connect(cfg.clone(), signer, store.clone())
            .await
            .unwrap();
        agents.push((key, anchor));
    }
    println!("{n} agents funded; contract {contract}");
    println!("| call | gas used | per full block | per second | gas used of the limit |");
    println!("|---|---|---|---|---|");
    phase("register", &url, &agents, Op::Register).await;
    phase("anchorRoot", &url, &agents, Op::Anchor).await;
    phase("revoke (1 id)", &url, &agents, Op::Revoke).await;
}
