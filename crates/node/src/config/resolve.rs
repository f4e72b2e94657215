//! `FileConfig::resolve`: every field of `config.toml` parsed, and checked against the
//! rules the node needs, into [`Resolved`].

use std::net::SocketAddr;
use std::time::Duration;

use talos_net::{Multiaddr, NetConfig, Protocol};

use super::{ConfigError, FileConfig};
use crate::node::NodeConfig;

/// Parses a list of did:key DIDs from the field `what`.
fn did_keys<C: FromIterator<talos_primitives::Did>>(
    what: &str,
    list: &[String],
) -> Result<C, ConfigError> {
    list.iter()
        .map(|d| {
            talos_identity::did_key::decode(d)
                .map(talos_primitives::Did::Key)
                .map_err(|e| ConfigError::Invalid(format!("{what} {d:?} is not a did:key: {e}")))
        })
        .collect()
}

impl FileConfig {
    fn reputation_seeds(
        &self,
    ) -> Result<std::collections::BTreeSet<talos_primitives::Did>, ConfigError> {
        let seeds: std::collections::BTreeSet<_> =
            did_keys("reputation_seeds", &self.reputation_seeds)?;
        if seeds.len() > talos_reputation::book::MAX_SEEDS {
            invalid!(
                "at most {} reputation_seeds",
                talos_reputation::book::MAX_SEEDS
            );
        }
        if self.min_reputation > 1000 {
            invalid!("min_reputation is a score, 0..=1000");
        }
        Ok(seeds)
    }
}

/// Where the local agent API listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiListen {
    /// A Unix socket; `None` is the node's home (`<home>/api.sock`).
    Unix(Option<std::path::PathBuf>),
    /// TCP on a loopback address.
    Tcp(SocketAddr),
}

impl std::str::FromStr for ApiListen {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, ConfigError> {
        if s == "unix" {
            return Ok(ApiListen::Unix(None));
        }
        if let Some(path) = s.strip_prefix("unix:") {
            if path.is_empty() {
                invalid!("api {s:?}: `unix:` needs a path (or say `unix` for the home's socket)");
            }
            return Ok(ApiListen::Unix(Some(path.into())));
        }
        let Ok(addr) = s.parse::<SocketAddr>() else {
            invalid!("api {s:?} is neither `unix`, `unix:PATH` nor a loopback host:port");
        };
        if !addr.ip().is_loopback() {
            invalid!("api address {addr} is not a loopback address; the agent API is local only");
        }
        Ok(ApiListen::Tcp(addr))
    }
}

/// What `talos up` runs with, every field parsed.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The node.
    pub node: NodeConfig,
    /// Where the API listens.
    pub api: ApiListen,
    /// The SIGTERM drain budget.
    pub drain: Duration,
    /// The log filter.
    pub log: String,
    /// The anchoring backend (`None`: no anchoring).
    pub chain: Option<crate::anchor_target::AnchorTarget>,
    /// The contract, for an EVM chain.
    pub contract: Option<String>,
    /// The fee cap for an EVM chain, wei per gas.
    pub evm_max_fee: Option<u128>,
    /// The anchoring period (`None`: only on request).
    pub anchor_every: Option<Duration>,
    /// Where the public read API listens, and its bounds.
    pub public_log: Option<(std::net::SocketAddr, crate::public_log::PublicLogConfig)>,
    /// Where the public log is written as static files.
    pub public_log_dir: Option<std::path::PathBuf>,
    /// The publication period while the log is public.
    pub publish_every: Duration,
    /// The aggregator this node submits its checkpoints to, and how often.
    pub aggregator: Option<(reqwest::Url, Duration)>,
    /// Whether the dashboard is served.
    pub dashboard: bool,
    /// The async runtime's worker threads (`None`: one per CPU core).
    pub workers: Option<std::num::NonZeroUsize>,
}

/// Most async runtime threads a node starts (each one is a thread with its own stack).
const MAX_WORKERS: usize = 1024;

