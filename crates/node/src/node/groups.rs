//! Groups in the running node: the agent's group operations (each one group commit in
//! the mailroom), and the pump that starts sessions for group sends that wait for one.
//!
//! Group traffic reaches members this node may never have talked to (a new member, the
//! other members of a group it just joined). The mailroom queues those sends durably;
//! the pump finds each such peer's bundle in the DHT directory and moves its queue into
//! the outbox, where the sender takes over.

use std::sync::Arc;
use std::time::Duration;

use talos_delivery::{DeliveryError, GroupId, GroupView, Invitation, Mailroom};
use talos_net::Client;
use talos_primitives::Ed25519Public;
use tokio::sync::{Notify, mpsc};
use tracing::{debug, warn};

use super::{Node, directory};

/// Peers the pump serves per pass.
const PUMP_BATCH: usize = 64;
/// How often the pump looks again at peers whose bundle was not found.
const PUMP_RETRY: Duration = Duration::from_secs(2);

/// Wakes the sender for every peer the last mailroom commits gave frames to, and the
/// pump if group sends wait for a session.
pub(super) fn after_commit(mailroom: &Mailroom, wake: &mpsc::Sender<Ed25519Public>, pump: &Notify) {
    let touched = mailroom.take_woken();
    for peer in touched.peers {
        // A full wake queue only delays the send to the sender's next rescan.
        let _ = wake.try_send(peer);
    }
    if touched.queued {
        pump.notify_one();
    }
}

/// The pump: runs when notified, and every `PUMP_RETRY` while anything is queued.
pub(super) async fn pump(
    client: Client,
    mailroom: Arc<Mailroom>,
    wake: mpsc::Sender<Ed25519Public>,
    notify: Arc<Notify>,
) {
    // A cursor over the queued peers, so the first page cannot starve the rest.
    let mut after: Option<Ed25519Public> = None;
    loop {
        let m = mailroom.clone();
        let cursor = after;
        let peers =
            match tokio::task::spawn_blocking(move || m.queued_peers(cursor.as_ref(), PUMP_BATCH))
                .await
            {
                Ok(Ok(p)) => p,
                Ok(Err(e)) => {
                    warn!(%e, "reading the group send queue failed");
                    Vec::new()
                }
                Err(e) => {
                    warn!(%e, "group pump task failed");
                    Vec::new()
                }
            };
        for peer in &peers {
            if flush(&client, &mailroom, peer).await {
                let _ = wake.try_send(*peer);
            }
        }
        after = peers.last().copied();
        if peers.is_empty() && cursor.is_none() {
            notify.notified().await;
        } else if peers.len() < PUMP_BATCH {
            // End of the list: start over after a pause (or at once, when notified).
            after = None;
            // Wait for news, or retry the peers whose bundles were not found yet.
            let _ = tokio::time::timeout(PUMP_RETRY, notify.notified()).await;
        }
    }
}

async fn flush(client: &Client, mailroom: &Arc<Mailroom>, peer: &Ed25519Public) -> bool {
    let (m, p) = (mailroom.clone(), *peer);
    match tokio::task::spawn_blocking(move || m.flush_queued(&p, None)).await {
        Ok(Ok(_)) => return true,
        Ok(Err(DeliveryError::NoSession(_))) => {}
        Ok(Err(e)) => {
            warn!(%e, "group sends not moved to the outbox");
            return false;
        }
        Err(e) => {
            warn!(%e, "group pump task failed");
            return false;
        }
    }
    let record = match directory::lookup(client, peer).await {
        Ok(r) => r,
        Err(e) => {
            debug!(%e, "no directory record yet for a group peer; retrying");
            return false;
        }
    };
    let (m, p) = (mailroom.clone(), *peer);
    match tokio::task::spawn_blocking(move || m.flush_queued(&p, Some(&record.bundle))).await {
        Ok(Ok(_)) => true,
        Ok(Err(e)) => {
            warn!(%e, "group sends not moved to the outbox");
            false
        }
        Err(e) => {
            warn!(%e, "group pump task failed");
            false
        }
    }
}

impl Node {
    async fn group_op<T: Send + 'static>(
        &self,
        op: impl FnOnce(&Mailroom) -> Result<T, DeliveryError> + Send + 'static,
    ) -> Result<T, DeliveryError> {
        let m = self.mailroom.clone();
        let out = tokio::task::spawn_blocking(move || op(&m))
            .await
            .map_err(|e| DeliveryError::Unavailable(e.to_string()))?;
        after_commit(&self.mailroom, &self.wake, &self.pump);
        out
    }

    /// Creates a group with this agent as its creator.
    pub async fn group_create(&self) -> Result<GroupId, DeliveryError> {
        self.group_op(|m| m.group_create()).await
    }

    /// Invites an agent (creator only).
    pub async fn group_invite(
        &self,
        id: GroupId,
        invitee: Ed25519Public,
    ) -> Result<(), DeliveryError> {
        self.group_op(move |m| m.group_invite(&id, &invitee)).await
    }

    /// Accepts an invitation.
    pub async fn group_join(&self, id: GroupId) -> Result<(), DeliveryError> {
        self.group_op(move |m| m.group_join(&id)).await
    }

    /// Removes a member (creator), or leaves (when `member` is this agent).
    pub async fn group_remove(
        &self,
        id: GroupId,
        member: Ed25519Public,
    ) -> Result<(), DeliveryError> {
        let me = self.identity();
        self.group_op(move |m| {
            if member == me {
                m.group_leave(&id)
            } else {
                m.group_remove(&id, &member)
            }
        })
        .await
    }

    /// Declines an invitation, or forgets a group this agent is no longer in.
    pub async fn group_forget(&self, id: GroupId) -> Result<(), DeliveryError> {
        self.group_op(move |m| m.group_forget(&id)).await
    }

    /// Sends a group message; durable when this returns. Returns the recipients.
    pub async fn group_send(
        &self,
        id: GroupId,
        plaintext: Vec<u8>,
    ) -> Result<usize, DeliveryError> {
        let plaintext = zeroize::Zeroizing::new(plaintext);
        self.group_op(move |m| m.group_send(&id, &plaintext)).await
    }

    /// One group.
    pub async fn group(&self, id: GroupId) -> Result<Option<GroupView>, DeliveryError> {
        self.group_op(move |m| m.group(&id)).await
    }

    /// Groups and invitations (up to `max` of each).
    pub async fn groups(
        &self,
        max: usize,
    ) -> Result<(Vec<GroupView>, Vec<Invitation>), DeliveryError> {
        self.group_op(move |m| m.groups(max)).await
    }
}
