//! `talos audit monitor` against a real node's public log and a real chain (anvil): it
//! follows the log, then flags a stored leaf changed behind the node's back, and a chain
//! anchored past what the log publishes.

use reqwest::Method;
use serde_json::Value;
use talos_testkit::node::{NodeProc, TCP0, flags, init};

use super::anchoring::{anvil, audit, deploy, fund_node};
use super::public_log::grow;

/// The round and the alarms a `--once` run printed: (exit code, round, alarm kinds).
fn monitor(dir: &std::path::Path, args: &[&str]) -> (i32, Value, Vec<String>) {
    let (code, out) = audit(dir, &[&["monitor", "--once"], args].concat(), "");
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    let round = lines
        .iter()
        .find(|l| l.get("treeSize").is_some())
        .cloned()
        .unwrap_or_else(|| panic!("no round in {out}"));
    let alarms = lines
        .iter()
        .filter_map(|l| l["alarm"].as_str().map(str::to_string))
        .collect();
    (code, round, alarms)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_monitor_follows_the_log_and_flags_a_changed_leaf_and_a_stalled_log() {
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
            ("--public-log", "127.0.0.1:0"),
            ("--publish-secs", "100000"),
        ]),
    );
    fund_node(&chain, &home).await;
    let mut node = NodeProc::up(&home, &[]).await;
    let did = node.did.clone();
    // The public log's address (a new port after each restart).
    let base = |n: &NodeProc| format!("http://{}", n.ready["publicLog"].as_str().unwrap());
    let watcher = root.path().join("watcher");
    std::fs::create_dir_all(&watcher).unwrap();
    let state = |n: &str| watcher.join(n).to_str().unwrap().to_string();
    let (s1, s2) = (state("s1"), state("s2"));
    let at = |log: String| -> Vec<String> {
        [
            "--did",
            &did,
            "--log",
            &log,
            "--chain",
            &spec,
            "--contract",
            &contract,
        ]
        .map(str::to_string)
        .to_vec()
    };
    let mut common_owned = at(base(&node));
    let mut common: Vec<&str> = common_owned.iter().map(String::as_str).collect();

    grow(&node, 20).await;
    let (s, a) = node.call(Method::POST, "/v1/audit/anchor", None).await;
    assert_eq!(s, 200, "{a}");
    let (code, round, alarms) = monitor(&watcher, &[&common[..], &["--state", &s1]].concat());
    assert_eq!((code, alarms.len()), (0, 0), "{round}");
    assert_eq!(round["kinds"]["capability_issued"], 20, "{round}");
    assert_eq!(round["anchored"], round["treeSize"], "{round}");

    // It follows: the next round reads only what is new.
    grow(&node, 5).await;
    node.call(Method::POST, "/v1/audit/anchor", None).await;
    let (code, round, _) = monitor(&watcher, &[&common[..], &["--state", &s1]].concat());
    assert_eq!(code, 0, "{round}");
    assert_eq!(round["kinds"]["capability_issued"], 5, "{round}");

    // A stored leaf changed behind the node's back: the entries no longer rebuild the
    // signed root, whether read by a new monitor or read again.
    assert!(node.term().await.success());
    {
        let store = talos_store::Store::open(&home.join("db")).unwrap();
        let cf = store.cf(talos_store::db::CF_LEAVES).unwrap();
        let key = 7u64.to_be_bytes();
        let mut leaf = store.db().get_cf(cf, key).unwrap().unwrap();
        let at = leaf.len() / 2;
        leaf[at] = if leaf[at] == b'a' { b'b' } else { b'a' };
        store.db().put_cf(cf, key, leaf).unwrap();
    }
    node.restart().await;
    common_owned = at(base(&node));
    common = common_owned.iter().map(String::as_str).collect();
    let (code, round, alarms) = monitor(&watcher, &[&common[..], &["--state", &s2]].concat());
    assert_eq!(code, 1, "{round}");
    assert!(alarms.contains(&"entry_changed".to_string()), "{alarms:?}");
    let (code, _, alarms) = monitor(
        &watcher,
        &[&common[..], &["--state", &s1, "--recheck"]].concat(),
    );
    assert_eq!(code, 1);
    assert!(alarms.contains(&"entry_changed".to_string()), "{alarms:?}");

    // The agent anchors what it does not publish (the CLI anchors the head directly):
    // the chain runs ahead of the log, and after the allowed rounds that is an alarm.
    assert!(node.term().await.success());
    let (code, out) = audit(
        &home,
        &["anchor", "--chain", &spec, "--contract", &contract],
        "",
    );
    assert_eq!(code, 0, "{out}");
    node.restart().await;
    common_owned = at(base(&node));
    common = common_owned.iter().map(String::as_str).collect();
    let s3 = state("s3");
    let stalled = [&common[..], &["--state", &s3, "--stall-rounds", "2"]].concat();
    let (code, round, alarms) = monitor(&watcher, &stalled);
    assert!(
        !alarms.contains(&"stalled".to_string()),
        "one round behind is not yet an alarm: {round}"
    );
    assert!(
        round["anchored"].as_u64() > round["treeSize"].as_u64(),
        "{round}"
    );
    let _ = code;
    let (code, _, alarms) = monitor(&watcher, &stalled);
    assert_eq!(code, 1);
    assert!(alarms.contains(&"stalled".to_string()), "{alarms:?}");

    // Followed (not --once), the alarms are Prometheus gauges too, and the monitor exits 1
    // when stopped after raising one.
    let port = talos_testkit::free_port();
    let metrics = format!("127.0.0.1:{port}");
    let s4 = state("s4");
    let mut follow = tokio::process::Command::new(talos_testkit::node::talos_bin())
        .arg("--home")
        .arg(&watcher)
        .args([
            "audit",
            "monitor",
            "--every",
            "1",
            "--metrics",
            &metrics,
            "--state",
            &s4,
        ])
        .args(&common)
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let text = match reqwest::get(format!("http://{metrics}/metrics")).await {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if text.contains("talos_monitor_alarm{kind=\"entry_changed\"} 1")
            && text.contains("talos_monitor_tree_size")
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no alarm gauge: {text}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let pid = follow.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    assert_eq!(follow.wait().await.unwrap().code(), Some(1));
}
