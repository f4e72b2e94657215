//! A bounds-checked reader for the fixed binary layouts of `FORMAT.md`. The layouts are
//! flat sequences of fixed-size fields, so a cursor is all the parsing they need; a
//! general serialization crate would add framing the formats do not have.

/// Why bytes did not parse. Every decoder in this crate returns this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input ended inside a field.
    #[error("truncated: {what} needs {need} more bytes")]
    Truncated {
        /// The field being read.
        what: &'static str,
        /// How many bytes were missing.
        need: usize,
    },
    /// The version byte is not one this build reads.
    #[error("unsupported version {0}")]
    Version(u8),
    /// The kind byte is not a known message kind.
    #[error("unknown kind 0x{0:02x}")]
    Kind(u8),
    /// Flag bits that no version defines are set.
    #[error("unknown flag bits 0x{0:02x}")]
    Flags(u8),
    /// Bytes follow the last field.
    #[error("{0} trailing bytes")]
    Trailing(usize),
    /// The input is larger than the format allows.
    #[error("too large: {len} bytes, limit {max}")]
    TooLarge {
        /// Input length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A field holds a value the format forbids.
    #[error("invalid {0}")]
    Invalid(&'static str),
}

pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) const fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    pub(crate) fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.buf.len() < n {
            return Err(DecodeError::Truncated {
                what,
                need: n - self.buf.len(),
            });
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    pub(crate) fn array<const N: usize>(
        &mut self,
        what: &'static str,
    ) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(what)?[0])
    }

    pub(crate) fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array(what)?))
    }

    pub(crate) fn u64(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array(what)?))
    }

    pub(crate) const fn rest(&mut self) -> &'a [u8] {
        let rest = self.buf;
        self.buf = &[];
        rest
    }

    pub(crate) const fn remaining(&self) -> usize {
        self.buf.len()
    }

    pub(crate) const fn finish(&self) -> Result<(), DecodeError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::Trailing(self.buf.len()))
        }
    }
}
