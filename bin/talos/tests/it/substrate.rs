//! The node on a talos consortium chain (a real `talos-chain --dev`): its key is made a
//! member by sudo, it anchors its audit log and revocations there, and an auditor with
//! an empty home verifies an event's inclusion proof against the root on that chain.
//! Also `talos demo --chain substrate:URL`.

use std::time::Duration;

use reqwest::Method;
use serde_json::Value;
use talos_anchor::Anchor;
use talos_anchor::substrate::{SubstrateAnchor, admin};

use crate::anchoring::{audit, revoke_two_and_anchor};
pub(crate) use talos_testkit::chain::{TalosChain, wait_finalized};
use talos_testkit::node::{NodeProc, PASS, TCP0, flags, init};

/// The Ed25519 key (= chain account) of the node at `home`.
pub(crate) fn node_key(home: &std::path::Path) -> [u8; 32] {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_talos"))
        .arg("--home")
        .arg(home)
        .args(["id", "show", "--json"])
        .env("TALOS_PASSPHRASE", PASS)
        .output()
        .unwrap();
    let id: Value = serde_json::from_slice(&out.stdout).unwrap();
    let did: talos_primitives::Did = id["did"].as_str().unwrap().parse().unwrap();
    *did.as_key().unwrap().as_bytes()
}

pub(crate) fn dev_chain(base: &std::path::Path) -> TalosChain {
    let chain = TalosChain::dev(base);
    wait_finalized(&chain, 1, Duration::from_secs(90));
    chain
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auditor_verifies_against_talos_chain() {
    let root = tempfile::tempdir().unwrap();
    let chain = tokio::task::block_in_place(|| dev_chain(&root.path().join("chain")));
    let spec = format!("substrate:{}", chain.ws());
    let home = init(
        root.path(),
        "a",
        &flags(&[
            ("--listen", TCP0),
            ("--chain", &spec),
            ("--anchor-secs", "0"),
        ]),
    );
    admin::add_member(&chain.ws(), "//Alice", node_key(&home))
        .await
        .unwrap();

    let a = NodeProc::up(&home, &[]).await;
    let (anchored, proof) = revoke_two_and_anchor(&a).await;

    // The revocations went to the chain with that anchor, signed by the node's key.
    let reader = SubstrateAnchor::connect(&chain.ws(), &[7; 32])
        .await
        .unwrap();
    for n in [1u8, 2] {
        let mut id = [0u8; 16];
        id[15] = n;
        let by = reader
            .revoked_by(&talos_primitives::CapabilityId(id))
            .await
            .unwrap();
        assert!(by.is_some(), "revocation {n} is not on the chain");
    }

    let auditor = root.path().join("auditor");
    std::fs::create_dir_all(&auditor).unwrap();
    let did = anchored["did"].as_str().unwrap();
    let verify = |p: &Value| {
        audit(
            &auditor,
            &[
                "verify-anchored",
                "--chain",
                &spec,
                "--did",
                did,
                "--inclusion",
                "-",
            ],
            &p.to_string(),
        )
    };
    let (code, out) = verify(&proof);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("\"chain\":\"substrate\""), "{out}");
    let mut forged = proof.clone();
    forged["leafIdx"] = 1.into();
    assert_eq!(verify(&forged).0, 1);

    // The DID was registered with the first anchor and resolves from chain state.
    let (s, resolved) = a.call(Method::GET, &format!("/v1/dids/{did}"), None).await;
    assert_eq!(s, 200, "{resolved}");
    assert_eq!(resolved["documentMatches"], true, "{resolved}");
}

/// `talos demo --chain substrate:URL --sudo //Alice`: the demo's story on the consortium
/// chain; sudo admits the demo's agents as members.
#[test]
fn the_demo_runs_on_talos_chain() {
    let base = tempfile::tempdir().unwrap();
    let chain = dev_chain(base.path());
    let url = format!("substrate:{}", chain.ws());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_talos"))
        .args(["demo", "--chain", &url])
        .env("TALOS_DEMO_SUDO", "//Alice")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("talos consortium chain at"), "{text}");
    assert!(
        text.contains("refused by the contract: TreeSizeShrinks"),
        "{text}"
    );
    assert!(
        text.contains("leads to the root anchored at size"),
        "{text}"
    );
    // Without the sudo key nobody can admit the agents: a clear error.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_talos"))
        .args(["demo", "--chain", &url])
        .env_remove("TALOS_DEMO_SUDO")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--sudo"));
}
