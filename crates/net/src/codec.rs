//! Length-prefixed messages, shared by the a2a streams ([`crate::a2a`]) and the
//! request/response codecs of `/talos/invoke/1.0.0` and `/talos/approval/1.0.0`: a u32
//! big-endian length and that many bytes, the length checked against its limit before a
//! byte of the body is allocated.

use std::io;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

mod approval;
mod invoke;
pub use approval::ApprovalCodec;
pub use invoke::InvokeCodec;

/// Reads a length prefix and refuses one over `limit`.
pub(crate) async fn read_len<T: AsyncRead + Unpin>(io: &mut T, limit: usize) -> io::Result<usize> {
    let mut len = [0u8; 4];
    io.read_exact(&mut len).await?;
    let len = usize::try_from(u32::from_be_bytes(len))
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "length does not fit"))?;
    if len > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("message of {len} bytes exceeds the {limit}-byte limit"),
        ));
    }
    Ok(len)
}

/// Reads one length-prefixed message of at most `limit` bytes, with no budget (acks, and
/// the invoke protocol, whose behaviour bounds concurrent streams).
pub(crate) async fn read_bounded<T: AsyncRead + Unpin>(
    io: &mut T,
    limit: usize,
) -> io::Result<Vec<u8>> {
    let len = read_len(io, limit).await?;
    let mut buf = vec![0u8; len];
    io.read_exact(&mut buf).await?;
    Ok(buf)
}

/// Writes `bytes` behind their length and flushes.
pub(crate) async fn write_prefixed<T: AsyncWrite + Unpin>(
    io: &mut T,
    bytes: &[u8],
) -> io::Result<()> {
    let len = u32::try_from(bytes.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "message too large"))?;
    // One write: each write on a yamux stream is its own yamux frame, so a separate
    // 4-byte prefix cost a second frame and (strace) a second send on this side and,
    // often, a second wake-up of the reader on the other.
    let mut message = Vec::with_capacity(4 + bytes.len());
    message.extend_from_slice(&len.to_be_bytes());
    message.extend_from_slice(bytes);
    io.write_all(&message).await?;
    io.flush().await
}

/// A frame-format error as the I/O error a reader returns.
pub(crate) fn invalid(e: crate::frame::FrameError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::io::Cursor;

    #[test]
    fn oversize_lengths_are_refused_before_reading() {
        futures::executor::block_on(async {
            // No body follows: a reader that trusted the length would wait or allocate.
            let mut bytes = 101u32.to_be_bytes().to_vec();
            let err = read_bounded(&mut Cursor::new(&mut bytes), 100)
                .await
                .unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        });
    }

    #[test]
    fn messages_cross_and_truncation_is_an_error() {
        futures::executor::block_on(async {
            let mut buf = Vec::new();
            write_prefixed(&mut Cursor::new(&mut buf), b"acks")
                .await
                .unwrap();
            assert_eq!(
                read_bounded(&mut Cursor::new(&buf), 4).await.unwrap(),
                b"acks"
            );
            buf.pop();
            assert!(read_bounded(&mut Cursor::new(&buf), 4).await.is_err());
        });
    }
}
