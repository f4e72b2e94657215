//! The gossip tasks, one per topic so a flood on one never delays the other: revocation
//! notices (validated in `revocations`) and misbehaviour reports (in `reputation`), each
//! verdict told to gossipsub.
//!
//! Reports are free to sign (any fresh key can), so their task bounds them further: a
//! quota per forwarding peer, batches that share one synced write, and republishing of
//! this agent's own reports when a peer subscribes (gossip keeps no history, so a node
//! that joins later would otherwise never see a report filed before it came).

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use talos_net::{Client, GossipMessage, GossipVerdict, PeerId, Topic};
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;
use tracing::debug;

use super::sidecar::Sidecar;

/// Reports validated together, with one synced write.
const BATCH: usize = 64;
/// Reports one forwarding peer may hand us per second, and in a burst: a node with 64
/// reports of its own can republish them all at once; a flood beyond is ignored (not
/// penalized: an honest relay may be forwarding someone else's flood).
const REPORTS_PER_PEER: Quota = Quota::per_second(nonzero(20)).allow_burst(nonzero(128));
const fn nonzero(n: u32) -> NonZeroU32 {
    match NonZeroU32::new(n) {
        Some(n) => n,
        None => NonZeroU32::MIN,
    }
}

/// The least time between two republishings of this agent's reports (a stream of new
/// subscribers costs at most one every 30 s); one deferred by it is retried this often.
const REPUBLISH_GAP: Duration = Duration::from_secs(30);
/// Republished this often even with no new subscriber, so reports outlive partitions.
const REPUBLISH_EVERY: Duration = Duration::from_secs(3600);

/// Revocation notices one forwarding peer may hand us per second, and in a burst: far
/// above what honest revokers publish, so only a flood (a valid notice re-sent under new
/// sequence numbers, or throwaway publishers' notices) is ignored, each costing no
/// signature check. The chain carries every revocation too, so one ignored here is late,
/// not lost.
const NOTICES_PER_PEER: Quota = Quota::per_second(nonzero(50)).allow_burst(nonzero(500));

/// Revocation notices: each validated (within its forwarder's quota), then the verdict
/// told to gossipsub.
pub(crate) async fn revocations(
    sidecar: Arc<Sidecar>,
    client: Client,
    mut rx: mpsc::Receiver<GossipMessage>,
) {
    let limiter: DefaultKeyedRateLimiter<PeerId> = RateLimiter::keyed(NOTICES_PER_PEER);
    let mut tidy = tokio::time::interval(REPUBLISH_EVERY);
    loop {
        let m = tokio::select! {
            m = rx.recv() => m,
            _ = tidy.tick() => {
                limiter.retain_recent();
                continue;
            }
        };
        let Some(m) = m else { return };
        let verdict = match limiter.check_key(&m.source()) {
            Ok(()) => sidecar.apply_notice(&m.data).await,
            Err(_) => GossipVerdict::Ignore,
        };
        if client.validated(&m, verdict).await.is_err() {
            return;
        }
    }
}

/// Misbehaviour reports: validated in batches under a per-peer quota; this agent's own
/// republished when a peer subscribes, and hourly; hourly, too-old reports dropped.
pub(crate) async fn reports(
    sidecar: Arc<Sidecar>,
    client: Client,
    mut rx: mpsc::Receiver<GossipMessage>,
    subscribers: Arc<Notify>,
) {
    let limiter: DefaultKeyedRateLimiter<PeerId> = RateLimiter::keyed(REPORTS_PER_PEER);
    let mut hourly = tokio::time::interval(REPUBLISH_EVERY);
    let mut retry = tokio::time::interval(REPUBLISH_GAP);
    let (mut due, mut last) = (false, None::<Instant>);
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        tokio::select! {
            n = rx.recv_many(&mut batch, BATCH) => {
                if n == 0 {
                    return;
                }
                if validate(&sidecar, &client, &limiter, &mut batch).await.is_err() {
                    return;
                }
            }
            () = subscribers.notified() => due = true,
            _ = retry.tick() => {}
            _ = hourly.tick() => {
                sidecar.sweep_reports().await;
                limiter.retain_recent();
                due = true;
            }
        }
        if due && last.is_none_or(|t| t.elapsed() >= REPUBLISH_GAP) {
            // Unread (the store failing): due still, retried on the next tick.
            if let Some(sent) = republish(&sidecar, &client).await {
                due = false;
                if sent {
                    last = Some(Instant::now());
                }
            }
        }
    }
}

/// Validates a batch: over-quota reports ignored, the rest applied with one write.
async fn validate(
    sidecar: &Sidecar,
    client: &Client,
    limiter: &DefaultKeyedRateLimiter<PeerId>,
    batch: &mut Vec<GossipMessage>,
) -> Result<(), talos_net::NetError> {
    let (admitted, over): (Vec<GossipMessage>, Vec<GossipMessage>) = batch
        .drain(..)
        .partition(|m| limiter.check_key(&m.source()).is_ok());
    for m in &over {
        debug!(peer = %m.source(), "report over its forwarder's quota; ignored");
        client.validated(m, GossipVerdict::Ignore).await?;
    }
    let data: Vec<&[u8]> = admitted.iter().map(|m| m.data.as_slice()).collect();
    let verdicts = sidecar.apply_reports(&data).await;
    for (m, v) in admitted.iter().zip(verdicts) {
        client.validated(m, v).await?;
    }
    Ok(())
}

/// Publishes this agent's reports that still count: whether there were any, or `None`
/// when they could not be read. (Message ids are author and sequence number, so gossipsub
/// never refuses a republication as a duplicate.)
async fn republish(sidecar: &Sidecar, client: &Client) -> Option<bool> {
    let mine = match sidecar.own_reports().await {
        Ok(m) => m,
        Err(e) => {
            debug!(%e, "own reports not read for republishing");
            return None;
        }
    };
    let sent = !mine.is_empty();
    for compact in mine {
        // No peer subscribed: the next subscriber's arrival brings us back here.
        if let Err(e) = client.publish(Topic::Reports, compact.into_bytes()).await {
            debug!(%e, "report not republished");
        }
    }
    Some(sent)
}
