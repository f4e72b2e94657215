//! The inbox's retention: entries older than `NodeConfig::inbox_retention` are deleted
//! in the background, read or not (the agent deletes what it has read itself, through
//! `DELETE /v1/messages?through=N`).

use std::sync::Arc;
use std::time::Duration;

use talos_delivery::Mailroom;
use tracing::{debug, warn};

use super::directory::now;
use super::metrics::Metrics;

/// How often expired entries are looked for (ages are kept to the minute).
const EVERY: Duration = Duration::from_secs(60);

/// Deletes expired inbox entries now and then every minute. Returns at once when the
/// retention is zero (entries are kept until acknowledged).
pub(super) async fn upkeep(
    mailroom: Arc<Mailroom>,
    arrived: super::arrived::Arrived,
    retention: Duration,
    metrics: Arc<Metrics>,
) {
    if retention.is_zero() {
        return;
    }
    let mut tick = tokio::time::interval(EVERY.min(retention));
    loop {
        tick.tick().await;
        let m = mailroom.clone();
        let secs = retention.as_secs();
        match tokio::task::spawn_blocking(move || m.expire_inbox(now(), secs)).await {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => {
                arrived.clear();
                debug!(n, "expired inbox entries deleted");
                metrics.inbox_deleted("expired", n);
            }
            Ok(Err(e)) => warn!(%e, "inbox retention failed"),
            Err(e) => warn!(%e, "inbox retention task failed"),
        }
    }
}
