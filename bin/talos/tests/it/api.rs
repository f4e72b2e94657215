//! The local API's newer surface through real `talos up` processes: the WebSocket
//! message stream, the OpenAPI document against the routes, `talos agent ...` on the
//! command line, sessions and capabilities issued through the node.

use std::time::Duration;

use super::processes::network;

/// The WebSocket stream: every message in order as it arrives, and a reconnect from the
/// next index misses nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_message_stream_delivers_in_order_and_resumes() {
    use futures::StreamExt;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let root = tempfile::tempdir().unwrap();
    let nodes = network(root.path(), 2).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let (_, url, token) = b.http();
    let ws_url = |from: u64| {
        format!(
            "{}/v1/messages/stream?from={from}",
            url.replace("http", "ws")
        )
    };
    let connect = |from: u64, auth: bool| {
        let mut req = ws_url(from).into_client_request().unwrap();
        if auth {
            req.headers_mut()
                .insert("authorization", format!("Bearer {token}").parse().unwrap());
        }
        tokio_tungstenite::connect_async(req)
    };
    assert!(
        connect(0, false).await.is_err(),
        "a stream without the token"
    );
    let (mut ws, _) = connect(0, true).await.unwrap();
    for k in 0..5u8 {
        a.send(&b.did, &[k]).await.unwrap();
    }
    let mut next = 0;
    for k in 0..5u8 {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(msg.to_text().unwrap()).unwrap();
        assert_eq!(v["data"], base64_of(&[k]));
        assert_eq!(v["from"], a.did.as_str());
        next = v["index"].as_u64().unwrap() + 1;
    }
    drop(ws);
    for k in 5..7u8 {
        a.send(&b.did, &[k]).await.unwrap();
    }
    let (mut ws, _) = connect(next, true).await.unwrap();
    for k in 5..7u8 {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(msg.to_text().unwrap()).unwrap();
        assert_eq!(v["data"], base64_of(&[k]));
    }
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Every path and method the OpenAPI document lists is routed (a missing route answers
/// 404 with no body, or 405), and the document is served without a token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_route_exists() {
    let root = tempfile::tempdir().unwrap();
    let nodes = network(root.path(), 1).await;
    let (http, api, token) = nodes[0].http();
    let doc: serde_json::Value = http
        .get(format!("{api}/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 25, "{} paths", paths.len());
    for (path, ops) in paths {
        let concrete = path
            .replace("{id}", "999999")
            .replace("{group}", &"0".repeat(64))
            .replace("{did}", &nodes[0].did);
        for method in ops.as_object().unwrap().keys() {
            let m: reqwest::Method = method.to_uppercase().parse().unwrap();
            let r = http
                .request(m, format!("{api}{concrete}"))
                .bearer_auth(token)
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let problem = r
                .headers()
                .get("content-type")
                .is_some_and(|v| v == "application/problem+json");
            let body = r.bytes().await.unwrap();
            assert_ne!(status, 405, "{method} {path}: not routed");
            assert!(
                !(status == 404 && body.is_empty()),
                "{method} {path}: not routed"
            );
            // Every error answer is a problem document (the WebSocket upgrade excepted).
            if status >= 400 && !path.ends_with("/stream") {
                assert!(problem, "{method} {path}: {status} without problem+json");
                assert_problem(&body, status);
            }
        }
    }
}

/// An RFC 9457 problem document with the given status and a stable kind.
fn assert_problem(body: &[u8], status: u16) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap();
    assert_eq!(v["status"], status, "{v}");
    let kind = v["kind"].as_str().unwrap();
    assert_eq!(v["type"], format!("urn:talos:problem:{kind}"), "{v}");
    assert!(v["title"].is_string() && v["detail"].is_string(), "{v}");
    v
}

/// Errors over real HTTP: each is problem+json with its kind, 4xx for the client's
/// mistakes (no token, bad JSON, an unknown peer, a missing call or proof, too large).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_problem_documents_with_a_kind() {
    let root = tempfile::tempdir().unwrap();
    let nodes = network(root.path(), 1).await;
    let (http, api, token) = nodes[0].http();
    let stranger = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
    let big = base64_of(&vec![0u8; 50 * 1024]);
    let me = nodes[0].did.clone();
    let cases: Vec<(reqwest::Method, &str, String, bool, u16, &str)> = vec![
        // A node does not send to itself (it would acknowledge and never deliver).
        (
            reqwest::Method::POST,
            "/v1/messages",
            format!(r#"{{"to":"{me}","data":"aGk="}}"#),
            true,
            400,
            "bad_request",
        ),
        (
            reqwest::Method::POST,
            "/v1/messages/batch",
            format!(r#"{{"messages":[{{"to":"{me}","data":"aGk="}}]}}"#),
            true,
            400,
            "bad_request",
        ),
        // An agent's answer may not name one of the node's own kinds; a null result is
        // a result (here: no such call, so 404 once the body is accepted).
        (
            reqwest::Method::POST,
            "/v1/calls/999",
            r#"{"error":"x","kind":"revoked"}"#.into(),
            true,
            400,
            "bad_request",
        ),
        (
            reqwest::Method::POST,
            "/v1/calls/999",
            r#"{"result":null}"#.into(),
            true,
            404,
            "not_found",
        ),
        (
            reqwest::Method::GET,
            "/v1/node",
            String::new(),
            false,
            401,
            "unauthorized",
        ),
        (
            reqwest::Method::POST,
            "/v1/messages",
            "{oops".into(),
            true,
            400,
            "bad_request",
        ),
        (
            reqwest::Method::POST,
            "/v1/messages",
            format!(r#"{{"to":"{stranger}","data":"aGk="}}"#),
            true,
            404,
            "peer_not_found",
        ),
        (
            reqwest::Method::POST,
            "/v1/messages",
            format!(r#"{{"to":"{stranger}","data":"{big}"}}"#),
            true,
            413,
            "too_large",
        ),
        (
            reqwest::Method::POST,
            "/v1/calls/999",
            r#"{"result":1}"#.into(),
            true,
            404,
            "not_found",
        ),
        (
            reqwest::Method::GET,
            "/v1/audit/proof?index=999999",
            String::new(),
            true,
            404,
            "not_found",
        ),
    ];
    for (method, path, body, auth, status, kind) in cases {
        let mut req = http
            .request(method.clone(), format!("{api}{path}"))
            .body(body);
        if auth {
            req = req.bearer_auth(token);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status().as_u16(), status, "{method} {path}");
        assert_eq!(
            r.headers().get("content-type").unwrap(),
            "application/problem+json",
            "{method} {path}"
        );
        let v = assert_problem(&r.bytes().await.unwrap(), status);
        assert_eq!(v["kind"], kind, "{method} {path}: {v}");
    }
}

/// `talos agent ...` drives a running node from the shell: send, read, peers, revoke, a
/// call and its answer, checkpoint, proof and anchor, each with `--json`; a refusal
/// exits 1, unusable input 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_cli_covers_the_api() {
    let root = tempfile::tempdir().unwrap();
    let nodes = network(root.path(), 2).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let cli = |home: &std::path::Path, args: &[&str]| {
        let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_talos"));
        c.arg("--home").arg(home).arg("agent").args(args);
        c.env("TALOS_PASSPHRASE", talos_testkit::node::PASS);
        c.output()
    };
    let json_of = |out: &std::process::Output| -> serde_json::Value {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let sent = json_of(
        &cli(&a.home, &["send", "--to", &b.did, "--text", "hi", "--json"])
            .await
            .unwrap(),
    );
    assert_eq!(sent["seq"], 1);
    let read = json_of(
        &cli(&b.home, &["read", "--wait-ms", "10000", "--json"])
            .await
            .unwrap(),
    );
    assert_eq!(read["messages"][0]["data"], base64_of(b"hi"));
    let peers = json_of(&cli(&a.home, &["peers", "--json"]).await.unwrap());
    assert!(!peers["connected"].as_array().unwrap().is_empty());

    // A call from A to B under a capability B issued, answered through the CLI.
    let issued = std::process::Command::new(env!("CARGO_BIN_EXE_talos"))
        .arg("--home")
        .arg(&b.home)
        .args([
            "cap",
            "issue",
            "--to",
            &a.did,
            "--res",
            "talos://x/*",
            "--act",
            "read",
        ])
        .env("TALOS_PASSPHRASE", talos_testkit::node::PASS)
        .output()
        .unwrap();
    assert!(issued.status.success());
    let chain_file = root.path().join("chain.txt");
    std::fs::write(&chain_file, &issued.stdout).unwrap();
    let chain = chain_file.to_str().unwrap().to_string();
    let (ah, bd) = (a.home.clone(), b.did.clone());
    let invoke = tokio::spawn(async move {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_talos"))
            .arg("--home")
            .arg(&ah)
            .args(["agent", "invoke", "--to", &bd, "--chain", &chain])
            .args(["--resource", "talos://x/1", "--action", "read", "--json"])
            .output()
            .await
            .unwrap()
    });
    let calls = json_of(
        &cli(&b.home, &["calls", "--wait-ms", "10000", "--json"])
            .await
            .unwrap(),
    );
    let id = calls["calls"][0]["id"].as_u64().unwrap().to_string();
    let answered = cli(&b.home, &["answer", &id, "--result", r#"{"n":42}"#])
        .await
        .unwrap();
    assert!(answered.status.success());
    let out = invoke.await.unwrap();
    assert_eq!(json_of(&out)["result"]["n"], 42);
    // Answering it again: no such call (refused, exit 1); a bad result: exit 2.
    assert_eq!(
        cli(&b.home, &["answer", &id, "--result", "1"])
            .await
            .unwrap()
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        cli(&b.home, &["answer", &id, "--result", "{oops"])
            .await
            .unwrap()
            .status
            .code(),
        Some(2)
    );

    let revoked = json_of(
        &cli(&b.home, &["revoke", "--id", &"ab".repeat(16), "--json"])
            .await
            .unwrap(),
    );
    assert_eq!(revoked["revoked"], true);
    assert_eq!(
        cli(&b.home, &["revoke", "--id", "zz"])
            .await
            .unwrap()
            .status
            .code(),
        Some(2)
    );
    let cp = json_of(&cli(&b.home, &["checkpoint", "--json"]).await.unwrap());
    assert!(cp["note"].as_str().unwrap().contains("talos/did:key:"));
    let proof = json_of(&cli(&b.home, &["proof", "0"]).await.unwrap());
    assert_eq!(proof["leafIdx"], 0);
    let anchored = json_of(&cli(&b.home, &["anchor", "--json"]).await.unwrap());
    assert_eq!(anchored["anchored"], true);
}

/// Sessions listed (counters only), capabilities issued and delegated through the API.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_are_listed_and_capabilities_issued_through_the_api() {
    use reqwest::Method;
    use serde_json::json;
    let root = tempfile::tempdir().unwrap();
    let nodes = network(root.path(), 2).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    for k in 0..3u8 {
        a.send(&b.did, &[k]).await.unwrap();
    }
    assert_eq!(b.read_until(3, Duration::from_secs(10)).await.len(), 3);
    let (s, v) = a.call(Method::GET, "/v1/sessions", None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["sessions"][0]["peer"], b.did.as_str());
    assert_eq!(v["sessions"][0]["sent"], 3);
    let (_, v) = b.call(Method::GET, "/v1/sessions", None).await;
    assert_eq!(v["sessions"][0]["received"], 3, "{v}");

    let grant = json!([{ "res": "talos://booking/flights/*", "act": ["book"], "cav": { "max": { "amount": 500 } } }]);
    let (s, issued) = b
        .call(
            Method::POST,
            "/v1/capabilities",
            Some(json!({ "to": a.did, "cap": grant, "ttl": 600 })),
        )
        .await;
    assert_eq!(s, 200, "{issued}");
    assert_eq!(issued["chain"].as_array().unwrap().len(), 1);
    assert_eq!(issued["jti"].as_str().unwrap().len(), 32);
    let narrower = json!([{ "res": "talos://booking/flights/LH1", "act": ["book"], "cav": { "max": { "amount": 100 } } }]);
    let (s, delegated) = a
        .call(
            Method::POST,
            "/v1/capabilities/delegate",
            Some(json!({ "parent": issued["chain"], "to": b.did, "cap": narrower })),
        )
        .await;
    assert_eq!(s, 200, "{delegated}");
    assert_eq!(delegated["chain"].as_array().unwrap().len(), 2);
    // More than the parent grants: refused before anything is signed.
    let wider = json!([{ "res": "talos://booking/**", "act": ["book"] }]);
    let (s, v) = a
        .call(
            Method::POST,
            "/v1/capabilities/delegate",
            Some(json!({ "parent": issued["chain"], "to": b.did, "cap": wider })),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("widen"), "{v}");
    // Not the parent's holder (B holds nothing here): refused too.
    let (s, _) = b
        .call(
            Method::POST,
            "/v1/capabilities/delegate",
            Some(json!({ "parent": issued["chain"], "to": a.did, "cap": narrower })),
        )
        .await;
    assert_eq!(s, 400);
    let (s, _) = b
        .call(
            Method::POST,
            "/v1/capabilities",
            Some(json!({ "to": "nope", "cap": grant })),
        )
        .await;
    assert_eq!(s, 400);
}

/// Finding 11 of issue 17: the API token went to whoever held the loopback port. By
/// default the API is a Unix socket that only the node's user can open (mode 0600), and
/// both the agent's client and `talos agent` reach the node through it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_is_a_private_unix_socket_by_default() {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let root = tempfile::tempdir().unwrap();
    let home = talos_testkit::node::init(
        root.path(),
        "n",
        &talos_testkit::node::flags(&[("--api", "unix"), ("--listen", "/ip4/127.0.0.1/tcp/0")]),
    );
    let config = std::fs::read_to_string(home.join("config.toml")).unwrap();
    assert!(config.contains("api = \"unix\""), "{config}");
    let node = talos_testkit::node::NodeProc::up(&home, &[]).await;
    let sock = home.join("api.sock");
    let meta = std::fs::metadata(&sock).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(
        std::fs::read_to_string(home.join("api-addr")).unwrap(),
        format!("unix:{}", sock.display())
    );
    // The agent's client reaches the API through the socket (an empty inbox).
    assert!(node.read(0, 0).await.is_empty());
    // `talos agent` finds the socket through api-addr.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_talos"))
        .arg("--home")
        .arg(&home)
        .args(["agent", "read", "--wait-ms", "0", "--json"])
        .env("TALOS_PASSPHRASE", talos_testkit::node::PASS)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
