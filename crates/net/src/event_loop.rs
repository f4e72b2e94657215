//! The task that owns the `Swarm`. It serves the [`Client`]'s commands and the swarm's
//! events in one `select!` loop, so no lock is ever held across the network.
//!
//! Frames do not pass through it: the client writes them on the a2a streams itself,
//! and each connection hands its inbound a2a streams to their server ([`crate::a2a`]).
//!
//! Every map of pending work is bounded: dials, listens and DHT queries by
//! [`MAX_PENDING`] (and a2a sends by [`NetConfig::max_in_flight`], in [`crate::a2a`]). Past a bound the caller gets
//! [`NetError::Busy`] at once rather than a queue that grows.

use std::collections::HashMap;
use std::sync::Arc;

use futures::StreamExt;
use libp2p::core::transport::ListenerId;
use libp2p::kad::QueryId;
use libp2p::request_response::OutboundRequestId;
use libp2p::{Multiaddr, PeerId, Swarm, identify, mdns, noise, tcp, yamux};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info};

use crate::behaviour::{Behaviour, BehaviourEvent, KAD_PROTOCOL};
use crate::client::{Client, Command, GossipMessage, InboundInvoke};
use crate::config::NetConfig;
use crate::error::NetError;
use crate::invoke::InvokeResponse;

// One module per protocol, each with its commands and its events; `swarm` has the
// listeners, dials and connections, which are the swarm's own.
mod approval;
mod dht;
mod gossip;
mod invoke;
mod prune;
mod swarm;

/// Pending dials, listens or DHT queries, each.
pub const MAX_PENDING: usize = 256;
/// Values kept per DHT lookup.
const MAX_RECORD_VALUES: usize = 16;

/// Decides whether an inbound DHT record (key, value) may be stored for others. The
/// default refuses everything: a node stores what it can check.
pub type RecordValidator = Arc<dyn Fn(&[u8], &[u8]) -> bool + Send + Sync>;

type Reply<T> = oneshot::Sender<Result<T, NetError>>;
/// A DHT lookup: the values found so far, and who waits.
type PendingGet = (Vec<Vec<u8>>, Reply<Vec<Vec<u8>>>);

/// Owns the swarm; run it with [`EventLoop::run`] on its own task.
pub struct EventLoop {
    swarm: Swarm<Behaviour>,
    commands: mpsc::Receiver<Command>,
    /// For responders to send their answers (invoke, approval).
    commands_tx: mpsc::WeakSender<Command>,
    /// Who serves inbound a2a streams (peers that sent batches lately are kept).
    a2a_in: Arc<crate::a2a::Inbound>,
    /// The client's a2a streams, swept with the idle connections.
    a2a_out: Arc<crate::a2a::Outbound>,
    /// Peers the client sent to within `quiet`, or waits on (the last sweep's answer).
    a2a_recent: std::collections::HashSet<PeerId>,
    invokes_in: mpsc::Sender<InboundInvoke>,
    /// Calls to peer agents waiting for their answer.
    invokes_out: HashMap<OutboundRequestId, Reply<InvokeResponse>>,
    approvals_in: mpsc::Sender<crate::client::InboundApproval>,
    approvals_out: HashMap<OutboundRequestId, Reply<crate::approval::ApprovalAck>>,
    /// One bounded queue per topic, so a flood on one never crowds out the other.
    revocations_in: mpsc::Sender<GossipMessage>,
    reports_in: mpsc::Sender<GossipMessage>,
    /// Rung when a peer subscribes to the reports topic (coalescing, so unbounded-safe).
    report_subscribers: Arc<tokio::sync::Notify>,
    validator: RecordValidator,
    /// Calls and approval messages waiting for their answer, each.
    max_in_flight: usize,
    /// A relay with no configured external address announces what it listens on.
    announce_listen_addrs: bool,
    /// Per peer: our dial's id (only its failure fails the replies) and who waits on it.
    dials: HashMap<PeerId, (libp2p::swarm::ConnectionId, Vec<Reply<()>>)>,
    listens: HashMap<ListenerId, oneshot::Sender<Result<Multiaddr, NetError>>>,
    puts: HashMap<QueryId, oneshot::Sender<Result<(), NetError>>>,
    gets: HashMap<QueryId, PendingGet>,
    /// Record lookups finished, and the peers they queried in all (`Client::dht_stats`).
    dht: crate::client::DhtStats,
    /// When each connected peer was last heard from or addressed (`prune`).
    activity: HashMap<PeerId, std::time::Instant>,
    /// How long a connection may go unused before `prune` closes it.
    quiet: std::time::Duration,
    /// How often `prune` runs.
    idle_timeout: std::time::Duration,
    /// A relay server keeps its clients' connections.
    relay_server: bool,
    /// Bootstrap peers, whose connections are kept.
    bootstrap: Vec<PeerId>,
}

