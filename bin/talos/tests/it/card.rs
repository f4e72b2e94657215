//! The signed A2A agent card: served by a real node (API and public log, no token),
//! verified by `talos card verify` and by the A2A Python SDK's own verifier; a card the
//! SDK signs verifies with ours; any changed field, another DID and a DID deactivated on
//! the chain (anvil) fail.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use talos_testkit::node::{NodeProc, PASS, TCP0, flags, init, talos_run};

use super::anchoring::{anvil, deploy, fund_node};

const CARD: &str = r#"
name = "booking"
description = "Books flights for other agents"
version = "1.2.0"

[provider]
organization = "Example Travel"
url = "https://travel.example"

[[skills]]
id = "book-flight"
name = "Book a flight"
description = "Books one seat on a flight"
tags = ["travel"]
examples = ["one seat on LH400"]
scope = [{ res = "talos://booking/flights/*", act = ["book"] }]
"#;

/// The A2A SDK's interpreter (scripts/bootstrap.sh installs it, pinned).
fn a2a_python() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../interop/a2a");
    let py = root.join(".venv/bin/python");
    assert!(
        py.exists(),
        "{} missing: run scripts/bootstrap.sh",
        py.display()
    );
    py
}

/// `verify_card.py MODE` with `card` on stdin: (exit code, stdout).
fn a2a(mode: &str, card: &Value) -> (i32, String) {
    use std::io::Write;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../interop/a2a/verify_card.py");
    let mut child = Command::new(a2a_python())
        .arg(script)
        .arg(mode)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(card.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// `talos card verify ARGS` with `card` on stdin: (exit code, JSON output).
fn ours(home: &Path, card: &Value, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["card", "verify", "-"];
    all.extend_from_slice(args);
    let out = talos_run(home, PASS, &all, &card.to_string());
    let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap(), v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_is_served_signed_and_verifies_both_ways() {
    let chain = anvil::Anvil::start(None);
    let contract = deploy(&chain).await;
    let spec = format!("evm:{}", chain.http());
    let root = tempfile::tempdir().unwrap();
    let home = init(
        root.path(),
        "booking",
        &flags(&[
            ("--listen", TCP0),
            ("--chain", &spec),
            ("--contract", &contract),
            ("--anchor-secs", "0"),
            ("--public-log", "127.0.0.1:0"),
        ]),
    );
    std::fs::write(home.join("card.toml"), CARD).unwrap();
    fund_node(&chain, &home).await;
    let mut node = NodeProc::up(&home, &[]).await;
    let (http, api, _) = node.http();
    // Served without a token, on the API and on the public listener alike.
    let card: Value = http
        .get(format!("{api}/.well-known/agent-card.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let public = format!("http://{}", node.ready["publicLog"].as_str().unwrap());
    let again: Value = http
        .get(format!("{public}/.well-known/agent-card.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(card, again);
    assert_eq!(card["supportedInterfaces"][0]["url"], json!(node.did));
    assert_eq!(
        card["skills"][0]["securityRequirements"][0]["schemes"]["talos"]["list"],
        json!(["talos://booking/flights/* book"])
    );

    // Ours, from the URL (the base URL finds /.well-known) and from stdin.
    let out = talos_run(&home, PASS, &["card", "verify", &public], "");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let (code, v) = ours(&home, &card, &["--did", &node.did]);
    assert_eq!(
        (code, v["did"].as_str()),
        (0, Some(node.did.as_str())),
        "{v}"
    );
    // The A2A SDK's verifier accepts it.
    assert_eq!(a2a("verify", &card).0, 0);

    // Any changed field fails both.
    for (path, new) in [
        ("/name", json!("b00king")),
        (
            "/skills/0/securityRequirements/0/schemes/talos/list/0",
            json!("talos://** book"),
        ),
        (
            "/supportedInterfaces/0/url",
            json!("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"),
        ),
    ] {
        let mut c = card.clone();
        *c.pointer_mut(path).unwrap() = new;
        assert_eq!(ours(&home, &c, &[]).0, 1, "{path}");
        assert_eq!(a2a("verify", &c).0, 1, "{path}");
    }
    // Another agent's DID expected; garbage.
    let other = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
    assert_eq!(ours(&home, &card, &["--did", other]).0, 1);
    let out = talos_run(&home, PASS, &["card", "verify", "-"], "{not json");
    assert_eq!(out.status.code(), Some(2));

    // A card the A2A SDK signs (its own key, as a did:key) verifies with ours, under the
    // SDK's DID; changed, it does not.
    let (code, signed) = a2a("sign", &card);
    assert_eq!(code, 0);
    let signed: Value = serde_json::from_str(&signed).unwrap();
    let sdk_did = signed["supportedInterfaces"][0]["url"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(sdk_did, node.did);
    let (code, v) = ours(&home, &signed, &[]);
    assert_eq!(
        (code, v["did"].as_str()),
        (0, Some(sdk_did.as_str())),
        "{v}"
    );
    let mut c = signed.clone();
    c["description"] = json!("Books trains");
    assert_eq!(ours(&home, &c, &[]).0, 1);

    // A peer finds the card in the node's DHT record by DID, verified by its node and
    // again by the CLI.
    let peer_home = init(
        root.path(),
        "planner",
        &flags(&[("--listen", TCP0), ("--bootstrap", &node.addr())]),
    );
    let peer = NodeProc::up(&peer_home, &[]).await;
    let (s, v) = peer
        .call(
            reqwest::Method::GET,
            &format!("/v1/peers/{}/card", node.did),
            None,
        )
        .await;
    assert_eq!((s, &v), (200, &card));
    let out = talos_run(&peer_home, PASS, &["card", "verify", &node.did], "");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // The peer itself has no card.toml: its record has no card.
    let (s, v) = node
        .call(
            reqwest::Method::GET,
            &format!("/v1/peers/{}/card", peer.did),
            None,
        )
        .await;
    assert_eq!((s, v["kind"].as_str()), (404, Some("not_found")), "{v}");
    drop(peer);

    // On the chain: registered and active, then deactivated. The auditor has its own
    // home (the node's keeps its chain client's store locked while it runs).
    let auditor = init(root.path(), "auditor", &flags(&[("--listen", TCP0)]));
    let (s, v) = node
        .call(reqwest::Method::POST, "/v1/did/publish", None)
        .await;
    assert_eq!(s, 200, "{v}");
    let on_chain = ["--chain", spec.as_str(), "--contract", contract.as_str()];
    let (code, v) = ours(&auditor, &card, &on_chain);
    assert_eq!((code, &v["registered"]), (0, &json!(true)), "{v}");
    node.term().await;
    let key = talos_node::home::Home::resolve(Some(home.clone()))
        .unwrap()
        .load_identity(&talos_node::home::passphrase(None, Some(PASS.into()), false).unwrap())
        .unwrap();
    let target = spec.parse().unwrap();
    let home_dir = talos_node::home::Home::resolve(Some(home.clone())).unwrap();
    let backend = talos_node::anchor_target::open(&home_dir, &target, Some(&contract), Some(&key))
        .await
        .unwrap();
    backend.deactivate_did(&key.did()).await.unwrap();
    let (code, v) = ours(&auditor, &card, &on_chain);
    assert_eq!(code, 1, "{v}");
    assert!(
        v["message"].as_str().unwrap().contains("deactivated"),
        "{v}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_card_toml_is_a_404_problem_and_a_bad_one_stops_the_node() {
    let root = tempfile::tempdir().unwrap();
    let home = init(root.path(), "plain", &flags(&[("--listen", TCP0)]));
    let node = NodeProc::up(&home, &[]).await;
    let (http, api, _) = node.http();
    let r = http
        .get(format!("{api}/.well-known/agent-card.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["kind"], "not_found");
    drop(node);
    let bad = init(root.path(), "bad", &flags(&[("--listen", TCP0)]));
    std::fs::write(bad.join("card.toml"), "name = \"x\"\nnmae = 1\n").unwrap();
    let out = talos_run(&bad, PASS, &["up"], "");
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("card.toml"));
}
