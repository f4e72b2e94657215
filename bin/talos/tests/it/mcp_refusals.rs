//! Each way a proxied MCP call is refused, one by one, each with its own kind, and the
//! upstream (server-everything, recorded by a `tee`) never receiving a refused call:
//! no capability for the tool, wrong audience, revoked (in `mcp_proxy`), a caveat, a
//! replayed call, and a changed tool definition (a pin that no longer matches), which
//! stays refused until the operator re-pins. The trace context of an allowed call
//! reaches the upstream and B's audit event.

use reqwest::Method;
use rmcp::model::{CallToolRequestParams, JsonObject, RequestParamsMeta};
use serde_json::{Value, json};
use talos_testkit::node::NodeProc;

use super::mcp_proxy::{
    event_where, grant, kind, mounted_client, npm_server, proxy, spawn_proxy, text,
};
use super::processes::network;

const TRACE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// A's call of B's proxied `tool` through the API (what `invoke_agent` sends).
async fn invoke(
    a: &NodeProc,
    b: &NodeProc,
    chain: &Value,
    tool: &str,
    args: Value,
    extra: Value,
) -> (u16, Value) {
    let mut body = json!({
        "to": b.did, "chain": chain, "resource": format!("mcp://everything/{tool}"),
        "action": "call", "args": args,
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    a.call(Method::POST, "/v1/invoke", Some(body)).await
}

fn chain_of(file: &std::path::Path) -> Value {
    json!(
        std::fs::read_to_string(file)
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_refusal_has_its_kind_and_never_reaches_the_upstream() {
    let root = tempfile::tempdir().unwrap();
    let nodes = network(root.path(), 2).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let everything = npm_server("mcp-server-everything");
    let log = root.path().join("upstream-input.log");
    let (mut first, ready) =
        proxy(b, "everything", &[], &log, &[everything.to_str().unwrap()]).await;
    assert!(
        ready["offered"]
            .as_array()
            .unwrap()
            .contains(&json!("echo")),
        "{ready}"
    );

    // Echo, with a cap on the message: `eq` pins it to one value.
    let (file, _) = grant(
        b,
        a,
        json!([{ "res": "mcp://everything/echo", "act": ["call"], "cav": { "eq": { "message": "hi" } } }]),
        root.path(),
    )
    .await;
    let chain = chain_of(&file);
    let (s, v) = invoke(
        a,
        b,
        &chain,
        "echo",
        json!({ "message": "hi" }),
        json!({ "traceparent": TRACE }),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert!(
        v["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("hi"),
        "{v}"
    );

    // A caveat: another message.
    let (s, v) = invoke(
        a,
        b,
        &chain,
        "echo",
        json!({ "message": "rm -rf /" }),
        json!({}),
    )
    .await;
    assert_eq!(
        (s, v["kind"].as_str()),
        (403, Some("not_authorized")),
        "{v}"
    );
    // No capability for this tool.
    let (s, v) = invoke(a, b, &chain, "get-env", json!({}), json!({})).await;
    assert_eq!(
        (s, v["kind"].as_str()),
        (403, Some("not_authorized")),
        "{v}"
    );
    // Wrong audience: a chain B issued to itself, presented by A.
    let (s, own) = b
        .call(
            Method::POST,
            "/v1/capabilities",
            Some(
                json!({ "to": b.did, "cap": [{ "res": "mcp://everything/**", "act": ["call"] }] }),
            ),
        )
        .await;
    assert_eq!(s, 200, "{own}");
    let (s, v) = invoke(
        a,
        b,
        &own["chain"],
        "echo",
        json!({ "message": "hi" }),
        json!({}),
    )
    .await;
    assert_eq!(
        (s, v["kind"].as_str()),
        (403, Some("wrong_audience")),
        "{v}"
    );
    // Replay: the same call id and time again.
    let again = json!({ "nonce": "0123456789abcdef0123456789abcdef", "atMs": now_ms() });
    let (s, v) = invoke(
        a,
        b,
        &chain,
        "echo",
        json!({ "message": "hi" }),
        again.clone(),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = invoke(a, b, &chain, "echo", json!({ "message": "hi" }), again).await;
    assert_eq!((s, v["kind"].as_str()), (403, Some("replay")), "{v}");

    let seen = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        seen.matches("\"name\":\"echo\"").count(),
        2,
        "only the two allowed calls: {seen}"
    );
    assert!(
        !seen.contains("rm -rf") && !seen.contains("get-env\",\"arguments"),
        "{seen}"
    );
    assert!(
        seen.contains(TRACE),
        "the trace context reaches the upstream"
    );
    // B's call_answered event carries the trace context.
    event_where(b, "traced call_answered", |ev| {
        ev["type"] == "call_answered" && ev["outcome"] == "ok" && ev["traceparent"] == TRACE
    })
    .await;

    // A changed definition: the pin says echo was something else (as if the server changed
    // its description since it was trusted). Restarted, the proxy does not offer it.
    first.kill().await.unwrap();
    let pins = b.home.join("mcp-pins/everything.json");
    let mut p: Value = serde_json::from_slice(&std::fs::read(&pins).unwrap()).unwrap();
    p["echo"] = json!("00".repeat(32));
    std::fs::write(&pins, serde_json::to_vec(&p).unwrap()).unwrap();
    let (mut second, ready) =
        proxy(b, "everything", &[], &log, &[everything.to_str().unwrap()]).await;
    assert_eq!(ready["changed"], json!(["echo"]), "{ready}");
    let before = std::fs::read_to_string(&log)
        .unwrap()
        .matches("\"name\":\"echo\"")
        .count();
    let mount = format!("{}=everything:{}", b.did, file.display());
    let client = mounted_client(a, std::slice::from_ref(&mount)).await;
    let listed = client.list_all_tools().await.unwrap();
    assert!(
        !listed.iter().any(|t| t.name == "everything.echo"),
        "{listed:?}"
    );
    let args: JsonObject = json!({ "message": "hi" }).as_object().cloned().unwrap();
    let r = client
        .call_tool(CallToolRequestParams::new("everything.echo").with_arguments(args.clone()))
        .await
        .unwrap();
    assert_eq!(kind(&r), "tool_changed");
    let after = std::fs::read_to_string(&log)
        .unwrap()
        .matches("\"name\":\"echo\"")
        .count();
    assert_eq!(before, after, "a changed tool was called upstream");
    // The refusal of a changed tool is audited.
    event_where(b, "tool_changed outcome", |ev| {
        ev["outcome"] == "tool_changed"
    })
    .await;

    // The operator re-pins; the host's next call runs, with its trace context.
    second.kill().await.unwrap();
    let (_third, ready) = proxy(
        b,
        "everything",
        &["--repin", "echo"],
        &log,
        &[everything.to_str().unwrap()],
    )
    .await;
    assert_eq!(ready["changed"], json!([]), "{ready}");
    let mut params = CallToolRequestParams::new("everything.echo").with_arguments(args);
    params.set_traceparent(TRACE);
    let r = client.call_tool(params).await.unwrap();
    assert_ne!(r.is_error, Some(true), "{r:?}");
    assert!(text(&r).contains("hi"), "{r:?}");
    client.cancel().await.unwrap();
}

fn now_ms() -> u64 {
    u64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// The two refusals that need their own setup: a caller over B's rate (B runs with
/// `--invoke-rate 1 --invoke-burst 3`) is refused `rate_limited`, and a chain whose
/// second link A signed wider than the first (echo only → every tool) is refused
/// `widening`. Neither reaches the upstream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_is_rate_limited_and_a_widened_chain_is_refused() {
    use talos_capability::{Capability, Claims, Token};
    use talos_primitives::CapabilityId;

    let root = tempfile::tempdir().unwrap();
    let a_home = talos_testkit::node::init(
        root.path(),
        "a",
        &talos_testkit::node::flags(&[("--listen", talos_testkit::node::TCP0)]),
    );
    let a = NodeProc::up(&a_home, &[]).await;
    let b_flags = talos_testkit::node::flags(&[
        ("--listen", talos_testkit::node::TCP0),
        ("--bootstrap", &a.addr()),
        ("--invoke-rate", "1"),
        ("--invoke-burst", "3"),
    ]);
    let b = NodeProc::up(&talos_testkit::node::init(root.path(), "b", &b_flags), &[]).await;
    let everything = npm_server("mcp-server-everything");
    let log = root.path().join("upstream-input.log");
    let (_proxy, _) = proxy(&b, "everything", &[], &log, &[everything.to_str().unwrap()]).await;
    let (file, _) = grant(
        &b,
        &a,
        json!([{ "res": "mcp://everything/echo", "act": ["call"] }]),
        root.path(),
    )
    .await;
    let chain = chain_of(&file);

    // Widening: A signs a child of its grant that covers every tool.
    let home = talos_node::home::Home::resolve(Some(a.home.clone())).unwrap();
    let key = home
        .load_identity(&talos_identity::keystore::Passphrase::new(
            talos_testkit::node::PASS.into(),
        ))
        .unwrap();
    let parent = Token::parse(chain[0].as_str().unwrap()).unwrap();
    let wide: Capability =
        serde_json::from_value(json!({ "res": "mcp://everything/**", "act": ["call"] })).unwrap();
    let child = Token::issue(
        &key,
        Claims {
            iss: key.did(),
            aud: key.did(),
            cap: vec![wide],
            nbf: parent.claims().nbf,
            exp: parent.claims().exp,
            jti: CapabilityId(rand::random()),
            prf: Some(parent.commitment()),
        },
    )
    .unwrap();
    let widened = json!([chain[0], child.as_str()]);
    let (s, v) = invoke(&a, &b, &widened, "get-env", json!({}), json!({})).await;
    assert_eq!((s, v["kind"].as_str()), (403, Some("widening")), "{v}");

    // A flood, all at once (so a slow machine refilling the bucket cannot hide it): the
    // burst runs, the rest is refused with 429.
    let flood = (0..12).map(|_| {
        invoke(
            &a,
            &b,
            &chain,
            "echo",
            json!({ "message": "hi" }),
            json!({}),
        )
    });
    let mut statuses = Vec::new();
    for (s, v) in futures::future::join_all(flood).await {
        if s == 429 {
            assert_eq!(v["kind"], "rate_limited", "{v}");
        }
        statuses.push(s);
    }
    let ran = statuses.iter().filter(|s| **s == 200).count();
    assert!(statuses.contains(&429), "{statuses:?}");
    let seen = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        seen.matches("\"name\":\"echo\"").count(),
        ran,
        "{statuses:?}"
    );
    assert!(!seen.contains("get-env\",\"arguments"), "{seen}");
}

/// `--upstream URL`: the same proxy in front of a streamable HTTP server
/// (server-everything's `streamableHttp` transport on a free port).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_upstream_is_proxied_the_same_way() {
    use std::process::Stdio;
    use tokio::io::AsyncBufReadExt;

    let root = tempfile::tempdir().unwrap();
    let nodes = network(root.path(), 2).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let port = talos_testkit::free_port();
    let mut server = tokio::process::Command::new(npm_server("mcp-server-everything"))
        .arg("streamableHttp")
        .env("PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(server.stderr.take().unwrap()).lines();
    while let Some(line) = lines.next_line().await.unwrap() {
        if line.contains("listening on port") {
            break;
        }
    }
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let url = format!("http://127.0.0.1:{port}/mcp");
    let (_proxy, ready) = spawn_proxy(b, "everything", &["--upstream".into(), url.into()]).await;
    assert!(
        ready["offered"]
            .as_array()
            .unwrap()
            .contains(&json!("echo")),
        "{ready}"
    );
    let (file, _) = grant(
        b,
        a,
        json!([{ "res": "mcp://everything/echo", "act": ["call"] }]),
        root.path(),
    )
    .await;
    let (s, v) = invoke(
        a,
        b,
        &chain_of(&file),
        "echo",
        json!({ "message": "over http" }),
        json!({}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert!(
        v["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("over http"),
        "{v}"
    );
}