impl core::fmt::Debug for EventLoop {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EventLoop")
            .field("peer", self.swarm.local_peer_id())
            .field("a2a", &self.a2a_out)
            .finish_non_exhaustive()
    }
}

/// Yamux with at most 256 streams per connection, both directions counted (yamux's
/// default is 512): each stream may buffer a 256 KiB window, so this bounds what one
/// connection can make us hold. Not fewer: our own protocols may keep up to 64 invoke
/// and 64 approval streams, 8 a2a streams out and 16 in, and Kademlia's, gossip's,
/// identify's and ping's on one connection, and yamux ends the whole connection at the
/// first stream past the bound (128 did, under a legitimate load).
fn yamux_config() -> yamux::Config {
    let mut c = yamux::Config::default();
    c.set_max_num_streams(MAX_YAMUX_STREAMS);
    c
}

/// Streams on one yamux connection (quinn's QUIC default is the same, per direction).
const MAX_YAMUX_STREAMS: usize = 256;

/// QUIC with yamux's initial stream window instead of quinn's 10 MB per stream and
/// 15 MB per connection: a peer may send that much before we read any of it, and a
/// stream waiting for its read budget is not read. No talos message is larger than
/// 256 KiB (an invoke response; a batch is ~49 KB), so 256 KiB per stream and 1 MiB per
/// connection cost no throughput that matters here (flow control only paces the
/// sender), and bound what 256 connections can park unread to 256 MiB.
fn quic_config(mut c: libp2p::quic::Config) -> libp2p::quic::Config {
    c.max_stream_data = QUIC_STREAM_WINDOW;
    c.max_connection_data = QUIC_CONNECTION_WINDOW;
    c
}

/// Unread bytes a QUIC peer may send on one stream (yamux's default credit).
const QUIC_STREAM_WINDOW: u32 = 256 * 1024;
/// Unread bytes a QUIC peer may send on one connection.
const QUIC_CONNECTION_WINDOW: u32 = 1024 * 1024;

/// Whether a ping failed only because the peer does not speak ping. With `V1Lazy`
/// negotiation (below) the handler never sees the refusal as such: the peer's `na`
/// surfaces as an I/O error wrapping `NegotiationError::Failed` when the pong is read.
fn ping_unsupported(e: &libp2p::ping::Failure) -> bool {
    use libp2p::core::upgrade::NegotiationError;
    match e {
        libp2p::ping::Failure::Unsupported => true,
        libp2p::ping::Failure::Other { error } => error
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            .and_then(|inner| inner.downcast_ref::<NegotiationError>())
            .is_some_and(|n| matches!(n, NegotiationError::Failed)),
        libp2p::ping::Failure::Timeout => false,
    }
}

