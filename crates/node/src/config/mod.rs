//! The node's configuration file (`config.toml` in the home directory), written by
//! `talos init` and read by `talos up`, whose flags and environment variables override it.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use talos_net::{Multiaddr, PeerId, Protocol};

use crate::home::HomeError;
use crate::node::NodeConfig;

/// A configuration that cannot be read, written or used. Each `Invalid` message names
/// the field and the rule it breaks.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file is missing or unreadable.
    #[error("reading {} (run `talos init` to create it)", path.display())]
    Read {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML for [`FileConfig`] (an unknown field included).
    #[error("parsing {}", path.display())]
    Parse {
        /// The file.
        path: std::path::PathBuf,
        /// Where and why.
        #[source]
        source: Box<toml::de::Error>,
    },
    /// The configuration could not be serialized.
    #[error("serializing the configuration")]
    Serialize(#[from] toml::ser::Error),
    /// The file could not be written.
    #[error(transparent)]
    Write(#[from] HomeError),
    /// A field breaks a rule.
    #[error("{0}")]
    Invalid(String),
}

/// Returns early with [`ConfigError::Invalid`] (the `bail!` of this module).
macro_rules! invalid {
    ($($arg:tt)*) => {
        return Err(ConfigError::Invalid(format!($($arg)*)))
    };
}

/// Name of the configuration file inside the home directory.
pub const CONFIG_FILE: &str = "config.toml";
/// Name of the API token file inside the home directory.
pub const TOKEN_FILE: &str = "api-token";
/// Name of the RocksDB directory inside the home directory.
pub const DB_DIR: &str = "db";

/// Parsing every field into what `talos up` runs with.
mod resolve;
pub use resolve::{ApiListen, Resolved};

/// `config.toml`. Every field has a default, and unknown fields are an error, so a typo
/// never silently falls back to a default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileConfig {
    /// libp2p listen multiaddrs (TCP and/or QUIC).
    pub listen: Vec<String>,
    /// Addresses announced as reachable from outside (a relay's public address).
    pub external: Vec<String>,
    /// Bootstrap peers: multiaddrs ending in `/p2p/<PeerId>`.
    pub bootstrap: Vec<String>,
    /// Discover peers on the LAN.
    pub mdns: bool,
    /// Serve as a circuit relay for other peers.
    pub relay: bool,
    /// Serve as a mailbox for peers that register with it.
    pub mailbox: bool,
    /// This node's mailboxes (did:key), published in its directory record.
    pub mailboxes: Vec<String>,
    /// Where the local agent API listens: `unix` (the default: `<home>/api.sock`, mode
    /// 0600, so only this user reaches it), `unix:PATH`, or a loopback `host:port`
    /// (any local process can connect; the bearer token is then the only guard).
    pub api: String,
    /// Frames offered to one peer at once.
    pub window: usize,
    /// First retry delay after a failed send, ms.
    pub retry_min_ms: u64,
    /// Longest retry delay, ms.
    pub retry_max_ms: u64,
    /// How long SIGTERM waits for in-flight frames to be acknowledged, ms.
    pub drain_ms: u64,
    /// Directory record republish period, s.
    pub republish_secs: u64,
    /// Signed prekey rotation period, s.
    pub prekey_rotation_secs: u64,
    /// One-time prekeys kept in stock.
    pub one_time_prekeys: usize,
    /// Established connections in total.
    pub max_connections: u32,
    /// Established connections per peer.
    pub max_connections_per_peer: u32,
    /// New connections are refused past this process memory, MiB.
    pub max_memory_mib: usize,
    /// Calls per second a peer (and, separately, a capability) may make to this agent.
    pub invoke_rate: u32,
    /// Calls above the rate a peer (and a capability) may make in a burst.
    pub invoke_burst: u32,
    /// How long the agent has to answer a call before the caller is told
    /// `agent_timeout`, ms.
    pub answer_within_ms: u64,
    /// Agents (did:key) whose transactions this agent accepts: they may mint the first
    /// hop of a transaction token that reaches it.
    pub trust_txn: Vec<String>,
    /// Reporters (did:key, at most 64) whose misbehaviour reports count fully in the
    /// reputation score (`crates/reputation/FORMAT.md` §2.2); others count at most 50 of
    /// 1000 points together.
    pub reputation_seeds: Vec<String>,
    /// Callers whose reputation score (0..=1000) is below this are refused
    /// `low_reputation`; 0 turns the check off.
    pub min_reputation: u16,
    /// Where allowed calls are forwarded, an `http://` URL of the agent (the node POSTs
    /// each call there and returns the agent's answer); empty: the agent long-polls
    /// `GET /v1/calls` instead.
    pub agent_url: String,
    /// Where the audit log's head is anchored: `embedded` (an EVM in `<home>/chain`),
    /// `evm:URL` (with `contract`), or `none`.
    pub chain: String,
    /// The TalosAnchor contract address, for `evm:URL`.
    pub contract: String,
    /// For `evm:URL`: the most the node signs for a unit of gas (`maxFeePerGas`), in
    /// gwei; a write waits for the base fee to fall under it. 0: no cap.
    pub evm_max_fee_gwei: u64,
    /// Anchoring period, s (0: only on request).
    pub anchor_secs: u64,
    /// Where the public read API (C2SP tlog-tiles, no token) listens, `host:port`;
    /// empty: not served.
    pub public_log: String,
    /// A directory the public log is also written to as static files; empty: none.
    pub public_log_dir: String,
    /// Public log requests per second per client address.
    pub public_log_rate: u32,
    /// Public log requests a client address may make in a burst above the rate.
    pub public_log_burst: u32,
    /// Agents whose signed checkpoints this node aggregates into its own anchored log
    /// (served on `public_log`, which must be set); empty: none.
    pub aggregate_for: Vec<String>,
    /// At most one new checkpoint per aggregated agent per this period, s.
    pub aggregate_secs: u64,
    /// An aggregator's public log URL this node submits its checkpoints to (aggregated
    /// anchoring, the agent's side); empty: none.
    pub aggregator: String,
    /// How often the checkpoint is submitted to `aggregator` while the log grows, s.
    pub aggregator_secs: u64,
    /// How often a checkpoint is published while the log is public, s (anchoring also
    /// publishes, before each anchor).
    pub publish_secs: u64,
    /// Serve the dashboard at `/dashboard` on the API listener (which must then be
    /// loopback TCP: a browser cannot reach a Unix socket).
    pub dashboard: bool,
    /// Witnesses each published checkpoint is submitted to (C2SP tlog-witness), each
    /// `<cosignature verifier key>@<URL>`.
    pub witnesses: Vec<String>,
    /// Cosignatures wanted per checkpoint (0: all the witnesses); fewer is audited.
    pub witness_quorum: usize,
    /// How long a witness has to answer, ms.
    pub witness_timeout_ms: u64,
    /// Log filter (`tracing_subscriber::EnvFilter` syntax); `RUST_LOG` overrides it.
    pub log: String,
    /// Inbox entries older than this are deleted, read or not, s (0: kept until the
    /// agent acknowledges them with `DELETE /v1/messages?through=N`).
    pub inbox_retention_secs: u64,
    /// Unread inbox entries in all; past it new frames are answered `OverQuota` (their
    /// senders keep them and retry).
    pub inbox_max_entries: u64,
    /// Bytes of unread inbox entries in all (likewise).
    pub inbox_max_bytes: u64,
    /// Unread inbox entries from one sending peer (likewise, for that peer).
    pub peer_inbox_max_entries: u64,
    /// Bytes of unread inbox entries from one sending peer.
    pub peer_inbox_max_bytes: u64,
    /// Peers kept with state here that never had a frame take effect (oldest dropped).
    pub max_idle_peers: u64,
    /// Threads of the async runtime (networking, the API); 0: one per CPU core. Disk
    /// writes and cryptography run on a separate blocking pool either way. Nodes that
    /// share a machine do best with as many in all as it has cores (`docs/node.md`).
    pub workers: usize,
}

impl Default for FileConfig {
    fn default() -> Self {
        let node = NodeConfig::default();
        FileConfig {
            listen: vec![
                "/ip4/0.0.0.0/tcp/4001".into(),
                "/ip4/0.0.0.0/udp/4001/quic-v1".into(),
            ],
            external: Vec::new(),
            bootstrap: Vec::new(),
            mdns: true,
            relay: false,
            mailbox: false,
            mailboxes: Vec::new(),
            api: "unix".into(),
            window: node.window,
            retry_min_ms: millis(node.retry_min),
            retry_max_ms: millis(node.retry_max),
            drain_ms: 5_000,
            republish_secs: node.republish.as_secs(),
            prekey_rotation_secs: node.prekey_rotation.as_secs(),
            one_time_prekeys: node.one_time_prekeys,
            max_connections: node.net.max_connections,
            max_connections_per_peer: node.net.max_connections_per_peer,
            max_memory_mib: node.net.max_memory_bytes >> 20,
            invoke_rate: node.invoke.rate.get(),
            invoke_burst: node.invoke.burst.get(),
            answer_within_ms: millis(node.invoke.answer_within),
            trust_txn: Vec::new(),
            reputation_seeds: Vec::new(),
            min_reputation: 0,
            agent_url: String::new(),
            chain: "embedded".into(),
            contract: String::new(),
            evm_max_fee_gwei: 0,
            anchor_secs: 60,
            public_log: String::new(),
            public_log_dir: String::new(),
            public_log_rate: 50,
            public_log_burst: 200,
            aggregate_for: Vec::new(),
            aggregate_secs: 10,
            aggregator: String::new(),
            aggregator_secs: 60,
            publish_secs: 10,
            dashboard: false,
            witnesses: Vec::new(),
            witness_quorum: 0,
            witness_timeout_ms: 5_000,
            log: "info".into(),
            inbox_retention_secs: node.inbox_retention.as_secs(),
            inbox_max_entries: node.limits.inbox_max_entries,
            inbox_max_bytes: node.limits.inbox_max_bytes,
            peer_inbox_max_entries: node.limits.peer_inbox_max_entries,
            peer_inbox_max_bytes: node.limits.peer_inbox_max_bytes,
            max_idle_peers: node.limits.max_idle_peers,
            workers: 0,
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl FileConfig {
    /// Reads `path`; a missing file is an error naming `talos init`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            source: Box::new(e),
        })
    }

    /// Writes the file (mode 0600: it names the API address the token guards).
    pub fn save(&self, path: &Path) -> Result<(), ConfigError> {
        let text = toml::to_string_pretty(self)?;
        Ok(crate::home::write_private(path, text.as_bytes())?)
    }
}

/// A bootstrap address for `peer` at `addr` (`addr/p2p/peer`).
pub fn bootstrap_addr(addr: &Multiaddr, peer: PeerId) -> String {
    addr.clone().with(Protocol::P2p(peer)).to_string()
}

#[cfg(test)]
mod tests;
