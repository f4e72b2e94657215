//! A sender-key group of five real `talos up` processes, driven through the API: the
//! creator invites four agents it knows only by DID, they join, everyone talks, the
//! creator removes one, and the rest rekey without it.

use std::collections::HashMap;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use talos_testkit::node::{NodeProc, init};

fn tcp0() -> Vec<String> {
    vec!["--listen".into(), "/ip4/127.0.0.1/tcp/0".into()]
}

async fn until(what: &str, timeout: Duration, mut ok: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + timeout;
    while !ok().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn view(node: &NodeProc, group: &str) -> Value {
    node.call(Method::GET, &format!("/v1/groups/{group}"), None)
        .await
        .1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_of_five_processes() {
    let root = tempfile::tempdir().unwrap();
    let first = NodeProc::up(&init(root.path(), "g0", &tcp0()), &[]).await;
    let boot = first.addr();
    let mut nodes = vec![first];
    for i in 1..5 {
        let mut flags = tcp0();
        flags.extend(["--bootstrap".to_string(), boot.clone()]);
        nodes.push(NodeProc::up(&init(root.path(), &format!("g{i}"), &flags), &[]).await);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    let (status, created) = nodes[0].call(Method::POST, "/v1/groups", None).await;
    assert_eq!(status, 200, "{created}");
    let group = created["group"].as_str().unwrap().to_string();
    for n in &nodes[1..] {
        let (status, body) = nodes[0]
            .call(
                Method::POST,
                &format!("/v1/groups/{group}/members"),
                Some(json!({ "did": n.did })),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    // A member who is not the creator cannot invite: the creator orders the log.
    for (i, n) in nodes.iter().enumerate().skip(1) {
        until(
            &format!("node {i} sees its invitation"),
            Duration::from_secs(60),
            async || {
                let (_, list) = n.call(Method::GET, "/v1/groups", None).await;
                list["invitations"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|inv| inv["group"] == group.as_str() && inv["ready"] == true)
            },
        )
        .await;
        let (status, body) = n
            .call(Method::POST, &format!("/v1/groups/{group}/join"), None)
            .await;
        assert_eq!(status, 200, "{body}");
    }
    for (i, n) in nodes.iter().enumerate() {
        until(
            &format!("node {i} sees five members"),
            Duration::from_secs(60),
            async || {
                let v = view(n, &group).await;
                v["members"].as_array().map(Vec::len) == Some(5) && v["pending"].is_null()
            },
        )
        .await;
    }
    let (status, _) = nodes[1]
        .call(
            Method::POST,
            &format!("/v1/groups/{group}/members"),
            Some(json!({ "did": nodes[0].did })),
        )
        .await;
    assert_eq!(status, 403);

    // Everyone sends 5 messages; everyone reads 20, once each, in order per sender.
    for (i, n) in nodes.iter().enumerate() {
        for k in 0..5u8 {
            let (status, body) = n
                .call(
                    Method::POST,
                    &format!("/v1/groups/{group}/messages"),
                    Some(json!({ "data": base64_of(&[i as u8, k]) })),
                )
                .await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(body["recipients"], 4);
        }
    }
    let mut seen = Vec::new();
    for (j, n) in nodes.iter().enumerate() {
        let got = n.read_group_until(20, Duration::from_secs(60)).await;
        assert_eq!(got.len(), 20, "node {j} got {} of 20", got.len());
        let mut per: HashMap<String, Vec<u8>> = HashMap::new();
        for (g, from, body) in got {
            assert_eq!(g, group);
            per.entry(from).or_default().push(body[1]);
        }
        for (i, m) in nodes.iter().enumerate() {
            if i != j {
                assert_eq!(
                    per[&m.did],
                    (0..5).collect::<Vec<u8>>(),
                    "node {j} from {i}"
                );
            }
        }
        seen.push(per.len());
    }
    assert_eq!(seen, vec![4; 5]);

    // The creator removes node 4; node 3's next message reaches the other three only.
    let (status, body) = nodes[0]
        .call(
            Method::DELETE,
            &format!("/v1/groups/{group}/members/{}", nodes[4].did),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    until(
        "node 4 learns it was removed",
        Duration::from_secs(60),
        async || {
            let path = format!("/v1/groups/{group}");
            nodes[4].call(Method::GET, &path, None).await.0 == 404
        },
    )
    .await;
    until(
        "node 3 sees four members",
        Duration::from_secs(60),
        async || {
            view(&nodes[3], &group).await["members"]
                .as_array()
                .map(Vec::len)
                == Some(4)
        },
    )
    .await;
    let (status, body) = nodes[3]
        .call(
            Method::POST,
            &format!("/v1/groups/{group}/messages"),
            Some(json!({ "data": base64_of(b"after") })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["recipients"], 3);
    for n in &nodes[..3] {
        let got = n.read_group_until(21, Duration::from_secs(60)).await;
        assert_eq!(got.last().unwrap().2, b"after".to_vec());
    }
    let (status, _) = nodes[4]
        .call(
            Method::POST,
            &format!("/v1/groups/{group}/messages"),
            Some(json!({ "data": base64_of(b"x") })),
        )
        .await;
    assert_eq!(
        status, 404,
        "a removed member has nothing left to send with"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        nodes[4]
            .read_group_until(21, Duration::from_millis(600))
            .await
            .len(),
        20
    );
}

fn base64_of(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}
