//! Aggregated anchoring with real processes and a real chain (anvil): an agent with no
//! chain of its own submits its checkpoint to an aggregator node, the aggregator anchors
//! its own log, and an auditor verifies an event of the agent's through the aggregate
//! proof. The aggregator's refusals are typed, and what it acknowledged survives kill -9.

use reqwest::Method;
use serde_json::Value;
use talos_audit::aggregate::AggregateProof;
use talos_audit::checkpoint::{Checkpoint, sign_talos, talos_origin};
use talos_primitives::{Hash32, TreeHead};
use talos_testkit::node::{NodeProc, TCP0, flags, init};

use super::anchoring::{anvil, audit, deploy, fund_node};
use super::public_log::grow;

/// POSTs `note` to the aggregator: (status, body).
async fn submit(base: &str, note: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{base}/aggregate/add-checkpoint"))
        .body(note.to_owned())
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

fn head(size: u64, b: u8) -> TreeHead {
    TreeHead {
        size,
        root: Hash32([b; 32]),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_is_anchored_through_an_aggregator() {
    let chain = anvil::Anvil::start(None);
    let contract = deploy(&chain).await;
    let spec = format!("evm:{}", chain.http());
    let root = tempfile::tempdir().unwrap();

    // The agent has no chain at all.
    let a_home = init(
        root.path(),
        "agent",
        &flags(&[("--listen", TCP0), ("--chain", "none")]),
    );
    let agent = NodeProc::up(&a_home, &[]).await;
    // A second agent the aggregator serves, whose checkpoints this test signs itself.
    let (other, stranger) = (
        talos_testkit::keys::identity(91),
        talos_testkit::keys::identity(92),
    );
    let served = format!("{},{}", agent.did, other.did());
    let g_home = init(
        root.path(),
        "aggregator",
        &flags(&[
            ("--listen", TCP0),
            ("--chain", &spec),
            ("--contract", &contract),
            ("--anchor-secs", "0"),
            ("--public-log", "127.0.0.1:0"),
            ("--publish-secs", "100000"),
            ("--aggregate-for", &served),
            ("--aggregate-secs", "3600"),
        ]),
    );
    fund_node(&chain, &g_home).await;
    let mut g = NodeProc::up(&g_home, &[]).await;
    let base = |n: &NodeProc| format!("http://{}", n.ready["publicLog"].as_str().unwrap());

    // The agent submits its checkpoint with the CLI; again, the same answer.
    grow(&agent, 5).await;
    let (code, out) = audit(&a_home, &["aggregate", "--to", &base(&g)], "");
    assert_eq!(code, 0, "{out}");
    let first: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(first["new"], true, "{first}");
    let size = first["treeSize"].as_u64().unwrap();
    assert!(size >= 5, "{first}");
    let (code, out) = audit(&a_home, &["aggregate", "--to", &base(&g)], "");
    let again: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (code, &again["index"], &again["new"]),
        (0, &first["index"], &Value::Bool(false))
    );

    // Refusals, each typed: not served, signed by another key, malformed, a smaller
    // size (stale), another root at a logged size (fork), a new head too soon.
    let b = base(&g);
    let note =
        |key: &talos_identity::IdentityKey, h: TreeHead| sign_talos(key, h).unwrap().to_text();
    let (s, v) = submit(&b, &note(&stranger, head(3, 1))).await;
    assert_eq!((s, v["kind"].as_str()), (403, Some("not_served")), "{v}");
    let forged = Checkpoint {
        origin: talos_origin(&other.did()),
        head: head(3, 1),
        extensions: vec![],
    }
    .sign(&other.did().to_string(), &stranger)
    .unwrap()
    .to_text();
    let (s, v) = submit(&b, &forged).await;
    assert_eq!((s, v["kind"].as_str()), (403, Some("bad_signature")), "{v}");
    let (s, _) = submit(&b, "not a note").await;
    assert_eq!(s, 400);
    let (s, v) = submit(&b, &note(&other, head(10, 1))).await;
    assert_eq!((s, &v["new"]), (200, &Value::Bool(true)), "{v}");
    let other_index = v["index"].as_u64().unwrap();
    let (s, v) = submit(&b, &note(&other, head(9, 1))).await;
    assert_eq!((s, v["kind"].as_str()), (409, Some("stale")), "{v}");
    let (s, v) = submit(&b, &note(&other, head(10, 2))).await;
    assert_eq!((s, v["kind"].as_str()), (409, Some("fork")), "{v}");
    let (s, v) = submit(&b, &note(&other, head(11, 1))).await;
    assert_eq!((s, v["kind"].as_str()), (429, Some("rate_limited")), "{v}");

    // Not yet published: no proof.
    let proof_of = |g: &NodeProc, did: String| {
        let url = format!("{}/aggregate/proof/{did}", base(g));
        async move {
            let r = reqwest::get(url).await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    assert_eq!(proof_of(&g, agent.did.clone()).await.0, 404);

    // Acknowledged means durable: kill -9, restart, then anchor.
    g.kill9().await;
    g.restart().await;
    let (s, anchored) = g.call(Method::POST, "/v1/audit/anchor", None).await;
    assert_eq!(
        (s, anchored["anchored"].as_bool()),
        (200, Some(true)),
        "{anchored}"
    );
    let (s, text) = proof_of(&g, other.did().to_string()).await;
    assert_eq!(s, 200, "{text}");
    let got = AggregateProof::parse(&text).unwrap().verify().unwrap();
    assert_eq!((got.head, got.index), (head(10, 1), other_index));
    let (s, text) = proof_of(&g, agent.did.clone()).await;
    assert_eq!(s, 200, "{text}");
    let dir = root.path().join("auditor");
    std::fs::create_dir_all(&dir).unwrap();
    let agg_file = dir.join("agent.aggregate-proof");
    std::fs::write(&agg_file, &text).unwrap();

    // The auditor: an event of the agent's, proven at the aggregated size, against the
    // aggregator's anchored root.
    let (s, inclusion) = agent
        .call(
            Method::GET,
            &format!("/v1/audit/proof?index=2&size={size}"),
            None,
        )
        .await;
    assert_eq!(s, 200, "{inclusion}");
    let verify = |did: &str, proof: &Value| {
        audit(
            &dir,
            &[
                "verify-anchored",
                "--did",
                did,
                "--chain",
                &spec,
                "--contract",
                &contract,
                "--aggregate",
                agg_file.to_str().unwrap(),
                "--inclusion",
                "-",
            ],
            &proof.to_string(),
        )
    };
    let (code, out) = verify(&agent.did, &inclusion);
    assert_eq!(code, 0, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (v["valid"].as_bool(), v["aggregator"].as_str()),
        (Some(true), Some(g.did.as_str())),
        "{v}"
    );

    // Another DID, or a proof at a size the aggregator never logged, is refused.
    let (code, out) = verify(&g.did, &inclusion);
    assert_eq!(code, 1, "{out}");
    grow(&agent, 1).await;
    let (_, later) = agent
        .call(
            Method::GET,
            &format!("/v1/audit/proof?index=2&size={}", size + 1),
            None,
        )
        .await;
    let (code, out) = verify(&agent.did, &later);
    assert_eq!(code, 1, "{out}");
}

/// `talos up --aggregator URL`: the node submits its head by itself, retrying while the
/// aggregator is not up yet, and the aggregator's proof shows that head; the node then
/// keeps that proof itself, past the aggregator's end and its own kill -9.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_submits_its_checkpoints_to_its_aggregator_by_itself() {
    let root = tempfile::tempdir().unwrap();
    let port = talos_testkit::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let a_home = init(
        root.path(),
        "agent",
        &flags(&[
            ("--listen", TCP0),
            ("--chain", "none"),
            ("--aggregator", &base),
            ("--aggregator-secs", "1"),
        ]),
    );
    let agent = NodeProc::up(&a_home, &[]).await;
    grow(&agent, 3).await;
    let (_, head) = agent.call(Method::GET, "/v1/audit/head", None).await;
    let g_home = init(
        root.path(),
        "aggregator",
        &flags(&[
            ("--listen", TCP0),
            ("--anchor-secs", "0"),
            ("--public-log", &format!("127.0.0.1:{port}")),
            ("--publish-secs", "100000"),
            ("--aggregate-for", &agent.did),
        ]),
    );
    let g = NodeProc::up(&g_home, &[]).await;
    let url = format!("{base}/aggregate/proof/{}", agent.did);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    let got = loop {
        let (s, a) = g.call(Method::POST, "/v1/audit/anchor", None).await;
        assert_eq!(s, 200, "{a}");
        let r = reqwest::get(&url).await.unwrap();
        if r.status().as_u16() == 200 {
            break AggregateProof::parse(&r.text().await.unwrap())
                .unwrap()
                .verify()
                .unwrap();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the agent's checkpoint never reached the aggregator"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert_eq!(Some(got.head.size), head["treeSize"].as_u64(), "{head}");
    assert_eq!(got.aggregator.to_string(), g.did);

    // The agent fetches that proof by itself, checks it and keeps it.
    let kept = loop {
        let (code, out) = audit(&a_home, &["aggregate-proof"], "");
        if code == 0 {
            break out;
        }
        assert_eq!(code, 1, "{out}"); // none kept yet
        assert!(
            std::time::Instant::now() < deadline,
            "the agent never kept its aggregate proof"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let mine = AggregateProof::parse(&kept).unwrap().verify().unwrap();
    assert_eq!(mine, got);
    // It outlives the aggregator and a kill -9 of the agent: the agent can hand an
    // auditor the proof with its aggregator gone.
    drop(g);
    let mut agent = agent;
    agent.kill9().await;
    agent.restart().await;
    let (code, again) = audit(&a_home, &["aggregate-proof"], "");
    assert_eq!((code, again.as_str()), (0, kept.as_str()));
}
