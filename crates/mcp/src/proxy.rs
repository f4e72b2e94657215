//! `talos mcp proxy`: an existing MCP server offered to remote agents under
//! capabilities. The proxy runs beside the node as one more agent process: it long-polls
//! the node for the calls the sidecar let through to `mcp://<name>/**` (so every call has
//! already passed the capability chain or transaction token, the caveats on the tool's
//! arguments, the rate limits and the replay check, and been audited), and forwards each
//! to the upstream server:
//!
//! - `mcp://<name>` action `list` answers `{"tools": [..]}`: the upstream's tools whose
//!   definitions match their pins and that the call's scope allows calling;
//! - `mcp://<name>/<tool>` action `call` answers the upstream's `CallToolResult`, or
//!   fails as `unknown_tool`, `tool_changed` (the definition differs from its pin) or
//!   `upstream_error`. The upstream sees the tool's name and arguments and the caller's
//!   `traceparent`, never a talos token or the caller's DID.
//!
//! The node audits each call twice (`capability_used` on admission, `call_answered`
//! with the outcome, the result's digest, the duration and the `traceparent`), so a
//! proxied call is provable against the anchored root like any other.

mod pins;
mod upstream;

use std::path::PathBuf;
use std::sync::Arc;

use reqwest::Method;
use rmcp::model::Tool;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use talos_capability::Capability;
use talos_node::client::ApiClient;
use talos_primitives::TraceParent;
use tokio::sync::{Mutex, Semaphore};
use tracing::{debug, info, warn};

pub use pins::{MAX_TOOLS, PinError, Pins, Verdict, digest};
pub use upstream::{Target, Upstream, UpstreamError};

/// Calls forwarded to the upstream at once, at most (more wait in the node).
const IN_FLIGHT: usize = 32;
/// How long one long-poll waits for a call (ms).
const POLL_MS: u64 = 20_000;

/// What running a proxy can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// The name is not 1–63 characters of `[a-z0-9-]` starting with a letter or digit.
    #[error("a proxy name is 1 to 63 characters of a-z, 0-9 and -, not starting with -: {0:?}")]
    BadName(String),
    /// The pins.
    #[error(transparent)]
    Pins(#[from] PinError),
    /// The upstream.
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    /// The node refused the proxy (a bad token, or an API it does not have).
    #[error("the node answered {status} to {path}: {body}")]
    Node {
        /// The path asked.
        path: String,
        /// The status.
        status: u16,
        /// The problem document.
        body: Value,
    },
}

/// A proxy's settings.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    /// The name remote agents use: tools are `mcp://<name>/<tool>`.
    pub name: String,
    /// The upstream.
    pub target: Target,
    /// The pin file.
    pub pins: PathBuf,
    /// Tools whose current definitions the operator accepts (re-pins) at start.
    pub repin: Vec<String>,
}

/// A call the node let through, as its API shows it.
#[derive(Debug, Clone, Deserialize)]
struct Incoming {
    id: u64,
    resource: String,
    action: String,
    #[serde(default)]
    args: Map<String, Value>,
    #[serde(default)]
    scope: Vec<Capability>,
    #[serde(default)]
    traceparent: Option<TraceParent>,
}

