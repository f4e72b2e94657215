//! `talos attest measure | issue | verify | install | show`: attestation credentials (a W3C VC 2.0 with an
//! `eddsa-jcs-2022` proof; rules in docs/attestation.md).

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::json;
use talos_attest::credential::{MAX_CREDENTIAL, describe};
use talos_attest::{AttestError, Claims, measure};
use talos_identity::Hash32;
use talos_node::home::Home;
use talos_primitives::Did;

use crate::cli::audit::verdict;
use crate::cli::outcome::Outcome;

/// `talos attest`.
#[derive(Debug, clap::Subcommand)]
pub enum AttestCommand {
    /// The digests an attester states: the node binary's and the configuration's
    /// (canonical form, the settings that may carry credentials left out).
    Measure {
        /// The binary (default: this talos).
        #[arg(long)]
        binary: Option<PathBuf>,
        /// The configuration (default: the home's config.toml).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Issue a credential about an agent, signed by this home's identity (the attester).
    Issue(IssueArgs),
    /// Verify a credential (file or -): the attester's proof and the validity period.
    /// Exit 0 valid, 1 invalid, 2 malformed.
    Verify {
        /// The credential.
        file: String,
        /// The agent it must be about.
        #[arg(long)]
        subject: Option<Did>,
        /// Attesters accepted (repeatable; default: any).
        #[arg(long = "issuer")]
        issuers: Vec<Did>,
    },
    /// Give the running node a credential about itself (file or -): it presents it on
    /// calls whose capability asks for its attester (`att`).
    Install {
        /// The credential.
        file: String,
    },
    /// The credentials the running node holds about itself.
    Show {
        /// Print the JSON answer.
        #[arg(long)]
        json: bool,
    },
}

/// `attest issue`'s arguments.
#[derive(Debug, clap::Args)]
pub struct IssueArgs {
    /// The agent.
    #[arg(long)]
    subject: Did,
    /// SHA-256 of its binary (hex).
    #[arg(long)]
    binary_sha256: Hash32,
    /// SHA-256 of its configuration's canonical form (hex).
    #[arg(long)]
    config_sha256: Hash32,
    /// The model it runs.
    #[arg(long)]
    model: String,
    /// SHA-256 of its policy (hex).
    #[arg(long)]
    policy_sha256: Hash32,
    /// SHA-256 of an in-toto statement (hex).
    #[arg(long)]
    intoto_sha256: Option<Hash32>,
    /// Days it stays valid.
    #[arg(long, default_value_t = 30)]
    days: u64,
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Runs `talos attest`.
pub(crate) fn run(
    cmd: AttestCommand,
    home: Option<PathBuf>,
    pass_file: Option<&Path>,
) -> anyhow::Result<Outcome> {
    match cmd {
        AttestCommand::Measure { binary, config } => {
            let binary = match binary {
                Some(b) => b,
                None => std::env::current_exe().context("this binary's path")?,
            };
            let config = match config {
                Some(c) => c,
                None => Home::resolve(home)?.config(),
            };
            let text = std::fs::read_to_string(&config)
                .with_context(|| format!("reading {}", config.display()))?;
            println!(
                "{}",
                json!({
                    "binarySha256": measure::file(&binary)?,
                    "configSha256": measure::config(&text)?,
                })
            );
            Ok(Outcome::Done)
        }
        AttestCommand::Issue(a) => {
            let key = crate::cli::unlock(&Home::resolve(home)?, pass_file)?;
            let claims = Claims {
                id: a.subject,
                binary_sha256: a.binary_sha256,
                config_sha256: a.config_sha256,
                model: a.model,
                policy_sha256: a.policy_sha256,
                intoto_sha256: a.intoto_sha256,
            };
            let from = now();
            let until = from.saturating_add(a.days.max(1).saturating_mul(86_400));
            println!("{}", talos_attest::issue(&key, claims, from, until)?);
            Ok(Outcome::Done)
        }
        AttestCommand::Verify {
            file,
            subject,
            issuers,
        } => verify(&file, subject.as_ref(), &issuers),
        AttestCommand::Install { file } => {
            let bytes = crate::cli::read_bounded(&file, MAX_CREDENTIAL)?;
            let body: serde_json::Value =
                serde_json::from_slice(&bytes).context("the credential is not JSON")?;
            node_call(home, reqwest::Method::POST, Some(body), false, |v| {
                format!("installed {} from {}", v["id"], v["issuer"])
            })
        }
        AttestCommand::Show { json } => node_call(home, reqwest::Method::GET, None, json, |v| {
            let list = v["attestations"].as_array().cloned().unwrap_or_default();
            let lines: Vec<String> = list
                .iter()
                .map(|a| format!("{} by {} until {}", a["id"], a["issuer"], a["validUntil"]))
                .collect();
            if lines.is_empty() {
                "no attestation credentials".into()
            } else {
                lines.join("\n")
            }
        }),
    }
}

/// One call to the running node's `/v1/attestations`.
fn node_call(
    home: Option<PathBuf>,
    method: reqwest::Method,
    body: Option<serde_json::Value>,
    json: bool,
    summary: impl Fn(&serde_json::Value) -> String,
) -> anyhow::Result<Outcome> {
    let api = talos_node::client::ApiClient::open(&Home::resolve(home)?)?;
    crate::cli::runtime()?.block_on(async move {
        let (s, v) = api.call(method, "/v1/attestations", body.as_ref()).await?;
        Ok(crate::cli::agent::finish(s, &v, json, summary))
    })
}

fn verify(file: &str, subject: Option<&Did>, issuers: &[Did]) -> anyhow::Result<Outcome> {
    let bytes = crate::cli::read_bounded(file, MAX_CREDENTIAL)?;
    let v = match talos_attest::verify(&bytes, now()) {
        Ok(v) => v,
        Err(e @ (AttestError::Malformed(_) | AttestError::TooLarge)) => {
            return Ok(verdict(Err(e.to_string()), Outcome::Unusable));
        }
        Err(e) => return Ok(verdict(Err(e.to_string()), Outcome::Refused)),
    };
    if subject.is_some_and(|s| *s != v.claims.id) {
        let e = format!("the credential is about {}", v.claims.id);
        return Ok(verdict(Err(e), Outcome::Refused));
    }
    if !issuers.is_empty() && !issuers.contains(&v.issuer) {
        let e = format!("{} is not an accepted attester", v.issuer);
        return Ok(verdict(Err(e), Outcome::Refused));
    }
    let mut out = describe(&v);
    if let Some(o) = out.as_object_mut() {
        o.insert("valid".into(), json!(true));
    }
    println!("{out}");
    Ok(Outcome::Done)
}
