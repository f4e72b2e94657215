//! Sender-key groups (as Signal's): each member has a chain key and a signing key for the
//! group, hands them to every other member over the pairwise sessions, and encrypts each
//! group message once. Every membership change starts a new epoch: each member makes a
//! fresh sender key and sends it only to the members of the new epoch, so a removed member
//! cannot read what follows and a new member cannot read what came before.

use std::collections::BTreeMap;
use std::collections::VecDeque;

use ed25519_dalek::{Signer, SigningKey};
use rand::CryptoRng;
use talos_identity::keys::verify;
use talos_identity::{IdentityKey, Signature};
use talos_primitives::Ed25519Public;

use crate::aead;
use crate::kdf::{kdf_ck, message_keys};
use crate::keys::{ChainKey, MessageKey};
use crate::membership::{EventKind, GroupId, Membership, MembershipError, MembershipEvent};
use crate::message::{MAX_PLAINTEXT_LEN, VERSION};
use crate::session::MAX_SKIP;

mod messages;
mod state;
pub mod wire;

use messages::{GROUP_PREFIX, KIND_GROUP_MESSAGE};
pub use messages::{GroupMessage, SenderKeyDistribution};

const GROUP_INFO: &[u8] = b"group";
/// Epochs kept per sender, so messages sent just before a rekey still decrypt.
pub const EPOCHS_KEPT: usize = 2;

/// Why a group operation failed. Decryption failures leave the group unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GroupError {
    /// A membership event was refused.
    #[error(transparent)]
    Membership(#[from] MembershipError),
    /// We are not (or no longer) a member.
    #[error("not a member of the group")]
    NotMember,
    /// The message is for another group.
    #[error("wrong group")]
    WrongGroup,
    /// The sender is not a member.
    #[error("sender is not a member")]
    SenderNotMember,
    /// A distribution arrived over a session with someone other than its sender.
    #[error("sender key distributed by someone other than its owner")]
    WrongDistributor,
    /// No sender key for this sender and epoch (never received, or a removed epoch).
    #[error("no sender key for this sender and epoch")]
    UnknownSenderKey,
    /// The sender-key signature does not verify.
    #[error("bad group message signature")]
    BadSignature,
    /// More than MAX_SKIP iterations ahead.
    #[error("message skips {0} keys, more than MAX_SKIP")]
    TooManySkipped(u64),
    /// This iteration was already decrypted (or is older than the sender key).
    #[error("duplicate group message (iteration {0})")]
    Duplicate(u32),
    /// The ciphertext failed authentication.
    #[error("group message authentication failed")]
    Authentication,
    /// More than 1 MiB.
    #[error("plaintext too large")]
    TooLarge,
    /// The iteration counter is exhausted.
    #[error("sender chain exhausted")]
    ChainExhausted,
}

/// Our own sending chain for one epoch.
struct OwnSenderKey {
    epoch: u64,
    chain: ChainKey,
    iteration: u32,
    signing: SigningKey,
    public: Ed25519Public,
}

/// A peer's chain for one epoch.
#[derive(Clone)]
struct ReceiverChain {
    signing_public: Ed25519Public,
    chain: ChainKey,
    iteration: u32,
    skipped: VecDeque<(u32, MessageKey)>,
}

/// One member's view of a group: membership, its own sender key, the others'.
pub struct Group {
    me: Ed25519Public,
    membership: Membership,
    own: Option<OwnSenderKey>,
    peers: BTreeMap<(Ed25519Public, u64), ReceiverChain>,
}

impl core::fmt::Debug for Group {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Group")
            .field("group", &self.membership.group())
            .field("members", &self.membership.members().len())
            .finish_non_exhaustive()
    }
}

/// What a member must send after a membership change: its new sender key, one copy per
/// current member, each to go over the pairwise session with that member.
pub type Rekey = Vec<(Ed25519Public, SenderKeyDistribution)>;

impl Group {
    /// Creates a group: signs the genesis event (our own JOINED) and our first sender key.
    pub fn create<R: CryptoRng + ?Sized>(
        rng: &mut R,
        creator: &IdentityKey,
        group: GroupId,
    ) -> Result<(Self, MembershipEvent), GroupError> {
        let genesis = MembershipEvent::sign(
            creator,
            group,
            0,
            EventKind::Joined,
            creator.public(),
            [0; 32],
        );
        let membership = Membership::genesis(&genesis)?;
        let mut g = Self {
            me: creator.public(),
            membership,
            own: None,
            peers: BTreeMap::new(),
        };
        g.own = Some(new_sender_key(rng, 0));
        Ok((g, genesis))
    }

