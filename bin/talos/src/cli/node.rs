//! `talos init` and `talos up`: create a node's home, and run the node.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use serde_json::json;
use talos_identity::keystore::KdfParams;
use tracing::info;

use crate::cli::outcome::Outcome;
use talos_node::config::{FileConfig, bootstrap_addr};
use talos_node::home::{Home, passphrase, storage_key};
use talos_node::node::Node;

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
    fn apply(&self, c: &mut FileConfig) {
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

fn env_pass() -> Option<String> {
    std::env::var("TALOS_PASSPHRASE").ok()
}

/// `talos init`: the keystore (kept if present), `config.toml` and the API token.
pub(crate) fn init(
    flags: &NetFlags,
    force: bool,
    json_out: bool,
    home: Option<PathBuf>,
    pass_file: Option<&Path>,
) -> anyhow::Result<Outcome> {
    let home = Home::resolve(home)?;
    let key = if home.keystore().exists() && !force {
        home.load_identity(&passphrase(pass_file, env_pass(), false)?)?
    } else {
        home.create_identity(
            &passphrase(pass_file, env_pass(), true)?,
            KdfParams::DEFAULT,
            force,
        )?
    };
    if home.config().exists() && !force {
        anyhow::bail!(
            "{} already exists; pass --force to replace it",
            home.config().display()
        );
    }
    let mut config = FileConfig::default();
    flags.apply(&mut config);
    config.resolve().context("the new configuration")?;
    config.save(&home.config())?;
    home.create_token()?;
    let v = json!({
        "did": key.did().to_string(),
        "config": home.config().display().to_string(),
        "token": home.token().display().to_string(),
    });
    if json_out {
        println!("{v}");
    } else {
        println!("identity  {}", key.did());
        println!("config    {}", home.config().display());
        println!("api token {}", home.token().display());
        println!("next: talos up");
    }
    Ok(Outcome::Done)
}

/// `talos up`: runs the node until SIGTERM or SIGINT, then drains and flushes.
pub(crate) fn up(
    flags: &NetFlags,
    home: Option<PathBuf>,
    pass_file: Option<&Path>,
) -> anyhow::Result<Outcome> {
    let home = Home::resolve(home)?;
    let mut config = FileConfig::load(&home.config())?;
    flags.apply(&mut config);
    let mut resolved = config.resolve()?;
    resolved.node.card = home
        .load_card()
        .with_context(|| format!("{}", home.card().display()))?;
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| resolved.log.clone());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&filter).context("log filter")?)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let identity = home.load_identity(&passphrase(pass_file, env_pass(), false)?)?;
    // A card that cannot be served (too large once signed) stops the node here, rather
    // than being refused by every peer later.
    if let Some(card) = &resolved.node.card {
        talos_card::signed(card, &identity)
            .with_context(|| format!("{}", home.card().display()))?;
    }
    let token = home.load_token()?;
    let key = storage_key(&identity)?;
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = resolved.workers {
        runtime.worker_threads(n.get());
    }
    let runtime = runtime.enable_all().build()?;
    runtime.block_on(async move {
        let (store, audit) = home
            .open_stores()
            .with_context(|| format!("opening the node's store at {}", home.db().display()))?;
        let writer = identity.clone();
        let mut node = Node::start(identity, key, store, audit, resolved.node.clone()).await?;
        if let Some(spec) = resolved.chain.clone() {
            let (home, contract, cap) = (
                home.clone(),
                resolved.contract.clone(),
                resolved.evm_max_fee,
            );
            let opener: talos_node::node::Opener = Arc::new(move || {
                let (home, spec, contract, writer) =
                    (home.clone(), spec.clone(), contract.clone(), writer.clone());
                Box::pin(async move {
                    talos_node::anchor_target::open_capped(
                        &home,
                        &spec,
                        contract.as_deref(),
                        Some(&writer),
                        cap,
                    )
                    .await
                })
            });
            node.start_anchoring(opener, resolved.anchor_every);
        }
        if let Some((to, every)) = resolved.aggregator.clone() {
            node.start_submitting(to, every);
        }
        let public_listener = start_public_log(&mut node, &resolved).await?;
        let listener = ApiListener::bind(&resolved.api, &home).await?;
        let api = listener.address()?;
        // Where `talos agent ...` finds this node (the configured port may be 0).
        talos_node::home::write_private(&home.api_addr_file(), api.as_bytes())?;
        // Wait until the swarm has bound its listeners, so the ready line and the first
        // directory record carry real addresses.
        let want = resolved.node.net.listen.len();
        let mut listen = Vec::new();
        for _ in 0..200 {
            listen = node.client().listen_addrs().await?;
            if listen.len() >= want {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        for (peer, addr) in &resolved.node.net.bootstrap {
            // Bootstrap peers may be down; the DHT and the sender retry later.
            let _ = node.client().dial(*peer, vec![addr.clone()]).await;
        }
        node.start_upkeep();
        node.start_draining();
        let node = Arc::new(node);
        let (public_addr, public_task) = match public_listener {
            Some(p) => {
                let (addr, task) = serve_public_log(p, node.clone())?;
                (Some(addr), Some(task))
            }
            None => (None, None),
        };
        let peer = node.client().local_peer_id();
        println!(
            "{}",
            json!({
                "event": "ready",
                "did": talos_identity::did_key::encode(&node.identity()),
                "peerId": peer.to_string(),
                "api": api,
                "publicLog": public_addr,
                "listen": listen.iter().map(|a| bootstrap_addr(a, peer)).collect::<Vec<_>>(),
            })
        );
        info!(%api, %peer, "node up");
        let mut app = talos_node::api::router(node.clone(), &token);
        if resolved.dashboard {
            app = app.merge(talos_node::api::dashboard::routes());
        }
        let stopping = node.clone();
        listener
            .serve(app, async move {
                stop_signal().await;
                stopping.begin_stop();
            })
            .await?;
        if let Some(t) = public_task {
            t.abort();
        }
        info!("stopping: draining in-flight frames");
        let left = node.drain(resolved.drain).await?;
        if left > 0 {
            info!(
                peers = left,
                "frames left in the outbox; they are resent at the next start"
            );
        }
        // By reference: an API connection still closing may hold a clone of the node.
        node.shutdown().await?;
        info!("stopped");
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(Outcome::Done)
}

/// The public log's listener, bound (it is served once the node is shared), and the
/// publication schedule and static copy it needs.
async fn start_public_log(
    node: &mut Node,
    resolved: &talos_node::config::Resolved,
) -> anyhow::Result<Option<PublicListener>> {
    if resolved.public_log.is_some() || resolved.public_log_dir.is_some() {
        node.start_publishing(resolved.publish_every);
    }
    if let Some(dir) = resolved.public_log_dir.clone() {
        node.start_static_log(dir);
    }
    Ok(match &resolved.public_log {
        Some((addr, bounds)) => Some((
            tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("binding the public log on {addr}"))?,
            bounds.clone(),
        )),
        None => None,
    })
}

type PublicListener = (
    tokio::net::TcpListener,
    talos_node::public_log::PublicLogConfig,
);

/// Serves the public log (C2SP tlog-tiles) until aborted; its address.
fn serve_public_log(
    (listener, bounds): PublicListener,
    node: Arc<Node>,
) -> anyhow::Result<(String, tokio::task::JoinHandle<()>)> {
    let addr = listener.local_addr()?;
    let app = talos_node::public_log::router(node, bounds)
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::warn!("the public log stopped: {e}");
        }
    });
    Ok((addr.to_string(), task))
}

