//! The two group wire messages (their bytes; what they mean is in `group`): a member's
//! sender key as distributed to the others, and a group message signed by its sender key.

use talos_primitives::Ed25519Public;

use crate::aead;
use crate::codec::{DecodeError, Reader};
use crate::keys::ChainKey;
use crate::membership::GroupId;
use crate::message::{MAX_PLAINTEXT_LEN, VERSION};

const KIND_DISTRIBUTION: u8 = 0x20;
pub(super) const KIND_GROUP_MESSAGE: u8 = 0x21;

/// A member's sender key as handed to the others (sent inside a pairwise session).
#[derive(Clone, PartialEq, Eq)]
pub struct SenderKeyDistribution {
    /// The group.
    pub group: GroupId,
    /// The member whose key this is.
    pub sender: Ed25519Public,
    /// The membership epoch (the sequence number of the event that started it).
    pub epoch: u64,
    /// The chain's iteration at `chain_key`.
    pub iteration: u32,
    pub(super) chain_key: ChainKey,
    /// The key that signs this sender's group messages.
    pub signing_public: Ed25519Public,
}

impl core::fmt::Debug for SenderKeyDistribution {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SenderKeyDistribution")
            .field("group", &self.group)
            .field("sender", &self.sender)
            .field("epoch", &self.epoch)
            .field("iteration", &self.iteration)
            .finish_non_exhaustive()
    }
}

impl SenderKeyDistribution {
    /// version ‖ 0x20 ‖ group ‖ sender ‖ epoch ‖ iteration ‖ chain key ‖ signing key.
    pub fn encode(&self) -> zeroize::Zeroizing<Vec<u8>> {
        let mut out = zeroize::Zeroizing::new(Vec::with_capacity(2 + 32 * 4 + 12));
        out.extend_from_slice(&[VERSION, KIND_DISTRIBUTION]);
        out.extend_from_slice(&self.group.0);
        out.extend_from_slice(self.sender.as_bytes());
        out.extend_from_slice(&self.epoch.to_be_bytes());
        out.extend_from_slice(&self.iteration.to_be_bytes());
        out.extend_from_slice(&self.chain_key.0);
        out.extend_from_slice(self.signing_public.as_bytes());
        out
    }

    /// Parses a distribution.
    pub fn parse(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        expect_header(&mut r, KIND_DISTRIBUTION)?;
        let group = GroupId(r.array("group id")?);
        let sender = Ed25519Public::from_bytes(r.array("sender")?)
            .map_err(|_| DecodeError::Invalid("sender"))?;
        let epoch = r.u64("epoch")?;
        let iteration = r.u32("iteration")?;
        let chain_key = ChainKey(r.array("chain key")?);
        let signing_public = Ed25519Public::from_bytes(r.array("signing key")?)
            .map_err(|_| DecodeError::Invalid("signing key"))?;
        r.finish()?;
        Ok(Self {
            group,
            sender,
            epoch,
            iteration,
            chain_key,
            signing_public,
        })
    }
}

fn expect_header(r: &mut Reader<'_>, kind: u8) -> Result<(), DecodeError> {
    let version = r.u8("version")?;
    if version != VERSION {
        return Err(DecodeError::Version(version));
    }
    let k = r.u8("kind")?;
    if k != kind {
        return Err(DecodeError::Kind(k));
    }
    Ok(())
}

/// A group message: version ‖ 0x21 ‖ group ‖ sender ‖ epoch ‖ iteration ‖ ciphertext ‖
/// signature (Ed25519 by the sender key's signing key over everything before it).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct GroupMessage {
    pub(super) bytes: Vec<u8>,
    /// The group.
    pub group: GroupId,
    /// The sending member.
    pub sender: Ed25519Public,
    /// The sender key's epoch.
    pub epoch: u64,
    /// The chain iteration.
    pub iteration: u32,
}

pub(super) const GROUP_PREFIX: usize = 2 + 32 + 32 + 8 + 4;

impl GroupMessage {
    /// Parses a group message.
    pub fn parse(bytes: &[u8]) -> Result<Self, DecodeError> {
        let max = GROUP_PREFIX + MAX_PLAINTEXT_LEN + aead::TAG_LEN + 64;
        if bytes.len() > max {
            return Err(DecodeError::TooLarge {
                len: bytes.len(),
                max,
            });
        }
        let mut r = Reader::new(bytes);
        expect_header(&mut r, KIND_GROUP_MESSAGE)?;
        let group = GroupId(r.array("group id")?);
        let sender = Ed25519Public::from_bytes(r.array("sender")?)
            .map_err(|_| DecodeError::Invalid("sender"))?;
        let epoch = r.u64("epoch")?;
        let iteration = r.u32("iteration")?;
        if r.remaining() < aead::TAG_LEN + 64 {
            return Err(DecodeError::Truncated {
                what: "ciphertext and signature",
                need: aead::TAG_LEN + 64 - r.remaining(),
            });
        }
        Ok(Self {
            bytes: bytes.to_vec(),
            group,
            sender,
            epoch,
            iteration,
        })
    }

    /// The encoding.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub(super) fn split(&self) -> (&[u8], &[u8], &[u8]) {
        let sig_at = self.bytes.len().saturating_sub(64);
        let (signed, sig) = self.bytes.split_at(sig_at);
        let (prefix, ct) = signed.split_at(GROUP_PREFIX.min(signed.len()));
        (prefix, ct, sig)
    }
}
