//! The consortium chain's capacity at agent scale: how many member additions, DID
//! registrations, audit-root anchors and revocations one `talos-chain` on
//! `chain-spec/dev.json` (one validator, Alice; 2-second blocks) includes per block and
//! per second once its blocks are full. Needs the release node:
//!
//! ```sh
//! cargo build --release -p talos-chain-node
//! TALOS_CHAIN=$CARGO_TARGET_DIR/release/talos-chain cargo bench -p talos-benches --bench chain_capacity
//! ```
//!
//! `CAP_AGENTS` agents (default 3,000), each an Ed25519 key signing its own extrinsics
//! as talos nodes do. Each phase signs all its extrinsics first (explicit nonces,
//! immortal), submits them at once, then reads every block until all are included:
//! extrinsics per block, and the block's normal-class ref time (`System::BlockWeight`)
//! against the 375 ms the runtime allows (75 % of half a second), which says whether the
//! blocks were full by weight. Printed as Markdown table rows.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::time::{Duration, Instant};

use codec::{Compact, Decode};
use futures::StreamExt;
use serde_json::json;
use sha2::{Digest, Sha256};
use subxt::config::{RpcConfigFor, SubstrateExtrinsicParamsBuilder};
use subxt::dynamic::Value;
use subxt::rpcs::{LegacyRpcMethods, RpcClient};
use subxt::utils::{AccountId32, H256};
use subxt::{OnlineClient, SubstrateConfig};
use talos_anchor::substrate::Ed25519Signer;
use talos_testkit::chain::{TalosChain, rpc, wait_finalized};

/// Block time of the runtime (aura slots), seconds.
const BLOCK_SECS: f64 = 2.0;
/// The normal class's ref-time limit per block, picoseconds (75 % of 0.5 s).
const NORMAL_LIMIT_PS: f64 = 375e9;
/// `twox128("System") ++ twox128("BlockWeight")`: the block's consumed weight per class.
const BLOCK_WEIGHT_KEY: &str = "0x26aa394eea5630e07c48ae0c9558cef734abf5cb34d6244378cddbf18e849d96";
/// Revocation batch size of the batched phase (the runtime's `MaxBatch`).
const BATCH: usize = 512;

type Api = OnlineClient<SubstrateConfig>;

fn h256(tag: &str, i: usize, k: usize) -> H256 {
    H256(Sha256::digest(format!("{tag}/{i}/{k}")).into())
}

/// Signs `call` offline for `signer` at `nonce` (immortal).
fn sign<C: subxt::client::OfflineClientAtBlockT<SubstrateConfig>>(
    txc: &subxt::transactions::TransactionsClient<SubstrateConfig, C>,
    call: &impl subxt::transactions::Payload,
    signer: &impl subxt::transactions::Signer<SubstrateConfig>,
    nonce: u64,
) -> Vec<u8> {
    let params = SubstrateExtrinsicParamsBuilder::<SubstrateConfig>::new()
        .nonce(nonce)
        .build();
    txc.create_signable_offline(call, params)
        .unwrap()
        .sign(signer)
        .unwrap()
        .into_encoded()
}

/// Normal-class ref time the block at `hash` consumed, picoseconds.
fn normal_ref_time(port: u16, hash: &serde_json::Value) -> u64 {
    let raw = rpc(port, "state_getStorage", json!([BLOCK_WEIGHT_KEY, hash])).unwrap();
    let bytes = hex::decode(raw.as_str().unwrap().trim_start_matches("0x")).unwrap();
    // PerDispatchClass<Weight>: normal first; Weight is (compact ref_time, compact proof).
    let (Compact(ref_time), Compact(_proof)) =
        <(Compact<u64>, Compact<u64>)>::decode(&mut bytes.as_slice()).unwrap();
    ref_time
}

struct Block {
    extrinsics: usize,
    normal_ms: f64,
}

