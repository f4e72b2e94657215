//! Finding 7 of issue 17: a slow sender could hold the shared inbound read budget for
//! the whole request timeout. Now each peer reads under its own sub-budget before the
//! shared one, and a body must arrive within a deadline once its length is read.
//!
//! No wall-clock races: a stalled stream never completes, so the only way its read ends
//! is the deadline; the budget test checks what is pending and what completes, with a
//! deadline far longer than the test.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::AsyncRead;
use futures::io::Cursor;
use libp2p::PeerId;
use talos_net::FrameKind;
use talos_net::a2a::{ReadBudget, ReadLimits};
use talos_net::frame::{Frame, MAX_REQUEST, encode_batch};

/// A sender that announces a full-size body and then sends nothing more.
struct Stall {
    prefix: [u8; 4],
    at: usize,
}

impl Stall {
    fn new() -> Self {
        Stall {
            prefix: u32::try_from(MAX_REQUEST).unwrap().to_be_bytes(),
            at: 0,
        }
    }
}

impl AsyncRead for Stall {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if self.at < 4 {
            let n = buf.len().min(4 - self.at);
            let at = self.at;
            buf[..n].copy_from_slice(&self.prefix[at..at + n]);
            self.at += n;
            return Poll::Ready(Ok(n));
        }
        Poll::Pending // a slow sender: the rest never comes
    }
}

fn honest_request() -> Vec<u8> {
    batch_bytes(1)
}

fn batch_bytes(seq: u64) -> Vec<u8> {
    let frame = Frame::new(FrameKind::Initial, seq, vec![7; 1000]).unwrap();
    let body = encode_batch(&[frame]);
    let mut out = u32::try_from(body.len()).unwrap().to_be_bytes().to_vec();
    out.extend_from_slice(&body);
    out
}

#[tokio::test]
async fn a_slow_sender_holds_only_its_own_budget() {
    // Room for two largest batches per peer and eight in all; the deadline is far
    // beyond the test, so nothing here ends by timing out.
    let budget = ReadBudget::new(ReadLimits {
        shared: 8 * MAX_REQUEST,
        per_peer: 2 * MAX_REQUEST,
        body_deadline: Duration::from_secs(3600),
    });
    let slow = PeerId::random();
    let mut slow_reads = Vec::new();
    for _ in 0..2 {
        let share = budget.peer(slow);
        let mut read = Box::pin(async move { share.read_batch(&mut Stall::new()).await });
        // One poll reads the length, takes the budget and waits for the body.
        assert!(futures::poll!(&mut read).is_pending());
        slow_reads.push(read);
    }

    // A third stream of the slow peer waits on that peer's budget...
    let share = budget.peer(slow);
    let mut third_read = Box::pin(async move { share.read_batch(&mut Stall::new()).await });
    assert!(futures::poll!(&mut third_read).is_pending());

    // ...while other peers read at once: they never wait on the slow one.
    for _ in 0..6 {
        let got = budget
            .peer(PeerId::random())
            .read_batch(&mut Cursor::new(honest_request()))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.len(), 1);
    }
    // The slow peer is still stuck on its own budget.
    assert!(futures::poll!(&mut third_read).is_pending());
    // Once its stalled streams are gone (the deadline, or the peer hanging up), the
    // peer's budget comes back: the waiting stream takes half of it and an honest
    // batch from the same peer reads at once.
    drop(slow_reads);
    let got = budget
        .peer(slow)
        .read_batch(&mut Cursor::new(honest_request()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.len(), 1);
    drop(third_read);
    // Every share is gone, so is every peer's entry: the map holds only live peers.
    assert_eq!(budget.peers(), 0);
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_is_refused() {
    let budget = ReadBudget::new(ReadLimits {
        body_deadline: Duration::from_millis(50),
        ..ReadLimits::default()
    });
    let share = budget.peer(PeerId::random());
    let err = share.read_batch(&mut Stall::new()).await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    // The budget it held is released: an honest body reads right after.
    let got = share
        .read_batch(&mut Cursor::new(honest_request()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.len(), 1);
}

#[tokio::test]
async fn batches_follow_each_other_on_one_stream_until_it_ends() {
    let share = ReadBudget::new(ReadLimits::default()).peer(PeerId::random());
    let mut wire = batch_bytes(1);
    wire.extend(batch_bytes(2));
    let mut stream = Cursor::new(wire);
    for seq in [1, 2] {
        let got = share.read_batch(&mut stream).await.unwrap().unwrap();
        assert_eq!(got[0].seq(), seq);
    }
    // The end between batches is the dialer closing: not an error.
    assert!(share.read_batch(&mut stream).await.unwrap().is_none());
    // A batch cut short is one.
    let mut cut = batch_bytes(3);
    cut.pop();
    assert!(share.read_batch(&mut Cursor::new(cut)).await.is_err());
    // So is a length over the bound, refused before its body is read.
    let over = u32::try_from(MAX_REQUEST + 1)
        .unwrap()
        .to_be_bytes()
        .to_vec();
    let err = share.read_batch(&mut Cursor::new(over)).await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
}
