//! The composed libp2p behaviour every talos node runs.
// The derive generates `BehaviourEvent` (one variant per field) without docs; everything
// written by hand here is documented.
#![allow(missing_docs)]

use std::time::Duration;

use libp2p::swarm::NetworkBehaviour;
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::{
    StreamProtocol, autonat, connection_limits, dcutr, gossipsub, identify, identity::Keypair, kad,
    mdns, memory_connection_limits, ping, relay, request_response,
};

use crate::codec::InvokeCodec;
use crate::config::NetConfig;
use crate::error::NetError;

/// Kademlia under our own protocol name, so talos nodes form their own DHT rather than
/// joining (and polluting) the public IPFS one.
pub const KAD_PROTOCOL: StreamProtocol = StreamProtocol::new("/talos/kad/1.0.0");
/// The identify protocol version string talos nodes announce.
pub const IDENTIFY_VERSION: &str = "/talos/1.0.0";
/// The largest DHT record value (a signed DID → addresses + prekey bundle record).
pub const MAX_RECORD_BYTES: usize = 8 * 1024;
/// DHT records held for others.
pub const MAX_RECORDS: usize = 4096;
/// The gossip topic revocation notices travel on.
pub const REVOCATIONS_TOPIC: &str = "/talos/revocations/1";
/// The gossip topic misbehaviour reports travel on (`talos-reputation`).
pub const REPORTS_TOPIC: &str = "/talos/reports/1";
/// The largest gossip message (a revocation notice is a few hundred bytes).
pub const MAX_GOSSIP_BYTES: usize = 4096;

/// Every protocol of a talos node. Field order is the order in which the swarm asks each
/// behaviour about a new connection, so the limits come first and refuse early.
#[derive(NetworkBehaviour)]
pub struct Behaviour {
    /// Connection-count limits.
    pub limits: connection_limits::Behaviour,
    /// Refuses new connections when the process uses too much memory.
    pub memory: memory_connection_limits::Behaviour,
    /// Reserves slots on relays and accepts relayed connections.
    pub relay_client: relay::client::Behaviour,
    /// Serves as a relay, when configured.
    pub relay_server: Toggle<relay::Behaviour>,
    /// Upgrades relayed connections to direct ones (hole punching).
    pub dcutr: dcutr::Behaviour,
    /// Learns whether this node is reachable from outside.
    pub autonat: autonat::Behaviour,
    /// Exchanges listen addresses and protocols.
    pub identify: identify::Behaviour,
    /// Keeps connections alive and measures round trips.
    pub ping: ping::Behaviour,
    /// Peer routing and the signed DID records.
    pub kad: kad::Behaviour<kad::store::MemoryStore>,
    /// LAN discovery, when configured.
    pub mdns: Toggle<mdns::tokio::Behaviour>,
    /// `/talos/a2a/3.0.0`: frames and acks on long-lived streams ([`crate::a2a`]).
    pub a2a: crate::a2a::Behaviour,
    /// `/talos/invoke/1.0.0`: calls to peer agents under a capability.
    pub invoke: request_response::Behaviour<InvokeCodec>,
    /// `/talos/approval/1.0.0`: approval requests and grants between nodes.
    pub approval: request_response::Behaviour<crate::codec::ApprovalCodec>,
    /// Gossip: revocation notices, so they reach verifiers before any chain confirms.
    pub gossip: gossipsub::Behaviour,
}

