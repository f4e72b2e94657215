//! Finding 7 of issue 17: a slow sender could hold the shared inbound read budget for
//! the whole request timeout. Now each connection reads under its own sub-budget before
//! the shared one, and a body must arrive within a deadline once its length is read.
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
use libp2p::StreamProtocol;
use libp2p::request_response::Codec;
use talos_net::FrameKind;
use talos_net::codec::{A2aCodec, ReadLimits};
use talos_net::frame::{Frame, MAX_REQUEST, encode_batch};

const P: StreamProtocol = StreamProtocol::new(talos_net::A2A_PROTOCOL);

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
    let frame = Frame::new(FrameKind::Initial, 1, vec![7; 1000]).unwrap();
    let body = encode_batch(&[frame]);
    let mut out = u32::try_from(body.len()).unwrap().to_be_bytes().to_vec();
    out.extend_from_slice(&body);
    out
}

#[tokio::test]
async fn a_slow_sender_holds_only_its_connections_budget() {
    // Room for two largest requests per connection and eight in all; the deadline is
    // far beyond the test, so nothing here ends by timing out.
    let template = A2aCodec::new(ReadLimits {
        shared: 8 * MAX_REQUEST,
        per_connection: 2 * MAX_REQUEST,
        body_deadline: Duration::from_secs(3600),
    });
    // The slow peer's connection: the behaviour clones the template for it, and the
    // handler clones that per stream.
    let slow_conn = template.clone();
    let mut slow_reads = Vec::new();
    for _ in 0..2 {
        let mut codec = slow_conn.clone();
        let mut read = Box::pin(async move { codec.read_request(&P, &mut Stall::new()).await });
        // One poll reads the length, takes the budget and waits for the body.
        assert!(futures::poll!(&mut read).is_pending());
        slow_reads.push(read);
    }

    // A third stream on the slow connection waits on that connection's budget...
    let mut third = slow_conn.clone();
    let mut third_read = Box::pin(async move { third.read_request(&P, &mut Stall::new()).await });
    assert!(futures::poll!(&mut third_read).is_pending());

    // ...while another connection reads at once: it never waits on the slow peer.
    for _ in 0..6 {
        let mut other = template.clone();
        let got = other
            .read_request(&P, &mut Cursor::new(honest_request()))
            .await
            .unwrap();
        assert_eq!(got.len(), 1);
    }
    // The slow connection is still stuck on its own budget.
    assert!(futures::poll!(&mut third_read).is_pending());
    // Once its stalled streams are gone (the deadline, or the peer hanging up), the
    // connection's budget comes back: the waiting stream takes half of it and an honest
    // request on the same connection reads at once.
    drop(slow_reads);
    let got = slow_conn
        .clone()
        .read_request(&P, &mut Cursor::new(honest_request()))
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    drop(third_read);
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_is_refused() {
    let mut codec = A2aCodec::new(ReadLimits {
        body_deadline: Duration::from_millis(50),
        ..ReadLimits::default()
    })
    .clone();
    let err = codec.read_request(&P, &mut Stall::new()).await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    // The budget it held is released: an honest body reads right after.
    let got = codec
        .read_request(&P, &mut Cursor::new(honest_request()))
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
}