impl FileConfig {
    /// Parses every field into the node's configuration.
    pub fn resolve(&self) -> Result<Resolved, ConfigError> {
        let parse = |what: &str, s: &String| -> Result<Multiaddr, ConfigError> {
            s.parse().map_err(|e| {
                ConfigError::Invalid(format!("{what} address {s:?} is not a multiaddr: {e}"))
            })
        };
        let mut bootstrap = Vec::new();
        for b in &self.bootstrap {
            let addr = parse("bootstrap", b)?;
            let Some(Protocol::P2p(peer)) = addr.iter().last() else {
                invalid!("bootstrap address {b:?} must end in /p2p/<PeerId>");
            };
            bootstrap.push((peer, addr));
        }
        let api: ApiListen = self.api.parse()?;
        if self.dashboard && matches!(api, ApiListen::Unix(_)) {
            return Err(ConfigError::Invalid(
                "dashboard needs the API on loopback TCP (api = \"127.0.0.1:PORT\"): a browser cannot reach a Unix socket".into(),
            ));
        }
        let defaults = NodeConfig::default();
        let net = NetConfig {
            listen: self
                .listen
                .iter()
                .map(|s| parse("listen", s))
                .collect::<Result<_, ConfigError>>()?,
            external: self
                .external
                .iter()
                .map(|s| parse("external", s))
                .collect::<Result<_, ConfigError>>()?,
            bootstrap,
            mdns: self.mdns,
            relay_server: self.relay,
            max_connections: self.max_connections,
            max_connections_per_peer: self.max_connections_per_peer,
            max_memory_bytes: self.max_memory_mib.saturating_mul(1 << 20),
            ..defaults.net.clone()
        };
        if self.window == 0 || self.retry_min_ms == 0 || self.retry_max_ms < self.retry_min_ms {
            invalid!("window and retry_min_ms must be positive and retry_max_ms ≥ retry_min_ms");
        }
        let mailboxes = self
            .mailboxes
            .iter()
            .map(|d| {
                talos_identity::did_key::decode(d).map_err(|e| {
                    ConfigError::Invalid(format!("mailbox {d:?} is not a did:key: {e}"))
                })
            })
            .collect::<Result<Vec<_>, ConfigError>>()?;
        if mailboxes.len() > talos_net::directory::MAX_MAILBOXES {
            invalid!("at most {} mailboxes", talos_net::directory::MAX_MAILBOXES);
        }
        if self.republish_secs == 0 {
            invalid!("republish_secs must be positive");
        }
        let (Some(rate), Some(burst)) = (
            std::num::NonZeroU32::new(self.invoke_rate),
            std::num::NonZeroU32::new(self.invoke_burst),
        ) else {
            invalid!("invoke_rate and invoke_burst must be positive");
        };
        let limits = self.limits()?;
        let answer_within = Duration::from_millis(self.answer_within_ms);
        // The caller's network timeout must outlast the agent's deadline, so the caller
        // hears `agent_timeout` rather than a dropped stream.
        if answer_within.is_zero() || answer_within >= net.invoke_timeout {
            invalid!(
                "answer_within_ms must be positive and below {} ms",
                net.invoke_timeout.as_millis()
            );
        }
        Ok(Resolved {
            node: NodeConfig {
                net,
                window: self.window,
                retry_min: Duration::from_millis(self.retry_min_ms),
                retry_max: Duration::from_millis(self.retry_max_ms),
                republish: Duration::from_secs(self.republish_secs),
                prekey_rotation: Duration::from_secs(self.prekey_rotation_secs),
                one_time_prekeys: self.one_time_prekeys,
                mailbox_server: self.mailbox,
                mailboxes,
                limits,
                inbox_retention: Duration::from_secs(self.inbox_retention_secs),
                witnesses: crate::node::publish::WitnessPolicy {
                    peers: self
                        .witnesses
                        .iter()
                        .map(|w| {
                            talos_transparency::witness::client::WitnessPeer::parse(w)
                                .map_err(|e| ConfigError::Invalid(format!("witnesses: {e}")))
                        })
                        .collect::<Result<_, _>>()?,
                    quorum: self.witness_quorum,
                    timeout: Duration::from_millis(self.witness_timeout_ms),
                },
                invoke: crate::node::InvokeConfig {
                    rate,
                    burst,
                    answer_within,
                    trusted_txn: did_keys("trust_txn", &self.trust_txn)?,
                    agent_url: self.agent_url()?,
                    reputation_seeds: self.reputation_seeds()?,
                    min_reputation: self.min_reputation,
                },
                ..defaults
            },
            api,
            drain: Duration::from_millis(self.drain_ms),
            log: self.log.clone(),
            chain: match self.chain.as_str() {
                "none" => None,
                s => Some(s.parse().map_err(ConfigError::Invalid)?),
            },
            contract: (!self.contract.is_empty()).then(|| self.contract.clone()),
            evm_max_fee: crate::anchor_target::gwei_cap(self.evm_max_fee_gwei),
            anchor_every: (self.anchor_secs > 0).then(|| Duration::from_secs(self.anchor_secs)),
            public_log: match self.public_log.as_str() {
                "" if !self.aggregate_for.is_empty() => {
                    return Err(ConfigError::Invalid(
                        "aggregate_for needs public_log: agents submit there".into(),
                    ));
                }
                "" => None,
                a => Some((
                    a.parse().map_err(|e| {
                        ConfigError::Invalid(format!("public_log {a:?} is not host:port: {e}"))
                    })?,
                    self.public_log_bounds()?,
                )),
            },
            public_log_dir: (!self.public_log_dir.is_empty())
                .then(|| std::path::PathBuf::from(&self.public_log_dir)),
            publish_every: Duration::from_secs(self.publish_secs.max(1)),
            aggregator: self.aggregator()?,
            dashboard: self.dashboard,
            workers: match self.workers {
                0 => None,
                n if n > MAX_WORKERS => {
                    invalid!("workers must be 0 (one per core) to {MAX_WORKERS}, not {n}")
                }
                n => std::num::NonZeroUsize::new(n),
            },
        })
    }
}

