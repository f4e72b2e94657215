//! The byte budgets inbound batches are read under. Each batch is a u32 big-endian length
//! and that many bytes; the length is checked against [`MAX_REQUEST`] before a byte of
//! the body is allocated, so an oversize batch costs the sender its stream and costs us
//! four bytes of reading. Bodies are drawn from two budgets: one per peer and one shared
//! by every peer. Past them, readers wait, their yamux windows fill and the senders
//! stall, so a flood cannot pin more memory than the shared budget, and one peer holds
//! only its own share. A body must arrive within a short deadline once its length is
//! read, so a slow sender cannot sit on budget.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{AsyncRead, AsyncReadExt};
use libp2p::PeerId;
use tokio::sync::Semaphore;

use crate::codec::{invalid, read_len};
use crate::frame::{Frame, MAX_REQUEST, parse_batch};

/// Bytes of inbound batch bodies being read at once, across all peers.
pub const DEFAULT_READ_BUDGET: usize = 16 << 20;
/// Bytes of inbound batch bodies being read at once from one peer: four of the largest
/// batches, about 5 % of the shared budget.
pub const DEFAULT_PEER_BUDGET: usize = 4 * MAX_REQUEST;
/// How long a body may take to arrive once its length is read: 48 KiB on a link as slow
/// as 16 KiB/s, with room to spare. Honest senders write a body in one go.
pub const DEFAULT_BODY_DEADLINE: Duration = Duration::from_secs(5);

/// The budgets and the deadline that bound inbound reads. They bound what a reader
/// takes; bytes not read yet sit in the transport's flow-control windows (yamux's and
/// QUIC's, per stream and per connection), which these do not bound.
#[derive(Clone, Copy, Debug)]
pub struct ReadLimits {
    /// Bytes being read at once across all peers.
    pub shared: usize,
    /// Bytes being read at once from one peer.
    pub per_peer: usize,
    /// Time allowed for a body once its length is read.
    pub body_deadline: Duration,
}

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits {
            shared: DEFAULT_READ_BUDGET,
            per_peer: DEFAULT_PEER_BUDGET,
            body_deadline: DEFAULT_BODY_DEADLINE,
        }
    }
}

/// The shared budget and one budget per peer that has a stream open.
#[derive(Debug)]
pub struct ReadBudget {
    shared: Arc<Semaphore>,
    /// Each peer's budget and how many shares of it are out: counted under the lock
    /// (not read off the `Arc`'s count, which two shares dropped at once on two threads
    /// could both see above one, leaving the entry behind).
    peers: Mutex<HashMap<PeerId, (Arc<Semaphore>, usize)>>,
    limits: ReadLimits,
}

/// One peer's share, held by each of its inbound streams; the peer's entry goes once
/// its last stream's share is dropped.
#[derive(Debug)]
pub struct PeerBudget {
    budget: Arc<ReadBudget>,
    peer: PeerId,
    own: Arc<Semaphore>,
}

impl ReadBudget {
    /// Budgets with these limits (each at least one largest batch).
    pub fn new(limits: ReadLimits) -> Arc<Self> {
        Arc::new(ReadBudget {
            shared: Arc::new(Semaphore::new(limits.shared.max(MAX_REQUEST))),
            peers: Mutex::new(HashMap::new()),
            limits,
        })
    }

    /// The share `peer`'s streams read under (one per peer however many streams and
    /// connections it has).
    pub fn peer(self: &Arc<Self>, peer: PeerId) -> PeerBudget {
        let per_peer = self.limits.per_peer.max(MAX_REQUEST);
        let own = match self.peers.lock() {
            Ok(mut peers) => {
                let (own, shares) = peers
                    .entry(peer)
                    .or_insert_with(|| (Arc::new(Semaphore::new(per_peer)), 0));
                *shares += 1;
                own.clone()
            }
            // A poisoned map still gives a bounded (fresh) share.
            Err(_) => Arc::new(Semaphore::new(per_peer)),
        };
        PeerBudget {
            budget: self.clone(),
            peer,
            own,
        }
    }

    /// Peers holding a share now.
    pub fn peers(&self) -> usize {
        self.peers.lock().map(|p| p.len()).unwrap_or(0)
    }
}

impl Drop for PeerBudget {
    fn drop(&mut self) {
        if let Ok(mut peers) = self.budget.peers.lock()
            && let Some((own, shares)) = peers.get_mut(&self.peer)
            && Arc::ptr_eq(own, &self.own)
        {
            *shares = shares.saturating_sub(1);
            if *shares == 0 {
                peers.remove(&self.peer);
            }
        }
    }
}

impl PeerBudget {
    /// Reads one batch: waits (without a deadline) for its length, then reads its body
    /// under the peer's and the shared budget within the body deadline, and parses it.
    /// `Ok(None)` when the stream ended between batches.
    pub async fn read_batch<T: AsyncRead + Unpin>(
        &self,
        io: &mut T,
    ) -> io::Result<Option<Vec<Frame>>> {
        self.read_batch_within(io, None).await
    }

    /// [`Self::read_batch`], with the wait for a batch's length bounded by `idle`: a
    /// stream that sends nothing for that long ends as if closed (`Ok(None)`). Only the
    /// wait between batches counts: a batch whose length came is never cut by it.
    pub async fn read_batch_within<T: AsyncRead + Unpin>(
        &self,
        io: &mut T,
        idle: Option<Duration>,
    ) -> io::Result<Option<Vec<Frame>>> {
        let len = match idle {
            Some(idle) => match tokio::time::timeout(idle, read_len(io, MAX_REQUEST)).await {
                Ok(read) => read,
                Err(_) => return Ok(None),
            },
            None => read_len(io, MAX_REQUEST).await,
        };
        let len = match len {
            Ok(len) => len,
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e),
        };
        let n = u32::try_from(len).unwrap_or(u32::MAX);
        let closed = |_| io::Error::other("read budget closed");
        // The peer's budget first: a peer waiting on its own budget holds none of the
        // shared one. Both are held while the body is read; the parsed frames then wait
        // in the bounded inbound queue, which has its own bound.
        let _own = self.own.acquire_many(n).await.map_err(closed)?;
        let _shared = self.budget.shared.acquire_many(n).await.map_err(closed)?;
        let mut buf = vec![0u8; len];
        tokio::time::timeout(self.budget.limits.body_deadline, io.read_exact(&mut buf))
            .await
            .map_err(|_| {
                io::Error::new(
                    io::ErrorKind::TimedOut,
                    "a2a body not received within the deadline",
                )
            })??;
        parse_batch(&buf).map(Some).map_err(invalid)
    }
}
