//! `talos mcp proxy` in front of real MCP servers from npm (`mcp-servers/`), reached by a
//! remote agent through `talos mcp serve --mount`: three processes per side, real
//! sockets, the real sidecar. What the upstream receives is recorded by a `tee` in front
//! of its stdin, so "the upstream never sees a refused call" is checked on its input.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use reqwest::Method;
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, CallToolResult, JsonObject};
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::TokioChildProcess;
use serde_json::{Value, json};
use talos_testkit::node::{NodeProc, talos_bin};
use tokio::io::AsyncBufReadExt;
use tokio::process::Child;

use super::processes::network;

type Client = RunningService<RoleClient, ()>;

/// An npm-installed MCP server's executable (`make bootstrap` installs them).
pub(crate) fn npm_server(bin: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../mcp-servers/node_modules/.bin")
        .join(bin)
}

/// `talos mcp proxy --name NAME [extra] -- upstream..` on `node`, its stdin recorded in
/// `log`: the child and the proxy's ready line (`{"proxy", "offered", "changed"}`).
pub(crate) async fn proxy(
    node: &NodeProc,
    name: &str,
    extra: &[&str],
    log: &Path,
    upstream: &[&str],
) -> (Child, Value) {
    let mut args: Vec<std::ffi::OsString> = extra.iter().map(Into::into).collect();
    args.extend(["--", "sh", "-c", "tee -a \"$0\" | exec \"$@\""].map(Into::into));
    args.push(log.into());
    args.extend(upstream.iter().map(Into::into));
    spawn_proxy(node, name, &args).await
}

/// `talos mcp proxy --name NAME args..` on `node`: the child and its ready line.
pub(crate) async fn spawn_proxy(
    node: &NodeProc,
    name: &str,
    args: &[std::ffi::OsString],
) -> (Child, Value) {
    let mut cmd = tokio::process::Command::new(talos_bin());
    cmd.arg("--home")
        .arg(&node.home)
        .args(["mcp", "proxy", "--name", name])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().unwrap();
    let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    // Log lines may come first; the ready line is the JSON one naming the proxy.
    let ready = tokio::time::timeout(Duration::from_secs(120), async {
        loop {
            let line = lines.next_line().await.unwrap().expect("the proxy exited");
            if let Ok(v) = serde_json::from_str::<Value>(&line)
                && v.get("proxy").is_some()
            {
                return v;
            }
        }
    })
    .await
    .expect("the proxy did not get ready");
    // Keep draining stderr so the proxy never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, ready)
}

/// `talos mcp serve --mount ...` on `node` over stdio, as an MCP host launches it.
pub(crate) async fn mounted_client(node: &NodeProc, mounts: &[String]) -> Client {
    let mut cmd = tokio::process::Command::new(talos_bin());
    cmd.arg("--home").arg(&node.home).args(["mcp", "serve"]);
    for m in mounts {
        cmd.args(["--mount", m]);
    }
    cmd.stderr(Stdio::null());
    ().serve(TokioChildProcess::new(cmd).unwrap())
        .await
        .unwrap()
}

pub(crate) async fn call(client: &Client, name: &str, args: Value) -> CallToolResult {
    let args: JsonObject = args.as_object().cloned().unwrap_or_default();
    client
        .call_tool(CallToolRequestParams::new(name.to_owned()).with_arguments(args))
        .await
        .unwrap()
}

/// A tool error's kind (the node's problem document).
pub(crate) fn kind(r: &CallToolResult) -> String {
    assert_eq!(r.is_error, Some(true), "{r:?}");
    r.structured_content.as_ref().expect("a problem document")["kind"]
        .as_str()
        .unwrap()
        .to_string()
}

