//! `talos audit monitor`: follows an agent's public log against the chain and the
//! witnesses; each round is a JSON line, each alarm another, and `--metrics` serves
//! the alarms as Prometheus gauges.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicI64;

use anyhow::Context;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use serde_json::json;
use talos_node::anchor_target::{self, AnchorTarget};
use talos_node::home::Home;
use talos_transparency::monitor::{Monitor, MonitorState};
use talos_transparency::source::LogSource;

use crate::cli::outcome::Outcome;

/// `audit monitor`'s arguments.
#[derive(Debug, clap::Args)]
pub struct MonitorArgs {
    /// The agent whose log to follow.
    #[arg(long)]
    did: talos_primitives::Did,
    /// Its public log: the read API's URL or a static copy's directory.
    #[arg(long)]
    log: String,
    /// The chain it anchors on: `embedded` or `evm:URL` (default: the log alone).
    #[arg(long)]
    chain: Option<AnchorTarget>,
    /// The TalosAnchor contract address (with `evm:URL`).
    #[arg(long)]
    contract: Option<String>,
    /// A witness's monitoring URL (repeatable).
    #[arg(long = "witness")]
    witnesses: Vec<String>,
    /// One round, then exit: 0 no alarm, 1 an alarm, 3 the log or chain unreachable.
    #[arg(long)]
    once: bool,
    /// Seconds between rounds.
    #[arg(long, default_value_t = 30)]
    every: u64,
    /// Rounds the chain may be anchored past the published log before it is an alarm.
    #[arg(long, default_value_t = 3)]
    stall_rounds: u32,
    /// Read every entry again (an entry changed after it was read shows only then).
    #[arg(long)]
    recheck: bool,
    /// The monitor's state directory (default: `<home>/monitor`).
    #[arg(long)]
    state: Option<PathBuf>,
    /// Serve Prometheus metrics on host:port.
    #[arg(long)]
    metrics: Option<SocketAddr>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AlarmLabel {
    kind: String,
}

struct Gauges {
    registry: Registry,
    alarms: Family<AlarmLabel, Gauge>,
    tree_size: Gauge<i64, AtomicI64>,
    anchored: Gauge<i64, AtomicI64>,
}

impl Gauges {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("talos_monitor");
        let alarms = Family::<AlarmLabel, Gauge>::default();
        let tree_size = Gauge::<i64, AtomicI64>::default();
        let anchored = Gauge::<i64, AtomicI64>::default();
        registry.register(
            "alarm",
            "Alarms raised, by kind (1: raised)",
            alarms.clone(),
        );
        registry.register("tree_size", "The log's checkpoint size", tree_size.clone());
        registry.register(
            "anchored_size",
            "The latest size anchored",
            anchored.clone(),
        );
        Self {
            registry,
            alarms,
            tree_size,
            anchored,
        }
    }

    fn text(&self) -> String {
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// `talos audit monitor`.
pub(crate) fn run(home: Option<PathBuf>, args: &MonitorArgs) -> anyhow::Result<Outcome> {
    let home = Home::resolve(home)?;
    let source = LogSource::parse(&args.log)?;
    let dir = args.state.clone().unwrap_or_else(|| home.monitor_dir());
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let state = MonitorState::open(&dir).context("opening the monitor state")?;
    crate::cli::runtime_multi()?.block_on(async move {
        let anchor = match &args.chain {
            None => None,
            Some(spec) => {
                match anchor_target::open(&home, spec, args.contract.as_deref(), None).await {
                    Ok(a) => Some(Arc::from(a)),
                    Err(e) => {
                        println!(
                            "{}",
                            json!({ "error": "unavailable", "message": format!("{e:#}") })
                        );
                        return Ok(Outcome::Unavailable);
                    }
                }
            }
        };
        let monitor = Monitor {
            source,
            did: args.did,
            anchor,
            witnesses: args.witnesses.clone(),
            stall_rounds: args.stall_rounds,
            state,
        };
        if args.recheck {
            monitor.recheck()?;
        }
        let gauges = Arc::new(Gauges::new());
        if let Some(addr) = args.metrics {
            serve_metrics(addr, gauges.clone()).await?;
        }
        follow(&monitor, args, &gauges).await
    })
}

async fn follow(monitor: &Monitor, args: &MonitorArgs, gauges: &Gauges) -> anyhow::Result<Outcome> {
    let mut alarmed = false;
    let stop = crate::cli::node::stop_signal();
    tokio::pin!(stop);
    loop {
        match monitor.round().await {
            Ok(round) => {
                for a in &round.alarms {
                    println!("{}", serde_json::to_string(a)?);
                    let kind = serde_json::to_value(a.alarm)?
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    gauges.alarms.get_or_create(&AlarmLabel { kind }).set(1);
                }
                alarmed |= !round.alarms.is_empty();
                gauges
                    .tree_size
                    .set(i64::try_from(round.tree_size).unwrap_or(i64::MAX));
                if let Some(a) = round.anchored {
                    gauges.anchored.set(i64::try_from(a).unwrap_or(i64::MAX));
                }
                println!("{}", serde_json::to_string(&round)?);
                if args.once {
                    return Ok(if alarmed {
                        Outcome::Refused
                    } else {
                        Outcome::Done
                    });
                }
            }
            Err(e) => {
                println!(
                    "{}",
                    json!({ "error": "unavailable", "message": e.to_string() })
                );
                if args.once {
                    return Ok(Outcome::Unavailable);
                }
            }
        }
        tokio::select! {
            () = tokio::time::sleep(std::time::Duration::from_secs(args.every.max(1))) => {}
            () = &mut stop => return Ok(if alarmed { Outcome::Refused } else { Outcome::Done }),
        }
    }
}

async fn serve_metrics(addr: SocketAddr, gauges: Arc<Gauges>) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding the metrics listener on {addr}"))?;
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let g = gauges.clone();
            async move { g.text() }
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(())
}
