//! The dialer's side: up to [`MAX_STREAMS_OUT`] streams per peer, opened when a send
//! finds none idle and kept for the next one. A stream carries one batch at a time: the
//! sending task writes the batch and reads the acks itself.

use std::collections::{HashMap, HashSet};
use std::io;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use libp2p::{PeerId, Stream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};
use tokio::time::timeout_at;
use tracing::debug;

use super::MAX_STREAMS_OUT;
use super::behaviour::Open;
use crate::codec::{invalid, read_bounded, write_prefixed};
use crate::error::NetError;
use crate::frame::{Ack, Frame, MAX_BATCH_FRAME_BYTES, MAX_RESPONSE, encode_batch, parse_acks};

/// The longest pause before an open is asked again (its connection closed under it).
const MAX_OPEN_PAUSE: Duration = Duration::from_millis(320);
/// Peers with streams (or sends) tracked at once; past it a send to a new peer evicts an
/// unused one, or is refused `Busy` when every tracked peer has a send waiting.
const MAX_PEERS: usize = 4096;

/// The streams this node keeps to its peers. Cloned into every [`crate::Client`].
pub struct Outbound {
    /// Stream opens, to the behaviour (which finds or dials a connection).
    opens: mpsc::Sender<Open>,
    peers: Mutex<HashMap<PeerId, Lane>>,
    /// Batches waiting for their acks, across all peers.
    in_flight: Arc<Semaphore>,
    timeout: Duration,
}

impl std::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbound")
            .field("in_flight_free", &self.in_flight.available_permits())
            .finish_non_exhaustive()
    }
}

/// One peer's streams. A send holds one of `slots` while it uses a stream, and takes an
/// idle stream before it opens one; so at most [`MAX_STREAMS_OUT`] streams exist, busy
/// and idle together (a stream is opened only when none is idle, with a slot held).
struct Lane {
    /// One permit per send using a stream now.
    slots: Arc<Semaphore>,
    /// Idle streams, each with when it was last used.
    idle: Vec<(Stream, Instant)>,
    /// When a send to this peer last started.
    last: Instant,
}

impl Lane {
    /// No send holds a stream (idle streams may be kept).
    fn idle_only(&self) -> bool {
        self.slots.available_permits() == MAX_STREAMS_OUT
    }

    /// No send holds a stream and none is kept.
    fn unused(&self) -> bool {
        self.slots.available_permits() == MAX_STREAMS_OUT && self.idle.is_empty()
    }
}

/// One batch on the wire, and the seqs its acks must name.
struct Sent {
    body: Vec<u8>,
    seqs: Vec<u64>,
}

/// Why one exchange on a stream failed.
enum Failure {
    /// The deadline passed: nothing left to retry with.
    TimedOut,
    Io(io::Error),
}

impl Outbound {
    pub(crate) fn new(opens: mpsc::Sender<Open>, max_in_flight: usize, timeout: Duration) -> Self {
        Outbound {
            opens,
            peers: Mutex::new(HashMap::new()),
            in_flight: Arc::new(Semaphore::new(max_in_flight.max(1))),
            timeout,
        }
    }

    /// Sends one batch to `peer` and returns its acks, one per frame in order. An error
    /// means no ack came: the frames may or may not have arrived.
    pub async fn send(&self, peer: PeerId, frames: Vec<Frame>) -> Result<Vec<Ack>, NetError> {
        let seqs: Vec<u64> = frames.iter().map(Frame::seq).collect();
        let first = seqs.first().copied().unwrap_or(0);
        let failed = |reason: String| NetError::Send {
            peer: peer.to_string(),
            seq: first,
            reason,
        };
        let fits = !frames.is_empty()
            && frames.len() <= crate::MAX_BATCH
            && frames.iter().map(Frame::encode_len).sum::<usize>() <= MAX_BATCH_FRAME_BYTES;
        if !fits {
            return Err(failed("batch empty or over its bounds".into()));
        }
        let _flight = self
            .in_flight
            .clone()
            .try_acquire_owned()
            .map_err(|_| NetError::Busy("frames"))?;
        let deadline = tokio::time::Instant::now() + self.timeout;
        let slots = self.lane(peer)?;
        let slot = timeout_at(deadline, slots.acquire_owned())
            .await
            .map_err(|_| failed("no stream to the peer came free in time".into()))?
            .map_err(|_| NetError::Stopped)?;
        let sent = Sent {
            body: encode_batch(&frames),
            seqs,
        };
        self.exchange(peer, slot, &sent, deadline)
            .await
            .map_err(failed)
    }

    /// The peer's stream slots, its lane made if new (evicting an unused one at the bound).
    fn lane(&self, peer: PeerId) -> Result<Arc<Semaphore>, NetError> {
        let mut peers = self.peers.lock().map_err(|_| NetError::Stopped)?;
        if !peers.contains_key(&peer) && peers.len() >= MAX_PEERS {
            // The longest-unused peer with no send under way (its idle streams go).
            let unused = peers
                .iter()
                .filter(|(_, l)| l.idle_only())
                .min_by_key(|(_, l)| l.last)
                .map(|(p, _)| *p);
            match unused {
                Some(p) => drop(peers.remove(&p)),
                None => return Err(NetError::Busy("peers")),
            }
        }
        let lane = peers.entry(peer).or_insert_with(|| Lane {
            slots: Arc::new(Semaphore::new(MAX_STREAMS_OUT)),
            idle: Vec::new(),
            last: Instant::now(),
        });
        lane.last = Instant::now();
        Ok(lane.slots.clone())
    }

