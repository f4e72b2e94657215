//! `talos init` and `talos up`: create a node's home, and run the node.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use serde_json::json;
use talos_identity::keystore::KdfParams;
use tracing::info;

mod flags;
pub use flags::NetFlags;

use crate::cli::outcome::Outcome;
use talos_node::config::{FileConfig, bootstrap_addr};
use talos_node::home::{Home, passphrase, storage_key};
use talos_node::node::Node;

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