    /// Joins from the log so far (as received from the inviter); the caller then signs
    /// and publishes its JOINED event through [`Group::sign_event`] and [`Group::apply`].
    pub fn from_log(me: Ed25519Public, log: &[MembershipEvent]) -> Result<Self, GroupError> {
        let (first, rest) = log
            .split_first()
            .ok_or(GroupError::Membership(MembershipError::BrokenChain))?;
        let mut membership = Membership::genesis(first)?;
        for ev in rest {
            membership.apply(ev)?;
        }
        Ok(Self {
            me,
            membership,
            own: None,
            peers: BTreeMap::new(),
        })
    }

    /// Signs the next event of this group's log (to be applied by every member).
    pub fn sign_event(
        &self,
        actor: &IdentityKey,
        kind: EventKind,
        member: Ed25519Public,
    ) -> MembershipEvent {
        MembershipEvent::sign(
            actor,
            self.membership.group(),
            self.membership.next_seq(),
            kind,
            member,
            self.membership.head(),
        )
    }

    /// The membership.
    pub const fn membership(&self) -> &Membership {
        &self.membership
    }

    /// Applies a membership event and rekeys: a fresh sender key for the new epoch, sent to
    /// every other current member; removed members' keys are dropped at once.
    pub fn apply<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        event: &MembershipEvent,
    ) -> Result<Rekey, GroupError> {
        self.membership.apply(event)?;
        let members = self.membership.members().clone();
        self.peers.retain(|(sender, _), _| members.contains(sender));
        if self.membership.is_closed() || !members.contains(&self.me) {
            self.own = None;
            self.peers.clear();
            return Ok(Vec::new());
        }
        let own = new_sender_key(rng, event.seq);
        let rekey = members
            .iter()
            .filter(|m| **m != self.me)
            .map(|m| (*m, self.distribution_of(&own)))
            .collect();
        self.own = Some(own);
        Ok(rekey)
    }

    fn distribution_of(&self, own: &OwnSenderKey) -> SenderKeyDistribution {
        SenderKeyDistribution {
            group: self.membership.group(),
            sender: self.me,
            epoch: own.epoch,
            iteration: own.iteration,
            chain_key: own.chain.clone(),
            signing_public: own.public,
        }
    }

    /// Our current sender key, to hand to a member (e.g. after the genesis).
    pub fn own_distribution(&self) -> Result<SenderKeyDistribution, GroupError> {
        self.own
            .as_ref()
            .map(|o| self.distribution_of(o))
            .ok_or(GroupError::NotMember)
    }

    /// Stores a peer's sender key. `from` is the peer of the pairwise session it came over,
    /// which authenticates it.
    pub fn accept_distribution(
        &mut self,
        from: &Ed25519Public,
        d: &SenderKeyDistribution,
    ) -> Result<(), GroupError> {
        if d.group != self.membership.group() {
            return Err(GroupError::WrongGroup);
        }
        if &d.sender != from {
            return Err(GroupError::WrongDistributor);
        }
        if !self.membership.is_member(&d.sender) {
            return Err(GroupError::SenderNotMember);
        }
        self.peers.insert(
            (d.sender, d.epoch),
            ReceiverChain {
                signing_public: d.signing_public,
                chain: d.chain_key.clone(),
                iteration: d.iteration,
                skipped: VecDeque::new(),
            },
        );
        // Keep only the newest EPOCHS_KEPT epochs of this sender.
        let epochs: Vec<u64> = self
            .peers
            .keys()
            .filter(|(s, _)| s == from)
            .map(|(_, e)| *e)
            .collect();
        if epochs.len() > EPOCHS_KEPT {
            for e in epochs.iter().take(epochs.len() - EPOCHS_KEPT) {
                self.peers.remove(&(*from, *e));
            }
        }
        Ok(())
    }

    /// Encrypts and signs one group message.
    pub fn encrypt(&mut self, plaintext: &[u8]) -> Result<GroupMessage, GroupError> {
        if plaintext.len() > MAX_PLAINTEXT_LEN {
            return Err(GroupError::TooLarge);
        }
        let group = self.membership.group();
        let own = self.own.as_mut().ok_or(GroupError::NotMember)?;
        let next = own
            .iteration
            .checked_add(1)
            .ok_or(GroupError::ChainExhausted)?;
        let (mk, chain) = kdf_ck(&own.chain);
        let mut out = Vec::with_capacity(GROUP_PREFIX + plaintext.len() + aead::TAG_LEN + 64);
        out.extend_from_slice(&[VERSION, KIND_GROUP_MESSAGE]);
        out.extend_from_slice(&group.0);
        out.extend_from_slice(self.me.as_bytes());
        out.extend_from_slice(&own.epoch.to_be_bytes());
        out.extend_from_slice(&own.iteration.to_be_bytes());
        let prefix: [u8; GROUP_PREFIX] = out.as_slice().try_into().unwrap_or([0; GROUP_PREFIX]);
        let (key, nonce) = message_keys(&mk, GROUP_INFO);
        aead::seal(&key, &nonce, &[&prefix], plaintext, &mut out);
        let sig = own.signing.sign(&out).to_bytes();
        out.extend_from_slice(&sig);
        let msg = GroupMessage {
            bytes: out,
            group,
            sender: self.me,
            epoch: own.epoch,
            iteration: own.iteration,
        };
        own.chain = chain;
        own.iteration = next;
        Ok(msg)
    }

    /// Verifies and decrypts a group message; transactional like the pairwise ratchet.
    pub fn decrypt(&mut self, msg: &GroupMessage) -> Result<Vec<u8>, GroupError> {
        if msg.group != self.membership.group() {
            return Err(GroupError::WrongGroup);
        }
        if !self.membership.is_member(&self.me) {
            return Err(GroupError::NotMember);
        }
        if !self.membership.is_member(&msg.sender) {
            return Err(GroupError::SenderNotMember);
        }
        let chain = self
            .peers
            .get(&(msg.sender, msg.epoch))
            .ok_or(GroupError::UnknownSenderKey)?;
        let (prefix, ct, sig) = msg.split();
        let signed = msg
            .bytes
            .get(..msg.bytes.len().saturating_sub(64))
            .unwrap_or_default();
        let sig = Signature::from_slice(sig).map_err(|_| GroupError::BadSignature)?;
        verify(&chain.signing_public, signed, &sig).map_err(|_| GroupError::BadSignature)?;
        let open = |mk: &MessageKey| {
            let (key, nonce) = message_keys(mk, GROUP_INFO);
            aead::open(&key, &nonce, &[prefix], ct).map_err(|_| GroupError::Authentication)
        };
        if msg.iteration < chain.iteration {
            let i = chain
                .skipped
                .iter()
                .position(|(n, _)| *n == msg.iteration)
                .ok_or(GroupError::Duplicate(msg.iteration))?;
            let plaintext = open(&chain.skipped.get(i).ok_or(GroupError::Authentication)?.1)?;
            if let Some(c) = self.peers.get_mut(&(msg.sender, msg.epoch)) {
                c.skipped.remove(i);
            }
            return Ok(plaintext);
        }
        let gap = u64::from(msg.iteration - chain.iteration);
        if gap > u64::from(MAX_SKIP) {
            return Err(GroupError::TooManySkipped(gap));
        }
        let mut ck = chain.chain.clone();
        let mut skipped = Vec::with_capacity(gap as usize);
        for n in chain.iteration..msg.iteration {
            let (mk, next) = kdf_ck(&ck);
            skipped.push((n, mk));
            ck = next;
        }
        let (mk, next) = kdf_ck(&ck);
        let plaintext = open(&mk)?;
        let iteration = msg
            .iteration
            .checked_add(1)
            .ok_or(GroupError::ChainExhausted)?;
        if let Some(c) = self.peers.get_mut(&(msg.sender, msg.epoch)) {
            c.chain = next;
            c.iteration = iteration;
            c.skipped.extend(skipped);
            while c.skipped.len() > MAX_SKIP as usize {
                c.skipped.pop_front();
            }
        }
        Ok(plaintext)
    }
}

fn new_sender_key<R: CryptoRng + ?Sized>(rng: &mut R, epoch: u64) -> OwnSenderKey {
    let mut chain = [0u8; 32];
    rng.fill_bytes(&mut chain);
    // A key derived from a secret is always a valid point, so this loop ends at once; it
    // is written as a loop so that no error path needs a panic.
    loop {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        let signing = SigningKey::from_bytes(&seed);
        zeroize::Zeroize::zeroize(&mut seed);
        if let Ok(public) = Ed25519Public::from_bytes(signing.verifying_key().to_bytes()) {
            return OwnSenderKey {
                epoch,
                chain: ChainKey(chain),
                iteration: 0,
                signing,
                public,
            };
        }
    }
}