impl Behaviour {
    /// Builds the behaviour for `key` under `config`, with the a2a behaviour the event
    /// loop made (it shares its stream servers with the client).
    pub fn new(
        key: &Keypair,
        relay_client: relay::client::Behaviour,
        config: &NetConfig,
        a2a: crate::a2a::Behaviour,
    ) -> Result<Self, NetError> {
        let peer = key.public().to_peer_id();
        let limits = connection_limits::ConnectionLimits::default()
            .with_max_established(Some(config.max_connections))
            .with_max_established_per_peer(Some(config.max_connections_per_peer))
            .with_max_pending_incoming(Some(config.max_pending_incoming));

        let mut kad_config = kad::Config::new(KAD_PROTOCOL);
        // Inbound records are checked by the node (signature, size) before it stores them.
        kad_config.set_record_filtering(kad::StoreInserts::FilterBoth);
        kad_config.set_max_packet_size(MAX_RECORD_BYTES.saturating_mul(2));
        kad_config.set_query_timeout(Duration::from_secs(30));
        let store = kad::store::MemoryStore::with_config(
            peer,
            kad::store::MemoryStoreConfig {
                max_records: MAX_RECORDS,
                max_value_bytes: MAX_RECORD_BYTES,
                ..Default::default()
            },
        );
        let mut kad = kad::Behaviour::with_config(peer, store, kad_config);
        // Every talos node serves the DHT: there is no central directory to fall back on.
        kad.set_mode(Some(kad::Mode::Server));

        let mdns = if config.mdns {
            Some(
                mdns::tokio::Behaviour::new(mdns::Config::default(), peer)
                    .map_err(|e| NetError::Transport(format!("mDNS: {e}")))?,
            )
        } else {
            None
        };
        let relay_server = config.relay_server.then(|| {
            let mut server = relay::Behaviour::new(peer, relay::Config::default());
            // A relay on a LAN or loopback never gets an external address confirmed by
            // AutoNAT; an operator who passes --relay means it.
            server.set_status(Some(relay::Status::Enable));
            server
        });

        // Messages signed by their author's libp2p key (the agent's identity), validated
        // by the node before they are forwarded (an invalid notice goes no further than
        // us). A message is identified by its author and sequence number (gossipsub's
        // default), not by its content: a node republishes its own reports for peers that
        // join later, and gossipsub refuses to publish content it still remembers, which
        // it forgets only as new messages arrive, so on a quiet network never. The node
        // deduplicates by content itself (a report or notice already held is ignored).
        let gossip_config = gossipsub::ConfigBuilder::default()
            .validation_mode(gossipsub::ValidationMode::Strict)
            .validate_messages()
            .max_transmit_size(MAX_GOSSIP_BYTES)
            .build()
            .map_err(|e| NetError::Transport(format!("gossipsub: {e}")))?;
        let mut gossip = gossipsub::Behaviour::new(
            gossipsub::MessageAuthenticity::Signed(key.clone()),
            gossip_config,
        )
        .map_err(|e| NetError::Transport(format!("gossipsub: {e}")))?;
        gossip
            .subscribe(&gossipsub::IdentTopic::new(REVOCATIONS_TOPIC))
            .map_err(|e| NetError::Transport(format!("gossipsub: {e}")))?;
        gossip
            .subscribe(&gossipsub::IdentTopic::new(REPORTS_TOPIC))
            .map_err(|e| NetError::Transport(format!("gossipsub: {e}")))?;

        Ok(Behaviour {
            gossip,
            limits: connection_limits::Behaviour::new(limits),
            memory: memory_connection_limits::Behaviour::with_max_bytes(config.max_memory_bytes),
            relay_client,
            relay_server: relay_server.into(),
            dcutr: dcutr::Behaviour::new(peer),
            autonat: autonat::Behaviour::new(
                peer,
                autonat::Config {
                    only_global_ips: false,
                    ..Default::default()
                },
            ),
            identify: identify::Behaviour::new(
                identify::Config::new(IDENTIFY_VERSION.to_owned(), key.public())
                    .with_agent_version(format!("talos/{}", env!("CARGO_PKG_VERSION"))),
            ),
            ping: ping::Behaviour::new(
                ping::Config::new()
                    .with_interval(config.ping_interval)
                    .with_timeout(config.ping_timeout),
            ),
            kad,
            mdns: mdns.into(),
            a2a,
            invoke: request_response::Behaviour::with_codec(
                InvokeCodec,
                [(
                    StreamProtocol::new(crate::invoke::INVOKE_PROTOCOL),
                    request_response::ProtocolSupport::Full,
                )],
                request_response::Config::default()
                    .with_request_timeout(config.invoke_timeout)
                    .with_max_concurrent_streams(config.max_streams_per_connection),
            ),
            approval: request_response::Behaviour::with_codec(
                crate::codec::ApprovalCodec,
                [(
                    StreamProtocol::new(crate::approval::APPROVAL_PROTOCOL),
                    request_response::ProtocolSupport::Full,
                )],
                request_response::Config::default()
                    .with_request_timeout(config.request_timeout)
                    .with_max_concurrent_streams(config.max_streams_per_connection),
            ),
        })
    }
}
