//! The forwarding sidecar (`--agent-url`) in front of a plain HTTP agent written with
//! Python's standard library only: the agent sees allowed calls and nothing else, its
//! HTTP answers become the callers' answers, and the caller side is plain HTTP too
//! (`POST /v1/peers/{did}/invoke`).

use std::path::Path;

use reqwest::Method;
use serde_json::{Value, json};
use talos_testkit::node::{NodeProc, start};

/// The protected agent: logs every request (headers it cares about and the body) as a
/// JSON line, and answers `book` with a result, `fail` with a 409 problem.
const AGENT: &str = r#"
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

log = open(sys.argv[2], "a", buffering=1)

class Agent(BaseHTTPRequestHandler):
    def do_POST(self):
        call = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        log.write(json.dumps({"path": self.path, "traceparent": self.headers.get("traceparent"), "call": call}) + "\n")
        if call["action"] == "book":
            status, body = 200, {"booked": call["args"]["flight"], "for": call["from"]}
        else:
            status, body = 409, {"kind": "sold_out", "detail": "no seats left"}
        out = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass

ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Agent).serve_forever()
"#;

fn start_agent(dir: &Path, port: u16) -> tokio::process::Child {
    let script = dir.join("agent.py");
    std::fs::write(&script, AGENT).unwrap();
    tokio::process::Command::new("python3")
        .arg(&script)
        .arg(port.to_string())
        .arg(dir.join("agent.log"))
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

fn seen(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("agent.log"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A plain HTTP POST to `node`'s `/v1/peers/{to}/invoke`: (status, headers, body).
async fn invoke_peer(
    node: &NodeProc,
    to: &str,
    body: Value,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let (http, api, token) = node.http();
    let r = http
        .post(format!("{api}/v1/peers/{to}/invoke"))
        .bearer_auth(token)
        .header(
            "traceparent",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        )
        .json(&body)
        .send()
        .await
        .unwrap();
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    (status, headers, r.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_http_agent_sees_only_allowed_calls() {
    let root = tempfile::tempdir().unwrap();
    let port = talos_testkit::free_port();
    let url = format!("http://127.0.0.1:{port}/talos");
    let caller = start(root.path(), "planner", None, &[]).await;
    let boot = caller.addr();
    let booking = start(root.path(), "booking", Some(&boot), &["--agent-url", &url]).await;
    let (s, cap) = booking
        .call(
            Method::POST,
            "/v1/capabilities",
            Some(json!({"to": caller.did, "cap": [{"res": "talos://booking/**", "act": ["book", "fail"]}]})),
        )
        .await;
    assert_eq!(s, 200, "{cap}");
    let chain = cap["chain"].clone();

    // The agent is not up yet: an allowed call waits (the node retries the connection)
    // until it is, instead of failing.
    let first = {
        let (caller, to, chain) = (caller.api.clone(), booking.did.clone(), chain.clone());
        tokio::spawn(async move {
            caller
                .call(
                    Method::POST,
                    &format!("/v1/peers/{to}/invoke"),
                    Some(json!({"chain": chain, "resource": "talos://booking/flights", "action": "book", "args": {"flight": "LH400"}})),
                )
                .await
        })
    };
    // Progress, not time: the call is admitted (its `capability_used` is on booking's
    // log) before the agent starts; a long-poll does not see it, since it is the
    // forwarder's.
    crate::mcp_proxy::event_where(&booking, "capability_used", |e| {
        e["type"] == "capability_used"
    })
    .await;
    let (s, v) = booking.call(Method::GET, "/v1/calls?waitMs=0", None).await;
    assert_eq!((s, &v["calls"]), (200, &json!([])), "{v}");
    let agent_dir = root.path().join("agent");
    std::fs::create_dir_all(&agent_dir).unwrap();
    let _agent = start_agent(&agent_dir, port);
    let (s, v) = first.await.unwrap();
    assert_eq!(s, 200, "{v}");
    assert_eq!(v, json!({"booked": "LH400", "for": caller.did}));

    // Refused by booking's node: another resource, and a forged chain.
    let (s, _, v) = invoke_peer(
        &caller,
        &booking.did,
        json!({"chain": chain, "resource": "talos://payments/x", "action": "book", "args": {"flight": "X"}}),
    )
    .await;
    assert_eq!(
        (s, v["kind"].as_str()),
        (403, Some("not_authorized")),
        "{v}"
    );
    let (s, _, v) = invoke_peer(
        &caller,
        &booking.did,
        json!({"chain": ["e30.e30.e30"], "resource": "talos://booking/flights", "action": "book"}),
    )
    .await;
    assert!(s == 400 || s == 403, "{s} {v}");

    // Allowed again, over plain HTTP with a traceparent header: the body is the result.
    let (s, h, v) = invoke_peer(
        &caller,
        &booking.did,
        json!({"chain": chain, "resource": "talos://booking/flights", "action": "book", "args": {"flight": "BA117"}}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["booked"], "BA117");
    assert_eq!(h["talos-nonce"].len(), 32);
    // The agent's own failure keeps its kind and detail.
    let (s, _, v) = invoke_peer(
        &caller,
        &booking.did,
        json!({"chain": chain, "resource": "talos://booking/flights", "action": "fail"}),
    )
    .await;
    assert_eq!((s, v["kind"].as_str()), (502, Some("sold_out")), "{v}");
    assert_eq!(
        v["detail"],
        "the peer agent failed (sold_out): no seats left"
    );

    // The agent saw exactly the three allowed calls, each with the verified caller, the
    // matched scope and the path it asked for; the traceparent came along.
    let log = seen(&agent_dir);
    let actions: Vec<&str> = log
        .iter()
        .map(|l| l["call"]["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["book", "book", "fail"], "{log:?}");
    for l in &log {
        assert_eq!(l["path"], "/talos");
        assert_eq!(l["call"]["from"], json!(caller.did));
        assert_eq!(l["call"]["scope"][0]["res"], "talos://booking/**");
    }
    assert_eq!(
        log[1]["traceparent"].as_str().map(|t| &t[..35]),
        Some("00-0af7651916cd43dd8448eb211c80319c")
    );
    // Every allowed call is on booking's audit log (durable before its answer left).
    let kinds: Vec<String> = crate::mcp_proxy::events(&booking)
        .await
        .iter()
        .map(|e| {
            e["event"]["body"]["event"]["type"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    let used = kinds.iter().filter(|k| *k == "capability_used").count();
    assert_eq!(used, 3, "{kinds:?}");
}