pub(crate) fn build(
    identity: &talos_identity::keys::IdentityKey,
    config: NetConfig,
) -> Result<crate::Network, NetError> {
    let key = talos_identity::peer_id::libp2p_keypair(identity)
        .map_err(|e| NetError::Identity(e.to_string()))?;
    let peer = key.public().to_peer_id();
    let transport_err = |e: &dyn std::fmt::Display| NetError::Transport(e.to_string());
    let mut behaviour_err = None;
    let (inbound, inbound_rx) = mpsc::channel(config.inbound_capacity.max(1));
    // An answer may take up to the longest request timeout to come: never cut one.
    let quiet = config
        .idle_timeout
        .max(config.invoke_timeout)
        .max(config.request_timeout);
    // A dialer drops a stream unused for `quiet`, noticed within one more
    // `idle_timeout`; a listener waits well past that before it closes an idle one.
    let a2a_in = crate::a2a::Inbound::new(
        crate::a2a::ReadBudget::new(crate::a2a::ReadLimits::default()),
        inbound,
        quiet.saturating_mul(2).saturating_add(config.idle_timeout),
    );
    let (opens, opens_rx) = mpsc::channel(MAX_PENDING);
    let a2a = crate::a2a::Behaviour::new(a2a_in.clone(), opens_rx);
    let a2a_out = Arc::new(crate::a2a::Outbound::new(
        opens,
        config.max_in_flight,
        config.request_timeout,
    ));
    let swarm = libp2p::SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux_config,
        )
        .map_err(|e| transport_err(&e))?
        .with_quic_config(quic_config)
        .with_relay_client(noise::Config::new, yamux_config)
        .map_err(|e| transport_err(&e))?
        .with_behaviour(
            |key, relay| match Behaviour::new(key, relay, &config, a2a) {
                Ok(b) => Ok(b),
                Err(e) => {
                    let msg = e.to_string();
                    behaviour_err = Some(e);
                    Err(msg.into())
                }
            },
        )
        .map_err(|e| behaviour_err.take().unwrap_or_else(|| transport_err(&e)))?
        .with_swarm_config(|c| {
            // 0-RTT stream negotiation: a dialer that offers one protocol (every
            // stream here) sends its first message with the multistream-select header
            // instead of waiting a round trip for the listener's confirmation. The wire is V1's; a listener without the
            // protocol answers `na` and the request fails as it would have. Safe here
            // because no stream nests a second negotiation (multistream-select's
            // `V1Lazy` caveat).
            c.with_idle_connection_timeout(config.idle_timeout)
                .with_substream_upgrade_protocol_override(libp2p::core::upgrade::Version::V1Lazy)
        })
        .build();

    let (tx, commands) = mpsc::channel(config.channel_capacity);

    let (invokes_in, invokes_rx) = mpsc::channel(config.invoke_capacity.max(1));
    let (approvals_in, approvals_rx) = mpsc::channel(config.invoke_capacity.max(1));
    let (revocations_in, revocations_rx) = mpsc::channel(config.gossip_capacity.max(1));
    let (reports_in, reports_rx) = mpsc::channel(config.gossip_capacity.max(1));
    let report_subscribers = Arc::new(tokio::sync::Notify::new());
    let mut event_loop = EventLoop {
        swarm,
        commands,
        commands_tx: tx.downgrade(),
        a2a_in,
        a2a_out: a2a_out.clone(),
        a2a_recent: Default::default(),
        invokes_in,
        invokes_out: HashMap::new(),
        approvals_in,
        approvals_out: HashMap::new(),
        revocations_in,
        reports_in,
        report_subscribers: report_subscribers.clone(),
        validator: Arc::new(|_, _| false),
        max_in_flight: config.max_in_flight,
        announce_listen_addrs: config.relay_server && config.external.is_empty(),
        dials: HashMap::new(),
        listens: HashMap::new(),
        puts: HashMap::new(),
        gets: HashMap::new(),
        dht: Default::default(),
        activity: HashMap::new(),
        quiet,
        idle_timeout: config.idle_timeout,
        relay_server: config.relay_server,
        bootstrap: config.bootstrap.iter().map(|(p, _)| *p).collect(),
    };
    for (p, addr) in &config.bootstrap {
        event_loop.add_address(*p, addr.clone());
    }
    for addr in &config.external {
        event_loop.swarm.add_external_address(addr.clone());
    }
    for addr in &config.listen {
        event_loop
            .swarm
            .listen_on(addr.clone())
            .map_err(|e| NetError::Listen {
                addr: addr.to_string(),
                reason: e.to_string(),
            })?;
    }
    Ok(crate::Network {
        client: Client {
            tx,
            peer,
            a2a: a2a_out,
        },
        event_loop,
        inbound: inbound_rx,
        invokes: invokes_rx,
        approvals: approvals_rx,
        gossip: crate::GossipStreams {
            revocations: revocations_rx,
            reports: reports_rx,
            report_subscribers,
        },
    })
}

impl EventLoop {
    /// Sets the check inbound DHT records must pass before this node stores them.
    pub fn set_record_validator(&mut self, validator: RecordValidator) {
        self.validator = validator;
    }

