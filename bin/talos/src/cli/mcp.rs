//! `talos mcp`: the node as an MCP server for the local agent's host.

use std::net::SocketAddr;

use clap::Subcommand;
use rmcp::ServiceExt;
use talos_mcp::NodeServer;
use talos_mcp::http::{HttpError, McpListener};
use talos_node::client::ApiClient;
use talos_node::home::Home;

use super::Outcome;
use super::outcome::Classify;

/// MCP commands.
#[derive(Debug, Subcommand)]
pub enum McpCommand {
    /// Serve this node's tools to an MCP host: over stdio (what hosts launch), or over
    /// streamable HTTP on a loopback address (`--http 127.0.0.1:8765`; clients send the
    /// node's API token as a bearer token). Needs `talos up` running.
    Serve {
        /// Serve streamable HTTP at this loopback address instead of stdio (port 0: any
        /// free port, printed on stderr).
        #[arg(long)]
        http: Option<SocketAddr>,
    },
}

pub(crate) fn run(cmd: McpCommand, home: Option<std::path::PathBuf>) -> anyhow::Result<Outcome> {
    let home = Home::resolve(home)?;
    let rt = super::runtime()?;
    rt.block_on(async move {
        match cmd {
            McpCommand::Serve { http: None } => {
                // stdout carries the protocol; nothing else may be written to it.
                let api = ApiClient::open(&home)?;
                let server = NodeServer::new(api).serve(rmcp::transport::stdio()).await?;
                server.waiting().await?;
            }
            McpCommand::Serve { http: Some(addr) } => {
                let listener = match McpListener::bind(addr).await {
                    Err(e @ HttpError::NotLoopback(_)) => return Err(e).unusable(),
                    other => other?,
                };
                let api = ApiClient::open(&home)?;
                let token = api.token().to_string();
                eprintln!(
                    "{}",
                    serde_json::json!({
                        "mcp": format!("http://{}{}", listener.local_addr(), talos_mcp::http::MCP_PATH)
                    })
                );
                listener.serve(NodeServer::new(api), token).await?;
            }
        }
        Ok(Outcome::Done)
    })
}
