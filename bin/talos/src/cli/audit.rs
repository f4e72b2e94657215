//! `talos audit ...`: what auditors run. Proof commands read the local node's log; the
//! verify commands trust nothing but their input.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Subcommand;
use serde_json::json;
use talos_audit::checkpoint::Checkpoint;
use talos_audit::note::NoteVerifier;
use talos_audit::wire::{B64, ConsistencyProof, InclusionProof};
use talos_store::AuditLog;

use crate::cli::outcome::Outcome;
use talos_node::anchor_target::{self, AnchorTarget};
use talos_node::home::Home;
use talos_node::records;

/// Audit commands.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Print the log's size and root.
    Root {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Sign and print a C2SP checkpoint of the log.
    Checkpoint {
        /// Print JSON (note and verifier key).
        #[arg(long)]
        json: bool,
    },
    /// Print the inclusion proof of leaf INDEX (JSON, as verify-inclusion reads it).
    Prove {
        /// Leaf index.
        index: u64,
        /// Tree size to prove against (default: the current size).
        #[arg(long)]
        size: Option<u64>,
    },
    /// Print the consistency proof between two sizes (JSON, as verify-consistency reads it).
    ProveConsistency {
        /// Older size.
        old: u64,
        /// Newer size.
        new: u64,
    },
    /// Verify an inclusion proof read from stdin: exit 0 valid, 1 invalid, 2 malformed.
    VerifyInclusion,
    /// Verify a consistency proof read from stdin: exit 0 valid, 1 invalid, 2 malformed.
    VerifyConsistency,
    /// Anchor the log's current head on a chain, registering this agent's DID there first
    /// if needed.
    Anchor {
        /// `embedded` (the node's own EVM) or `evm:URL`.
        #[arg(long, default_value = "embedded")]
        chain: AnchorTarget,
        /// The TalosAnchor contract address (with `evm:URL`).
        #[arg(long)]
        contract: Option<String>,
        /// For evm:URL, the most this write signs per unit of gas (maxFeePerGas), in gwei
        /// (0: no cap). Above it, the write waits for the base fee to fall under the cap.
        #[arg(long, env = "TALOS_EVM_MAX_FEE_GWEI", default_value_t = 0)]
        evm_max_fee_gwei: u64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Verify a proof against the roots DID anchored on a chain: exit 0 valid, 1 invalid
    /// (bad proof, root not anchored, a different root, or the DID not registered by an
    /// account its key bound: on an EVM chain a registration without a valid owner
    /// binding is ignored), 2 malformed or chain unreachable.
    VerifyAnchored {
        /// The DID whose anchored roots the proof must match.
        #[arg(long)]
        did: talos_primitives::Did,
        /// `embedded` (the node's own EVM) or `evm:URL`.
        #[arg(long, default_value = "embedded")]
        chain: AnchorTarget,
        /// The TalosAnchor contract address (with `evm:URL`).
        #[arg(long)]
        contract: Option<String>,
        /// An inclusion proof (JSON, as `prove` prints it), or - for stdin.
        #[arg(
            long,
            conflicts_with = "consistency",
            required_unless_present = "consistency"
        )]
        inclusion: Option<String>,
        /// A consistency proof (JSON, as `prove-consistency` prints it), or - for stdin.
        #[arg(long)]
        consistency: Option<String>,
        /// With `--inclusion`: an aggregate proof (`talos/aggregate-proof@v1`, as an
        /// aggregator's `/aggregate/proof/{did}` serves it) showing DID's head in an
        /// aggregator's log, whose root the aggregator anchored; the inclusion proof is
        /// then checked against that head.
        #[arg(long, requires = "inclusion")]
        aggregate: Option<PathBuf>,
    },
    /// Submit the running node's signed checkpoint to an aggregator (`--to URL`, its
    /// public log): exit 0 logged, 1 refused, 2 malformed, 3 unreachable.
    Aggregate {
        /// The aggregator's public log URL.
        #[arg(long)]
        to: String,
    },
    /// Print the aggregate proof the running node keeps of its own log (`talos up
    /// --aggregator`), for `verify-anchored --aggregate`: exit 0 printed, 1 none kept yet.
    AggregateProof,
    /// Write the C2SP tlog-proof (or the JSON proof) of entry INDEX against the published
    /// checkpoint: from a public log (`--log URL|DIR`, no cooperation needed), or from
    /// this home's log while its node is stopped.
    Proof {
        /// The entry's index.
        #[arg(long)]
        index: u64,
        /// A public log: its read API's URL or a static copy's directory.
        #[arg(long)]
        log: Option<String>,
        /// `tlog-proof` (C2SP, the entry inside) or `json` (as verify-inclusion reads).
        #[arg(long, default_value = "tlog-proof")]
        format: crate::cli::transparency::ProofFormat,
        /// Where to write it (default: stdout).
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// Verify a tlog-proof file offline, and against the anchored root when a chain is
    /// given: exit 0 valid, 1 invalid, 2 malformed, 3 chain unreachable.
    VerifyProof(crate::cli::transparency::VerifyProofArgs),
    /// Follow an agent's public log against the chain and the witnesses; alarms are JSON
    /// lines and Prometheus gauges (with `--once`: exit 0 clean, 1 alarm, 3 unreachable).
    Monitor(crate::cli::monitor::MonitorArgs),
    /// Verify a signed checkpoint against a verifier key: exit 0 valid, 1 invalid, 2 malformed.
    VerifyCheckpoint {
        /// Verifier key, `<name>+<hex id>+<base64 key>`.
        #[arg(long)]
        key: String,
        /// Checkpoint file, or - for stdin.
        #[arg(long, default_value = "-")]
        note: String,
    },
}

