//! A member's group state as bytes, so a node keeps its groups across restarts.

use std::collections::{BTreeMap, VecDeque};

use ed25519_dalek::SigningKey;
use talos_primitives::Ed25519Public;

use super::{EPOCHS_KEPT, Group, OwnSenderKey, ReceiverChain};
use crate::codec::{DecodeError, Reader};
use crate::keys::{ChainKey, MessageKey};
use crate::membership::Membership;
use crate::message::VERSION;
use crate::session::MAX_SKIP;

const KIND_GROUP_STATE: u8 = 0x23;

impl Group {
    /// Encodes this member's whole group state (secrets included: seal it with
    /// [`crate::at_rest`]), so a node can keep groups across restarts.
    ///
    /// Layout: version ‖ 0x23 ‖ me ‖ membership ‖ own? ‖ peers; see `FORMAT.md`.
    pub fn encode(&self) -> zeroize::Zeroizing<Vec<u8>> {
        let mut out = zeroize::Zeroizing::new(Vec::with_capacity(256));
        out.extend_from_slice(&[VERSION, KIND_GROUP_STATE]);
        out.extend_from_slice(self.me.as_bytes());
        self.membership.encode_into(&mut out);
        match &self.own {
            None => out.push(0),
            Some(o) => {
                out.push(1);
                out.extend_from_slice(&o.epoch.to_be_bytes());
                out.extend_from_slice(&o.chain.0);
                out.extend_from_slice(&o.iteration.to_be_bytes());
                out.extend_from_slice(&o.signing.to_bytes());
            }
        }
        // Bounded by members × epochs kept, well within two bytes.
        out.extend_from_slice(
            &u16::try_from(self.peers.len())
                .unwrap_or(u16::MAX)
                .to_be_bytes(),
        );
        for ((sender, epoch), c) in &self.peers {
            out.extend_from_slice(sender.as_bytes());
            out.extend_from_slice(&epoch.to_be_bytes());
            out.extend_from_slice(c.signing_public.as_bytes());
            out.extend_from_slice(&c.chain.0);
            out.extend_from_slice(&c.iteration.to_be_bytes());
            out.extend_from_slice(
                &u16::try_from(c.skipped.len())
                    .unwrap_or(u16::MAX)
                    .to_be_bytes(),
            );
            for (n, mk) in &c.skipped {
                out.extend_from_slice(&n.to_be_bytes());
                out.extend_from_slice(&mk.0);
            }
        }
        out
    }

    /// Decodes [`Self::encode`]'s output, checking every bound.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let version = r.u8("version")?;
        if version != VERSION {
            return Err(DecodeError::Version(version));
        }
        let kind = r.u8("kind")?;
        if kind != KIND_GROUP_STATE {
            return Err(DecodeError::Kind(kind));
        }
        let key = |b: [u8; 32]| {
            Ed25519Public::from_bytes(b).map_err(|_| DecodeError::Invalid("group key"))
        };
        let me = key(r.array("me")?)?;
        let membership = Membership::decode_from(&mut r)?;
        let own = match r.u8("own flag")? {
            0 => None,
            1 => {
                let epoch = r.u64("own epoch")?;
                let chain = ChainKey(r.array("own chain")?);
                let iteration = r.u32("own iteration")?;
                let mut seed: [u8; 32] = r.array("own signing key")?;
                let signing = SigningKey::from_bytes(&seed);
                zeroize::Zeroize::zeroize(&mut seed);
                let public = key(signing.verifying_key().to_bytes())?;
                Some(OwnSenderKey {
                    epoch,
                    chain,
                    iteration,
                    signing,
                    public,
                })
            }
            _ => return Err(DecodeError::Invalid("own flag")),
        };
        let n = usize::from(u16::from_be_bytes(r.array("peer count")?));
        if n > crate::membership::MAX_MEMBERS * (EPOCHS_KEPT + 1) {
            return Err(DecodeError::Invalid("peer count"));
        }
        let mut peers = BTreeMap::new();
        for _ in 0..n {
            let sender = key(r.array("peer")?)?;
            let epoch = r.u64("peer epoch")?;
            let signing_public = key(r.array("peer signing key")?)?;
            let chain = ChainKey(r.array("peer chain")?);
            let iteration = r.u32("peer iteration")?;
            let k = usize::from(u16::from_be_bytes(r.array("skipped count")?));
            if k > MAX_SKIP as usize {
                return Err(DecodeError::Invalid("skipped count"));
            }
            let mut skipped = VecDeque::with_capacity(k);
            for _ in 0..k {
                let n = r.u32("skipped iteration")?;
                skipped.push_back((n, MessageKey(r.array("skipped key")?)));
            }
            let chain = ReceiverChain {
                signing_public,
                chain,
                iteration,
                skipped,
            };
            // Strictly ascending, as the map iterates: the encoding stays canonical.
            if peers
                .last_key_value()
                .is_some_and(|(last, _)| *last >= (sender, epoch))
            {
                return Err(DecodeError::Invalid("peer chains out of order"));
            }
            peers.insert((sender, epoch), chain);
        }
        r.finish()?;
        Ok(Self {
            me,
            membership,
            own,
            peers,
        })
    }
}
