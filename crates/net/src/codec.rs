//! The request/response codec for `/talos/a2a/2.0.0`: a batch of frames per stream, their
//! acks back.
//!
//! Each message is a u32 big-endian length and that many bytes. The length is checked
//! against the limit before a byte of the body is allocated, so an oversize frame costs
//! the sender its stream and costs us four bytes of reading. Inbound bodies are drawn
//! from byte budgets ([`ReadLimits`]): one per connection and one shared by every
//! connection. Past them, readers wait, their yamux windows fill and the senders stall,
//! so a flood of frames cannot pin more memory than the shared budget, and one peer
//! (at most `max_connections_per_peer` connections) holds only its connections' share.
//! A body must arrive within a short deadline once its length is read, so a slow sender
//! cannot sit on budget for the whole request timeout.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;
use libp2p::request_response;

use crate::frame::{
    Ack, Frame, MAX_REQUEST, MAX_RESPONSE, encode_acks, encode_batch, parse_acks, parse_batch,
};

mod approval;
mod invoke;
pub use approval::ApprovalCodec;
pub use invoke::InvokeCodec;

/// Bytes of inbound frame bodies being read at once, across all streams.
pub const DEFAULT_READ_BUDGET: usize = 16 << 20;
/// Bytes of inbound frame bodies being read at once on one connection: four of the
/// largest requests. A peer with four connections holds about 5 % of the shared budget.
pub const DEFAULT_CONNECTION_BUDGET: usize = 4 * MAX_REQUEST;
/// How long a body may take to arrive once its length is read: 48 KiB on a link as slow
/// as 16 KiB/s, with room to spare. Honest senders write a body in one go.
pub const DEFAULT_BODY_DEADLINE: Duration = Duration::from_secs(5);

/// The budgets and the deadline that bound inbound reads.
#[derive(Clone, Copy, Debug)]
pub struct ReadLimits {
    /// Bytes being read at once across all connections.
    pub shared: usize,
    /// Bytes being read at once on one connection.
    pub per_connection: usize,
    /// Time allowed for a body once its length is read.
    pub body_deadline: Duration,
}

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits {
            shared: DEFAULT_READ_BUDGET,
            per_connection: DEFAULT_CONNECTION_BUDGET,
            body_deadline: DEFAULT_BODY_DEADLINE,
        }
    }
}

/// The a2a codec: frames out, acks back.
///
/// request-response clones the codec it is given once per connection (into the
/// connection's handler) and the handler clones its copy once per stream. The given
/// codec is a template without a connection budget; a clone of a template gets a fresh
/// connection budget, and a clone of a connection's codec shares it. So each connection
/// has its own budget without the codec knowing the peer (the `Codec` trait does not say).
/// This rests on libp2p-request-response cloning the behaviour's codec in
/// `handle_established_{inbound,outbound}_connection` and the handler's codec per stream;
/// `a_slow_sender_holds_only_its_connections_budget` (tests/it/budget.rs) checks the
/// clone rules.
#[derive(Debug)]
pub struct A2aCodec {
    shared: Arc<Semaphore>,
    connection: Option<Arc<Semaphore>>,
    limits: ReadLimits,
}

impl Clone for A2aCodec {
    fn clone(&self) -> Self {
        let connection = match &self.connection {
            Some(c) => c.clone(),
            None => Arc::new(Semaphore::new(self.limits.per_connection.max(MAX_REQUEST))),
        };
        A2aCodec {
            shared: self.shared.clone(),
            connection: Some(connection),
            limits: self.limits,
        }
    }
}

impl Default for A2aCodec {
    fn default() -> Self {
        Self::new(ReadLimits::default())
    }
}

impl A2aCodec {
    /// A codec template with these limits (each budget at least one largest request).
    pub fn new(limits: ReadLimits) -> Self {
        A2aCodec {
            shared: Arc::new(Semaphore::new(limits.shared.max(MAX_REQUEST))),
            connection: None,
            limits,
        }
    }

    /// A codec whose streams together read at most `bytes` of frame bodies at once.
    pub fn with_read_budget(bytes: usize) -> Self {
        Self::new(ReadLimits {
            shared: bytes,
            ..ReadLimits::default()
        })
    }
}

async fn read_len<T: AsyncRead + Unpin + Send>(io: &mut T, limit: usize) -> io::Result<usize> {
    let mut len = [0u8; 4];
    io.read_exact(&mut len).await?;
    let len = usize::try_from(u32::from_be_bytes(len))
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "length does not fit"))?;
    if len > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a2a message of {len} bytes exceeds the {limit}-byte limit"),
        ));
    }
    Ok(len)
}