/// How the proxy answers one call.
#[derive(Debug, Clone, PartialEq)]
enum Reply {
    Result(Value),
    Failed(&'static str, String),
}

/// A running proxy.
pub struct Proxy {
    name: String,
    api: ApiClient,
    upstream: Upstream,
    pins: Mutex<Pins>,
    /// The upstream's tools as last listed, each with its pin verdict.
    tools: Mutex<Vec<(Tool, Verdict)>>,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// True when `name` can name a proxy: 1–63 characters of `[a-z0-9-]`, not starting
/// with `-` (one literal segment of a resource).
pub fn name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && !name.starts_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl Proxy {
    /// Connects to the upstream, lists its tools and checks them against the pins
    /// (pinning new ones and those in `repin`).
    pub async fn start(api: ApiClient, config: ProxyConfig) -> Result<Arc<Proxy>, ProxyError> {
        if !name_ok(&config.name) {
            return Err(ProxyError::BadName(config.name));
        }
        let upstream = Upstream::connect(&config.target).await?;
        let proxy = Arc::new(Proxy {
            name: config.name,
            api,
            upstream,
            pins: Mutex::new(Pins::load(&config.pins)?),
            tools: Mutex::new(Vec::new()),
        });
        proxy.refresh(&config.repin).await?;
        info!(name = %proxy.name, tools = proxy.tools.lock().await.len(), "mcp proxy ready");
        Ok(proxy)
    }

    /// The tools as last listed, with their verdicts.
    pub async fn tools(&self) -> Vec<(Tool, Verdict)> {
        self.tools.lock().await.clone()
    }

    /// Takes the node's calls for `mcp://<name>/**` until the node refuses the proxy.
    /// An unreachable node is waited for (it may be restarting).
    pub async fn run(self: Arc<Self>) -> Result<(), ProxyError> {
        let slots = Arc::new(Semaphore::new(IN_FLIGHT));
        let mut after = 0u64;
        let mut backoff = std::time::Duration::from_millis(100);
        loop {
            let path = format!(
                "/v1/calls?after={after}&max=64&waitMs={POLL_MS}&resource=mcp://{}/**",
                self.name
            );
            let calls = match self.api.call(Method::GET, &path, None).await {
                Ok((200, body)) => {
                    backoff = std::time::Duration::from_millis(100);
                    body.get("calls").cloned().unwrap_or(Value::Null)
                }
                Ok((status, body)) => return Err(ProxyError::Node { path, status, body }),
                Err(e) => {
                    warn!(error = %e, "node unreachable; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(std::time::Duration::from_secs(5));
                    continue;
                }
            };
            let calls: Vec<Incoming> = serde_json::from_value(calls).unwrap_or_default();
            for call in calls {
                after = after.max(call.id);
                let Ok(slot) = slots.clone().acquire_owned().await else {
                    return Ok(());
                };
                let me = self.clone();
                tokio::spawn(async move {
                    me.serve(call).await;
                    drop(slot);
                });
            }
        }
    }

    /// Answers one call.
    async fn serve(&self, call: Incoming) {
        let id = call.id;
        let body = match self.reply(call).await {
            Reply::Result(result) => json!({ "result": result }),
            Reply::Failed(kind, detail) => json!({ "error": detail, "kind": kind }),
        };
        match self
            .api
            .call(Method::POST, &format!("/v1/calls/{id}"), Some(&body))
            .await
        {
            Ok((204, _)) => debug!(id, "answered"),
            Ok((status, body)) => warn!(id, status, kind = ?body.get("kind"), "answer not taken"),
            Err(e) => warn!(id, error = %e, "answer not delivered"),
        }
    }

    async fn reply(&self, call: Incoming) -> Reply {
        let base = format!("mcp://{}", self.name);
        if call.resource == base && call.action == "list" {
            return match self.refresh(&[]).await {
                Ok(()) => Reply::Result(json!({ "tools": self.visible(&call.scope).await })),
                Err(e) => Reply::Failed("upstream_error", e.to_string()),
            };
        }
        let tool = match call
            .resource
            .strip_prefix(&base)
            .and_then(|r| r.strip_prefix('/'))
        {
            Some(t) if call.action == "call" => t.to_owned(),
            _ => {
                return Reply::Failed(
                    "unsupported",
                    format!("this proxy serves `list` on {base} and `call` on {base}/<tool>"),
                );
            }
        };
        if self.upstream.take_stale()
            && let Err(e) = self.refresh(&[]).await
        {
            return Reply::Failed("upstream_error", e.to_string());
        }
        let verdict = self
            .tools
            .lock()
            .await
            .iter()
            .find(|(t, _)| t.name == tool)
            .map(|(_, v)| *v);
        match verdict {
            None => Reply::Failed("unknown_tool", format!("the upstream has no tool {tool:?}")),
            Some(Verdict::Changed) => Reply::Failed(
                "tool_changed",
                format!(
                    "the definition of {tool:?} changed since it was pinned; the operator must re-pin it"
                ),
            ),
            Some(_) => match self.upstream.call(&tool, call.args, call.traceparent).await {
                Ok(result) => match serde_json::to_value(&result) {
                    Ok(v) => Reply::Result(v),
                    Err(e) => Reply::Failed("upstream_error", e.to_string()),
                },
                Err(e) => Reply::Failed("upstream_error", e.to_string()),
            },
        }
    }

    /// Lists the upstream's tools again and checks them against the pins, re-pinning
    /// the tools in `repin`.
    async fn refresh(&self, repin: &[String]) -> Result<(), ProxyError> {
        let listed = self.upstream.tools().await?;
        let checked = self.pins.lock().await.check(&listed, repin)?;
        for (t, v) in &checked {
            if *v == Verdict::Changed {
                warn!(tool = %t.name, digest = %digest(t), "tool definition differs from its pin");
            }
        }
        *self.tools.lock().await = checked;
        Ok(())
    }

    /// The pinned tools `scope` allows calling (resource and action; caveats apply per
    /// call), as the upstream defined them.
    async fn visible(&self, scope: &[Capability]) -> Vec<Value> {
        let tools = self.tools.lock().await;
        tools
            .iter()
            .filter(|(_, v)| *v != Verdict::Changed)
            .filter(|(t, _)| {
                let res = format!("mcp://{}/{}", self.name, t.name);
                scope
                    .iter()
                    .any(|c| c.act.allows("call") && c.res.matches(&res))
            })
            .filter_map(|(t, _)| serde_json::to_value(t).ok())
            .collect()
    }

    /// Stops the upstream.
    pub async fn close(self: Arc<Self>) {
        if let Ok(p) = Arc::try_unwrap(self) {
            p.upstream.close().await;
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn names() {
        for ok in ["fs", "everything", "a-1", "0"] {
            assert!(super::name_ok(ok), "{ok}");
        }
        for bad in ["", "-a", "A", "a.b", "a/b", "a_b", &"a".repeat(64)] {
            assert!(!super::name_ok(bad), "{bad}");
        }
    }
}
