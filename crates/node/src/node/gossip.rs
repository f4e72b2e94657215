//! The gossip task: every message from the gossip topics, validated by the module that
//! owns its kind (revocation notices in `revocations`, reports in `reputation`), then
//! the verdict told to gossipsub.

use std::sync::Arc;

use talos_net::{Client, GossipMessage, Topic};
use tokio::sync::mpsc;

use super::sidecar::Sidecar;

/// The gossip task: validates every message (revocation notices here, reports in
/// `reputation`), then tells gossipsub whether to forward it; hourly, it drops the
/// reports too old to count.
pub(crate) async fn gossip(
    sidecar: Arc<Sidecar>,
    client: Client,
    mut rx: mpsc::Receiver<GossipMessage>,
) {
    let mut hourly = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        tokio::select! {
            m = rx.recv() => {
                let Some(m) = m else { return };
                let verdict = match m.topic {
                    Topic::Revocations => sidecar.apply_notice(&m.data).await,
                    Topic::Reports => sidecar.apply_report(&m.data).await,
                };
                if client.validated(&m, verdict).await.is_err() {
                    return;
                }
            }
            _ = hourly.tick() => sidecar.sweep_reports().await,
        }
    }
}
