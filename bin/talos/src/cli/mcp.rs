//! `talos mcp`: the node as an MCP server for the local agent's host.

use std::net::SocketAddr;

use clap::Subcommand;
use rmcp::ServiceExt;
use talos_mcp::http::{HttpError, McpListener};
use talos_mcp::proxy::{Proxy, ProxyConfig, ProxyError, Target, Verdict};
use talos_mcp::{Mount, NodeServer};
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
        /// Also offer a peer's proxied MCP server as tools named `NAME.tool`:
        /// `DID=NAME:CHAIN_FILE`, the chain (tokens, root first, whitespace-separated)
        /// being what the calls go under. Repeatable.
        #[arg(long = "mount", value_name = "DID=NAME:CHAIN_FILE")]
        mounts: Vec<String>,
    },
    /// Offer an MCP server's tools to remote agents under capabilities, as resources
    /// `mcp://NAME/<tool>` (action `call`; `mcp://NAME` action `list` lists the tools a
    /// caller may call). Runs beside `talos up`; the upstream is a command after `--`
    /// (stdio) or `--upstream URL` (streamable HTTP).
    Proxy {
        /// The name remote agents use.
        #[arg(long)]
        name: String,
        /// A streamable HTTP upstream, instead of a command.
        #[arg(long, conflicts_with = "command")]
        upstream: Option<String>,
        /// Accept this tool's current definition (re-pin it). Repeatable.
        #[arg(long = "repin", value_name = "TOOL")]
        repin: Vec<String>,
        /// The upstream's command line (after `--`).
        #[arg(last = true, value_name = "COMMAND")]
        command: Vec<String>,
    },
}

pub(crate) fn run(cmd: McpCommand, home: Option<std::path::PathBuf>) -> anyhow::Result<Outcome> {
    let home = Home::resolve(home)?;
    let rt = super::runtime()?;
    rt.block_on(async move {
        match cmd {
            McpCommand::Serve { http: None, mounts } => {
                let mounts = parse_mounts(&mounts)?;
                // stdout carries the protocol; nothing else may be written to it.
                let api = ApiClient::open(&home)?;
                let server = NodeServer::with_mounts(api, mounts)
                    .serve(rmcp::transport::stdio())
                    .await?;
                server.waiting().await?;
            }
            McpCommand::Serve {
                http: Some(addr),
                mounts,
            } => {
                let mounts = parse_mounts(&mounts)?;
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
                listener
                    .serve(NodeServer::with_mounts(api, mounts), token)
                    .await?;
            }
            McpCommand::Proxy {
                name,
                upstream,
                repin,
                command,
            } => proxy(&home, name, upstream, repin, command).await?,
        }
        Ok(Outcome::Done)
    })
}

fn parse_mounts(specs: &[String]) -> anyhow::Result<Vec<Mount>> {
    specs
        .iter()
        .map(|s| Mount::parse(s))
        .collect::<Result<_, _>>()
        .unusable()
}

async fn proxy(
    home: &Home,
    name: String,
    upstream: Option<String>,
    repin: Vec<String>,
    command: Vec<String>,
) -> anyhow::Result<()> {
    let target = match (upstream, command.is_empty()) {
        (Some(url), true) => Target::Url(url),
        (None, false) => Target::Command(command),
        _ => {
            return Err(anyhow::anyhow!(
                "give the upstream as a command after `--`, or as --upstream URL"
            ))
            .unusable();
        }
    };
    let api = ApiClient::open(home)?;
    let config = ProxyConfig {
        pins: home.mcp_pins(&name),
        name,
        target,
        repin,
    };
    // The name is checked before the pin path built from it is touched.
    let proxy = match Proxy::start(api, config).await {
        Err(e @ ProxyError::BadName(_)) => return Err(e).unusable(),
        other => other?,
    };
    let tools = proxy.tools().await;
    let offered: Vec<_> = tools
        .iter()
        .filter(|(_, v)| *v != Verdict::Changed)
        .map(|(t, _)| t.name.to_string())
        .collect();
    let changed: Vec<_> = tools
        .iter()
        .filter(|(_, v)| *v == Verdict::Changed)
        .map(|(t, _)| t.name.to_string())
        .collect();
    eprintln!(
        "{}",
        serde_json::json!({ "proxy": "ready", "offered": offered, "changed": changed })
    );
    tokio::select! {
        r = proxy.clone().run() => r?,
        _ = tokio::signal::ctrl_c() => {}
    }
    proxy.close().await;
    Ok(())
}
