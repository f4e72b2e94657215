//! Network configuration: where to listen, whom to know, what to serve, and the limits.

use std::time::Duration;

use libp2p::{Multiaddr, PeerId};

/// How a node takes part in the network.
#[derive(Clone, Debug)]
pub struct NetConfig {
    /// Addresses to listen on (TCP and/or QUIC multiaddrs).
    pub listen: Vec<Multiaddr>,
    /// Addresses this node announces as reachable from outside (a relay's public
    /// address). A relay with none announces its listen addresses, which is right on a
    /// LAN or loopback and wrong behind NAT.
    pub external: Vec<Multiaddr>,
    /// Peers to add to the DHT routing table at start.
    pub bootstrap: Vec<(PeerId, Multiaddr)>,
    /// Discover peers on the LAN with mDNS.
    pub mdns: bool,
    /// Serve as a circuit relay for other peers (`talos up --relay`).
    pub relay_server: bool,
    /// Established connections in total.
    pub max_connections: u32,
    /// Established connections per peer.
    pub max_connections_per_peer: u32,
    /// Incoming connections still in the handshake.
    pub max_pending_incoming: u32,
    /// New connections are refused once the process uses this many bytes.
    pub max_memory_bytes: usize,
    /// Concurrent invoke and approval streams per connection (a2a has its own bounds:
    /// [`crate::a2a::MAX_STREAMS_OUT`], [`crate::a2a::MAX_STREAMS_IN`]).
    pub max_streams_per_connection: usize,
    /// Frame batches waiting for their acks, across all peers; calls and approval
    /// messages waiting for their answers, each.
    pub max_in_flight: usize,
    /// How long a sender waits for a stream and the acks of its batch, and for an
    /// approval message's acknowledgement.
    pub request_timeout: Duration,
    /// Connections with no stream close after this.
    pub idle_timeout: Duration,
    /// Capacity of the command channel.
    pub channel_capacity: usize,
    /// Inbound frames waiting for the node (each up to 48 KiB, so this bounds the
    /// memory a flood of frames can pin: 256 × 48 KiB = 12 MiB by default).
    pub inbound_capacity: usize,
    /// How long a caller waits for a peer agent's answer to an invoke (the callee's node
    /// answers `agent_timeout` before this, so the caller normally gets a reason).
    pub invoke_timeout: Duration,
    /// Inbound calls waiting for the node's decision (each up to 64 KiB).
    pub invoke_capacity: usize,
    /// Gossip messages waiting for the node's validation (each up to 4 KiB).
    pub gossip_capacity: usize,
    /// How often each connection is pinged.
    pub ping_interval: Duration,
    /// A ping unanswered this long fails; two failures in a row close the connection
    /// (a black-holed TCP connection would otherwise last until the kernel gives up,
    /// failing every request on it).
    pub ping_timeout: Duration,
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig {
            listen: Vec::new(),
            external: Vec::new(),
            bootstrap: Vec::new(),
            mdns: false,
            relay_server: false,
            max_connections: 256,
            max_connections_per_peer: 4,
            max_pending_incoming: 64,
            max_memory_bytes: 1 << 30,
            max_streams_per_connection: 64,
            max_in_flight: 4096,
            request_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            channel_capacity: 1024,
            inbound_capacity: 256,
            invoke_timeout: Duration::from_secs(30),
            invoke_capacity: 256,
            gossip_capacity: 256,
            ping_interval: Duration::from_secs(15),
            ping_timeout: Duration::from_secs(20),
        }
    }
}
