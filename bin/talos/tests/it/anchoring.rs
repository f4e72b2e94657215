//! The running node's audit records: proofs and checkpoints through the API, anchoring on
//! request and on a schedule (embedded chain), and an auditor verifying an event's
//! inclusion proof against the anchored root once the node has stopped.

use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use talos_testkit::node::{NodeProc, PASS, TCP0, flags, init};

/// `talos audit <args>` on `home` with `stdin`: (exit code, stdout).
pub(crate) fn audit(home: &std::path::Path, args: &[&str], stdin: &str) -> (i32, String) {
    let args: Vec<&str> = std::iter::once("audit")
        .chain(args.iter().copied())
        .collect();
    let out = talos_testkit::node::talos_run(home, PASS, &args, stdin);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auditor_verifies_an_event_against_the_anchored_root() {
    let root = tempfile::tempdir().unwrap();
    let a_home = init(
        root.path(),
        "a",
        &flags(&[("--listen", TCP0), ("--anchor-secs", "0")]),
    );
    let mut a = NodeProc::up(&a_home, &[]).await;
    let b_home = init(
        root.path(),
        "b",
        &flags(&[
            ("--listen", TCP0),
            ("--bootstrap", &a.addr()),
            ("--anchor-secs", "1"),
        ]),
    );
    let b = NodeProc::up(&b_home, &[]).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Traffic, so both logs have events (session opened, frames sent and received).
    for i in 0..3u8 {
        a.send(&b.did, &[i]).await.unwrap();
    }
    assert_eq!(b.read_until(3, Duration::from_secs(10)).await.len(), 3);
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Nothing anchored yet on A (no schedule); then on request.
    let (s, _) = a.call(Method::GET, "/v1/audit/anchored", None).await;
    assert_eq!(s, 404);
    let (s, anchored) = a.call(Method::POST, "/v1/audit/anchor", None).await;
    assert_eq!(
        (s, anchored["anchored"].as_bool()),
        (200, Some(true)),
        "{anchored}"
    );
    let size = anchored["treeSize"].as_u64().unwrap();
    assert!(size >= 2, "{anchored}");
    let (s, latest) = a.call(Method::GET, "/v1/audit/anchored", None).await;
    assert_eq!(
        (s, latest["treeSize"].as_u64()),
        (200, Some(size)),
        "{latest}"
    );
    assert_eq!(latest["root"], anchored["root"]);

    // An event's inclusion proof at the anchored size, and a signed checkpoint.
    let (s, proof) = a
        .call(
            Method::GET,
            &format!("/v1/audit/proof?index=1&size={size}"),
            None,
        )
        .await;
    assert_eq!(s, 200, "{proof}");
    assert_eq!(proof["root"], anchored["root"]);
    let (s, _) = a
        .call(
            Method::GET,
            &format!("/v1/audit/proof?index={size}&size={size}"),
            None,
        )
        .await;
    assert_eq!(s, 404);
    let (s, cp) = a.call(Method::GET, "/v1/audit/checkpoint", None).await;
    assert_eq!(s, 200);
    let (note, key) = (
        cp["note"].as_str().unwrap(),
        cp["verifierKey"].as_str().unwrap(),
    );
    assert_eq!(
        audit(&a_home, &["verify-checkpoint", "--key", key], note).0,
        0
    );
    let (s, cons) = a
        .call(
            Method::GET,
            &format!("/v1/audit/consistency?old=1&new={size}"),
            None,
        )
        .await;
    assert_eq!(s, 200, "{cons}");
    assert_eq!(
        audit(&a_home, &["verify-consistency"], &cons.to_string()).0,
        0
    );

    // B anchors on its own schedule.
    let mut b_anchored = Value::Null;
    for _ in 0..50 {
        let (s, v) = b.call(Method::GET, "/v1/audit/anchored", None).await;
        if s == 200 {
            b_anchored = v;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        b_anchored["treeSize"].as_u64().unwrap() >= 1,
        "{b_anchored}"
    );

    // The auditor, with the node stopped, checks the proof against the chain.
    assert!(a.term().await.success());
    let did = anchored["did"].as_str().unwrap();
    let (code, out) = audit(
        &a_home,
        &["verify-anchored", "--did", did, "--inclusion", "-"],
        &proof.to_string(),
    );
    assert_eq!(code, 0, "{out}");
    // A proof for a different leaf hash fails against the same anchored root.
    let mut forged = proof.clone();
    forged["leafHash"] = proof["proof"][0].clone();
    let (code, _) = audit(
        &a_home,
        &["verify-anchored", "--did", did, "--inclusion", "-"],
        &forged.to_string(),
    );
    assert_eq!(code, 1);

    // The anchor survives a restart.
    a.restart().await;
    let (s, again) = a.call(Method::GET, "/v1/audit/anchored", None).await;
    assert_eq!(
        (s, again["treeSize"].as_u64()),
        (200, Some(size)),
        "{again}"
    );
}

pub(crate) use talos_testkit::anvil;

/// Anvil's first dev account, which deploys the contract in these tests.
pub(crate) const DEPLOYER: &str =
    "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/// Deploys TalosAnchor on `chain`; its address.
pub(crate) async fn deploy(chain: &anvil::Anvil) -> String {
    talos_anchor::evm::deploy(&chain.http(), DEPLOYER.parse().unwrap())
        .await
        .unwrap()
        .to_string()
}

/// Gives the EVM account of the node at `home` (derived from its identity; `talos id
/// show` prints it) 100 ETH on anvil.
pub(crate) async fn fund_node(chain: &anvil::Anvil, home: &std::path::Path) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_talos"))
        .arg("--home")
        .arg(home)
        .args(["id", "show", "--json"])
        .env("TALOS_PASSPHRASE", PASS)
        .output()
        .unwrap();
    let id: Value = serde_json::from_slice(&out.stdout).unwrap();
    anvil::rpc(
        &chain.http(),
        "anvil_setBalance",
        serde_json::json!([id["evmAccount"], "0x56BC75E2D63100000"]),
    )
    .await;
}

/// Revokes capability ids 1 and 2 on `a` (two audit events, two revocations queued for
/// the chain) and anchors: the anchor's answer and the proof of event 0 at its size.
pub(crate) async fn revoke_two_and_anchor(a: &NodeProc) -> (Value, Value) {
    for id in [
        "00000000000000000000000000000001",
        "00000000000000000000000000000002",
    ] {
        let (s, v) = a
            .call(
                Method::POST,
                "/v1/capabilities/revoke",
                Some(serde_json::json!({ "id": id })),
            )
            .await;
        assert_eq!(s, 200, "{v}");
    }
    let (s, anchored) = a.call(Method::POST, "/v1/audit/anchor", None).await;
    assert_eq!(
        (s, anchored["anchored"].as_bool()),
        (200, Some(true)),
        "{anchored}"
    );
    let size = anchored["treeSize"].as_u64().unwrap();
    let (s, proof) = a
        .call(
            Method::GET,
            &format!("/v1/audit/proof?index=0&size={size}"),
            None,
        )
        .await;
    assert_eq!(s, 200, "{proof}");
    (anchored, proof)
}

/// The node anchors on a real EVM chain (anvil) and an auditor, with its own empty home
/// and while the node runs, verifies an event's proof against the root on that chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auditor_verifies_against_anvil() {
    let chain = anvil::Anvil::start(None);
    let contract = deploy(&chain).await;
    let root = tempfile::tempdir().unwrap();
    let spec = format!("evm:{}", chain.http());
    let home = init(
        root.path(),
        "a",
        &flags(&[
            ("--listen", TCP0),
            ("--chain", &spec),
            ("--contract", &contract),
            ("--anchor-secs", "0"),
        ]),
    );
    fund_node(&chain, &home).await;

    let a = NodeProc::up(&home, &[]).await;
    let (anchored, proof) = revoke_two_and_anchor(&a).await;

    // The revocations went to the chain with that anchor (permanent there).
    {
        use talos_anchor::Anchor;
        let store = std::sync::Arc::new(
            talos_store::Store::open(&root.path().join("reader-store")).unwrap(),
        );
        let reader = talos_anchor::evm::EvmAnchor::connect(
            talos_anchor::evm::EvmConfig::new(chain.http(), contract.parse().unwrap()),
            talos_anchor::evm::PrivateKeySigner::random(),
            store,
        )
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
        let mut other = [0u8; 16];
        other[15] = 3;
        assert!(
            reader
                .revoked_by(&talos_primitives::CapabilityId(other))
                .await
                .unwrap()
                .is_none()
        );
    }

    let auditor = root.path().join("auditor");
    let did = anchored["did"].as_str().unwrap();
    let verify = |p: &Value| {
        audit(
            &auditor,
            &[
                "verify-anchored",
                "--chain",
                &spec,
                "--contract",
                &contract,
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
    let mut forged = proof.clone();
    forged["leafIdx"] = 1.into();
    assert_eq!(verify(&forged).0, 1);

    // The DID was registered with the first anchor; it resolves through the chain, and
    // its did:key document's hash is the registered one.
    let (s, published) = a.call(Method::POST, "/v1/did/publish", None).await;
    assert_eq!(
        (s, published["chain"]["version"].as_u64()),
        (200, Some(1)),
        "{published}"
    );
    let (s, resolved) = a.call(Method::GET, &format!("/v1/dids/{did}"), None).await;
    assert_eq!(s, 200, "{resolved}");
    assert_eq!(resolved["documentMatches"], true, "{resolved}");
    assert_eq!(resolved["document"]["id"], did);
    let stranger = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
    let (s, _) = a
        .call(Method::GET, &format!("/v1/dids/{stranger}"), None)
        .await;
    assert_eq!(s, 404);
    let (s, _) = a.call(Method::GET, "/v1/dids/not-a-did", None).await;
    assert_eq!(s, 400);
}

/// `talos demo --chain evm:URL`: the same story on a real chain (anvil); the funder key
/// deploys the contract and pays for the agents' anchors.
#[test]
fn the_demo_runs_on_anvil() {
    let chain = anvil::Anvil::start(None);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_talos"))
        .args(["demo", "--chain", &format!("evm:{}", chain.http())])
        .env("TALOS_DEMO_FUNDER_KEY", DEPLOYER)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("deployed TalosAnchor at 0x"), "{text}");
    assert!(
        text.contains(&format!("on the EVM chain at {}", chain.http())),
        "{text}"
    );
    assert!(
        text.contains("refused by the contract: TreeSizeShrinks"),
        "{text}"
    );
    assert!(
        text.contains("leads to the root anchored at size"),
        "{text}"
    );
    // Without a funder there is nothing to pay with: a clear error, no panic.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_talos"))
        .args(["demo", "--chain", &format!("evm:{}", chain.http())])
        .env_remove("TALOS_DEMO_FUNDER_KEY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--funder-key"));
}