/// Extrinsics (less the timestamp inherent) and normal ref time of block `n`.
fn block(port: u16, n: u64) -> Option<Block> {
    let hash = rpc(port, "chain_getBlockHash", json!([n]))?;
    if hash.is_null() {
        return None;
    }
    let b = rpc(port, "chain_getBlock", json!([hash]))?;
    let count = b["block"]["extrinsics"].as_array()?.len();
    Some(Block {
        extrinsics: count.saturating_sub(1),
        normal_ms: normal_ref_time(port, &hash) as f64 / 1e9,
    })
}

fn best(port: u16) -> u64 {
    let h = rpc(port, "chain_getHeader", json!([])).unwrap();
    u64::from_str_radix(h["number"].as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

/// Submits `txs` at once and reads blocks until all are in; prints one table row.
fn phase(
    rt: &tokio::runtime::Runtime,
    chain: &TalosChain,
    methods: &LegacyRpcMethods<RpcConfigFor<SubstrateConfig>>,
    name: &str,
    items_per_tx: usize,
    txs: Vec<Vec<u8>>,
) {
    let port = chain.rpc_port;
    let from = best(port) + 1;
    let total = txs.len();
    let t0 = Instant::now();
    let refused = rt.block_on(async {
        futures::stream::iter(txs)
            .map(|tx| async move { methods.author_submit_extrinsic(&tx).await.is_err() })
            .buffer_unordered(64)
            .filter(|refused| futures::future::ready(*refused))
            .count()
            .await
    });
    let submitted = t0.elapsed();
    assert_eq!(refused, 0, "{name}: the pool refused {refused} of {total}");

    let mut blocks = Vec::new();
    let mut included = 0;
    let mut n = from;
    let deadline = Instant::now() + Duration::from_secs(600);
    while included < total {
        assert!(
            Instant::now() < deadline,
            "{name}: {included} of {total} included"
        );
        match block(port, n) {
            Some(b) => {
                included += b.extrinsics;
                if b.extrinsics > 0 {
                    blocks.push(b);
                }
                n += 1;
            }
            None => std::thread::sleep(Duration::from_millis(200)),
        }
    }
    // Full blocks: all but the last, partly filled one (and any started before the
    // pool held the burst).
    let mut full: Vec<&Block> = blocks.iter().take(blocks.len().saturating_sub(1)).collect();
    if full.is_empty() {
        full = blocks.iter().collect();
    }
    full.sort_by_key(|b| b.extrinsics);
    let med = full[full.len() / 2].extrinsics;
    let max = full.last().map(|b| b.extrinsics).unwrap_or(0);
    let ms = full[full.len() / 2].normal_ms;
    let per_sec = med as f64 * items_per_tx as f64 / BLOCK_SECS;
    println!(
        "| {name} | {total} | {} | {med} / {max} | {:.0} | {ms:.0} ms ({:.0} %) | {:.1} s |",
        blocks.len(),
        per_sec,
        ms * 1e9 / NORMAL_LIMIT_PS * 100.0,
        submitted.as_secs_f64()
    );
}

fn main() {
    let agents: usize = std::env::var("CAP_AGENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    let anchors_per_agent = 4usize;
    // `CAP_BASE`: keep the chain's database there (it must not exist yet), a populated
    // state for `WEIGHTS_DB=<it> scripts/weights.sh` to measure storage on.
    let dir = tempfile::tempdir().unwrap();
    let base = match std::env::var("CAP_BASE") {
        Ok(b) => {
            assert!(!std::path::Path::new(&b).exists(), "CAP_BASE {b} exists");
            std::path::PathBuf::from(b)
        }
        Err(_) => dir.path().to_path_buf(),
    };
    // The committed dev spec, so the chain runs the production runtime's wasm whatever
    // features the node binary was built with (`scripts/weights.sh` builds it with
    // `runtime-benchmarks`).
    let spec = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../chain-spec/dev.json");
    let chain = TalosChain::start(vec![
        "--chain".into(),
        spec.display().to_string(),
        "--alice".into(),
        "--force-authoring".into(),
        // A validator outside `--dev` needs a network key; any fixed one does alone.
        "--node-key".into(),
        "01".repeat(32),
        "--base-path".into(),
        base.display().to_string(),
        // Room for a whole burst in the pool (the defaults are 8,192 and 20 MiB).
        "--pool-limit".into(),
        "100000".into(),
        "--pool-kbytes".into(),
        "1000000".into(),
    ]);
    wait_finalized(&chain, 1, Duration::from_secs(180));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let ws = chain.ws();
    let api: Api = rt.block_on(Api::from_insecure_url(&ws)).unwrap();
    let methods = LegacyRpcMethods::new(rt.block_on(RpcClient::from_insecure_url(&ws)).unwrap());
    let keys: Vec<Ed25519Signer> = (0..agents)
        .map(|i| {
            let seed: [u8; 32] = Sha256::digest(format!("agent/{i}")).into();
            Ed25519Signer::from_seed(&seed)
        })
        .collect();
    let alice = subxt_signer::sr25519::dev::alice();
    let txc = rt.block_on(api.transactions()).unwrap();

    println!(
        "| phase | extrinsics | blocks | per full block, median / max | items per second | normal ref time per full block | submit time |"
    );
    println!("|---|---|---|---|---|---|---|");

    // Alice's nonce: the chain is new, so 0.
    let txs = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let inner = Value::unnamed_variant(
                "Members",
                [Value::named_variant(
                    "add_member",
                    [(
                        "who",
                        Value::unnamed_variant("Id", [Value::from_bytes(k.public())]),
                    )],
                )],
            );
            let call = subxt::dynamic::tx("Sudo", "sudo", (inner,));
            sign(&txc, &call, &alice, i as u64)
        })
        .collect();
    phase(&rt, &chain, &methods, "sudo `Members.add_member`", 1, txs);

    let txs = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let call = subxt::dynamic::tx(
                "TalosDid",
                "register",
                (h256("doc", i, 0), Vec::<Vec<u8>>::new()),
            );
            sign(&txc, &call, k, 0)
        })
        .collect();
    phase(&rt, &chain, &methods, "`TalosDid.register`", 1, txs);

    let mut txs = Vec::new();
    for size in 1..=anchors_per_agent {
        for (i, k) in keys.iter().enumerate() {
            let call = subxt::dynamic::tx(
                "TalosAnchor",
                "anchor_root",
                (AccountId32(k.public()), size as u64, h256("root", i, size)),
            );
            txs.push(sign(&txc, &call, k, size as u64));
        }
    }
    phase(&rt, &chain, &methods, "`TalosAnchor.anchor_root`", 1, txs);

    let nonce = anchors_per_agent as u64 + 1;
    let txs = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let id: [u8; 16] = h256("id", i, 0).0[..16].try_into().unwrap();
            let call =
                subxt::dynamic::tx("TalosAnchor", "revoke", (AccountId32(k.public()), vec![id]));
            sign(&txc, &call, k, nonce)
        })
        .collect();
    phase(&rt, &chain, &methods, "`TalosAnchor.revoke`, 1 id", 1, txs);

    let batched = agents.min(200);
    let txs = keys
        .iter()
        .take(batched)
        .enumerate()
        .map(|(i, k)| {
            let ids: Vec<[u8; 16]> = (0..BATCH)
                .map(|j| h256("batch", i, j).0[..16].try_into().unwrap())
                .collect();
            let call = subxt::dynamic::tx("TalosAnchor", "revoke", (AccountId32(k.public()), ids));
            sign(&txc, &call, k, nonce + 1)
        })
        .collect();
    phase(
        &rt,
        &chain,
        &methods,
        "`TalosAnchor.revoke`, 512 ids",
        BATCH,
        txs,
    );
}
