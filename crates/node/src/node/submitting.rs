//! Submitting this agent's checkpoints to an aggregator on a schedule (`aggregator`
//! config): the agent side of aggregated anchoring (`crate::aggregator` is the other).
//! Every `every`, if the log grew since the last checkpoint the aggregator acknowledged,
//! the node signs a checkpoint of its head and POSTs it to
//! `<aggregator>/aggregate/add-checkpoint`. A refusal or an unreachable aggregator is
//! logged (never the URL, which may carry credentials) and tried again next period.
//! Nothing here is durable: after a restart the first period submits the head again,
//! which the aggregator answers with the index it already gave, logging nothing twice.

use std::sync::Arc;
use std::time::Duration;

use tracing::{debug, warn};

use talos_audit::checkpoint::sign_talos;

impl super::Node {
    /// Submits the head to the aggregator at `to` every `every` while it grows.
    pub fn start_submitting(&mut self, to: reqwest::Url, every: Duration) {
        let (log, key) = (self.audit_log.clone(), self.identity.clone());
        self.tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let url = match to.join("aggregate/add-checkpoint") {
                Ok(u) => u,
                Err(e) => {
                    warn!("the aggregator URL cannot take a path: {e}");
                    return;
                }
            };
            let mut tick = tokio::time::interval(every.max(Duration::from_secs(1)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut acknowledged = 0u64;
            loop {
                tick.tick().await;
                if log.size() <= acknowledged {
                    continue;
                }
                let (log, key) = (Arc::clone(&log), key.clone());
                let signed = tokio::task::spawn_blocking(move || {
                    let head = log.head();
                    sign_talos(&key, head).map(|n| (n.to_text(), head.size))
                })
                .await;
                let Ok(Ok((note, size))) = signed else {
                    warn!("signing a checkpoint for the aggregator failed");
                    continue;
                };
                match http.post(url.clone()).body(note).send().await {
                    Ok(r) if r.status().is_success() => {
                        acknowledged = size;
                        debug!(size, "checkpoint aggregated");
                    }
                    Ok(r) => warn!(
                        status = r.status().as_u16(),
                        "the aggregator refused a checkpoint"
                    ),
                    Err(e) => warn!("the aggregator is unreachable: {}", e.without_url()),
                }
            }
        }));
    }
}