impl FileConfig {
    /// `agent_url`, parsed: an `http://` or `https://` URL, or none when empty.
    fn agent_url(&self) -> Result<Option<reqwest::Url>, ConfigError> {
        if self.agent_url.is_empty() {
            return Ok(None);
        }
        // The URL is not repeated in the error: it may carry credentials.
        let url = reqwest::Url::parse(&self.agent_url)
            .map_err(|e| ConfigError::Invalid(format!("agent_url is not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ConfigError::Invalid(
                "agent_url is not an http:// or https:// URL".into(),
            ));
        }
        Ok(Some(url))
    }

    /// `aggregator`, parsed: an `http://` or `https://` URL (a trailing `/` is added, so
    /// paths join under it), or none when empty.
    fn aggregator(&self) -> Result<Option<(reqwest::Url, Duration)>, ConfigError> {
        if self.aggregator.is_empty() {
            return Ok(None);
        }
        let mut text = self.aggregator.clone();
        if !text.ends_with('/') {
            text.push('/');
        }
        // The URL is not repeated in the error: it may carry credentials.
        let url = reqwest::Url::parse(&text)
            .map_err(|e| ConfigError::Invalid(format!("aggregator is not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ConfigError::Invalid(
                "aggregator is not an http:// or https:// URL".into(),
            ));
        }
        Ok(Some((
            url,
            Duration::from_secs(self.aggregator_secs.max(1)),
        )))
    }

    fn public_log_bounds(&self) -> Result<crate::public_log::PublicLogConfig, ConfigError> {
        let positive = |what: &str, v: u32| {
            std::num::NonZeroU32::new(v)
                .ok_or_else(|| ConfigError::Invalid(format!("{what} must be positive")))
        };
        let aggregate = match self.aggregate_for.as_slice() {
            [] => None,
            dids => Some(crate::aggregator::AggregateConfig {
                agents: std::sync::Arc::new(
                    dids.iter()
                        .map(|d| {
                            d.parse().map_err(|e| {
                                ConfigError::Invalid(format!("aggregate_for: {d:?}: {e}"))
                            })
                        })
                        .collect::<Result<_, _>>()?,
                ),
                every: Duration::from_secs(self.aggregate_secs),
            }),
        };
        Ok(crate::public_log::PublicLogConfig {
            rate: positive("public_log_rate", self.public_log_rate)?,
            burst: positive("public_log_burst", self.public_log_burst)?,
            aggregate,
            ..Default::default()
        })
    }

    /// The inbox and idle-peer bounds; each must be positive (a zero bound would refuse
    /// every message).
    fn limits(&self) -> Result<talos_delivery::Limits, ConfigError> {
        let l = talos_delivery::Limits {
            peer_inbox_max_entries: self.peer_inbox_max_entries,
            peer_inbox_max_bytes: self.peer_inbox_max_bytes,
            inbox_max_entries: self.inbox_max_entries,
            inbox_max_bytes: self.inbox_max_bytes,
            max_idle_peers: self.max_idle_peers,
        };
        let all = [
            l.peer_inbox_max_entries,
            l.peer_inbox_max_bytes,
            l.inbox_max_entries,
            l.inbox_max_bytes,
            l.max_idle_peers,
        ];
        if all.contains(&0) {
            invalid!(
                "inbox_max_entries, inbox_max_bytes, peer_inbox_max_entries, peer_inbox_max_bytes and max_idle_peers must be positive"
            );
        }
        Ok(l)
    }
}
