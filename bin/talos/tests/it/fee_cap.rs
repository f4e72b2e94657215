//! `talos audit anchor --evm-max-fee-gwei` on a real anvil: with the base fee far above
//! the cap, the one-shot anchor signs at the cap, is refused, waits, and lands once the
//! base fee has fallen under it; nothing is signed above the cap.

use std::time::Duration;

use serde_json::{Value, json};
use talos_testkit::anvil::rpc;
use talos_testkit::node::{PASS, init, talos};

use crate::anchoring::{anvil, deploy, fund_node};

/// 1,000 gwei: the base fee the chain jumps to before the anchor.
const SPIKE_WEI: u128 = 1_000_000_000_000;
/// The cap, 20 gwei: without it the client would offer twice the 1,000 gwei base fee.
const CAP_GWEI: u64 = 20;

/// The child process, killed if the test fails before it ends.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
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
    // The base fee is held at 1,000 gwei, block after block, until the client has signed
    // its first write at the cap and been refused for it (its debug log says so); then
    // it falls by 12.5 % per empty block, so ~30 blocks bring it under 20 gwei.
    let spike = || async {
        rpc(
            &url,
            "anvil_setNextBlockBaseFeePerGas",
            json!([format!("{SPIKE_WEI:#x}")]),
        )
        .await;
    };
    spike().await;
    rpc(&url, "evm_mine", json!([])).await;

    let spec = format!("evm:{url}");
    let cap = CAP_GWEI.to_string();
    let mut child = Killed(
        talos()
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
            .env("RUST_LOG", "talos_anchor=debug")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let (lines, seen) = std::sync::mpsc::channel::<String>();
    let stderr = child.0.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut all = String::new();
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = lines.send(line.clone());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    // Blocks go by, as on a live chain, until the anchor ends; the client offers again
    // every few blocks. Progress, not the clock, moves the test on: first the refusal,
    // then the client's exit.
    let mut refused = false;
    let mut blocks = 0;
    while child.0.try_wait().unwrap().is_none() {
        assert!(blocks < 10_000, "the capped anchor never landed");
        refused |= seen
            .try_iter()
            .any(|l| l.contains("broadcast refused for now"));
        if !refused {
            spike().await;
        }
        rpc(&url, "evm_mine", json!([])).await;
        blocks += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let status = child.0.wait().unwrap();
    let mut stdout = Vec::new();
    std::io::Read::read_to_end(&mut child.0.stdout.take().unwrap(), &mut stdout).unwrap();
    let log = reader.join().unwrap();
    refused |= log.contains("broadcast refused for now");
    assert!(status.success(), "{log}");
    assert!(refused, "no write was refused under the spike: {log}");
    let anchored: Value = serde_json::from_slice(&stdout).unwrap();
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
    // The registration was signed under the spike, where the market asked ~2,000 gwei:
    // at exactly the cap.
    assert_eq!(sent[0].1, cap_wei, "{sent:?}");
    assert!(
        sent.iter()
            .any(|(hash, _)| hash[2..].eq_ignore_ascii_case(anchored["tx"].as_str().unwrap())),
        "{sent:?} {anchored}"
    );
}
