//! `talos audit proof | verify-proof`: proofs an auditor keeps (C2SP tlog-proof), built
//! from a public log without the agent's cooperation, and checked offline, with
//! witnesses, and against the chain.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::json;
use talos_audit::note::Note;
use talos_audit::tlog_proof::{MAX_PROOF_BYTES, TlogProof};
use talos_audit::wire::B64;
use talos_audit::witness::WitnessKey;
use talos_node::anchor_target::{self, AnchorTarget};
use talos_node::home::Home;
use talos_transparency::proof::{self, ProofCheckError};
use talos_transparency::source::LogSource;

use crate::cli::audit::{open_log, verdict};
use crate::cli::outcome::Outcome;

/// How `audit proof` writes a proof.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ProofFormat {
    /// C2SP `tlog-proof@v1`, the entry in `extra`.
    TlogProof,
    /// The JSON inclusion proof `verify-inclusion` reads.
    Json,
}

/// `audit verify-proof`'s arguments.
#[derive(Debug, clap::Args)]
pub struct VerifyProofArgs {
    /// The proof file (`.tlog-proof`), or - for stdin.
    file: String,
    /// The agent whose log it must be (default: the one its origin names).
    #[arg(long)]
    did: Option<talos_primitives::Did>,
    /// A witness's cosignature verifier key (repeatable).
    #[arg(long = "witness")]
    witnesses: Vec<String>,
    /// Cosignatures required from those witnesses (default: all of them).
    #[arg(long)]
    witnesses_needed: Option<usize>,
    /// Also check the root the agent anchored at that size: `embedded` or `evm:URL`.
    #[arg(long)]
    chain: Option<AnchorTarget>,
    /// The TalosAnchor contract address (with `evm:URL`).
    #[arg(long)]
    contract: Option<String>,
}

/// `talos audit proof`.
pub(crate) fn proof(
    home: Option<PathBuf>,
    index: u64,
    log: Option<&str>,
    format: ProofFormat,
    out: Option<&Path>,
) -> anyhow::Result<Outcome> {
    let p = match log {
        Some(at) => {
            let source = LogSource::parse(at)?;
            crate::cli::runtime_multi()?.block_on(proof::prove(&source, index))?
        }
        None => local_proof(&Home::resolve(home)?, index)?,
    };
    let text = match format {
        ProofFormat::TlogProof => p.to_text(),
        ProofFormat::Json => serde_json::to_string(&p.inclusion()?)? + "\n",
    };
    match out {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?
        }
        None => print!("{text}"),
    }
    Ok(Outcome::Done)
}

/// The proof of `index` against the published checkpoint of a stopped node's log.
fn local_proof(home: &Home, index: u64) -> anyhow::Result<TlogProof> {
    let log = open_log(home)?;
    let note = log.published()?.context(
        "no checkpoint is published yet: `talos up` publishes while its log is public or anchored",
    )?;
    let note = Note::parse(&note)?;
    let cp = talos_audit::Checkpoint::parse_text(&note.text)?;
    anyhow::ensure!(
        index < cp.head.size,
        "index {index} is not in the published checkpoint of size {}",
        cp.head.size
    );
    Ok(TlogProof {
        extra: log.leaf(index)?,
        index,
        path: log.inclusion_proof(index, cp.head.size)?,
        checkpoint: note,
    })
}

/// `talos audit verify-proof`.
pub(crate) fn verify_proof(
    home: Option<PathBuf>,
    args: &VerifyProofArgs,
) -> anyhow::Result<Outcome> {
    let text = if args.file == "-" {
        crate::cli::audit::stdin_text(MAX_PROOF_BYTES as u64 + 1)?
    } else {
        std::fs::read_to_string(&args.file).with_context(|| format!("reading {}", args.file))?
    };
    let witnesses = match args
        .witnesses
        .iter()
        .map(|w| WitnessKey::parse(w))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(w) => w,
        Err(e) => {
            return Ok(verdict(
                Err(format!("a witness key: {e}")),
                Outcome::Unusable,
            ));
        }
    };
    let need = args.witnesses_needed.unwrap_or(witnesses.len());
    let p = match TlogProof::parse(&text) {
        Ok(p) => p,
        Err(e) => return Ok(verdict(Err(e.to_string()), Outcome::Unusable)),
    };
    let checked = match proof::check(&p, args.did.as_ref(), &witnesses, need) {
        Ok(c) => c,
        Err(e) => return Ok(failure(&e)),
    };
    let mut out = json!({
        "valid": true,
        "did": checked.did.to_string(),
        "index": p.index,
        "treeSize": checked.checkpoint.head.size,
        "root": B64(checked.checkpoint.head.root),
        "event": checked.event.body.event,
        "cosignedBy": checked.cosigned_by,
    });
    if let Some(spec) = &args.chain {
        let home = Home::resolve(home)?;
        let anchored = crate::cli::runtime_multi()?.block_on(async {
            let backend = anchor_target::open(&home, spec, args.contract.as_deref(), None).await?;
            anyhow::Ok(proof::check_anchored(&*backend, &p, &checked).await)
        });
        match anchored {
            Err(e) => return Ok(verdict(Err(format!("{e:#}")), Outcome::Unavailable)),
            Ok(Err(e)) => return Ok(failure(&e)),
            Ok(Ok(root)) => {
                if let Some(o) = out.as_object_mut() {
                    o.insert(
                        "anchored".into(),
                        json!({ "block": root.at.block, "tx": root.at.tx.to_string() }),
                    );
                }
            }
        }
    }
    println!("{out}");
    Ok(Outcome::Done)
}

/// A failed check's outcome: malformed input and an unreachable chain exit 2, a proof
/// that does not hold exits 1.
fn failure(e: &ProofCheckError) -> Outcome {
    use talos_anchor::verify::VerifyError;
    let how = match e {
        ProofCheckError::Malformed(_) => Outcome::Unusable,
        ProofCheckError::Source(_) | ProofCheckError::Chain(VerifyError::Anchor(_)) => {
            Outcome::Unavailable
        }
        _ => Outcome::Refused,
    };
    verdict(Err(e.to_string()), how)
}