    /// Writes the batch on an idle stream (or a new one) and reads its acks. A kept
    /// stream may have died while idle (the peer restarted, the connection was closed):
    /// its failure is retried once on a new stream, which is safe because the receiver
    /// answers a frame it already holds `Duplicate`.
    async fn exchange(
        &self,
        peer: PeerId,
        slot: OwnedSemaphorePermit,
        sent: &Sent,
        deadline: tokio::time::Instant,
    ) -> Result<Vec<Ack>, String> {
        if let Some(mut stream) = self.take_idle(peer) {
            match round_trip(&mut stream, sent, deadline).await {
                Ok(acks) => {
                    self.put_idle(peer, stream);
                    drop(slot);
                    return Ok(acks);
                }
                Err(Failure::TimedOut) => {
                    // A silent connection: the peer's other kept streams are likely dead
                    // too, and each would cost the next sends a whole timeout.
                    self.drop_idle(peer);
                    return Err("no acks within the timeout".into());
                }
                Err(Failure::Io(e)) => {
                    debug!(%peer, %e, "kept a2a stream failed; opening another");
                    self.drop_idle(peer);
                }
            }
        }
        let mut stream = self.open(peer, deadline).await?;
        match round_trip(&mut stream, sent, deadline).await {
            Ok(acks) => {
                self.put_idle(peer, stream);
                drop(slot);
                Ok(acks)
            }
            Err(Failure::TimedOut) => Err("no acks within the timeout".into()),
            Err(Failure::Io(e)) => Err(e.to_string()),
        }
    }

    /// Opens a stream to `peer`. An open sent to a connection that was closing is
    /// dropped unanswered by the swarm (a graceful close is reported only once the
    /// muxer has flushed); it is asked again, pausing 10 ms, then twice as long each
    /// time up to 320 ms, until the deadline: by then on a new connection.
    async fn open(&self, peer: PeerId, deadline: tokio::time::Instant) -> Result<Stream, String> {
        let asked = async {
            let mut pause = Duration::from_millis(10);
            loop {
                let (opened, stream) = oneshot::channel();
                self.opens
                    .send(Open { peer, opened })
                    .await
                    .map_err(|_| "network stopped".to_string())?;
                if let Ok(result) = stream.await {
                    return result;
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_OPEN_PAUSE);
            }
        };
        timeout_at(deadline, asked)
            .await
            .map_err(|_| "no stream opened within the timeout".to_string())?
    }

    fn drop_idle(&self, peer: PeerId) {
        if let Ok(mut peers) = self.peers.lock()
            && let Some(lane) = peers.get_mut(&peer)
        {
            lane.idle.clear();
        }
    }

    /// An idle stream to `peer`, most recently used first.
    fn take_idle(&self, peer: PeerId) -> Option<Stream> {
        let mut peers = self.peers.lock().ok()?;
        peers.get_mut(&peer)?.idle.pop().map(|(s, _)| s)
    }

    /// Keeps a stream that just carried a batch, for the next send to this peer.
    fn put_idle(&self, peer: PeerId, stream: Stream) {
        if let Ok(mut peers) = self.peers.lock()
            && let Some(lane) = peers.get_mut(&peer)
        {
            lane.idle.push((stream, Instant::now()));
        }
    }

    /// Drops streams idle for `quiet` and forgets peers unused as long; returns the
    /// peers with a send waiting or one started within `quiet`, whose connections the
    /// event loop keeps.
    pub(crate) fn sweep(&self, quiet: Duration) -> HashSet<PeerId> {
        let now = Instant::now();
        let mut keep = HashSet::new();
        let Ok(mut peers) = self.peers.lock() else {
            return keep;
        };
        peers.retain(|peer, lane| {
            lane.idle.retain(|(_, at)| now.duration_since(*at) < quiet);
            let recent = now.duration_since(lane.last) < quiet;
            let kept = recent || !lane.unused();
            if kept {
                keep.insert(*peer);
            }
            kept
        });
        keep
    }
}

/// Writes the batch and reads its acks. Acks that do not name the frames sent, in order,
/// fail the exchange like a broken stream (the stream is dropped): the frames are resent.
async fn round_trip(
    stream: &mut Stream,
    sent: &Sent,
    deadline: tokio::time::Instant,
) -> Result<Vec<Ack>, Failure> {
    let io = async {
        write_prefixed(stream, &sent.body).await?;
        let acks = parse_acks(&read_bounded(stream, MAX_RESPONSE).await?).map_err(invalid)?;
        if !acks.iter().map(|a| a.seq).eq(sent.seqs.iter().copied()) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "acks do not name the frames sent",
            ));
        }
        Ok(acks)
    };
    match timeout_at(deadline, io).await {
        Ok(Ok(acks)) => Ok(acks),
        Ok(Err(e)) => Err(Failure::Io(e)),
        Err(_) => Err(Failure::TimedOut),
    }
}
