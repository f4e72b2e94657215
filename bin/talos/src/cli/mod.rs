//! Command-line interface.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

mod agent;
mod aggregate;
mod approvals;
mod attest;
mod audit;
mod cap;
mod card;
mod id;
mod mcp;
mod monitor;
mod node;
pub mod outcome;
mod reputation;
mod transparency;
mod witness;

pub use agent::AgentCommand;
pub use audit::AuditCommand;
pub use cap::CapCommand;
pub use id::IdCommand;
pub use mcp::McpCommand;
pub use node::NetFlags;
pub use outcome::Outcome;

/// talos: a trust layer for autonomous AI agents.
#[derive(Debug, Parser)]
#[command(name = "talos", version, about)]
pub struct Cli {
    /// Node home directory (default: ~/.talos).
    #[arg(long, global = true, env = "TALOS_HOME")]
    pub home: Option<PathBuf>,
    /// Read the keystore passphrase from this file.
    #[arg(long, global = true)]
    pub passphrase_file: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Manage this agent's identity.
    #[command(subcommand)]
    Id(IdCommand),
    /// Issue, delegate, inspect and verify capability tokens.
    #[command(subcommand)]
    Cap(CapCommand),
    /// Audit log: roots, checkpoints, proofs, and their verification.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// What an agent does through its running node: send, read, invoke, answer, revoke.
    #[command(subcommand)]
    Agent(AgentCommand),
    /// The node as a Model Context Protocol server for the local agent's host.
    #[command(subcommand)]
    Mcp(McpCommand),
    /// The agent's signed A2A card, and verifying anyone's.
    #[command(subcommand)]
    Card(card::CardCommand),
    /// Attestation credentials: measure an agent, issue one (as an attester), verify one.
    #[command(subcommand)]
    Attest(attest::AttestCommand),
    /// Approvals: the calls other nodes hold until this agent approves them.
    #[command(subcommand)]
    Approvals(approvals::ApprovalsCommand),
    /// Reputation: report an agent's misbehaviour, read a DID's score.
    #[command(subcommand)]
    Reputation(reputation::ReputationCommand),
    /// Create this node's home: identity keystore, config.toml, API token.
    Init {
        /// Network and API settings to write into config.toml.
        #[command(flatten)]
        net: NetFlags,
        /// Replace an existing configuration and API token (an existing identity is kept).
        #[arg(long)]
        force: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run the node (flags and TALOS_* variables override config.toml).
    Up {
        /// Overrides for config.toml.
        #[command(flatten)]
        net: NetFlags,
    },
    /// Run a C2SP tlog-witness: cosign the trusted logs' consistent checkpoints, keep
    /// split-view evidence (this home's identity is the witness key).
    Witness(witness::WitnessArgs),
    /// Run the end-to-end demonstration.
    Demo {
        /// Anchor on `embedded` (default), `evm:URL` or `substrate:URL`.
        #[arg(long)]
        chain: Option<String>,
        /// The TalosAnchor contract on an EVM chain (deployed by the funder if absent).
        #[arg(long)]
        contract: Option<String>,
        /// On an EVM chain: a funded account's private key (hex) that deploys and pays.
        #[arg(long, env = "TALOS_DEMO_FUNDER_KEY", hide_env_values = true)]
        funder_key: Option<String>,
        /// On a talos chain: the sudo key's secret URI, which admits the agents as
        /// members (`//Alice` on `talos-chain --dev`).
        #[arg(long, env = "TALOS_DEMO_SUDO", hide_env_values = true)]
        sudo: Option<String>,
    },
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Id(cmd) => id::run(cmd, cli.home, cli.passphrase_file.as_deref()),
        Command::Cap(cmd) => cap::run(cmd, cli.home, cli.passphrase_file.as_deref()),
        Command::Audit(cmd) => audit::run(cmd, cli.home, cli.passphrase_file.as_deref()),
        Command::Agent(cmd) => agent::run(cmd, cli.home),
        Command::Mcp(cmd) => mcp::run(cmd, cli.home),
        Command::Card(cmd) => card::run(cmd, cli.home, cli.passphrase_file.as_deref()),
        Command::Attest(cmd) => attest::run(cmd, cli.home, cli.passphrase_file.as_deref()),
        Command::Approvals(cmd) => approvals::run(cmd, cli.home),
        Command::Reputation(cmd) => reputation::run(cmd, cli.home),
        Command::Init { net, force, json } => {
            node::init(&net, force, json, cli.home, cli.passphrase_file.as_deref())
        }
        Command::Up { net } => node::up(&net, cli.home, cli.passphrase_file.as_deref()),
        Command::Witness(args) => witness::run(&args, cli.home, cli.passphrase_file.as_deref()),
        Command::Demo {
            chain,
            contract,
            funder_key,
            sudo,
        } => {
            let on = runtime()?.block_on(crate::demo::DemoChain::from_args(
                chain.as_deref(),
                contract.as_deref(),
                funder_key.as_deref(),
                sudo.as_deref(),
            ))?;
            crate::demo::run(on).map(|()| Outcome::Done)
        }
    }
}

/// The home's identity, unlocked with the passphrase from `pass_file`, else
/// `TALOS_PASSPHRASE`, else the terminal.
pub(crate) fn unlock(
    home: &talos_node::home::Home,
    pass_file: Option<&std::path::Path>,
) -> anyhow::Result<talos_identity::IdentityKey> {
    let pass =
        talos_node::home::passphrase(pass_file, std::env::var("TALOS_PASSPHRASE").ok(), false)?;
    Ok(home.load_identity(&pass)?)
}

/// Logs to stderr, filtered by `RUST_LOG` (default: warnings), for a one-shot command
/// that may wait on a chain for a while, so what it waits for is visible. Does nothing
/// if a subscriber is already set.
pub(crate) fn log_to_stderr() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// A file's bytes, or stdin's for `-`: at most `max` + 1 bytes, so input over `max` is
/// refused by its parser as too large rather than read whole.
pub(crate) fn read_bounded(source: &str, max: usize) -> anyhow::Result<Vec<u8>> {
    use anyhow::Context;
    use std::io::Read;
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    let mut bytes = Vec::new();
    if source == "-" {
        std::io::stdin().take(limit).read_to_end(&mut bytes)?;
    } else {
        std::fs::File::open(source)
            .with_context(|| format!("reading {source}"))?
            .take(limit)
            .read_to_end(&mut bytes)?;
    }
    Ok(bytes)
}

/// A runtime with two workers, for commands that wait on it from blocking threads
/// (tile readers) or serve while they compute.
pub fn runtime_multi() -> anyhow::Result<tokio::runtime::Runtime> {
    use anyhow::Context;
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// A current-thread runtime for one CLI command.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    use anyhow::Context;
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}
