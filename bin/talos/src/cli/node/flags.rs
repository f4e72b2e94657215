//! The node's settings as flags and environment variables: shared by `talos init`
//! (written to `config.toml`) and `talos up` (overriding it).

use std::path::PathBuf;

use clap::Args;
use talos_node::config::FileConfig;

/// Settings shared by `init` (written to the file) and `up` (overriding the file).
#[derive(Debug, Default, Args)]
pub struct NetFlags {
    /// libp2p listen multiaddr (repeatable; comma-separated in the env variable).
    #[arg(long, env = "TALOS_LISTEN", value_delimiter = ',')]
    pub listen: Vec<String>,
    /// Bootstrap peer, a multiaddr ending in /p2p/<PeerId> (repeatable).
    #[arg(long, env = "TALOS_BOOTSTRAP", value_delimiter = ',')]
    pub bootstrap: Vec<String>,
    /// Address announced as reachable from outside (repeatable).
    #[arg(long, env = "TALOS_EXTERNAL", value_delimiter = ',')]
    pub external: Vec<String>,
    /// Where the local agent API listens: `unix` (`<home>/api.sock`, the default),
    /// `unix:PATH`, or a loopback `host:port`.
    #[arg(long, env = "TALOS_API")]
    pub api: Option<String>,
    /// Serve as a circuit relay for other peers.
    #[arg(long, env = "TALOS_RELAY")]
    pub relay: Option<bool>,
    /// Discover peers on the LAN with mDNS.
    #[arg(long, env = "TALOS_MDNS")]
    pub mdns: Option<bool>,
    /// Serve as a mailbox for peers that register with this node.
    #[arg(long, env = "TALOS_MAILBOX")]
    pub mailbox: Option<bool>,
    /// This node's mailboxes, as did:key (repeatable).
    #[arg(long = "mailboxes", env = "TALOS_MAILBOXES", value_delimiter = ',')]
    pub mailboxes: Vec<String>,
    /// Calls per second a peer (and a capability) may make to this agent.
    #[arg(long, env = "TALOS_INVOKE_RATE")]
    pub invoke_rate: Option<u32>,
    /// Calls a peer (and a capability) may make in a burst above the rate.
    #[arg(long, env = "TALOS_INVOKE_BURST")]
    pub invoke_burst: Option<u32>,
    /// An agent (did:key) whose transactions this agent accepts (repeatable).
    #[arg(long = "trust-txn", env = "TALOS_TRUST_TXN", value_delimiter = ',')]
    pub trust_txn: Vec<String>,
    /// Where the audit head is anchored: embedded, evm:URL or none.
    #[arg(long, env = "TALOS_CHAIN")]
    pub chain: Option<String>,
    /// The TalosAnchor contract address (for evm:URL).
    #[arg(long, env = "TALOS_CONTRACT")]
    pub contract: Option<String>,
    /// For evm:URL, the most the node signs per unit of gas (maxFeePerGas), in gwei
    /// (0: no cap).
    #[arg(long, env = "TALOS_EVM_MAX_FEE_GWEI")]
    pub evm_max_fee_gwei: Option<u64>,
    /// Anchoring period in seconds (0: only on request).
    #[arg(long, env = "TALOS_ANCHOR_SECS")]
    pub anchor_secs: Option<u64>,
    /// Serve the audit log publicly (C2SP tlog-tiles, read-only, no token) on host:port.
    #[arg(long, env = "TALOS_PUBLIC_LOG")]
    pub public_log: Option<String>,
    /// Also write the public log as static files under this directory.
    #[arg(long, env = "TALOS_PUBLIC_LOG_DIR")]
    pub public_log_dir: Option<PathBuf>,
    /// Public log requests per second per client address.
    #[arg(long, env = "TALOS_PUBLIC_LOG_RATE")]
    pub public_log_rate: Option<u32>,
    /// Public log requests per client address in a burst above the rate.
    #[arg(long, env = "TALOS_PUBLIC_LOG_BURST")]
    pub public_log_burst: Option<u32>,
    /// Aggregate these agents' signed checkpoints into this node's anchored log, on the
    /// public log's listener (repeatable, or comma-separated).
    #[arg(
        long = "aggregate-for",
        env = "TALOS_AGGREGATE_FOR",
        value_delimiter = ','
    )]
    pub aggregate_for: Vec<String>,
    /// At most one new checkpoint per aggregated agent per this many seconds.
    #[arg(long, env = "TALOS_AGGREGATE_SECS")]
    pub aggregate_secs: Option<u64>,
    /// Submit this node's checkpoints to the aggregator at this URL (its public log),
    /// which anchors them for it.
    #[arg(long, env = "TALOS_AGGREGATOR")]
    pub aggregator: Option<String>,
    /// How often the checkpoint goes to the aggregator while the log grows, seconds.
    #[arg(long, env = "TALOS_AGGREGATOR_SECS")]
    pub aggregator_secs: Option<u64>,
    /// Serve the dashboard on the API listener (loopback TCP only), at /dashboard.
    #[arg(long, env = "TALOS_DASHBOARD")]
    pub dashboard: Option<bool>,
    /// Async runtime threads (0: one per CPU core); nodes sharing a machine do best
    /// with as many in all as it has cores.
    #[arg(long, env = "TALOS_WORKERS")]
    pub workers: Option<usize>,
    /// A witness, `<cosignature verifier key>@<URL>` (repeatable).
    #[arg(long = "witness", env = "TALOS_WITNESSES", value_delimiter = ',')]
    pub witnesses: Vec<String>,
    /// Cosignatures wanted per checkpoint (0: all the witnesses).
    #[arg(long, env = "TALOS_WITNESS_QUORUM")]
    pub witness_quorum: Option<usize>,
    /// How long a witness has to answer, ms.
    #[arg(long, env = "TALOS_WITNESS_TIMEOUT_MS")]
    pub witness_timeout_ms: Option<u64>,
    /// Forward each allowed call to the agent at this http:// URL (a POST; the agent's
    /// answer is the call's answer) instead of waiting for it to long-poll.
    #[arg(long, env = "TALOS_AGENT_URL")]
    pub agent_url: Option<String>,
    /// Checkpoint publication period in seconds while the log is public.
    #[arg(long, env = "TALOS_PUBLISH_SECS")]
    pub publish_secs: Option<u64>,
}