pub(crate) fn text(r: &CallToolResult) -> String {
    serde_json::to_value(&r.content).unwrap()[0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Issues a capability from `issuer` to `holder`, and writes its chain to a file: the
/// chain file and the token's `jti`.
pub(crate) async fn grant(
    issuer: &NodeProc,
    holder: &NodeProc,
    cap: Value,
    dir: &Path,
) -> (PathBuf, String) {
    let (s, issued) = issuer
        .call(
            Method::POST,
            "/v1/capabilities",
            Some(json!({ "to": holder.did, "cap": cap })),
        )
        .await;
    assert_eq!(s, 200, "{issued}");
    let chain: Vec<&str> = issued["chain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    let file = dir.join(format!("chain-{}.txt", issued["jti"].as_str().unwrap()));
    std::fs::write(&file, chain.join("\n")).unwrap();
    (file, issued["jti"].as_str().unwrap().to_string())
}

/// B's audit events (digests and ids only).
pub(crate) async fn events(node: &NodeProc) -> Vec<Value> {
    let (s, v) = node
        .call(Method::GET, "/v1/audit/events?from=0&max=256", None)
        .await;
    assert_eq!(s, 200, "{v}");
    v["events"].as_array().unwrap().clone()
}

/// Waits for an audit event that `pred` accepts. `call_answered` is queued behind the
/// answer (the answer does not wait for it), so a test polls for progress rather than
/// reading once; the deadline only ends a test that would otherwise hang.
pub(crate) async fn event_where(
    node: &NodeProc,
    what: &str,
    pred: impl Fn(&Value) -> bool,
) -> (Value, Vec<Value>) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let evs = events(node).await;
        if let Some(e) = evs.iter().find(|e| pred(&e["event"]["body"]["event"])) {
            return (e.clone(), evs);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no {what} in {evs:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_host_reads_a_file_under_a_path_prefix_then_is_revoked_and_audited() {
    let root = tempfile::tempdir().unwrap();
    let nodes = network(root.path(), 2).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    // B's files: the server may read all of `shared`; A may read only `shared/docs`.
    let shared = root.path().join("shared");
    let docs = shared.join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    std::fs::write(docs.join("notes.txt"), "meeting at noon").unwrap();
    std::fs::write(shared.join("secret.txt"), "the vault code").unwrap();
    let log = root.path().join("upstream-input.log");
    let fs = npm_server("mcp-server-filesystem");
    let (_proxy, ready) = proxy(
        b,
        "fs",
        &[],
        &log,
        &[fs.to_str().unwrap(), shared.to_str().unwrap()],
    )
    .await;
    assert!(
        ready["offered"]
            .as_array()
            .unwrap()
            .contains(&json!("read_file")),
        "{ready}"
    );

    let docs_s = docs.to_str().unwrap();
    let (chain, jti) = grant(
        b,
        a,
        json!([
            { "res": "mcp://fs", "act": ["list"] },
            { "res": "mcp://fs/read_file", "act": ["call"], "cav": { "pfx": { "path": docs_s } } }
        ]),
        root.path(),
    )
    .await;
    let mount = format!("{}=fs:{}", b.did, chain.display());
    let client = mounted_client(a, &[mount]).await;

    // Listing shows the one tool the capability allows calling, beside the node's own.
    let tools = client.list_all_tools().await.unwrap();
    let mounted: Vec<&str> = tools
        .iter()
        .map(|t| t.name.as_ref())
        .filter(|n| n.starts_with("fs."))
        .collect();
    assert_eq!(mounted, ["fs.read_file"], "{tools:?}");

    // Inside the prefix: the file's text, from B's machine.
    let notes = docs.join("notes.txt");
    let ok = call(&client, "fs.read_file", json!({ "path": notes })).await;
    assert_ne!(ok.is_error, Some(true), "{ok:?}");
    assert_eq!(text(&ok), "meeting at noon");

    // Outside it, directly or by `..`: refused by B's sidecar, never forwarded.
    let outside = [
        shared.join("secret.txt").to_str().unwrap().to_string(),
        format!("{docs_s}/../secret.txt"),
    ];
    for path in &outside {
        let r = call(&client, "fs.read_file", json!({ "path": path })).await;
        assert_eq!(kind(&r), "not_authorized", "{path}");
    }
    // A tool the capability does not name: refused the same way.
    let w = call(
        &client,
        "fs.write_file",
        json!({ "path": docs.join("x.txt"), "content": "x" }),
    )
    .await;
    assert_eq!(kind(&w), "not_authorized");
    let seen = std::fs::read_to_string(&log).unwrap();
    assert!(
        seen.contains("notes.txt"),
        "the allowed call reached the upstream"
    );
    assert!(
        !seen.contains("secret.txt"),
        "a refused call reached the upstream"
    );
    assert!(
        !seen.contains("write_file\",\"arguments"),
        "a refused call reached the upstream"
    );
    assert!(!seen.contains("eyJ"), "a talos token reached the upstream");

    // B revokes: the next call is refused as revoked.
    let (s, v) = b
        .call(
            Method::POST,
            "/v1/capabilities/revoke",
            Some(json!({ "id": jti })),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let r = call(&client, "fs.read_file", json!({ "path": notes })).await;
    assert_eq!(kind(&r), "revoked");

    // The auditor: the answered call is an event in B's log, provable against the root
    // B anchored.
    let (answered, evs) = event_where(b, "answered call", |ev| {
        ev["type"] == "call_answered" && ev["outcome"] == "ok"
    })
    .await;
    let denied = evs
        .iter()
        .filter(|e| e["event"]["body"]["event"]["type"] == "capability_denied")
        .count();
    assert!(denied >= 3, "the refusals are audited: {evs:?}");
    let (s, anchored) = b.call(Method::POST, "/v1/audit/anchor", None).await;
    assert_eq!(s, 200, "{anchored}");
    let size = anchored["treeSize"].as_u64().unwrap();
    let index = answered["index"].as_u64().unwrap();
    let (s, proof) = b
        .call(
            Method::GET,
            &format!("/v1/audit/proof?index={index}&size={size}"),
            None,
        )
        .await;
    assert_eq!(s, 200, "{proof}");
    assert_eq!(proof["leafHash"], answered["leafHash"]);
    let did = anchored["did"].as_str().unwrap().to_string();
    let mut b = nodes.into_iter().nth(1).unwrap();
    assert!(b.term().await.success());
    let (code, out) = super::anchoring::audit(
        &b.home,
        &["verify-anchored", "--did", &did, "--inclusion", "-"],
        &proof.to_string(),
    );
    assert_eq!(code, 0, "{out}");
    client.cancel().await.unwrap();
}
