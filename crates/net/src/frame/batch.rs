//! Batches: the frames of one request and their acks (see the format in the parent
//! module). A sender with many frames for one peer sends them on one stream.

use super::{Ack, Frame, FrameError, MAX_ACK, MAX_FRAME};

/// Frames one request may carry.
pub const MAX_BATCH: usize = 64;
/// Frame bytes one request may carry: one frame at its largest, or many small ones.
pub const MAX_BATCH_FRAME_BYTES: usize = MAX_FRAME;
/// The largest encoded batch.
pub const MAX_REQUEST: usize = 2 + 4 * MAX_BATCH + MAX_BATCH_FRAME_BYTES;
/// The largest encoded batch of acks.
pub const MAX_RESPONSE: usize = 2 + (1 + MAX_ACK) * MAX_BATCH;

/// Encodes frames as one request (the caller keeps within [`MAX_BATCH`] frames and
/// [`MAX_BATCH_FRAME_BYTES`]; [`batch_fits`] says whether one more frame would).
pub fn encode_batch(frames: &[Frame]) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + frames.iter().map(|f| 4 + f.encode_len()).sum::<usize>());
    let n = u16::try_from(frames.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&n.to_be_bytes());
    for f in frames.iter().take(usize::from(n)) {
        let bytes = f.encode();
        out.extend_from_slice(&u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_be_bytes());
        out.extend_from_slice(&bytes);
    }
    out
}

/// Whether `next` may join `frames` in one request.
pub fn batch_fits(frames: &[Frame], next: &Frame) -> bool {
    let bytes: usize = frames.iter().map(Frame::encode_len).sum();
    frames.len() < MAX_BATCH && bytes + next.encode_len() <= MAX_BATCH_FRAME_BYTES
}

/// Parses a request: 1 to [`MAX_BATCH`] frames, within [`MAX_REQUEST`] bytes.
pub fn parse_batch(bytes: &[u8]) -> Result<Vec<Frame>, FrameError> {
    let (n, mut rest) = count(bytes, MAX_REQUEST, "frame count")?;
    let mut frames = Vec::with_capacity(n);
    let mut total = 0usize;
    for _ in 0..n {
        let (len, tail) = rest
            .split_first_chunk::<4>()
            .ok_or(FrameError::Batch("truncated length"))?;
        let len =
            usize::try_from(u32::from_be_bytes(*len)).map_err(|_| FrameError::Batch("length"))?;
        if len > tail.len() {
            return Err(FrameError::Batch("truncated frame"));
        }
        let (frame, tail) = tail.split_at(len);
        total = total.saturating_add(len);
        if total > MAX_BATCH_FRAME_BYTES {
            return Err(FrameError::Batch("too many frame bytes"));
        }
        frames.push(Frame::parse(frame)?);
        rest = tail;
    }
    if !rest.is_empty() {
        return Err(FrameError::Trailing(rest.len()));
    }
    Ok(frames)
}

/// Encodes the acks of one request, in the order of its frames.
pub fn encode_acks(acks: &[Ack]) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + acks.len() * (1 + MAX_ACK));
    let n = u16::try_from(acks.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&n.to_be_bytes());
    for a in acks.iter().take(usize::from(n)) {
        let bytes = a.encode();
        out.push(u8::try_from(bytes.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(&bytes);
    }
    out
}

/// Parses the acks of one request: 1 to [`MAX_BATCH`].
pub fn parse_acks(bytes: &[u8]) -> Result<Vec<Ack>, FrameError> {
    let (n, mut rest) = count(bytes, MAX_RESPONSE, "ack count")?;
    let mut acks = Vec::with_capacity(n);
    for _ in 0..n {
        let (len, tail) = rest
            .split_first()
            .ok_or(FrameError::Batch("truncated ack length"))?;
        let len = usize::from(*len);
        if len > tail.len() {
            return Err(FrameError::Batch("truncated ack"));
        }
        let (ack, tail) = tail.split_at(len);
        acks.push(Ack::parse(ack)?);
        rest = tail;
    }
    if !rest.is_empty() {
        return Err(FrameError::Trailing(rest.len()));
    }
    Ok(acks)
}

/// The size check and the item count both encodings start with: 1 to [`MAX_BATCH`].
fn count<'a>(
    bytes: &'a [u8],
    limit: usize,
    what: &'static str,
) -> Result<(usize, &'a [u8]), FrameError> {
    if bytes.len() > limit {
        return Err(FrameError::TooLarge {
            len: bytes.len(),
            limit,
        });
    }
    let (n, rest) = bytes
        .split_first_chunk::<2>()
        .ok_or(FrameError::Truncated(bytes.len()))?;
    let n = usize::from(u16::from_be_bytes(*n));
    if n == 0 || n > MAX_BATCH {
        return Err(FrameError::Batch(what));
    }
    Ok((n, rest))
}
