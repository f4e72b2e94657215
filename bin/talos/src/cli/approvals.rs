//! `talos approvals`: the calls other nodes hold until this agent approves them
//! (capability FORMAT.md §3.5, `apv`), through the running node.

use std::path::PathBuf;

use talos_node::home::Home;
use talos_primitives::CapabilityId;

use crate::cli::outcome::Outcome;

/// `talos approvals` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ApprovalsCommand {
    /// The requests waiting for this agent's approval.
    List {
        /// Print the JSON answer.
        #[arg(long)]
        json: bool,
    },
    /// Approve a request: signed, audited (`approval_granted`), sent to the holder.
    Approve {
        /// The request id (32 hex digits).
        id: CapabilityId,
        /// Print the JSON answer.
        #[arg(long)]
        json: bool,
    },
    /// Decline a request: forgotten here; the holder refuses the call once it lapses.
    Decline {
        /// The request id (32 hex digits).
        id: CapabilityId,
        /// Print the JSON answer.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a `talos approvals` command against the running node.
pub(crate) fn run(cmd: ApprovalsCommand, home: Option<PathBuf>) -> anyhow::Result<Outcome> {
    let api = talos_node::client::ApiClient::open(&Home::resolve(home)?)?;
    let (method, path, json) = match &cmd {
        ApprovalsCommand::List { json } => (reqwest::Method::GET, "/v1/approvals".into(), *json),
        ApprovalsCommand::Approve { id, json } => {
            (reqwest::Method::POST, format!("/v1/approvals/{id}"), *json)
        }
        ApprovalsCommand::Decline { id, json } => (
            reqwest::Method::DELETE,
            format!("/v1/approvals/{id}"),
            *json,
        ),
    };
    crate::cli::runtime()?.block_on(async move {
        let (s, v) = api.call(method, &path, None).await?;
        Ok(crate::cli::agent::finish(s, &v, json, |v| match &cmd {
            ApprovalsCommand::List { .. } => {
                let list = v["approvals"].as_array().cloned().unwrap_or_default();
                let lines: Vec<String> = list
                    .iter()
                    .map(|a| {
                        format!(
                            "{}  {} asks: {} {} {} (lapses at {})",
                            a["id"].as_str().unwrap_or_default(),
                            a["holder"].as_str().unwrap_or_default(),
                            a["caller"].as_str().unwrap_or_default(),
                            a["action"].as_str().unwrap_or_default(),
                            a["resource"].as_str().unwrap_or_default(),
                            a["exp"]
                        )
                    })
                    .collect();
                if lines.is_empty() {
                    "no approval requests".into()
                } else {
                    lines.join("\n")
                }
            }
            ApprovalsCommand::Approve { id, .. } => {
                format!(
                    "approved {id}: approval {} sent to {}",
                    v["approval"], v["holder"]
                )
            }
            ApprovalsCommand::Decline { id, .. } => format!("declined {id}"),
        }))
    })
}
