//! `talos mcp serve` driven by a real MCP client (rmcp's), against two real `talos up`
//! processes: the tool list, a message sent and read through tools, a call refused by
//! the peer's sidecar arriving as a tool error with its kind, the resources, and the
//! HTTP transport's guards (token, Host, Origin).

use std::process::Stdio;
use std::time::Duration;

use reqwest::Method;
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, CallToolResult, JsonObject, ReadResourceRequestParams};
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use serde_json::{Value, json};
use talos_testkit::node::{NodeProc, talos_bin};
use tokio::io::AsyncBufReadExt;

use super::processes::network;

type Client = RunningService<RoleClient, ()>;

/// `talos mcp serve` over stdio for `node`, as an MCP host launches it.
async fn stdio_client(node: &NodeProc) -> Client {
    let mut cmd = tokio::process::Command::new(talos_bin());
    cmd.arg("--home").arg(&node.home).args(["mcp", "serve"]);
    cmd.stderr(Stdio::null());
    ().serve(TokioChildProcess::new(cmd).unwrap())
        .await
        .unwrap()
}

async fn call(client: &Client, name: &'static str, args: Value) -> CallToolResult {
    let args: JsonObject = args.as_object().cloned().unwrap_or_default();
    client
        .call_tool(CallToolRequestParams::new(name).with_arguments(args))
        .await
        .unwrap()
}

/// The text of the resource at `uri`.
async fn resource_text(client: &Client, uri: &str) -> String {
    let r = client
        .read_resource(ReadResourceRequestParams::new(uri))
        .await
        .unwrap();
    serde_json::to_value(&r.contents[0]).unwrap()["text"]
        .as_str()
        .unwrap()
        .to_string()
}

fn structured(r: &CallToolResult) -> &Value {
    r.structured_content.as_ref().expect("structured content")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mcp_host_sends_reads_and_is_refused_with_a_kind() {
    let root = tempfile::tempdir().unwrap();
    let nodes = network(root.path(), 2).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let client = stdio_client(a).await;
    let info = client.peer_info().unwrap();
    assert_eq!(info.server_info.as_ref().unwrap().name, "talos");

    let tools = client.list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    for want in [
        "send_message",
        "read_messages",
        "list_peers",
        "resolve_did",
        "invoke_agent",
        "list_calls",
        "answer_call",
        "issue_capability",
        "delegate_capability",
        "revoke_capability",
        "audit_checkpoint",
        "audit_proof",
        "list_approvals",
        "approve_call",
        "decline_call",
        "report_agent",
        "get_reputation",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }

    // The trust tools: a score, and no approvals asked yet; a malformed id is the
    // tool's own error, sent nowhere.
    let rep = call(&client, "get_reputation", json!({ "did": b.did })).await;
    assert_eq!(rep.is_error, Some(false), "{rep:?}");
    assert_eq!(structured(&rep)["score"], 1000);
    let asked = call(&client, "list_approvals", json!({})).await;
    assert_eq!(structured(&asked)["approvals"], json!([]), "{asked:?}");
    let bad = call(&client, "approve_call", json!({ "id": "nope" })).await;
    assert_eq!(bad.is_error, Some(true), "{bad:?}");

    // Send through the tool; b's agent reads it through the API.
    let sent = call(
        &client,
        "send_message",
        json!({ "to": b.did, "text": "hello over mcp" }),
    )
    .await;
    assert_eq!(sent.is_error, Some(false), "{sent:?}");
    assert!(structured(&sent)["seq"].as_u64().is_some());
    let got = b.read(0, 10_000).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].3, b"hello over mcp");

    // b answers; a's host reads it through the tool, with the text decoded.
    b.send(&a.did, b"booked").await.unwrap();
    let read = call(
        &client,
        "read_messages",
        json!({ "from": 0, "waitMs": 10_000 }),
    )
    .await;
    let messages = structured(&read)["messages"].as_array().unwrap().clone();
    assert_eq!(messages.len(), 1, "{read:?}");
    assert_eq!(messages[0]["text"], "booked");
    assert_eq!(messages[0]["from"], b.did.as_str());

    // A call beyond the granted action: b's sidecar refuses it, and the host sees a tool
    // error carrying the node's kind, not a broken server.
    let (s, issued) = b
        .call(
            Method::POST,
            "/v1/capabilities",
            Some(json!({ "to": a.did, "cap": [{ "res": "talos://booking/*", "act": ["read"] }] })),
        )
        .await;
    assert_eq!(s, 200, "{issued}");
    let refused = call(
        &client,
        "invoke_agent",
        json!({ "to": b.did, "resource": "talos://booking/x", "action": "write", "chain": issued["chain"] }),
    )
    .await;
    assert_eq!(refused.is_error, Some(true), "{refused:?}");
    assert_eq!(structured(&refused)["status"], 403, "{refused:?}");
    assert_eq!(
        structured(&refused)["kind"],
        "not_authorized",
        "{refused:?}"
    );

    // Arguments the node cannot use are a tool error of kind bad_request; the server
    // keeps serving.
    let bad = call(&client, "revoke_capability", json!({ "id": "zz" })).await;
    assert_eq!(bad.is_error, Some(true));
    assert_eq!(structured(&bad)["kind"], "bad_request");
    let unknown = call(&client, "format_disk", json!({})).await;
    assert_eq!(structured(&unknown)["kind"], "unknown_tool");

    // Resources: the DID document names a's DID; the checkpoint is a signed note.
    let text = resource_text(&client, talos_mcp::server::DID_DOCUMENT_URI).await;
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["id"],
        a.did.as_str()
    );
    let note = resource_text(&client, talos_mcp::server::CHECKPOINT_URI).await;
    assert!(note.contains("\n\n— "), "a signed note: {note}");
    client.cancel().await.unwrap();
}

