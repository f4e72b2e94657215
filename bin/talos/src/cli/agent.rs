//! `talos agent ...`: what an agent does through its running node, from the shell. Each
//! command is one request to the node's local API (address from `config.toml`, token
//! from `api-token`); `--json` prints the API's JSON, otherwise a short summary. Exit 0
//! on success, 1 when the node or a peer refused, 2 on unusable input.

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use clap::Subcommand;
use serde_json::{Value, json};

use crate::cli::outcome::{Classify, Outcome};
use talos_node::client::ApiClient;
use talos_node::home::Home;

/// Agent commands (the node must be running).
#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Send a message (durable once this returns).
    Send {
        /// The recipient's DID.
        #[arg(long)]
        to: talos_primitives::Did,
        /// The message, as text.
        #[arg(long)]
        text: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Read messages from an inbox index (waiting up to --wait-ms for one).
    Read {
        /// First index.
        #[arg(long, default_value_t = 0)]
        from: u64,
        /// How long to wait for a message, ms.
        #[arg(long, default_value_t = 0)]
        wait_ms: u64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Connected peers.
    Peers {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Call a peer agent under a capability chain.
    Invoke {
        /// The callee's DID.
        #[arg(long)]
        to: talos_primitives::Did,
        /// The chain: a file of tokens, root first, one per line (- for stdin).
        #[arg(long)]
        chain: String,
        /// The resource.
        #[arg(long)]
        resource: String,
        /// The action.
        #[arg(long)]
        action: String,
        /// Arguments, a JSON object.
        #[arg(long, default_value = "{}")]
        args: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Calls the node let through to this agent.
    Calls {
        /// Only calls with an id above this.
        #[arg(long, default_value_t = 0)]
        after: u64,
        /// How long to wait for one, ms.
        #[arg(long, default_value_t = 0)]
        wait_ms: u64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Answer a call with a JSON result, or an error message.
    Answer {
        /// The call's id.
        id: u64,
        /// The result, JSON.
        #[arg(long, conflicts_with = "error")]
        result: Option<String>,
        /// An error message instead.
        #[arg(long)]
        error: Option<String>,
    },
    /// Revoke a capability by its id (jti); gossiped to other nodes.
    Revoke {
        /// The token id, 32 hex digits.
        #[arg(long)]
        id: talos_primitives::CapabilityId,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The dashboard's URL (`talos up --dashboard`), with the API token in its fragment:
    /// open it in a browser on this machine.
    Dashboard,
    /// A signed checkpoint of the node's audit log.
    Checkpoint {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// An inclusion proof of one audit event (the JSON `talos audit verify-*` reads).
    Proof {
        /// The event's index.
        index: u64,
        /// The tree size (default: the whole log).
        #[arg(long)]
        size: Option<u64>,
    },
    /// Anchor the audit log's head on the node's chain now.
    Anchor {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

fn read_chain(src: &str) -> anyhow::Result<Vec<String>> {
    let text = if src == "-" {
        std::io::read_to_string(std::io::stdin())?
    } else {
        std::fs::read_to_string(src).with_context(|| format!("reading {src}"))?
    };
    Ok(text.split_whitespace().map(str::to_string).collect())
}

/// Prints the outcome: JSON as is, or `summary` of it; the outcome by status.
pub(crate) fn finish(
    status: u16,
    v: &Value,
    json: bool,
    summary: impl Fn(&Value) -> String,
) -> Outcome {
    let ok = (200..300).contains(&status);
    if json {
        println!("{v}");
    } else if ok {
        println!("{}", summary(v));
    } else {
        eprintln!(
            "{} ({status}): {}",
            v["kind"].as_str().unwrap_or("error"),
            v["detail"].as_str().unwrap_or("no detail")
        );
    }
    Outcome::of_status(status)
}

pub(crate) fn run(cmd: AgentCommand, home: Option<std::path::PathBuf>) -> anyhow::Result<Outcome> {
    use reqwest::Method;
    let home = Home::resolve(home)?;
    if let AgentCommand::Dashboard = cmd {
        return dashboard_url(&home);
    }
    let api = ApiClient::open(&home)?;
    let rt = crate::cli::runtime()?;
    rt.block_on(async move {
        Ok(match cmd {
            AgentCommand::Send { to, text, json } => {
                let body = json!({ "to": to, "data": B64.encode(text.as_bytes()) });
                let (s, v) = api.call(Method::POST, "/v1/messages", Some(&body)).await?;
                finish(s, &v, json, |v| format!("stored as frame {}", v["seq"]))
            }
            AgentCommand::Read {
                from,
                wait_ms,
                json,
            } => {
                let path = format!("/v1/messages?from={from}&waitMs={wait_ms}");
                let (s, v) = api.call(Method::GET, &path, None).await?;
                finish(s, &v, json, |v| {
                    let mut out = Vec::new();
                    for m in v["messages"].as_array().into_iter().flatten() {
                        let data = B64
                            .decode(m["data"].as_str().unwrap_or_default())
                            .unwrap_or_default();
                        out.push(format!(
                            "{} {}: {}",
                            m["index"],
                            m["from"].as_str().unwrap_or("?"),
                            String::from_utf8_lossy(&data)
                        ));
                    }
                    out.push(format!("next {}", v["next"]));
                    out.join("\n")
                })
            }
            AgentCommand::Peers { json } => {
                let (s, v) = api.call(Method::GET, "/v1/peers", None).await?;
                finish(s, &v, json, |v| {
                    v["connected"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join("\n")
                })
            }
            AgentCommand::Invoke {
                to,
                chain,
                resource,
                action,
                args,
                json,
            } => {
                let args: Value = match serde_json::from_str(&args) {
                    Ok(a @ Value::Object(_)) => a,
                    _ => {
                        eprintln!("--args must be a JSON object");
                        return Ok(Outcome::Unusable);
                    }
                };
                let body = json!({
                    "to": to, "chain": read_chain(&chain).unusable()?, "resource": resource,
                    "action": action, "args": args,
                });
                let (s, v) = api.call(Method::POST, "/v1/invoke", Some(&body)).await?;
                finish(s, &v, json, |v| {
                    if v["kind"] == "pending" {
                        format!(
                            "held for approval: request {}; send the same call again once approved",
                            v["approval"].as_str().unwrap_or_default()
                        )
                    } else {
                        v["result"].to_string()
                    }
                })
            }
            AgentCommand::Calls {
                after,
                wait_ms,
                json,
            } => {
                let path = format!("/v1/calls?after={after}&waitMs={wait_ms}");
                let (s, v) = api.call(Method::GET, &path, None).await?;
                finish(s, &v, json, |v| {
                    let mut out = Vec::new();
                    for c in v["calls"].as_array().into_iter().flatten() {
                        out.push(format!(
                            "{} from {}: {} {} {}",
                            c["id"],
                            c["from"].as_str().unwrap_or("?"),
                            c["action"].as_str().unwrap_or("?"),
                            c["resource"].as_str().unwrap_or("?"),
                            c["args"]
                        ));
                    }
                    out.join("\n")
                })
            }
            AgentCommand::Answer { id, result, error } => {
                let body = match (result, error) {
                    (Some(r), None) => match serde_json::from_str::<Value>(&r) {
                        Ok(v) => json!({ "result": v }),
                        Err(_) => {
                            eprintln!("--result must be JSON");
                            return Ok(Outcome::Unusable);
                        }
                    },
                    (None, Some(e)) => json!({ "error": e }),
                    _ => {
                        eprintln!("give --result or --error");
                        return Ok(Outcome::Unusable);
                    }
                };
                let (s, v) = api
                    .call(Method::POST, &format!("/v1/calls/{id}"), Some(&body))
                    .await?;
                finish(s, &v, false, |_| format!("call {id} answered"))
            }
            AgentCommand::Revoke { id, json } => {
                let (s, v) = api
                    .call(
                        Method::POST,
                        "/v1/capabilities/revoke",
                        Some(&json!({ "id": id.to_string() })),
                    )
                    .await?;
                finish(s, &v, json, |_| format!("{id} revoked"))
            }
            AgentCommand::Dashboard => Outcome::Done,
            AgentCommand::Checkpoint { json } => {
                let (s, v) = api.call(Method::GET, "/v1/audit/checkpoint", None).await?;
                finish(s, &v, json, |v| {
                    v["note"]
                        .as_str()
                        .unwrap_or_default()
                        .trim_end()
                        .to_string()
                })
            }
            AgentCommand::Proof { index, size } => {
                let size = size.map(|s| format!("&size={s}")).unwrap_or_default();
                let path = format!("/v1/audit/proof?index={index}{size}");
                let (s, v) = api.call(Method::GET, &path, None).await?;
                finish(s, &v, true, |v| v.to_string())
            }
            AgentCommand::Anchor { json } => {
                let (s, v) = api.call(Method::POST, "/v1/audit/anchor", None).await?;
                finish(s, &v, json, |v| {
                    if v["anchored"] == true {
                        format!("anchored size {} in block {}", v["treeSize"], v["block"])
                    } else {
                        "nothing new to anchor".into()
                    }
                })
            }
        })
    })
}

/// Prints the dashboard's URL: the node's TCP API address and, in the fragment (which a
/// browser never sends), the API token the page reads the API with.
fn dashboard_url(home: &Home) -> anyhow::Result<Outcome> {
    let addr = std::fs::read_to_string(home.api_addr_file())
        .map_err(|_| anyhow::anyhow!("no running node (start it with `talos up --dashboard`)"))?;
    // `talos up` writes `host:port` for TCP and `unix:PATH` for a socket.
    let host = addr.trim();
    if host.starts_with("unix:") {
        eprintln!(
            "the dashboard needs the API on loopback TCP (api = \"127.0.0.1:PORT\"), not {host}"
        );
        return Ok(Outcome::Unusable);
    }
    let token = home.load_token()?;
    println!("http://{host}/dashboard#token={}", token.trim());
    Ok(Outcome::Done)
}
