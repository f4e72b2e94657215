//! The running node: the network ([`talos_net`]) joined to durable delivery
//! ([`talos_delivery`]).
//!
//! Three tasks: the network event loop (owns the swarm), the inbound task (each frame is
//! made durable by the mailroom, then acknowledged) and the sender (offers each peer's
//! unacknowledged frames until they are acked, with exponential backoff per peer). They
//! talk over bounded channels only. RocksDB calls are blocking, so they run on tokio's
//! blocking pool.

mod anchoring;
mod approvals;
mod approver;
mod arrived;
mod asks;
mod attested;
mod audit;
mod budgets;
mod card;
mod commit;
mod directory;
pub mod gate;
mod gossip;
mod groups;
mod held;
mod inbox;
mod mailbox;
#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod memory;
mod meta;
mod metrics;
mod outbound;
pub mod publish;
mod receipts;
mod reputation;
mod requests;
mod revocations;
mod sender;
mod sidecar;
mod start;
mod submitting;

use std::sync::Arc;
use std::time::Duration;

pub use anchoring::{Anchored, Opener};
pub use outbound::{Authority, Invoke, InvokeFailure, Sent};
pub use publish::Published;
pub use sidecar::recent::{TxnCall, TxnHop};
pub use sidecar::{Answer, AnswerError, Call, InvokeConfig, TxnView};
pub(crate) use sidecar::{from_peer, is_node_kind};
use talos_delivery::Mailroom;

use crate::error::NodeError;
use talos_identity::keys::IdentityKey;
use talos_identity::peer_id::peer_id_of;
use talos_net::{Client, NetConfig, PeerId};
use talos_primitives::Ed25519Public;
use talos_ratchet::{PreKeyBundle, PreKeyStore, SessionConfig};
use talos_store::Store;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

/// One-time prekeys a new node generates.
const ONE_TIME_PREKEYS: usize = 32;

/// How a node runs.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// The network.
    pub net: NetConfig,
    /// Ratchet session options (PQXDH policy, header encryption).
    pub session: SessionConfig,
    /// First retry delay after a failed send.
    pub retry_min: Duration,
    /// Longest retry delay.
    pub retry_max: Duration,
    /// Frames offered to one peer at once (in requests of up to 64 frames). 256 keeps
    /// the link busy while the receiver commits a group; more than the receiver's inbound
    /// queue (256) only earns `Later` answers and backoff.
    pub window: usize,
    /// Peers the sender tracks at once (a bound on its retry table).
    pub max_peers: usize,
    /// How often the node re-signs and republishes its directory record and checks its
    /// prekeys.
    pub republish: Duration,
    /// How often the signed prekeys rotate.
    pub prekey_rotation: Duration,
    /// One-time prekeys kept in stock.
    pub one_time_prekeys: usize,
    /// Serve as a mailbox for peers that register by draining.
    pub mailbox_server: bool,
    /// This node's mailboxes (published in its directory record, drained at start and
    /// on every upkeep tick).
    pub mailboxes: Vec<Ed25519Public>,
    /// Failed direct attempts to a peer before its frames go to one of its mailboxes.
    pub deposit_after: u32,
    /// How often this node drains its mailboxes while it runs (it also does at start).
    pub drain_every: Duration,
    /// How long a stream may stay stopped at a frame a mailbox handed on that does not
    /// open before the node gives up on that frame (the sender no longer has it).
    pub stall_after: Duration,
    /// The sidecar: rate limits and how long the agent has to answer a call.
    pub invoke: InvokeConfig,
    /// Bounds on the inbox (per sending peer and in all) and on idle peers' state.
    pub limits: talos_delivery::Limits,
    /// Inbox entries older than this are deleted, read or not (zero: kept until the
    /// agent acknowledges them).
    pub inbox_retention: Duration,
    /// The witnesses each published checkpoint is submitted to.
    pub witnesses: publish::WitnessPolicy,
    /// The agent's A2A card (`card.toml` in the home), served signed at
    /// `/.well-known/agent-card.json`.
    pub card: Option<talos_card::CardConfig>,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            net: NetConfig::default(),
            session: SessionConfig::default(),
            retry_min: Duration::from_millis(100),
            retry_max: Duration::from_secs(30),
            window: 256,
            max_peers: 4096,
            republish: Duration::from_secs(600),
            prekey_rotation: Duration::from_secs(7 * 24 * 3600),
            one_time_prekeys: ONE_TIME_PREKEYS,
            mailbox_server: false,
            mailboxes: Vec::new(),
            deposit_after: 3,
            drain_every: Duration::from_secs(30),
            stall_after: Duration::from_secs(600),
            invoke: InvokeConfig::default(),
            witnesses: publish::WitnessPolicy::default(),
            limits: talos_delivery::Limits::default(),
            inbox_retention: Duration::from_secs(7 * 24 * 3600),
            card: None,
        }
    }
}

