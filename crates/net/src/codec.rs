//! The request/response codec for `/talos/a2a/2.0.0`: a batch of frames per stream, their
//! acks back.
//!
//! Each message is a u32 big-endian length and that many bytes. The length is checked
//! against the limit before a byte of the body is allocated, so an oversize frame costs
//! the sender its stream and costs us four bytes of reading. Inbound bodies are also
//! drawn from one byte budget shared by every stream of every connection
//! ([`DEFAULT_READ_BUDGET`]): past it, readers wait, their yamux windows fill and the
//! senders stall, so a flood of frames cannot pin more memory than the budget.

use std::io;
use std::sync::Arc;

use tokio::sync::Semaphore;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;
use libp2p::request_response;

use crate::frame::{
    Ack, Frame, MAX_REQUEST, MAX_RESPONSE, encode_acks, encode_batch, parse_acks, parse_batch,
};

mod invoke;
pub use invoke::InvokeCodec;

/// Bytes of inbound frame bodies being read at once, across all streams.
pub const DEFAULT_READ_BUDGET: usize = 16 << 20;

/// The a2a codec: frames out, acks back.
#[derive(Clone, Debug)]
pub struct A2aCodec {
    budget: Arc<Semaphore>,
}

impl Default for A2aCodec {
    fn default() -> Self {
        Self::with_read_budget(DEFAULT_READ_BUDGET)
    }
}

impl A2aCodec {
    /// A codec whose streams together read at most `bytes` of frame bodies at once.
    pub fn with_read_budget(bytes: usize) -> Self {
        A2aCodec {
            budget: Arc::new(Semaphore::new(bytes.max(MAX_REQUEST))),
        }
    }
}

pub(crate) async fn read_bounded<T: AsyncRead + Unpin + Send>(
    io: &mut T,
    limit: usize,
    budget: Option<&Semaphore>,
) -> io::Result<Vec<u8>> {
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
    // Held while the body is read; the parsed frame then waits in the bounded inbound
    // queue, which has its own bound.
    let _permit = match budget {
        Some(b) => Some(
            b.acquire_many(u32::try_from(len).unwrap_or(u32::MAX))
                .await
                .map_err(|_| io::Error::other("read budget closed"))?,
        ),
        None => None,
    };
    let mut buf = vec![0u8; len];
    io.read_exact(&mut buf).await?;
    Ok(buf)
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
        parse_batch(&read_bounded(io, MAX_REQUEST, Some(&self.budget)).await?).map_err(invalid)
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<Ack>>
    where
        T: AsyncRead + Unpin + Send,
    {
        parse_acks(&read_bounded(io, MAX_RESPONSE, None).await?).map_err(invalid)
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

    #[test]
    fn frames_and_acks_cross_the_codec() {
        futures::executor::block_on(async {
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
        });
    }
}
