//! `talos reputation`: file a misbehaviour report through the running node, and read a
//! DID's score as the node computes it (`crates/reputation/FORMAT.md`).

use std::path::PathBuf;

use serde_json::json;
use talos_node::home::Home;
use talos_primitives::{Did, Hash32};

use crate::cli::outcome::Outcome;

/// `talos reputation` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ReputationCommand {
    /// Sign a report about another agent: kept, audited (`report_filed`) and gossiped.
    Report {
        /// Whom it is about.
        subject: Did,
        /// refused_storm, bad_answer, broken_attestation, protocol_violation or
        /// operator_report.
        #[arg(long)]
        kind: String,
        /// Leaf hashes (hex) of the audit events that show it; up to 8.
        #[arg(long = "evidence")]
        evidence: Vec<Hash32>,
        /// Print the JSON answer.
        #[arg(long)]
        json: bool,
    },
    /// A DID's score (0..=1000) from the reports the node holds.
    Show {
        /// The DID.
        did: Did,
        /// Print the JSON answer.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a `talos reputation` command against the running node.
pub(crate) fn run(cmd: ReputationCommand, home: Option<PathBuf>) -> anyhow::Result<Outcome> {
    let api = talos_node::client::ApiClient::open(&Home::resolve(home)?)?;
    let (method, path, body, json) = match &cmd {
        ReputationCommand::Report {
            subject,
            kind,
            evidence,
            json,
        } => (
            reqwest::Method::POST,
            "/v1/reports".to_string(),
            Some(json!({"subject": subject, "kind": kind, "evidence": evidence})),
            *json,
        ),
        ReputationCommand::Show { did, json } => (
            reqwest::Method::GET,
            format!("/v1/reputation/{did}"),
            None,
            *json,
        ),
    };
    crate::cli::runtime()?.block_on(async move {
        let (s, v) = api.call(method, &path, body.as_ref()).await?;
        Ok(crate::cli::agent::finish(s, &v, json, |v| match &cmd {
            ReputationCommand::Report { .. } => {
                format!("filed {} about {}", v["commitment"], v["subject"])
            }
            ReputationCommand::Show { .. } => format!(
                "{} scores {} of 1000 ({} reports count, {} by seeds)",
                v["did"], v["score"], v["reports"], v["from_seeds"]
            ),
        }))
    })
}
