//! Witnesses (`talos witness`, C2SP tlog-witness) and a node that collects their
//! cosignatures before it anchors: 2 of 3 with one down, a shortfall audited, and a
//! forked log refused by every witness that is up, which keeps the evidence.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;
use talos_audit::note::Note;
use talos_audit::witness::WitnessKey;
use talos_testkit::node::{NodeProc, PASS, flags, init, talos_bin};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::anchoring::audit;
use super::mcp_proxy::event_where;
use super::public_log::grow;

/// A running `talos witness`: the process, its key, its URL.
struct WitnessProc {
    child: Child,
    key: WitnessKey,
    url: String,
}

async fn witness(home: &Path, listen: &str) -> WitnessProc {
    let mut child = Command::new(talos_bin())
        .arg("--home")
        .arg(home)
        .args(["witness", "--open", "--listen", listen])
        .env("TALOS_PASSPHRASE", PASS)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
        .await
        .expect("no ready line from the witness")
        .unwrap()
        .expect("the witness exited");
    let ready: Value = serde_json::from_str(&line).unwrap();
    WitnessProc {
        child,
        key: WitnessKey::parse(ready["witness"].as_str().unwrap()).unwrap(),
        url: ready["url"].as_str().unwrap().to_string(),
    }
}

/// The checkpoint a node publishes now, parsed.
async fn publish(node: &NodeProc) -> (u64, Note) {
    let (s, v) = node.call(Method::POST, "/v1/audit/publish", None).await;
    assert_eq!(s, 200, "{v}");
    (
        v["treeSize"].as_u64().unwrap(),
        Note::parse(v["note"].as_str().unwrap()).unwrap(),
    )
}

