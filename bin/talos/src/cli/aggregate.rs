//! Aggregated anchoring from the agent's and the auditor's side: `talos audit aggregate`
//! submits the running node's signed checkpoint to an aggregator; `talos audit
//! aggregate-proof` prints the proof the node keeps of its own log;
//! `talos audit verify-anchored --aggregate` checks an inclusion proof through an
//! aggregator's anchored root (`talos_anchor::verify::verify_aggregated_inclusion`).

use std::path::Path;

use anyhow::Context;
use reqwest::Method;
use serde_json::json;
use talos_audit::aggregate::{AggregateProof, MAX_AGGREGATE_PROOF_BYTES};
use talos_audit::wire::{B64, InclusionProof};
use talos_node::anchor_target::{self, AnchorTarget};
use talos_node::client::ApiClient;
use talos_node::home::Home;

use crate::cli::audit::{proof_text, verdict};
use crate::cli::outcome::Outcome;

/// Submits the node's current checkpoint (`GET /v1/audit/checkpoint`) to `to`.
pub(crate) fn submit(home: &Home, to: &str) -> anyhow::Result<Outcome> {
    let api = ApiClient::open(home)?;
    crate::cli::runtime()?.block_on(async move {
        let (s, v) = api.call(Method::GET, "/v1/audit/checkpoint", None).await?;
        let Some(note) = v
            .get("note")
            .and_then(serde_json::Value::as_str)
            .filter(|_| s == 200)
        else {
            println!("{v}");
            return Ok(Outcome::of_status(s));
        };
        let url = format!("{}/aggregate/add-checkpoint", to.trim_end_matches('/'));
        let resp = match api.http().post(&url).body(note.to_owned()).send().await {
            Ok(r) => r,
            Err(e) => {
                println!(
                    "{}",
                    json!({"error": "unreachable", "message": e.without_url().to_string()})
                );
                return Ok(Outcome::Unavailable);
            }
        };
        let status = resp.status().as_u16();
        let body: serde_json::Value = resp.json().await.unwrap_or_default();
        println!("{body}");
        Ok(Outcome::of_status(status))
    })
}

/// Prints the aggregate proof the running node keeps (`GET /v1/audit/aggregate-proof`).
pub(crate) fn own_proof(home: &Home) -> anyhow::Result<Outcome> {
    let api = ApiClient::open(home)?;
    crate::cli::runtime()?.block_on(async move {
        let resp = api
            .http()
            .get(format!("{}/v1/audit/aggregate-proof", api.url()))
            .bearer_auth(api.token())
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("the node is unreachable: {}", e.without_url()))?;
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        print!("{text}");
        if status != 200 {
            println!();
        }
        Ok(Outcome::of_status(status))
    })
}

/// `verify-anchored --aggregate FILE --inclusion PROOF`.
pub(crate) fn verify(
    home: &Home,
    spec: &AnchorTarget,
    contract: Option<&str>,
    did: &talos_primitives::Did,
    aggregate: &Path,
    inclusion: &str,
) -> anyhow::Result<Outcome> {
    use talos_anchor::verify::{VerifyError, verify_aggregated_inclusion};
    let meta =
        std::fs::metadata(aggregate).with_context(|| format!("reading {}", aggregate.display()))?;
    if meta.len() > MAX_AGGREGATE_PROOF_BYTES as u64 {
        return Ok(verdict(
            Err("larger than an aggregate proof can be".into()),
            Outcome::Unusable,
        ));
    }
    let text = std::fs::read_to_string(aggregate)
        .with_context(|| format!("reading {}", aggregate.display()))?;
    let agg = match AggregateProof::parse(&text) {
        Ok(a) => a,
        Err(e) => return Ok(verdict(Err(e.to_string()), Outcome::Unusable)),
    };
    let proof = match serde_json::from_str::<InclusionProof>(&proof_text(inclusion)?) {
        Ok(p) => p,
        Err(e) => return Ok(verdict(Err(e.to_string()), Outcome::Unusable)),
    };
    crate::cli::runtime()?.block_on(async move {
        let backend = match anchor_target::open(home, spec, contract, None).await {
            Ok(b) => b,
            Err(e) => return Ok(verdict(Err(format!("{e:#}")), Outcome::Unavailable)),
        };
        match verify_aggregated_inclusion(&*backend, did, &agg, &proof).await {
            Ok((a, root)) => {
                println!(
                    "{}",
                    json!({
                        "valid": true,
                        "did": did.to_string(),
                        "chain": backend.kind(),
                        "treeSize": a.head.size,
                        "root": B64(a.head.root),
                        "aggregator": a.aggregator.to_string(),
                        "aggregatorIndex": a.index,
                        "anchored": [{"treeSize": root.head.size, "root": B64(root.head.root), "block": root.at.block, "tx": root.at.tx.to_string()}],
                    })
                );
                Ok(Outcome::Done)
            }
            Err(VerifyError::Anchor(e)) => Ok(verdict(Err(e.to_string()), Outcome::Unavailable)),
            Err(e) => Ok(verdict(Err(e.to_string()), Outcome::Refused)),
        }
    })
}
