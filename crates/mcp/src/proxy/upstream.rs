//! The upstream MCP server a proxy fronts: a child process over stdio, or a streamable
//! HTTP URL. The proxy is its only client; it forwards a tool's name and arguments (and
//! the caller's `traceparent` in `_meta`), never a talos token or the caller's identity.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, Implementation,
    JsonObject, RequestParamsMeta, Tool,
};
use rmcp::service::{NotificationContext, RoleClient, RunningService};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{ClientHandler, ServiceExt};
use talos_primitives::TraceParent;

/// Where the upstream is.
#[derive(Debug, Clone)]
pub enum Target {
    /// A command line, started as a child process speaking MCP over stdio.
    Command(Vec<String>),
    /// A streamable HTTP endpoint.
    Url(String),
}

/// What talking to the upstream can fail with.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// No command was given.
    #[error("the upstream command is empty")]
    NoCommand,
    /// The child process could not be started.
    #[error("starting the upstream {program:?}: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        source: std::io::Error,
    },
    /// The MCP handshake failed.
    #[error("the upstream did not complete the MCP handshake: {0}")]
    Handshake(String),
    /// A request failed (the upstream answered a protocol error, or went away).
    #[error("the upstream failed: {0}")]
    Service(#[from] rmcp::ServiceError),
}

/// The client side of the upstream connection: notes when the upstream says its tool
/// list changed, so the proxy lists (and checks pins) again before the next call.
#[derive(Debug, Clone, Default)]
struct Watcher {
    stale: Arc<AtomicBool>,
}

impl ClientHandler for Watcher {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("talos-mcp-proxy", env!("CARGO_PKG_VERSION")),
        )
    }

    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.stale.store(true, Ordering::Release);
    }
}

/// A connected upstream.
pub struct Upstream {
    service: RunningService<RoleClient, Watcher>,
    stale: Arc<AtomicBool>,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream").finish_non_exhaustive()
    }
}

impl Upstream {
    /// Connects (starting the child process for a command).
    pub async fn connect(target: &Target) -> Result<Upstream, UpstreamError> {
        let watcher = Watcher::default();
        let stale = watcher.stale.clone();
        let service = match target {
            Target::Command(argv) => {
                let (program, args) = argv.split_first().ok_or(UpstreamError::NoCommand)?;
                let mut cmd = tokio::process::Command::new(program);
                cmd.args(args);
                let transport =
                    TokioChildProcess::new(cmd).map_err(|source| UpstreamError::Spawn {
                        program: program.clone(),
                        source,
                    })?;
                watcher.serve(transport).await
            }
            Target::Url(url) => {
                let config = StreamableHttpClientTransportConfig::with_uri(url.as_str());
                watcher
                    .serve(StreamableHttpClientTransport::from_config(config))
                    .await
            }
        }
        .map_err(|e| UpstreamError::Handshake(e.to_string()))?;
        // Every list and call goes to the upstream: a cached answer would hide a changed
        // definition from the pin check.
        service
            .set_response_cache_config(rmcp::ClientCacheConfig::disabled())
            .await;
        Ok(Upstream { service, stale })
    }

    /// The upstream's name and version, as it says.
    pub fn server_info(&self) -> Option<Implementation> {
        self.service.peer_info().and_then(|i| i.server_info.clone())
    }

    /// True (once) when the upstream said its tools changed since the last list.
    pub fn take_stale(&self) -> bool {
        self.stale.swap(false, Ordering::AcqRel)
    }

    /// Every tool the upstream lists.
    pub async fn tools(&self) -> Result<Vec<Tool>, UpstreamError> {
        Ok(self.service.list_all_tools().await?)
    }

    /// Calls `tool` with `args`, passing `traceparent` in the request's `_meta`.
    pub async fn call(
        &self,
        tool: &str,
        args: JsonObject,
        traceparent: Option<TraceParent>,
    ) -> Result<CallToolResult, UpstreamError> {
        let mut params = CallToolRequestParams::new(tool.to_owned()).with_arguments(args);
        if let Some(t) = traceparent {
            params.set_traceparent(&t.to_string());
        }
        Ok(self.service.call_tool(params).await?)
    }

    /// Closes the connection (and stops the child process).
    pub async fn close(self) {
        let _ = self.service.cancel().await;
    }
}