/// A proof file's text (at most 1 MiB), or stdin's for `-`.
pub(crate) fn proof_text(path: &str) -> anyhow::Result<String> {
    if path == "-" {
        return stdin_text(1 << 20);
    }
    std::fs::read_to_string(path).with_context(|| format!("reading {path}"))
}

pub(crate) fn open_log(home: &Home) -> anyhow::Result<std::sync::Arc<AuditLog>> {
    let (_, log) = home
        .open_stores()
        .with_context(|| format!("opening the audit log in {}", home.db().display()))?;
    Ok(log)
}

pub(crate) fn stdin_text(limit: u64) -> anyhow::Result<String> {
    let mut s = String::new();
    std::io::stdin().take(limit).read_to_string(&mut s)?;
    Ok(s)
}

/// Prints a verification's result as JSON; `failure` is how a failed one ended
/// (`Refused`: the proof does not hold; `Unusable`: malformed; `Unavailable`: the chain).
pub(crate) fn verdict(result: Result<(), String>, failure: Outcome) -> Outcome {
    let error = match failure {
        Outcome::Unusable => "malformed",
        Outcome::Unavailable => "unavailable",
        Outcome::Done | Outcome::Refused => "invalid",
    };
    match (failure, result) {
        (Outcome::Unusable | Outcome::Unavailable, Err(e)) => {
            println!("{}", json!({"valid": false, "error": error, "message": e}));
            failure
        }
        (_, Ok(())) => {
            println!("{}", json!({"valid": true}));
            Outcome::Done
        }
        (Outcome::Done | Outcome::Refused, Err(e)) => {
            println!("{}", json!({"valid": false, "error": error, "message": e}));
            Outcome::Refused
        }
    }
}