impl NetFlags {
    pub(super) fn apply(&self, c: &mut FileConfig) {
        if !self.listen.is_empty() {
            c.listen.clone_from(&self.listen);
        }
        if !self.bootstrap.is_empty() {
            c.bootstrap.clone_from(&self.bootstrap);
        }
        if !self.external.is_empty() {
            c.external.clone_from(&self.external);
        }
        if let Some(a) = &self.api {
            c.api.clone_from(a);
        }
        if let Some(r) = self.relay {
            c.relay = r;
        }
        if let Some(m) = self.mdns {
            c.mdns = m;
        }
        if let Some(m) = self.mailbox {
            c.mailbox = m;
        }
        if !self.mailboxes.is_empty() {
            c.mailboxes.clone_from(&self.mailboxes);
        }
        if let Some(r) = self.invoke_rate {
            c.invoke_rate = r;
        }
        if let Some(b) = self.invoke_burst {
            c.invoke_burst = b;
        }
        if !self.trust_txn.is_empty() {
            c.trust_txn.clone_from(&self.trust_txn);
        }
        if let Some(ch) = &self.chain {
            c.chain.clone_from(ch);
        }
        if let Some(ct) = &self.contract {
            c.contract.clone_from(ct);
        }
        if let Some(g) = self.evm_max_fee_gwei {
            c.evm_max_fee_gwei = g;
        }
        if let Some(s) = self.anchor_secs {
            c.anchor_secs = s;
        }
        if let Some(a) = &self.public_log {
            c.public_log.clone_from(a);
        }
        if let Some(d) = &self.public_log_dir {
            c.public_log_dir = d.display().to_string();
        }
        if let Some(r) = self.public_log_rate {
            c.public_log_rate = r;
        }
        if let Some(b) = self.public_log_burst {
            c.public_log_burst = b;
        }
        if let Some(d) = self.dashboard {
            c.dashboard = d;
        }
        if !self.aggregate_for.is_empty() {
            c.aggregate_for.clone_from(&self.aggregate_for);
        }
        if let Some(v) = self.aggregate_secs {
            c.aggregate_secs = v;
        }
        if let Some(v) = &self.aggregator {
            c.aggregator.clone_from(v);
        }
        if let Some(v) = self.aggregator_secs {
            c.aggregator_secs = v;
        }
        if let Some(v) = self.workers {
            c.workers = v;
        }
        if !self.witnesses.is_empty() {
            c.witnesses.clone_from(&self.witnesses);
        }
        if let Some(q) = self.witness_quorum {
            c.witness_quorum = q;
        }
        if let Some(t) = self.witness_timeout_ms {
            c.witness_timeout_ms = t;
        }
        if let Some(s) = self.publish_secs {
            c.publish_secs = s;
        }
        if let Some(u) = &self.agent_url {
            c.agent_url.clone_from(u);
        }
    }
}
