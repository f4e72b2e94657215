//! The agent's inbox: reading it (a waiting reader is handed what just arrived,
//! `arrived.rs`), acknowledging it, and its retention: entries older than
//! `NodeConfig::inbox_retention` are deleted in the background, read or not (the agent
//! deletes what it has read itself, through `DELETE /v1/messages?through=N`).

use std::sync::Arc;
use std::time::Duration;

use talos_delivery::{Delivered, Mailroom};
use tracing::{debug, warn};

use super::Node;
use super::directory::now;
use super::metrics::Metrics;
use crate::error::NodeError;

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

impl Node {
    /// Inbox messages from index `from` on (at most `max`).
    pub async fn inbox(&self, from: u64, max: usize) -> Result<Vec<Delivered>, NodeError> {
        let m = self.mailroom.clone();
        Ok(tokio::task::spawn_blocking(move || m.inbox(from, max)).await??)
    }

    /// The agent is done with every inbox entry up to index `through`: deletes them,
    /// durably. Returns how many were deleted.
    pub async fn acknowledge(&self, through: u64) -> Result<u64, NodeError> {
        let m = self.mailroom.clone();
        let n = tokio::task::spawn_blocking(move || m.acknowledge_inbox(through)).await??;
        self.arrived.forget_through(through);
        self.metrics.inbox_deleted("acknowledged", n);
        Ok(n)
    }

    /// Waits until the inbox has something at or after `from`, or `timeout` passes.
    pub async fn wait_inbox(
        &self,
        from: u64,
        max: usize,
        timeout: Duration,
    ) -> Result<Vec<Delivered>, NodeError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // Register interest before looking, so a delivery in between is not missed.
            let notified = self.delivered.notified();
            // The entries the receive path just wrote, when they start at `from`; nothing,
            // when no entry that far was ever written (a blocking-pool hop per long-poll
            // otherwise); the store else.
            let got = match self.arrived.serve(&self.mailroom, from, max)? {
                Some(got) => got,
                None if !self.mailroom.inbox_may_hold(from) => Vec::new(),
                None => self.inbox(from, max).await?,
            };
            if !got.is_empty() || self.is_stopping() {
                return Ok(got);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Ok(Vec::new());
            }
        }
    }
}