/// The HTTP transport: no token is 401, a foreign Host or Origin is refused before
/// rmcp serves anything, and a real client with the token lists the tools.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_over_http_needs_the_token_and_a_loopback_host() {
    let root = tempfile::tempdir().unwrap();
    let nodes = network(root.path(), 1).await;
    let a = &nodes[0];
    let mut child = tokio::process::Command::new(talos_bin())
        .arg("--home")
        .arg(&a.home)
        .args(["mcp", "serve", "--http", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    // The first stderr line names the endpoint once it is bound.
    let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let first = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let url = serde_json::from_str::<Value>(&first).unwrap()["mcp"]
        .as_str()
        .unwrap()
        .to_string();
    let token = a.token().to_string();
    let init = json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": { "protocolVersion": "2025-06-18", "capabilities": {},
                    "clientInfo": { "name": "probe", "version": "0" } }
    });
    let http = reqwest::Client::new();
    let post = |auth: Option<&str>, host: Option<&str>, origin: Option<&str>| {
        let mut r = http
            .post(&url)
            .header("accept", "application/json, text/event-stream")
            .json(&init);
        if let Some(t) = auth {
            r = r.bearer_auth(t);
        }
        if let Some(h) = host {
            r = r.header("host", h);
        }
        if let Some(o) = origin {
            r = r.header("origin", o);
        }
        r.send()
    };
    assert_eq!(post(None, None, None).await.unwrap().status(), 401);
    assert_eq!(
        post(Some("0".repeat(64).as_str()), None, None)
            .await
            .unwrap()
            .status(),
        401
    );
    let rebound = post(Some(&token), Some("evil.example"), None)
        .await
        .unwrap();
    assert!(rebound.status().is_client_error(), "{}", rebound.status());
    let foreign = post(Some(&token), None, Some("http://evil.example"))
        .await
        .unwrap();
    assert!(foreign.status().is_client_error(), "{}", foreign.status());
    assert!(
        post(Some(&token), None, None)
            .await
            .unwrap()
            .status()
            .is_success()
    );

    let transport = StreamableHttpClientTransport::from_config(
        rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig::with_uri(
            url.as_str(),
        )
        .auth_header(token),
    );
    let client = ().serve(transport).await.unwrap();
    assert_eq!(client.list_all_tools().await.unwrap().len(), 17);
    let cp = call(&client, "audit_checkpoint", json!({})).await;
    assert_eq!(cp.is_error, Some(false));
    assert!(structured(&cp)["note"].as_str().is_some());
    client.cancel().await.unwrap();
}