/// A running node.
pub struct Node {
    client: Client,
    identity: IdentityKey,
    store: Arc<Store>,
    config: NodeConfig,
    mailroom: Arc<Mailroom>,
    sends: mpsc::Sender<commit::SendJob>,
    delivered: Arc<Notify>,
    /// The inbox entries just delivered, for waiting readers (`arrived.rs`).
    arrived: arrived::Arrived,
    wake: mpsc::Sender<Ed25519Public>,
    pump: Arc<Notify>,
    sidecar: Arc<sidecar::Sidecar>,
    metrics: Arc<metrics::Metrics>,
    audit_log: Arc<talos_store::AuditLog>,
    auditor: audit::Auditor,
    anchoring: Option<Arc<anchoring::Anchoring>>,
    publisher: Arc<publish::Publisher>,
    /// Attestation credentials about this node, presented on calls that ask.
    held: Arc<held::Held>,
    tasks: Vec<JoinHandle<()>>,
}

impl core::fmt::Debug for Node {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Node")
            .field("peer", &self.client.local_peer_id())
            .finish_non_exhaustive()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Node {
    /// Runs prekey upkeep and republishes the directory record every
    /// `NodeConfig::republish` until the node stops. `talos up` starts it once the
    /// listeners are bound, so the first record carries real addresses.
    pub fn start_upkeep(&mut self) {
        let (client, identity, mailroom) = (
            self.client.clone(),
            self.identity.clone(),
            self.mailroom.clone(),
        );
        let (config, held) = (self.config.clone(), self.held.clone());
        self.tasks.push(tokio::spawn(async move {
            // A node that just started may not be connected to anyone yet, so its first
            // put reaches no peer: publish again soon after, then on the period.
            let warmup = [0u64, 1, 4, 15].map(Duration::from_secs);
            let mut round = 0usize;
            loop {
                let wait = match warmup.get(round) {
                    Some(w) => *w,
                    None => config.republish,
                };
                round = round.saturating_add(1);
                tokio::time::sleep(wait).await;
                let m = mailroom.clone();
                let (rotate, stock) = (config.prekey_rotation.as_secs(), config.one_time_prekeys);
                match tokio::task::spawn_blocking(move || {
                    m.maintain_prekeys(directory::now(), rotate, stock)
                })
                .await
                {
                    Ok(Ok(u)) if u.rotated || u.added > 0 => {
                        info!(rotated = u.rotated, added = u.added, "prekeys refreshed")
                    }
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => warn!(%e, "prekey upkeep failed"),
                    Err(e) => warn!(%e, "prekey upkeep task failed"),
                }
                if let Err(e) =
                    directory::publish(&client, &identity, &mailroom, &config, &held).await
                {
                    // Alone on the network the put finds no peer to store at; the record
                    // is still in the local store, and the next tick tries again.
                    debug!(%e, "directory record not replicated yet");
                }
            }
        }));
    }

    /// Drains this node's mailboxes now and then every `NodeConfig::drain_every`.
    pub fn start_draining(&mut self) {
        if self.config.mailboxes.is_empty() {
            return;
        }
        let (client, mailboxes, every, mailroom) = (
            self.client.clone(),
            self.config.mailboxes.clone(),
            self.config.drain_every,
            self.mailroom.clone(),
        );
        let stall_after = self.config.stall_after.as_secs();
        self.tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                mailbox::drain_mine(&client, &mailboxes).await;
                // Only frames handed on by a mailbox can stall a stream.
                let m = mailroom.clone();
                match tokio::task::spawn_blocking(move || {
                    m.skip_stalled(directory::now(), stall_after)
                })
                .await
                {
                    Ok(Ok(skipped)) if !skipped.is_empty() => {
                        warn!(
                            n = skipped.len(),
                            "gave up on relayed frames that never opened"
                        )
                    }
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => warn!(%e, "checking stalled streams failed"),
                    Err(e) => warn!(%e, "stall check task failed"),
                }
            }
        }));
    }

    /// Signs and publishes the directory record now.
    pub async fn publish(&self) -> Result<(), NodeError> {
        directory::publish(
            &self.client,
            &self.identity,
            &self.mailroom,
            &self.config,
            &self.held,
        )
        .await
    }

    /// Frames not yet acknowledged by their peers (up to `max` peers counted).
    pub async fn peers_with_pending(&self, max: usize) -> Result<Vec<Ed25519Public>, NodeError> {
        let m = self.mailroom.clone();
        Ok(tokio::task::spawn_blocking(move || m.peers_with_pending(max)).await??)
    }

    /// Graceful stop, step one: waits until every outbox frame is acknowledged or
    /// `timeout` passes. Returns how many peers still had frames pending (they stay in
    /// the outbox and are resent at the next start).
    pub async fn drain(&self, timeout: Duration) -> Result<usize, NodeError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = self.peers_with_pending(self.config.max_peers).await?.len();
            if left == 0 || tokio::time::Instant::now() >= deadline {
                return Ok(left);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Graceful stop, step zero (when the stop signal arrives): long-polls for messages
    /// and calls return what they have at once, so the API's graceful shutdown does not
    /// wait out their timeouts (up to a minute).
    pub fn begin_stop(&self) {
        self.sidecar.stop_waiters();
        self.delivered.notify_waiters();
    }

    /// True once [`begin_stop`](Self::begin_stop) ran.
    pub fn is_stopping(&self) -> bool {
        self.sidecar.is_stopping()
    }

    /// Graceful stop, step two: stops the tasks and flushes RocksDB's memtables, so the
    /// next start replays no WAL. (By reference: API connections that are still closing
    /// may hold the node; they find its tasks gone.)
    pub async fn shutdown(&self) -> Result<(), NodeError> {
        for t in &self.tasks {
            t.abort();
        }
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || store.db().flush()).await??;
        Ok(())
    }

    /// This node's identity key.
    pub fn identity(&self) -> Ed25519Public {
        self.identity.public()
    }

    /// The network client (listen, dial, DHT).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// This node's prekey bundle, for peers to start sessions with.
    pub fn bundle(&self) -> Result<PreKeyBundle, NodeError> {
        Ok(self.mailroom.bundle()?)
    }

    /// The PeerId of an agent's key.
    pub fn peer_id(key: &Ed25519Public) -> Result<PeerId, NodeError> {
        Ok(peer_id_of(key)?)
    }

    /// Sends `plaintext` to `peer`. Durable when this returns: the frame is in the outbox
    /// and will be delivered exactly once, across crashes of either side. Returns the
    /// frame's sequence number on the stream to `peer`. Without a session and without
    /// `bundle`, the peer's bundle comes from its DHT directory record.
    pub async fn send(
        &self,
        peer: Ed25519Public,
        bundle: Option<PreKeyBundle>,
        plaintext: Vec<u8>,
    ) -> Result<u64, NodeError> {
        let plaintext = zeroize::Zeroizing::new(plaintext);
        let frame = match self.enqueue(peer, bundle, plaintext.clone()).await? {
            Ok(f) => f,
            // No session yet and no bundle given: find the peer's bundle in the directory.
            Err(talos_delivery::DeliveryError::NoSession(_)) => {
                let record = directory::lookup(&self.client, &peer).await.map_err(|e| {
                    debug!(%e, "no session and no directory record for a peer");
                    NodeError::PeerNotFound
                })?;
                self.enqueue(peer, Some(record.bundle), plaintext).await??
            }
            Err(e) => return Err(e.into()),
        };
        self.metrics.messages_sent.inc();
        Ok(frame.seq())
    }

    /// [`Node::send`] for many messages at once, in order: queued together, so the group
    /// commit stores them with one synced write. Peers without a session get their
    /// bundle from the directory once, and their messages are queued again in order.
    pub async fn send_batch(
        &self,
        items: Vec<(Ed25519Public, Vec<u8>)>,
    ) -> Vec<Result<u64, NodeError>> {
        let items: Vec<(Ed25519Public, zeroize::Zeroizing<Vec<u8>>)> = items
            .into_iter()
            .map(|(p, b)| (p, zeroize::Zeroizing::new(b)))
            .collect();
        let first = futures::future::join_all(
            items
                .iter()
                .map(|(peer, body)| self.enqueue(*peer, None, body.clone())),
        )
        .await;
        let mut out: Vec<Option<Result<u64, NodeError>>> = Vec::with_capacity(items.len());
        let mut retry = Vec::new();
        for (i, r) in first.into_iter().enumerate() {
            match r {
                Ok(Ok(frame)) => out.push(Some(Ok(frame.seq()))),
                Ok(Err(talos_delivery::DeliveryError::NoSession(_))) => {
                    out.push(None);
                    retry.push(i);
                }
                Ok(Err(e)) => out.push(Some(Err(e.into()))),
                Err(e) => out.push(Some(Err(e))),
            }
        }
        // One lookup per distinct peer, all at once, each bounded in time.
        let mut peers: Vec<Ed25519Public> = retry
            .iter()
            .filter_map(|&i| items.get(i).map(|(p, _)| *p))
            .collect();
        peers.sort();
        peers.dedup();
        let found = futures::future::join_all(peers.iter().map(|peer| async move {
            let lookup = directory::lookup(&self.client, peer);
            match tokio::time::timeout(Duration::from_secs(10), lookup).await {
                Ok(Ok(record)) => Some(record.bundle),
                Ok(Err(e)) => {
                    debug!(%e, "directory lookup for a batch failed");
                    None
                }
                Err(_) => None,
            }
        }))
        .await;
        let bundles: std::collections::HashMap<Ed25519Public, Option<PreKeyBundle>> =
            peers.into_iter().zip(found).collect();
        let again = futures::future::join_all(retry.iter().filter_map(|&i| {
            let (peer, body) = items.get(i)?;
            let bundle = bundles.get(peer).cloned().flatten();
            Some(async move {
                match bundle {
                    Some(b) => match self.enqueue(*peer, Some(b), body.clone()).await {
                        Ok(Ok(frame)) => Ok(frame.seq()),
                        Ok(Err(e)) => Err(e.into()),
                        Err(e) => Err(e),
                    },
                    None => Err(NodeError::PeerNotFound),
                }
            })
        }))
        .await;
        for (&i, r) in retry.iter().zip(again) {
            if let Some(slot) = out.get_mut(i) {
                *slot = Some(r);
            }
        }
        let out: Vec<Result<u64, NodeError>> = out
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(NodeError::Internal("not sent".into()))))
            .collect();
        let stored = out.iter().filter(|r| r.is_ok()).count();
        self.metrics.messages_sent.inc_by(stored as u64);
        out
    }

    async fn enqueue(
        &self,
        peer: Ed25519Public,
        bundle: Option<PreKeyBundle>,
        plaintext: zeroize::Zeroizing<Vec<u8>>,
    ) -> Result<Result<talos_net::Frame, talos_delivery::DeliveryError>, NodeError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.sends
            .send(commit::SendJob {
                peer,
                bundle,
                plaintext,
                reply,
            })
            .await
            .map_err(|_| NodeError::Stopping)?;
        // The node stopped before the message was stored.
        answer.await.map_err(|_| NodeError::Stopping)
    }

    /// Sessions with peers (after `after` in key order, at most `max`): counters only.
    pub async fn sessions(
        &self,
        after: Option<Ed25519Public>,
        max: usize,
    ) -> Result<Vec<talos_delivery::SessionSummary>, NodeError> {
        let m = self.mailroom.clone();
        Ok(tokio::task::spawn_blocking(move || m.sessions(after.as_ref(), max)).await??)
    }

    /// This agent's identity key (to sign capabilities it issues or delegates).
    pub(crate) fn identity_key(&self) -> &IdentityKey {
        &self.identity
    }
}

fn fresh_prekeys(
    identity: &IdentityKey,
) -> Result<PreKeyStore, talos_ratchet::prekey::PreKeyError> {
    let mut rng = rand::rng();
    // Post-quantum prekeys always: PQXDH is the default handshake.
    let mut store = PreKeyStore::new(&mut rng, identity, true)?;
    store.generate_one_time_prekeys(&mut rng, ONE_TIME_PREKEYS)?;
    Ok(store)
}
