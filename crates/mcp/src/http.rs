//! `talos mcp serve --http ADDR`: MCP over streamable HTTP, on loopback only.
//!
//! Three guards stand before rmcp's service, each answered with a status and no body
//! that echoes input:
//! - the listen address must be loopback ([`HttpError::NotLoopback`]);
//! - `Host` must name a loopback host (rmcp's own check, kept on) and `Origin`, when a
//!   browser sends one, must be this listener's own origin: a page on another site
//!   cannot reach the server through DNS rebinding;
//! - `Authorization: Bearer <the node's API token>` (any local process can connect to a
//!   loopback port), compared as SHA-256 digests as the node's API does, so the time
//!   taken does not depend on how much of a guess matches.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use tokio::net::TcpListener;

use crate::NodeServer;

/// The path the MCP endpoint is served at.
pub const MCP_PATH: &str = "/mcp";

/// Why the HTTP listener did not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The address is not a loopback address.
    #[error("{0} is not a loopback address; the MCP endpoint is local only")]
    NotLoopback(SocketAddr),
    /// The listener could not bind or failed.
    #[error("MCP listener on {addr}")]
    Io {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// A bound MCP HTTP listener, not yet serving.
#[derive(Debug)]
pub struct McpListener {
    listener: TcpListener,
    addr: SocketAddr,
}

impl McpListener {
    /// Binds `addr`, which must be loopback (port 0 picks a free port).
    pub async fn bind(addr: SocketAddr) -> Result<Self, HttpError> {
        if !addr.ip().is_loopback() {
            return Err(HttpError::NotLoopback(addr));
        }
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| HttpError::Io { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| HttpError::Io { addr, source })?;
        Ok(McpListener { listener, addr })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves `server` until the process ends, requiring `token` as a bearer token.
    pub async fn serve(self, server: NodeServer, token: String) -> Result<(), HttpError> {
        let addr = self.addr;
        let port = addr.port();
        // rmcp's Host check is on by default (loopback names only); Origin is pinned to
        // the origins a page served by this very listener would send.
        let config = StreamableHttpServerConfig::default()
            .with_allowed_hosts([
                format!("127.0.0.1:{port}"),
                format!("localhost:{port}"),
                format!("[::1]:{port}"),
            ])
            .with_allowed_origins([
                format!("http://127.0.0.1:{port}"),
                format!("http://localhost:{port}"),
                format!("http://[::1]:{port}"),
            ]);
        let service = StreamableHttpService::new(
            move || Ok(server.clone()),
            Arc::new(LocalSessionManager::default()),
            config,
        );
        let app = axum::Router::new().nest_service(MCP_PATH, service).layer(
            middleware::from_fn_with_state(Arc::new(digest(&token)), bearer),
        );
        axum::serve(self.listener, app)
            .await
            .map_err(|source| HttpError::Io { addr, source })
    }
}

/// Refuses a request without the node's API token (401, `WWW-Authenticate: Bearer`).
async fn bearer(State(token): State<Arc<[u8; 32]>>, req: Request, next: Next) -> Response {
    let given = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if digest(given) == *token {
        next.run(req).await
    } else {
        (
            StatusCode::UNAUTHORIZED,
            [(axum::http::header::WWW_AUTHENTICATE, "Bearer")],
        )
            .into_response()
    }
}

fn digest(token: &str) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(token.trim().as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_public_address_is_refused() {
        let addr: SocketAddr = "0.0.0.0:0".parse().unwrap();
        assert!(matches!(
            McpListener::bind(addr).await,
            Err(HttpError::NotLoopback(_))
        ));
    }
}
