//! `talos audit anchor --evm-max-fee-gwei` on a real anvil: with the base fee far above
//! the cap, the one-shot anchor signs nothing above the cap and lands once the base fee
//! has fallen under it.

use std::time::Duration;

use serde_json::{Value, json};
use talos_testkit::node::{PASS, init, talos};

use crate::anchoring::{anvil, deploy, fund_node};

/// 1,000 gwei: the base fee the chain jumps to before the anchor.
const SPIKE_WEI: u128 = 1_000_000_000_000;
/// The cap, 20 gwei: without it the client would offer twice the 1,000 gwei base fee.
const CAP_GWEI: u64 = 20;

async fn rpc(url: &str, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let answer: Value = reqwest::Client::new()
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

fn hex_u128(v: &Value) -> u128 {
    u128::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_capped_one_shot_anchor_waits_for_the_base_fee() {
    let chain = anvil::Anvil::start(None);
    let url = chain.http();
    let contract = deploy(&chain).await;
    let root = tempfile::tempdir().unwrap();
    let home = init(root.path(), "a", &[]);
    fund_node(&chain, &home).await;
    {
        let (_, log) = talos_node::home::Home::resolve(Some(home.clone()))
            .unwrap()
            .open_stores()
            .unwrap();
        for i in 0..5u8 {
            log.append(vec![i; 10]).unwrap();
        }
    }
    // The base fee jumps to 1,000 gwei in a block of its own; from there it falls by
    // 12.5 % per empty block, so ~30 blocks bring it under 20 gwei.
    rpc(
        &url,
        "anvil_setNextBlockBaseFeePerGas",
        json!([format!("{SPIKE_WEI:#x}")]),
    )
    .await;
    rpc(&url, "evm_mine", json!([])).await;

    let spec = format!("evm:{url}");
    let cap = CAP_GWEI.to_string();
    let mut child = talos()
        .arg("--home")
        .arg(&home)
        .args([
            "audit",
            "anchor",
            "--json",
            "--chain",
            &spec,
            "--contract",
            &contract,
        ])
        .args(["--evm-max-fee-gwei", &cap])
        .env("TALOS_PASSPHRASE", PASS)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Blocks go by, as on a live chain, until the anchor ends: progress, not the clock,
    // bounds the wait (the client offers again every few blocks).
    let mut blocks = 0;
    while child.try_wait().unwrap().is_none() {
        assert!(blocks < 2_000, "the capped anchor never landed");
        rpc(&url, "evm_mine", json!([])).await;
        blocks += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let anchored: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(anchored["treeSize"], 5, "{anchored}");

    // Every transaction the agent's account sent (the DID registration, then the
    // anchor) offered at most the cap, and the anchor is one of them.
    let cap_wei = u128::from(CAP_GWEI) * 1_000_000_000;
    let id: Value = serde_json::from_slice(
        &talos()
            .arg("--home")
            .arg(&home)
            .args(["id", "show", "--json"])
            .env("TALOS_PASSPHRASE", PASS)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let account = id["evmAccount"].as_str().unwrap().to_lowercase();
    let head = hex_u128(&rpc(&url, "eth_blockNumber", json!([])).await);
    let mut sent = Vec::new();
    for n in 0..=head {
        let block = rpc(
            &url,
            "eth_getBlockByNumber",
            json!([format!("{n:#x}"), true]),
        )
        .await;
        for tx in block["transactions"].as_array().unwrap() {
            if tx["from"].as_str().unwrap().to_lowercase() == account {
                sent.push((
                    tx["hash"].as_str().unwrap().to_string(),
                    hex_u128(&tx["maxFeePerGas"]),
                ));
            }
        }
    }
    assert_eq!(sent.len(), 2, "registration and anchor: {sent:?}");
    assert!(sent.iter().all(|(_, fee)| *fee <= cap_wei), "{sent:?}");
    assert!(
        sent.iter()
            .any(|(hash, _)| hash[2..].eq_ignore_ascii_case(anchored["tx"].as_str().unwrap())),
        "{sent:?} {anchored}"
    );
}
