//! The event loop's side of the swarm itself: listening and dialing (each bounded by
//! [`MAX_PENDING`]), and the listener and connection events that answer them. Behaviour
//! events go on to the protocol modules.

use libp2p::core::transport::ListenerId;
use libp2p::multiaddr::Protocol;
use libp2p::swarm::SwarmEvent;
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::{Multiaddr, PeerId};
use tracing::{debug, info};

use super::{EventLoop, MAX_PENDING, Reply};
use crate::behaviour::BehaviourEvent;
use crate::error::NetError;

impl EventLoop {
    pub(super) fn listen(&mut self, addr: Multiaddr, reply: Reply<Multiaddr>) {
        if self.listens.len() >= MAX_PENDING {
            let _ = reply.send(Err(NetError::Busy("listens")));
            return;
        }
        match self.swarm.listen_on(addr.clone()) {
            Ok(id) => {
                self.listens.insert(id, reply);
            }
            Err(e) => {
                let _ = reply.send(Err(NetError::Listen {
                    addr: addr.to_string(),
                    reason: e.to_string(),
                }));
            }
        }
    }

    /// Dials `peer` unless already connected. Concurrent dials of one peer share a single
    /// attempt, and all of them are answered by its outcome.
    pub(super) fn dial(&mut self, peer: PeerId, addrs: Vec<Multiaddr>, reply: Reply<()>) {
        if self.swarm.is_connected(&peer) {
            let _ = reply.send(Ok(()));
            return;
        }
        if self.dials.len() >= MAX_PENDING && !self.dials.contains_key(&peer) {
            let _ = reply.send(Err(NetError::Busy("dials")));
            return;
        }
        for a in &addrs {
            self.add_address(peer, a.clone());
        }
        if let Some((_, replies)) = self.dials.get_mut(&peer) {
            replies.push(reply);
            return;
        }
        // Our own dial even while another is under way (the default condition refused
        // it, failing the caller although its addresses were never tried).
        let opts = DialOpts::peer_id(peer)
            .condition(libp2p::swarm::dial_opts::PeerCondition::Disconnected)
            .addresses(addrs)
            .build();
        self.dials.insert(peer, (opts.connection_id(), vec![reply]));
        if let Err(e) = self.swarm.dial(opts) {
            self.fail_dial(peer, &e.to_string());
        }
    }

    fn fail_dial(&mut self, peer: PeerId, reason: &str) {
        for reply in self.dials.remove(&peer).map(|(_, r)| r).unwrap_or_default() {
            let _ = reply.send(Err(NetError::Dial {
                peer: peer.to_string(),
                reason: reason.to_owned(),
            }));
        }
    }

    pub(super) fn on_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::NewListenAddr {
                listener_id,
                address,
            } => self.listening(listener_id, address),
            SwarmEvent::ListenerClosed {
                listener_id,
                reason,
                ..
            } => {
                let reason = match reason {
                    Ok(()) => "closed".to_owned(),
                    Err(e) => e.to_string(),
                };
                self.fail_listen(listener_id, reason);
            }
            SwarmEvent::ListenerError { listener_id, error } => {
                self.fail_listen(listener_id, error.to_string());
            }
            SwarmEvent::ConnectionEstablished {
                peer_id, endpoint, ..
            } => {
                debug!(peer = %peer_id, addr = %endpoint.get_remote_address(), "connected");
                self.touch(peer_id);
                for reply in self
                    .dials
                    .remove(&peer_id)
                    .map(|(_, r)| r)
                    .unwrap_or_default()
                {
                    let _ = reply.send(Ok(()));
                }
            }
            SwarmEvent::OutgoingConnectionError {
                peer_id: Some(peer),
                error,
                connection_id,
            } => {
                debug!(%peer, %error, "dial failed");
                // Only our own dial's failure answers those waiting on it: another's
                // (Kademlia's, the a2a behaviour's) may have tried other addresses.
                if self
                    .dials
                    .get(&peer)
                    .is_some_and(|(id, _)| *id == connection_id)
                {
                    self.fail_dial(peer, &error.to_string());
                }
            }
            SwarmEvent::Behaviour(event) => self.on_behaviour(event),
            _ => {}
        }
    }

    fn listening(&mut self, listener_id: ListenerId, address: Multiaddr) {
        info!(%address, "listening");
        // A relay hands its external addresses to every client it reserves a slot for;
        // with none, clients refuse the reservation.
        if self.announce_listen_addrs && !address.iter().any(|p| p == Protocol::P2pCircuit) {
            self.swarm.add_external_address(address.clone());
        }
        if let Some(reply) = self.listens.remove(&listener_id) {
            let _ = reply.send(Ok(address));
        }
    }

    fn fail_listen(&mut self, listener_id: ListenerId, reason: String) {
        if let Some(reply) = self.listens.remove(&listener_id) {
            let _ = reply.send(Err(NetError::Listen {
                addr: format!("{listener_id:?}"),
                reason,
            }));
        }
    }
}
