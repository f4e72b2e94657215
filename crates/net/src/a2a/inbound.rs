//! The listener's side: each inbound stream gets a task that reads a batch, hands its
//! frames to the node over the bounded inbound queue, waits until every frame is
//! answered (or its responder dropped: `Later`), writes the acks, and reads the next
//! batch. A peer has at most [`MAX_STREAMS_IN`] streams served at once.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

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
    streams: Mutex<HashMap<PeerId, usize>>,
    queue: mpsc::Sender<InboundFrame>,
}

/// Counts one served stream while it lives.
struct Served {
    inbound: Arc<Inbound>,
    peer: PeerId,
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Ok(mut streams) = self.inbound.streams.lock()
            && let Some(n) = streams.get_mut(&self.peer)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                streams.remove(&self.peer);
            }
        }
    }
}

impl Inbound {
    pub(crate) fn new(budget: Arc<ReadBudget>, queue: mpsc::Sender<InboundFrame>) -> Arc<Self> {
        Arc::new(Inbound {
            budget,
            streams: Mutex::new(HashMap::new()),
            queue,
        })
    }

    /// Serves a new stream from `peer` on its own task, or resets it when the peer
    /// already has [`MAX_STREAMS_IN`].
    pub(crate) fn accept(self: &Arc<Self>, peer: PeerId, stream: Stream) {
        let admitted = match self.streams.lock() {
            Ok(mut streams) => {
                let n = streams.entry(peer).or_insert(0);
                let room = *n < MAX_STREAMS_IN;
                if room {
                    *n += 1;
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
        let queue = self.queue.clone();
        tokio::spawn(serve(served, budget, queue, stream));
    }

    /// Peers with a stream being served now (the event loop keeps their connections).
    pub(crate) fn peers(&self) -> HashSet<PeerId> {
        self.streams
            .lock()
            .map(|s| s.keys().copied().collect())
            .unwrap_or_default()
    }
}

/// One stream's life: batches in, acks out, until the dialer closes it or breaks a rule
/// (then the stream is dropped, which resets it).
async fn serve(
    served: Served,
    budget: PeerBudget,
    queue: mpsc::Sender<InboundFrame>,
    mut stream: Stream,
) {
    let peer = served.peer;
    loop {
        let frames = match budget.read_batch(&mut stream).await {
            Ok(Some(frames)) => frames,
            Ok(None) => break,
            Err(e) => {
                debug!(%peer, %e, "inbound a2a stream failed");
                return;
            }
        };
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