pub(crate) fn run(
    cmd: AuditCommand,
    home: Option<PathBuf>,
    pass_file: Option<&Path>,
) -> anyhow::Result<Outcome> {
    match cmd {
        AuditCommand::Root { json } => {
            let log = open_log(&Home::resolve(home)?)?;
            let head = log.head();
            if json {
                println!("{}", json!({"treeSize": head.size, "root": B64(head.root)}));
            } else {
                println!("size {}\nroot {}", head.size, head.root);
            }
        }
        AuditCommand::Checkpoint { json } => {
            let home = Home::resolve(home)?;
            let key = crate::cli::unlock(&home, pass_file)?;
            let (note, vkey) = records::checkpoint(&*open_log(&home)?, &key)?;
            if json {
                println!("{}", json!({"note": note, "verifierKey": vkey}));
            } else {
                print!("{note}");
            }
        }
        AuditCommand::Prove { index, size } => {
            let log = open_log(&Home::resolve(home)?)?;
            let out = records::inclusion(&log, index, size)?;
            println!("{}", serde_json::to_string(&out)?);
        }
        AuditCommand::ProveConsistency { old, new } => {
            let log = open_log(&Home::resolve(home)?)?;
            let out = records::consistency(&log, old, new)?;
            println!("{}", serde_json::to_string(&out)?);
        }
        AuditCommand::VerifyInclusion => {
            let text = stdin_text(1 << 20)?;
            return Ok(match serde_json::from_str::<InclusionProof>(&text) {
                Ok(p) => verdict(p.verify().map_err(|e| e.to_string()), Outcome::Refused),
                Err(e) => verdict(Err(e.to_string()), Outcome::Unusable),
            });
        }
        AuditCommand::VerifyConsistency => {
            let text = stdin_text(1 << 20)?;
            return Ok(match serde_json::from_str::<ConsistencyProof>(&text) {
                Ok(p) => verdict(p.verify().map_err(|e| e.to_string()), Outcome::Refused),
                Err(e) => verdict(Err(e.to_string()), Outcome::Unusable),
            });
        }
        AuditCommand::Anchor {
            chain: spec,
            contract,
            evm_max_fee_gwei,
            json,
        } => {
            crate::cli::log_to_stderr();
            let home = Home::resolve(home)?;
            let key = crate::cli::unlock(&home, pass_file)?;
            let head = open_log(&home)?.head();
            let rt = crate::cli::runtime()?;
            let (did, at) = rt.block_on(async {
                let backend = anchor_target::open_capped(
                    &home,
                    &spec,
                    contract.as_deref(),
                    Some(&key),
                    anchor_target::gwei_cap(evm_max_fee_gwei),
                )
                .await?;
                records::anchor_head(&*backend, &key, head).await
            })?;
            if json {
                println!(
                    "{}",
                    json!({"did": did.to_string(), "treeSize": head.size, "root": B64(head.root), "block": at.block, "tx": at.tx.to_string()})
                );
            } else {
                println!(
                    "anchored size {} root {} for {did}\nblock {} tx {}",
                    head.size, head.root, at.block, at.tx
                );
            }
        }
        AuditCommand::VerifyAnchored {
            did,
            chain: spec,
            contract,
            inclusion,
            consistency,
            aggregate,
        } => {
            let home = Home::resolve(home)?;
            if let (Some(agg), Some(inc)) = (aggregate, &inclusion) {
                return crate::cli::aggregate::verify(
                    &home,
                    &spec,
                    contract.as_deref(),
                    &did,
                    &agg,
                    inc,
                );
            }
            let (path, is_inclusion) = match (inclusion, consistency) {
                (Some(p), _) => (p, true),
                (None, Some(p)) => (p, false),
                (None, None) => {
                    return Ok(verdict(
                        Err("give --inclusion or --consistency".into()),
                        Outcome::Unusable,
                    ));
                }
            };
            let text = proof_text(&path)?;
            let rt = crate::cli::runtime()?;
            return rt.block_on(verify_anchored(
                &home,
                &spec,
                contract.as_deref(),
                &did,
                &text,
                is_inclusion,
            ));
        }
        AuditCommand::Proof {
            index,
            log,
            format,
            out,
        } => {
            return crate::cli::transparency::proof(
                home,
                index,
                log.as_deref(),
                format,
                out.as_deref(),
            );
        }
        AuditCommand::Monitor(args) => return crate::cli::monitor::run(home, &args),
        AuditCommand::Aggregate { to } => {
            return crate::cli::aggregate::submit(&Home::resolve(home)?, &to);
        }
        AuditCommand::AggregateProof => {
            return crate::cli::aggregate::own_proof(&Home::resolve(home)?);
        }
        AuditCommand::VerifyProof(args) => {
            return crate::cli::transparency::verify_proof(home, &args);
        }
        AuditCommand::VerifyCheckpoint { key, note } => {
            let verifier = match NoteVerifier::parse(&key) {
                Ok(v) => v,
                Err(e) => return Ok(verdict(Err(e.to_string()), Outcome::Unusable)),
            };
            let text = if note == "-" {
                stdin_text(1 << 20)?
            } else {
                std::fs::read_to_string(&note)?
            };
            return Ok(match Checkpoint::verify(&text, &verifier) {
                Ok((cp, _)) => {
                    println!(
                        "{}",
                        json!({"valid": true, "origin": cp.origin, "treeSize": cp.head.size, "root": B64(cp.head.root)})
                    );
                    Outcome::Done
                }
                Err(talos_audit::checkpoint::CheckpointError::Note(
                    talos_audit::note::NoteError::Unverified(_),
                )) => verdict(
                    Err("no valid signature by that key".into()),
                    Outcome::Refused,
                ),
                Err(e) => verdict(Err(e.to_string()), Outcome::Unusable),
            });
        }
    }
    Ok(Outcome::Done)
}

async fn verify_anchored(
    home: &Home,
    spec: &AnchorTarget,
    contract: Option<&str>,
    did: &talos_primitives::Did,
    text: &str,
    is_inclusion: bool,
) -> anyhow::Result<Outcome> {
    use talos_anchor::verify::{self, VerifyError};
    let backend = match anchor_target::open(home, spec, contract, None).await {
        Ok(b) => b,
        Err(e) => return Ok(verdict(Err(format!("{e:#}")), Outcome::Unavailable)),
    };
    let result = if is_inclusion {
        match serde_json::from_str::<InclusionProof>(text) {
            Ok(p) => verify::verify_inclusion(&*backend, did, &p)
                .await
                .map(|r| vec![r]),
            Err(e) => return Ok(verdict(Err(e.to_string()), Outcome::Unusable)),
        }
    } else {
        match serde_json::from_str::<ConsistencyProof>(text) {
            Ok(p) => verify::verify_consistency(&*backend, did, &p)
                .await
                .map(|(a, b)| vec![a, b]),
            Err(e) => return Ok(verdict(Err(e.to_string()), Outcome::Unusable)),
        }
    };
    match result {
        Ok(roots) => {
            let anchored: Vec<_> = roots
                .iter()
                .map(|r| json!({"treeSize": r.head.size, "root": B64(r.head.root), "block": r.at.block, "tx": r.at.tx.to_string()}))
                .collect();
            println!(
                "{}",
                json!({"valid": true, "did": did.to_string(), "chain": backend.kind(), "anchored": anchored})
            );
            Ok(Outcome::Done)
        }
        Err(VerifyError::Anchor(e)) => Ok(verdict(Err(e.to_string()), Outcome::Unavailable)),
        Err(e) => Ok(verdict(Err(e.to_string()), Outcome::Refused)),
    }
}
