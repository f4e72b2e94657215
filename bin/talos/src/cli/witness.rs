//! `talos witness`: a C2SP tlog-witness service over this home's identity key. It
//! cosigns the checkpoints of the logs it trusts only when each is consistent with the
//! last one it cosigned, keeps split-view evidence, and serves both to monitors.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use serde_json::json;
use talos_audit::note::NoteVerifier;
use talos_node::home::Home;
use talos_transparency::witness::server::{Trust, WitnessService, router};
use talos_transparency::witness::state::WitnessState;

use crate::cli::outcome::Outcome;

/// `talos witness`'s arguments.
#[derive(Debug, clap::Args)]
pub struct WitnessArgs {
    /// Where to listen, host:port.
    #[arg(long, default_value = "127.0.0.1:7380")]
    listen: SocketAddr,
    /// A log to witness, by its note verifier key (repeatable); its origin is
    /// `talos/<key name>`.
    #[arg(long = "log")]
    logs: Vec<String>,
    /// Witness any talos agent's log (its key is in its DID), up to `--max-logs`.
    #[arg(long, conflicts_with = "logs")]
    open: bool,
    /// Most logs kept.
    #[arg(long, default_value_t = 10_000)]
    max_logs: usize,
    /// The witness's name in its cosignatures (default: its DID).
    #[arg(long)]
    name: Option<String>,
    /// Requests per second per client address.
    #[arg(long, default_value_t = 20)]
    rate: u32,
}

/// Runs the witness until SIGTERM or SIGINT.
pub(crate) fn run(
    args: &WitnessArgs,
    home: Option<PathBuf>,
    pass_file: Option<&Path>,
) -> anyhow::Result<Outcome> {
    let home = Home::resolve(home)?;
    let key = crate::cli::unlock(&home, pass_file)?;
    let trust = if args.open {
        Trust::AnyTalos
    } else {
        anyhow::ensure!(
            !args.logs.is_empty(),
            "give --log KEY (repeatable) or --open"
        );
        let mut logs = HashMap::new();
        for l in &args.logs {
            let v = NoteVerifier::parse(l).with_context(|| format!("log key {l:?}"))?;
            logs.insert(format!("talos/{}", v.name), v);
        }
        Trust::Logs(logs)
    };
    let name = args.name.clone().unwrap_or_else(|| key.did().to_string());
    let state = WitnessState::open(&home.witness_dir(), args.max_logs.max(1))
        .context("opening the witness state")?;
    let rate = NonZeroU32::new(args.rate).context("--rate must be positive")?;
    let service = Arc::new(WitnessService::new(&name, key, trust, state, rate));
    let vkey = service.verifier_key().to_string();
    crate::cli::runtime_multi()?.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("binding {}", args.listen))?;
        let addr = listener.local_addr()?;
        println!(
            "{}",
            json!({ "event": "ready", "witness": vkey, "url": format!("http://{addr}") })
        );
        let app = router(service).into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, app)
            .with_graceful_shutdown(crate::cli::node::stop_signal())
            .await?;
        anyhow::Ok(())
    })?;
    Ok(Outcome::Done)
}