/// The bound API listener.
enum ApiListener {
    Tcp(tokio::net::TcpListener),
    Unix(tokio::net::UnixListener, std::path::PathBuf),
}

impl ApiListener {
    async fn bind(at: &talos_node::config::ApiListen, home: &Home) -> anyhow::Result<Self> {
        use talos_node::config::ApiListen;
        match at {
            ApiListen::Tcp(addr) => Ok(ApiListener::Tcp(
                tokio::net::TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("binding the API on {addr}"))?,
            )),
            ApiListen::Unix(path) => {
                let path = path.clone().unwrap_or_else(|| home.api_socket());
                Ok(ApiListener::Unix(bind_unix(&path)?, path))
            }
        }
    }

    /// What `api-addr` and the ready line say: `unix:PATH` or `host:port`.
    fn address(&self) -> anyhow::Result<String> {
        Ok(match self {
            ApiListener::Tcp(l) => l.local_addr()?.to_string(),
            ApiListener::Unix(_, path) => format!("unix:{}", path.display()),
        })
    }

    /// Serves until `stop` completes, then finishes the requests in flight.
    async fn serve(
        self,
        app: axum::Router,
        stop: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        match self {
            ApiListener::Tcp(l) => axum::serve(l, app).with_graceful_shutdown(stop).await?,
            ApiListener::Unix(l, path) => {
                axum::serve(l, app).with_graceful_shutdown(stop).await?;
                let _ = std::fs::remove_file(path);
            }
        }
        Ok(())
    }
}

/// Binds the API's Unix socket so that only this user can connect: mode 0600, set right
/// after the bind (connecting needs write permission on the socket, which the usual
/// umask already withholds from others in the instant before). A socket left by a node
/// that was killed is replaced; a live one is not, so two nodes never share an API.
fn bind_unix(path: &std::path::Path) -> anyhow::Result<tokio::net::UnixListener> {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.file_type().is_socket() {
            anyhow::bail!(
                "{} exists and is not a socket; refusing to replace it",
                path.display()
            );
        }
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            anyhow::bail!("another node serves its API at {}", path.display());
        }
        std::fs::remove_file(path)
            .with_context(|| format!("removing the stale socket {}", path.display()))?;
    }
    let listener = std::os::unix::net::UnixListener::bind(path)
        .with_context(|| format!("binding the API on {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    listener.set_nonblocking(true)?;
    Ok(tokio::net::UnixListener::from_std(listener)?)
}

pub(crate) async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
