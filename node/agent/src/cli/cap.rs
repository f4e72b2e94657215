//! `talos cap ...`: issue, delegate, inspect and verify capability tokens.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde_json::{Map, Value, json};
use talos_capability::invocation::Request;
use talos_capability::{
    ActionSet, Authorizer, Capability, Caveats, Claims, MemoryRevocations, Possession,
    ResourcePattern, Token, VerifierConfig,
};
use talos_primitives::{CapabilityId, Did};

use crate::home::{Home, passphrase};

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
    /// Decide a request: exit 0 allowed, 1 denied, 2 unusable input.
    Verify(VerifyArgs),
}

/// The scope and lifetime of a grant.
#[derive(Debug, Args)]
pub struct Grant {
    /// The holder's DID.
    #[arg(long)]
    to: String,
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
pub struct VerifyArgs {
    /// Token or chain file (root first, one per line), or - for stdin.
    #[arg(long)]
    token: String,
    /// The DID the request comes from, as authenticated by the channel.
    #[arg(long)]
    holder: String,
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
    #[arg(long)]
    at: Option<u64>,
    /// A revoked token id (repeatable).
    #[arg(long)]
    revoked: Vec<String>,
    /// A trusted root issuer (repeatable). Without one, the chain's own root issuer is
    /// trusted and printed, so the caller can check it.
    #[arg(long)]
    root: Vec<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

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
) -> anyhow::Result<ExitCode> {
    let env_pass = || std::env::var("TALOS_PASSPHRASE").ok();
    match cmd {
        CapCommand::Issue { grant, json } => {
            let key =
                Home::resolve(home)?.load_identity(&passphrase(pass_file, env_pass(), false)?)?;
            let t = now();
            let claims = Claims {
                iss: key.did(),
                aud: Did::parse(&grant.to)?,
                cap: vec![grant.capability()?],
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
            let mut chain = split_chain(&read_input(&parent)?);
            let leaf = Token::parse(chain.last().context("empty parent chain")?)?;
            let t = now();
            let exp = t.saturating_add(grant.ttl.max(1)).min(leaf.claims().exp);
            let child = leaf.delegate(
                &key,
                Did::parse(&grant.to)?,
                vec![grant.capability()?],
                t.max(leaf.claims().nbf),
                exp,
                random_id(),
            )?;
            chain.push(child.as_str().to_string());
            print_chain(&chain, &child, json)?;
        }
        CapCommand::Inspect { token, json } => {
            let chain = split_chain(&read_input(&token)?);
            let mut out = Vec::new();
            for t in &chain {
                let parsed = Token::parse(t)?;
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
    Ok(ExitCode::SUCCESS)
}

/// Prints the verdict; the exit code carries it too.
fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let unusable = |msg: String, json: bool| {
        if json {
            println!(
                "{}",
                json!({"verdict": "error", "kind": "unusable_input", "message": msg})
            );
        } else {
            eprintln!("error: {msg}");
        }
        Ok(ExitCode::from(2))
    };
    let parsed = (|| -> anyhow::Result<_> {
        let chain = split_chain(&read_input(&args.token)?);
        let holder = Did::parse(&args.holder)?;
        let call_args: Map<String, Value> =
            serde_json::from_str(&args.args).context("--args must be a JSON object")?;
        let revoked: MemoryRevocations = args
            .revoked
            .iter()
            .map(|r| r.parse::<CapabilityId>())
            .collect::<Result<_, _>>()
            .context("--revoked takes 32 hex digits")?;
        let mut roots = args
            .root
            .iter()
            .map(|r| Did::parse(r))
            .collect::<Result<Vec<_>, _>>()?;
        if chain.is_empty() {
            bail!("no token in input");
        }
        if roots.is_empty() {
            // Without a pinned root, trust the chain's own root issuer (reported below).
            if let Some(Ok(root)) = chain.first().map(|t| Token::parse(t)) {
                roots.push(root.claims().iss);
            }
        }
        Ok((chain, holder, call_args, revoked, roots))
    })();
    let (chain, holder, call_args, revoked, roots) = match parsed {
        Ok(p) => p,
        Err(e) => return unusable(format!("{e:#}"), args.json),
    };
    let callee = roots.first().copied().unwrap_or(holder);
    let mut authz = Authorizer::new(
        VerifierConfig {
            trusted_roots: roots.clone(),
            max_depth: 8,
        },
        1,
        1,
        300,
    );
    let req = Request {
        callee: &callee,
        resource: &args.resource,
        action: &args.action,
        args: &call_args,
        now: args.at.unwrap_or_else(now),
    };
    match authz.authorize(&chain, &req, Possession::Channel(&holder), &revoked) {
        Ok(ok) => {
            if args.json {
                println!(
                    "{}",
                    json!({"verdict": "allow", "holder": ok.holder, "leaf": ok.leaf, "roots": roots})
                );
            } else {
                println!(
                    "allow: {} may {} {} (root {})",
                    ok.holder,
                    args.action,
                    args.resource,
                    roots
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) if e.is_malformed() => unusable(e.to_string(), args.json),
        Err(e) => {
            if args.json {
                println!(
                    "{}",
                    json!({"verdict": "deny", "kind": e.kind(), "message": e.to_string()})
                );
            } else {
                println!("deny ({}): {e}", e.kind());
            }
            Ok(ExitCode::from(1))
        }
    }
}
