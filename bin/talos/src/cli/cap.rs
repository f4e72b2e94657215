//! `talos cap ...`: issue, delegate, inspect and verify capability tokens.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde_json::{Map, Value, json};
use talos_capability::chain::parse_chain;
use talos_capability::invocation::Request;
use talos_capability::{
    ActionSet, Authorized, Authorizer, CapError, Capability, Caveats, Claims, MemoryRevocations,
    Possession, ResourcePattern, Token, VerifierConfig,
};
use talos_primitives::{CapabilityId, Did};

use crate::cli::outcome::{Classify, Outcome};
use talos_node::home::{Home, passphrase};

/// Capability commands.
#[derive(Debug, Subcommand)]
pub enum CapCommand {
    /// Issue a root capability, signed by this node's identity.
    Issue {
        /// What to grant.
        #[command(flatten)]
        grant: Grant,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delegate part of a capability you hold; prints the extended chain.
    Delegate {
        /// The chain you hold (compact tokens, root first, one per line), or - for stdin.
        #[arg(long)]
        parent: String,
        /// What to grant (must be within the parent).
        #[command(flatten)]
        grant: Grant,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Decode a token or chain without trusting it.
    Inspect {
        /// Token or chain file, or - for stdin.
        #[arg(long)]
        token: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Decide a request: exit 0 allowed; 1 refused, printing the FORMAT.md error kind
    /// (malformed tokens and an empty chain included); 2 input that is not a token at all.
    Verify(VerifyArgs),
}

/// The scope and lifetime of a grant.
#[derive(Debug, Args)]
pub struct Grant {
    /// The holder's DID.
    #[arg(long)]
    to: Did,
    /// Resource pattern, e.g. talos://booking/flights/*.
    #[arg(long = "res")]
    res: String,
    /// Allowed actions, comma-separated.
    #[arg(long = "act", value_delimiter = ',')]
    act: Vec<String>,
    /// Numeric bound caveat NAME=MAX (repeatable).
    #[arg(long = "max")]
    max: Vec<String>,
    /// Exact-value caveat NAME=VALUE (repeatable).
    #[arg(long = "eq")]
    eq: Vec<String>,
    /// Lifetime in seconds from now.
    #[arg(long, default_value_t = 3600)]
    ttl: u64,
}

/// `talos cap verify` arguments.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("possession").required(true).args(["holder", "invocation"])))]
pub struct VerifyArgs {
    /// Token or chain file (root first, one per line), or - for stdin.
    #[arg(long)]
    token: String,
    /// The DID the request comes from, as authenticated by the channel.
    #[arg(long)]
    holder: Option<Did>,
    /// A detached invocation (compact JWS, FORMAT.md §6) proving possession instead of a
    /// channel: a file, or - for stdin.
    #[arg(long, value_name = "FILE")]
    invocation: Option<String>,
    /// The callee (the invocation's `aud`). Default: the first --root, else the chain's
    /// own root issuer.
    #[arg(long, value_name = "DID")]
    callee: Option<Did>,
    /// The concrete resource.
    #[arg(long)]
    resource: String,
    /// The action.
    #[arg(long)]
    action: String,
    /// Request arguments as a JSON object (checked against caveats).
    #[arg(long, default_value = "{}")]
    args: String,
    /// Evaluate at this Unix time instead of now.
    #[arg(long, visible_alias = "at", value_name = "SECS")]
    now: Option<u64>,
    /// A revoked token id (repeatable).
    #[arg(long)]
    revoked: Vec<CapabilityId>,
    /// A trusted root issuer (repeatable). Without one, the chain's own root issuer is
    /// trusted and printed, so the caller can check it.
    #[arg(long)]
    root: Vec<Did>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Most tokens `talos cap verify` accepts in a chain (FORMAT.md §4).
const MAX_DEPTH: usize = talos_capability::chain::DEFAULT_MAX_DEPTH;
/// Replay window for invocations, seconds (FORMAT.md §6).
const REPLAY_WINDOW: u64 = 300;

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn read_input(src: &str) -> anyhow::Result<String> {
    let mut s = String::new();
    if src == "-" {
        std::io::stdin().take(1 << 20).read_to_string(&mut s)?;
    } else {
        s = std::fs::read_to_string(Path::new(src)).with_context(|| format!("reading {src}"))?;
    }
    Ok(s)
}

fn split_chain(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_string).collect()
}

fn kv(items: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    items
        .iter()
        .map(|s| {
            s.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .context("caveats are NAME=VALUE")
        })
        .collect()
}

impl Grant {
    fn capability(&self) -> anyhow::Result<Capability> {
        let mut cav = Caveats::default();
        for (k, v) in kv(&self.max)? {
            cav.max
                .insert(k, v.parse().context("--max needs an integer bound")?);
        }
        for (k, v) in kv(&self.eq)? {
            cav.eq.insert(k, v);
        }
        Ok(Capability {
            res: ResourcePattern::parse(&self.res)?,
            act: ActionSet::new(self.act.iter().cloned())?,
            cav,
        })
    }
}

fn random_id() -> CapabilityId {
    CapabilityId(rand::random())
}

fn print_chain(chain: &[String], leaf: &Token, json: bool) -> anyhow::Result<()> {
    if json {
        let out =
            json!({"chain": chain, "jti": leaf.claims().jti, "commitment": leaf.commitment()});
        println!("{}", serde_json::to_string(&out)?);
    } else {
        for t in chain {
            println!("{t}");
        }
    }
    Ok(())
}

pub(crate) fn run(
    cmd: CapCommand,
    home: Option<PathBuf>,
    pass_file: Option<&Path>,
) -> anyhow::Result<Outcome> {
    let env_pass = || std::env::var("TALOS_PASSPHRASE").ok();
    match cmd {
        CapCommand::Issue { grant, json } => {
            let key =
                Home::resolve(home)?.load_identity(&passphrase(pass_file, env_pass(), false)?)?;
            let t = now();
            let claims = Claims {
                iss: key.did(),
                aud: grant.to,
                cap: vec![grant.capability().unusable()?],
                nbf: t,
                exp: t.saturating_add(grant.ttl.max(1)),
                jti: random_id(),
                prf: None,
            };
            let token = Token::issue(&key, claims)?;
            print_chain(&[token.as_str().to_string()], &token, json)?;
        }
        CapCommand::Delegate {
            parent,
            grant,
            json,
        } => {
            let key =
                Home::resolve(home)?.load_identity(&passphrase(pass_file, env_pass(), false)?)?;
            let mut chain = split_chain(&read_input(&parent).unusable()?);
            let leaf =
                Token::parse(chain.last().context("empty parent chain").unusable()?).unusable()?;
            let t = now();
            let exp = t.saturating_add(grant.ttl.max(1)).min(leaf.claims().exp);
            let child = leaf.delegate(
                &key,
                grant.to,
                vec![grant.capability().unusable()?],
                t.max(leaf.claims().nbf),
                exp,
                random_id(),
            )?;
            chain.push(child.as_str().to_string());
            print_chain(&chain, &child, json)?;
        }
        CapCommand::Inspect { token, json } => {
            let chain = split_chain(&read_input(&token).unusable()?);
            let mut out = Vec::new();
            for t in &chain {
                let parsed = Token::parse(t).unusable()?;
                out.push(json!({"commitment": parsed.commitment(), "claims": parsed.claims()}));
            }
            if json {
                println!("{}", serde_json::to_string(&out)?);
            } else {
                println!("{}", serde_json::to_string_pretty(&out)?);
            }
        }
        CapCommand::Verify(args) => return verify(args),
    }
    Ok(Outcome::Done)
}

/// What `talos cap verify` was asked, once the flags and files have been read.
struct VerifyInput {
    chain: Vec<String>,
    possession: Proof,
    callee: Option<Did>,
    call_args: Map<String, Value>,
    revoked: MemoryRevocations,
    roots: Vec<Did>,
}

/// How the holder proves possession.
enum Proof {
    Channel(Did),
    Invocation(String),
}

/// Reads and checks the flags and files. Any failure here is input that is not a token
/// at all (exit 2); everything a token can get wrong is left to the verifier.
fn verify_input(args: &VerifyArgs) -> anyhow::Result<VerifyInput> {
    if args.token == "-" && args.invocation.as_deref() == Some("-") {
        bail!("--token and --invocation cannot both read stdin");
    }
    let chain = split_chain(&read_input(&args.token)?);
    let possession = match (&args.holder, &args.invocation) {
        (Some(h), None) => Proof::Channel(*h),
        (None, Some(f)) => Proof::Invocation(read_input(f)?.trim().to_string()),
        _ => bail!("give exactly one of --holder and --invocation"),
    };
    let callee = args.callee;
    let call_args: Map<String, Value> =
        serde_json::from_str(&args.args).context("--args must be a JSON object")?;
    let revoked: MemoryRevocations = args.revoked.iter().copied().collect();
    let mut roots = args.root.clone();
    if roots.is_empty() {
        // Without a pinned root, trust the chain's own root issuer (reported below). If
        // the root does not parse, the verifier refuses the chain before trust matters.
        if let Some(Ok(root)) = chain.first().map(|t| Token::parse(t)) {
            roots.push(root.claims().iss);
        }
    }
    Ok(VerifyInput {
        chain,
        possession,
        callee,
        call_args,
        revoked,
        roots,
    })
}

/// Decides the request with the library's verifier: the verdict and kind are its own.
fn decide(
    input: &VerifyInput,
    resource: &str,
    action: &str,
    now: u64,
) -> Result<Authorized, CapError> {
    let config = VerifierConfig {
        trusted_roots: input.roots.clone(),
        max_depth: MAX_DEPTH,
    };
    let holder = match &input.possession {
        Proof::Channel(d) => Some(*d),
        Proof::Invocation(_) => None,
    };
    let Some(callee) = input.callee.or(input.roots.first().copied()).or(holder) else {
        // No callee and nothing to trust: the chain is empty or its root does not parse,
        // and parsing names the refusal.
        return Err(parse_chain(&input.chain, &config)
            .err()
            .unwrap_or(CapError::UntrustedRoot));
    };
    let mut authz = Authorizer::new(config, 1, 1, REPLAY_WINDOW);
    let req = Request {
        callee: &callee,
        resource,
        action,
        args: &input.call_args,
        now,
    };
    let possession = match &input.possession {
        Proof::Channel(d) => Possession::Channel(d),
        Proof::Invocation(inv) => Possession::Invocation(inv),
    };
    authz.authorize(&input.chain, &req, possession, &input.revoked)
}

/// Prints the verdict; the exit code carries it too: 0 allowed, 1 refused (with the
/// FORMAT.md kind), 2 input that is not a token at all (an unreadable file, a bad flag).
fn verify(args: VerifyArgs) -> anyhow::Result<Outcome> {
    let input = match verify_input(&args) {
        Ok(i) => i,
        Err(e) => {
            if args.json {
                println!(
                    "{}",
                    json!({"verdict": "error", "message": format!("{e:#}")})
                );
            } else {
                eprintln!("error: {e:#}");
            }
            return Ok(Outcome::Unusable);
        }
    };
    match decide(
        &input,
        &args.resource,
        &args.action,
        args.now.unwrap_or_else(now),
    ) {
        Ok(ok) => {
            if args.json {
                println!(
                    "{}",
                    json!({"verdict": "allow", "holder": ok.holder, "leaf": ok.leaf, "roots": input.roots})
                );
            } else {
                println!(
                    "allow: {} may {} {} (root {})",
                    ok.holder,
                    args.action,
                    args.resource,
                    input
                        .roots
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            Ok(Outcome::Done)
        }
        Err(e) => {
            if args.json {
                println!(
                    "{}",
                    json!({"verdict": "deny", "kind": e.kind(), "message": e.to_string()})
                );
            } else {
                println!("deny ({}): {e}", e.kind());
            }
            Ok(Outcome::Refused)
        }
    }
}
