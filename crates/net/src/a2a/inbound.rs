//! The listener's side: each inbound stream gets a task that reads a batch, hands its
//! frames to the node over the bounded inbound queue, waits until every frame is
//! answered (or its responder dropped: `Later`), writes the acks, and reads the next
//! batch. A peer has at most [`MAX_STREAMS_IN`] streams served at once, and a stream
//! idle between batches for longer than the idle period is closed.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::AsyncWriteExt;
use libp2p::{PeerId, Stream};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, warn};

use super::{MAX_STREAMS_IN, PeerBudget, ReadBudget};
use crate::client::{Batch, InboundFrame, Responder};
use crate::codec::write_prefixed;
use crate::frame::encode_acks;

/// Serves inbound a2a streams.
#[derive(Debug)]
pub(crate) struct Inbound {
    budget: Arc<ReadBudget>,
    /// Streams being served, per peer.
    streams: Mutex<HashMap<PeerId, PeerStreams>>,
    queue: mpsc::Sender<InboundFrame>,
    /// How long a stream may sit between batches before it is closed.
    idle: Duration,
}

#[derive(Debug)]
struct PeerStreams {
    served: usize,
    /// When a batch from this peer last arrived (or its first stream opened).
    last_batch: Instant,
}

/// Counts one served stream while it lives.
struct Served {
    inbound: Arc<Inbound>,
    peer: PeerId,
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Ok(mut streams) = self.inbound.streams.lock()
            && let Some(p) = streams.get_mut(&self.peer)
        {
            p.served = p.served.saturating_sub(1);
            if p.served == 0 {
                streams.remove(&self.peer);
            }
        }
    }
}

impl Inbound {
    pub(crate) fn new(
        budget: Arc<ReadBudget>,
        queue: mpsc::Sender<InboundFrame>,
        idle: Duration,
    ) -> Arc<Self> {
        Arc::new(Inbound {
            budget,
            streams: Mutex::new(HashMap::new()),
            queue,
            idle,
        })
    }

    /// Serves a new stream from `peer` on its own task, or resets it when the peer
    /// already has [`MAX_STREAMS_IN`].
    pub(crate) fn accept(self: &Arc<Self>, peer: PeerId, stream: Stream) {
        let admitted = match self.streams.lock() {
            Ok(mut streams) => {
                let p = streams.entry(peer).or_insert(PeerStreams {
                    served: 0,
                    last_batch: Instant::now(),
                });
                let room = p.served < MAX_STREAMS_IN;
                if room {
                    p.served += 1;
                }
                room
            }
            Err(_) => false,
        };
        if !admitted {
            debug!(%peer, "a2a stream over the per-peer bound; reset");
            return;
        }
        let served = Served {
            inbound: self.clone(),
            peer,
        };
        let budget = self.budget.peer(peer);
        tokio::spawn(serve(served, budget, stream));
    }

    /// Peers that sent a batch within `quiet` (the event loop keeps their connections;
    /// an idle stream alone does not).
    pub(crate) fn peers(&self, quiet: Duration) -> HashSet<PeerId> {
        let now = Instant::now();
        self.streams
            .lock()
            .map(|s| {
                s.iter()
                    .filter(|(_, p)| now.duration_since(p.last_batch) < quiet)
                    .map(|(peer, _)| *peer)
                    .collect()
            })
            .unwrap_or_default()
    }

    fn batch_from(&self, peer: PeerId) {
        if let Ok(mut streams) = self.streams.lock()
            && let Some(p) = streams.get_mut(&peer)
        {
            p.last_batch = Instant::now();
        }
    }
}

/// One stream's life: batches in, acks out, until the dialer closes it or breaks a rule
/// (then the stream is dropped, which resets it).
async fn serve(served: Served, budget: PeerBudget, mut stream: Stream) {
    let (peer, inbound) = (served.peer, served.inbound.clone());
    let queue = inbound.queue.clone();
    loop {
        // Ends (`None`) when the dialer closes the stream or sends nothing for `idle`.
        let frames = match budget
            .read_batch_within(&mut stream, Some(inbound.idle))
            .await
        {
            Ok(Some(frames)) => frames,
            Ok(None) => break,
            Err(e) => {
                debug!(%peer, %e, "inbound a2a stream failed");
                return;
            }
        };
        inbound.batch_from(peer);
        let (reply, acks) = oneshot::channel();
        let batch = Batch::new(reply, frames.len());
        for (index, frame) in frames.into_iter().enumerate() {
            let seq = frame.seq();
            let inbound = InboundFrame {
                peer,
                frame,
                responder: Responder {
                    batch: batch.clone(),
                    index,
                    seq,
                    answered: false,
                },
            };
            // A full queue answers the frame `Later` (its responder is dropped): its
            // sender keeps it and resends, so this is backpressure, not loss.
            if let Err(e) = queue.try_send(inbound) {
                warn!(%peer, seq, "inbound queue full or closed; frame left to its sender's retry");
                drop(e);
            }
        }
        drop(batch);
        // Every responder answers or, dropped, answers `Later`: this always resolves.
        let Ok(acks) = acks.await else {
            return;
        };
        if let Err(e) = write_prefixed(&mut stream, &encode_acks(&acks)).await {
            // The sender resends and gets `Duplicate`: nothing is lost.
            debug!(%peer, %e, "acks not delivered: stream closed");
            return;
        }
    }
    let _ = stream.close().await;
}