/// Reads one length-prefixed message of at most `limit` bytes, with no budget (acks, and
/// the invoke protocol, whose behaviour bounds concurrent streams).
pub(crate) async fn read_bounded<T: AsyncRead + Unpin + Send>(
    io: &mut T,
    limit: usize,
) -> io::Result<Vec<u8>> {
    let len = read_len(io, limit).await?;
    let mut buf = vec![0u8; len];
    io.read_exact(&mut buf).await?;
    Ok(buf)
}

impl A2aCodec {
    /// Reads one request body under the connection's and the shared budget, within the
    /// body deadline.
    async fn read_budgeted<T: AsyncRead + Unpin + Send>(&self, io: &mut T) -> io::Result<Vec<u8>> {
        let len = read_len(io, MAX_REQUEST).await?;
        let n = u32::try_from(len).unwrap_or(u32::MAX);
        let closed = |_| io::Error::other("read budget closed");
        // The connection's budget first: a peer waiting on its own budget holds none of
        // the shared one. Both are held while the body is read; the parsed frames then
        // wait in the bounded inbound queue, which has its own bound.
        let _conn = match &self.connection {
            Some(c) => Some(c.acquire_many(n).await.map_err(closed)?),
            None => None,
        };
        let _shared = self.shared.acquire_many(n).await.map_err(closed)?;
        let mut buf = vec![0u8; len];
        tokio::time::timeout(self.limits.body_deadline, io.read_exact(&mut buf))
            .await
            .map_err(|_| {
                io::Error::new(
                    io::ErrorKind::TimedOut,
                    "a2a body not received within the deadline",
                )
            })??;
        Ok(buf)
    }
}

pub(crate) async fn write_prefixed<T: AsyncWrite + Unpin + Send>(
    io: &mut T,
    bytes: &[u8],
) -> io::Result<()> {
    let len = u32::try_from(bytes.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a2a message too large"))?;
    io.write_all(&len.to_be_bytes()).await?;
    io.write_all(bytes).await?;
    io.flush().await
}

fn invalid(e: crate::frame::FrameError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

impl request_response::Codec for A2aCodec {
    type Protocol = StreamProtocol;
    type Request = Vec<Frame>;
    type Response = Vec<Ack>;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<Frame>>
    where
        T: AsyncRead + Unpin + Send,
    {
        parse_batch(&self.read_budgeted(io).await?).map_err(invalid)
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<Ack>>
    where
        T: AsyncRead + Unpin + Send,
    {
        parse_acks(&read_bounded(io, MAX_RESPONSE).await?).map_err(invalid)
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        frames: Vec<Frame>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_prefixed(io, &encode_batch(&frames)).await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        acks: Vec<Ack>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_prefixed(io, &encode_acks(&acks)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::io::Cursor;
    use libp2p::request_response::Codec;

    const P: StreamProtocol = StreamProtocol::new(crate::A2A_PROTOCOL);

    #[test]
    fn oversize_lengths_are_refused_before_reading() {
        futures::executor::block_on(async {
            let mut bytes = u32::try_from(MAX_REQUEST + 1)
                .unwrap()
                .to_be_bytes()
                .to_vec();
            // No body follows: a reader that trusted the length would wait or allocate.
            let err = A2aCodec::default()
                .read_request(&P, &mut Cursor::new(&mut bytes))
                .await
                .unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData);
            let mut ack = u32::try_from(MAX_RESPONSE + 1)
                .unwrap()
                .to_be_bytes()
                .to_vec();
            let err = A2aCodec::default()
                .read_response(&P, &mut Cursor::new(&mut ack))
                .await
                .unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        });
    }

    // The body deadline is a tokio timer, so this one needs tokio's runtime.
    #[tokio::test]
    async fn frames_and_acks_cross_the_codec() {
        {
            let frame = Frame::new(crate::FrameKind::Initial, 7, vec![9; 1000]).unwrap();
            let mut buf = Vec::new();
            A2aCodec::default()
                .write_request(&P, &mut Cursor::new(&mut buf), vec![frame.clone()])
                .await
                .unwrap();
            let back = A2aCodec::default()
                .read_request(&P, &mut Cursor::new(&mut buf))
                .await
                .unwrap();
            assert_eq!(back, vec![frame]);
            let ack = Ack {
                seq: 7,
                status: crate::AckStatus::Duplicate,
            };
            let mut buf = Vec::new();
            A2aCodec::default()
                .write_response(&P, &mut Cursor::new(&mut buf), vec![ack])
                .await
                .unwrap();
            assert_eq!(
                A2aCodec::default()
                    .read_response(&P, &mut Cursor::new(&mut buf))
                    .await
                    .unwrap(),
                vec![ack]
            );
            // A truncated body is an error, not a short frame.
            buf.pop();
            assert!(
                A2aCodec::default()
                    .read_response(&P, &mut Cursor::new(&mut buf))
                    .await
                    .is_err()
            );
        }
    }
}
