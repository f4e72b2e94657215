//! Closing connections nothing uses. libp2p closes a connection once every handler lets
//! it go and no stream has been open for `idle_timeout`, but gossipsub keeps a long-lived
//! stream to every peer it meets, in its mesh or not (rust-libp2p#5190), so every node
//! would stay connected to every node it ever met, at ~0.1 MiB each (the swarm bench:
//! 99 connections per node in a swarm of 100, all kept). Here, every `idle_timeout`, a
//! connection is closed when its peer is in no gossipsub mesh, is not a bootstrap peer
//! or a relay we listen through, has no send or dial of ours waiting, and has not been
//! heard from or addressed for the whole `quiet` period. The peer stays in the routing
//! table; the next send dials it again. A relay server never prunes: its clients' slots
//! live on those connections.

use std::collections::HashSet;
use std::time::Instant;

use libp2p::PeerId;
use libp2p::multiaddr::Protocol;
use tracing::debug;

use super::EventLoop;

/// Peers whose last activity is remembered; past this, a new peer is simply seen at
/// the next prune (bounded like every other map here).
const MAX_TRACKED: usize = 4096;

impl EventLoop {
    /// Notes that `peer` was heard from or addressed now.
    pub(super) fn touch(&mut self, peer: PeerId) {
        if self.activity.len() < MAX_TRACKED || self.activity.contains_key(&peer) {
            self.activity.insert(peer, Instant::now());
        }
    }

    /// Closes the connections nothing uses (see the module docs).
    pub(super) fn prune(&mut self) {
        if self.relay_server {
            return;
        }
        let now = Instant::now();
        let keep = self.kept_peers();
        let connected: Vec<PeerId> = self.swarm.connected_peers().copied().collect();
        self.activity.retain(|p, _| connected.contains(p));
        let mut closed = 0usize;
        for peer in connected {
            if keep.contains(&peer) {
                continue;
            }
            match self.activity.get(&peer) {
                Some(at) if now.duration_since(*at) >= self.quiet => {
                    // Err only if the peer is no longer connected: nothing to close.
                    if self.swarm.disconnect_peer_id(peer).is_ok() {
                        closed += 1;
                    }
                    self.activity.remove(&peer);
                }
                Some(_) => {}
                // Not seen since it connected, as far as this map knows: from now.
                None => self.touch(peer),
            }
        }
        if closed > 0 {
            debug!(closed, "closed idle connections outside the gossip mesh");
        }
    }

    /// Peers whose connections are never pruned: gossipsub mesh members, bootstrap
    /// peers, relays we listen through, and peers with a send or dial waiting.
    fn kept_peers(&self) -> HashSet<PeerId> {
        let mut keep: HashSet<PeerId> = self
            .swarm
            .behaviour()
            .gossip
            .all_mesh_peers()
            .copied()
            .collect();
        keep.extend(self.bootstrap.iter().copied());
        // a2a: peers we sent to within `quiet` or still wait on (swept just before),
        // and peers that sent us a batch within `quiet`.
        keep.extend(self.a2a_recent.iter().copied());
        keep.extend(self.a2a_in.peers(self.quiet));
        keep.extend(self.dials.keys().copied());
        for addr in self.swarm.listeners() {
            let mut relay = None;
            for p in addr.iter() {
                match p {
                    Protocol::P2p(peer) => relay = Some(peer),
                    Protocol::P2pCircuit => keep.extend(relay),
                    _ => {}
                }
            }
        }
        keep
    }
}