fn node_flags(witnesses: &[String]) -> Vec<String> {
    flags(&[
        ("--listen", "/ip4/127.0.0.1/tcp/0"),
        ("--public-log", "127.0.0.1:0"),
        ("--anchor-secs", "0"),
        ("--publish-secs", "100000"),
        ("--witness", &witnesses.join(",")),
        ("--witness-quorum", "2"),
        // Down witnesses refuse connections at once; a busy machine must not look like
        // a witness timing out.
        ("--witness-timeout-ms", "60000"),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_of_three_witnesses_cosign_and_a_fork_is_refused_with_evidence() {
    let root = tempfile::tempdir().unwrap();
    let homes: Vec<_> = (1..=3)
        .map(|i| init(root.path(), &format!("w{i}"), &[]))
        .collect();
    let w1 = witness(&homes[0], "127.0.0.1:0").await;
    let mut w2 = witness(&homes[1], "127.0.0.1:0").await;
    let w2_addr = w2.url.trim_start_matches("http://").to_string();
    // The third is down from the start: its key is known, nothing listens at its URL.
    let w3_key = WitnessKey::of("w3", &talos_testkit::keys::identity(33));
    let w3_url = format!("http://127.0.0.1:{}", talos_testkit::free_port());
    let peers = vec![
        format!("{}@{}", w1.key, w1.url),
        format!("{}@{}", w2.key, w2.url),
        format!("{w3_key}@{w3_url}"),
    ];
    let home = init(root.path(), "agent", &node_flags(&peers));
    let mut node = NodeProc::up(&home, &[]).await;

    // 2 of 3: the anchored checkpoint carries both cosignatures, and no shortfall.
    grow(&node, 10).await;
    let (s, anchored) = node.call(Method::POST, "/v1/audit/anchor", None).await;
    assert_eq!(
        (s, anchored["anchored"].as_bool()),
        (200, Some(true)),
        "{anchored}"
    );
    let base = format!("http://{}", node.ready["publicLog"].as_str().unwrap());
    let text = reqwest::get(format!("{base}/checkpoint"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let note = Note::parse(&text).unwrap();
    assert!(
        w1.key.cosigned(&note).is_some() && w2.key.cosigned(&note).is_some(),
        "{text}"
    );
    assert!(w3_key.cosigned(&note).is_none());

    // An auditor's proof holds with a 2-of-3 witness policy, not with 3 of 3.
    let auditor = root.path().join("auditor");
    std::fs::create_dir_all(&auditor).unwrap();
    let file = auditor.join("p.tlog-proof");
    let f = file.to_str().unwrap();
    let (code, out) = audit(
        &auditor,
        &["proof", "--log", &base, "--index", "3", "-o", f],
        "",
    );
    assert_eq!(code, 0, "{out}");
    let keys = [w1.key.to_string(), w2.key.to_string(), w3_key.to_string()];
    let mut args = vec!["verify-proof", f];
    for k in &keys {
        args.extend(["--witness", k.as_str()]);
    }
    let (code, out) = audit(
        &auditor,
        &[&args[..], &["--witnesses-needed", "2"]].concat(),
        "",
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        audit(
            &auditor,
            &[&args[..], &["--witnesses-needed", "3"]].concat(),
            ""
        )
        .0,
        1
    );

    // One more down: published and anchored anyway, the shortfall audited.
    w2.child.kill().await.unwrap();
    grow(&node, 3).await;
    let (s, anchored) = node.call(Method::POST, "/v1/audit/anchor", None).await;
    assert_eq!(
        (s, anchored["anchored"].as_bool()),
        (200, Some(true)),
        "{anchored}"
    );
    let (shortfall, _) = event_where(&node, "witness shortfall", |ev| {
        ev["type"] == "witness_shortfall" && ev["got"] == 1
    })
    .await;
    let missing = &shortfall["event"]["body"]["event"]["missing"];
    assert_eq!(missing.as_array().unwrap().len(), 2, "{shortfall}");

    // A fork: the agent's home copied, and each copy grows its own way from there.
    assert!(node.term().await.success());
    let fork_home = root.path().join("fork");
    copy_dir(&home, &fork_home);
    let w2 = witness(&homes[1], &w2_addr).await;
    let node = NodeProc::up(&home, &[]).await;
    let fork = NodeProc::up(&fork_home, &[]).await;
    grow(&node, 4).await;
    grow(&fork, 4).await;
    let (size, honest) = publish(&node).await;
    assert!(w1.key.cosigned(&honest).is_some() && w2.key.cosigned(&honest).is_some());
    let (fork_size, forked) = publish(&fork).await;
    assert_eq!(
        size, fork_size,
        "the two histories must reach one size for a split view"
    );
    assert!(
        w1.key.cosigned(&forked).is_none() && w2.key.cosigned(&forked).is_none(),
        "every witness refuses the fork"
    );
    // Each witness kept both signed checkpoints as evidence.
    let origin = format!("talos/{}", node.did);
    for w in [&w1, &w2] {
        let q = origin.replace(':', "%3A").replace('/', "%2F");
        let ev: Value = reqwest::get(format!("{}/evidence?origin={q}", w.url))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let kept = ev.as_array().unwrap().iter().any(|e| {
            e["offered"].as_str().unwrap().starts_with(&forked.text)
                && e["cosigned"].as_str().unwrap().starts_with(&honest.text)
        });
        assert!(kept, "{ev}");
    }
    // A monitor of the honest log hears of it from the witnesses, with both notes.
    let base = format!("http://{}", node.ready["publicLog"].as_str().unwrap());
    let (code, out) = audit(
        &auditor,
        &[
            "monitor",
            "--once",
            "--did",
            &node.did,
            "--log",
            &base,
            "--witness",
            &w1.url,
            "--witness",
            &w2.url,
        ],
        "",
    );
    assert_eq!(code, 1, "{out}");
    let split = out
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["alarm"] == "split_view")
        .unwrap_or_else(|| panic!("no split view in {out}"));
    assert_eq!(split["evidence"].as_array().unwrap().len(), 2, "{split}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}