    /// Runs until every [`Client`] is dropped.
    pub async fn run(mut self) {
        let period = self.idle_timeout.max(std::time::Duration::from_secs(1));
        let mut prune = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        prune.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_event(event),
                command = self.commands.recv() => match command {
                    Some(c) => self.on_command(c),
                    None => break,
                },
                _ = prune.tick() => {
                    // Every node, relay servers too: idle streams let their
                    // connections go, and the dialer's peer table stays small.
                    self.a2a_recent = self.a2a_out.sweep(self.quiet);
                    self.prune();
                }
            }
        }
        info!(peer = %self.swarm.local_peer_id(), "network event loop stopped");
    }

    fn add_address(&mut self, peer: PeerId, addr: Multiaddr) {
        self.swarm.add_peer_address(peer, addr.clone());
        self.swarm.behaviour_mut().kad.add_address(&peer, addr);
    }

    /// Hands each command to the module of the protocol it concerns.
    fn on_command(&mut self, command: Command) {
        match &command {
            Command::Dial { peer, .. }
            | Command::Invoke { peer, .. }
            | Command::Approval { peer, .. } => self.touch(*peer),
            _ => {}
        }
        match command {
            Command::Listen { addr, reply } => self.listen(addr, reply),
            Command::ListenAddrs { reply } => {
                let _ = reply.send(self.swarm.listeners().cloned().collect());
            }
            Command::AddAddress { peer, addr, reply } => {
                self.add_address(peer, addr);
                let _ = reply.send(());
            }
            Command::Dial { peer, addrs, reply } => self.dial(peer, addrs, reply),
            Command::PutRecord { key, value, reply } => self.put_record(key, value, reply),
            Command::GetRecord { key, reply } => self.get_record(&key, reply),
            Command::ConnectedPeers { reply } => {
                let _ = reply.send(self.swarm.connected_peers().copied().collect());
            }
            Command::DhtStats { reply } => {
                let _ = reply.send(self.dht);
            }
            Command::Invoke {
                peer,
                request,
                reply,
            } => self.invoke(peer, *request, reply),
            Command::Publish { topic, data, reply } => self.publish(topic, data, reply),
            Command::Validated {
                id,
                source,
                verdict,
            } => self.validated(&id, &source, verdict),
            Command::AnswerInvoke { channel, response } => self.answer_invoke(channel, *response),
            Command::Approval {
                peer,
                message,
                reply,
            } => self.approval(peer, *message, reply),
            Command::AnswerApproval { channel, ack } => self.answer_approval(channel, ack),
        }
    }

    /// Hands each behaviour's event to its module; identify and mDNS only feed the
    /// address book, so they are handled here.
    fn on_behaviour(&mut self, event: BehaviourEvent) {
        use libp2p::{gossipsub, request_response};
        match &event {
            BehaviourEvent::Invoke(request_response::Event::Message { peer, .. })
            | BehaviourEvent::Approval(request_response::Event::Message { peer, .. })
            | BehaviourEvent::Gossip(gossipsub::Event::Message {
                propagation_source: peer,
                ..
            }) => self.touch(*peer),
            _ => {}
        }
        match event {
            BehaviourEvent::Invoke(event) => self.on_invoke(event),
            BehaviourEvent::Approval(event) => self.on_approval(event),
            BehaviourEvent::Gossip(event) => self.on_gossip(event),
            BehaviourEvent::Kad(event) => self.on_kad(event),
            // Only peers that speak our DHT go into its routing table.
            BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. })
                if info.protocols.contains(&KAD_PROTOCOL) =>
            {
                for addr in info.listen_addrs.into_iter().take(16) {
                    self.swarm.behaviour_mut().kad.add_address(&peer_id, addr);
                }
            }
            // libp2p no longer closes a connection whose pings fail (it reports the
            // second failure in a row, not the first); a peer that does not speak ping
            // at all is no reason to.
            BehaviourEvent::Ping(libp2p::ping::Event {
                peer,
                connection,
                result: Err(e),
            }) if !ping_unsupported(&e) => {
                debug!(%peer, %e, "ping failed; connection closed");
                self.swarm.close_connection(connection);
            }
            BehaviourEvent::Mdns(mdns::Event::Discovered(found)) => {
                for (peer, addr) in found.into_iter().take(64) {
                    self.add_address(peer, addr);
                }
            }
            _ => {}
        }
    }
}
