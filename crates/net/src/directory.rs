//! Directory records: what a node publishes on the DHT so that others can reach it and
//! start a session with it (DID → addresses + prekey bundle), signed by its identity.
//!
//! Wire format (all integers big-endian), hand-written because it must be byte-exact
//! for the signature and no crate defines it:
//!
//! ```text
//! "TLDR" ‖ version 1 ‖ identity (32) ‖ seq u64 ‖ issued_at u64 ‖ expires_at u64
//!   ‖ n_addrs u8 ‖ (len u16 ‖ multiaddr bytes)* ‖ n_mailboxes u8 ‖ (mailbox key 32)*
//!   ‖ bundle_len u16 ‖ bundle
//!   [‖ card_len u16 ‖ card]                       (version 2; version 3: len 0 = none)
//!   [‖ n_att u8 ‖ (len u16 ‖ credential)*]        (version 3 only, 1 to 2)
//!   ‖ signature (64) over "talos/directory-record/v1" ‖ every byte before it
//! ```
//!
//! Version 2 adds the agent's signed A2A card (its JCS bytes, 1 to [`MAX_CARD`]); a
//! record without a card is still version 1, so a node that reads only version 1 keeps
//! reading it. The card is carried, not checked, here: a reader verifies it with
//! `talos-card`, which also requires it to name the record's identity.
//!
//! Version 3 adds the agent's attestation credentials (docs/attestation.md: the JSON text
//! of each, 1 to [`MAX_ATTESTATION`] bytes, at most [`MAX_RECORD_ATTESTATIONS`], the whole
//! record still at most [`MAX_RECORD`]), so peers
//! can see what it is attested to before they call it; its card field may then be empty
//! (no card). A record is version 3 only when it carries credentials. They too are carried,
//! not checked: a reader verifies each with `talos-attest` and keeps only those about the
//! record's identity, valid now.
//!
//! The DHT key is `"/talos/did/" ‖ identity`. A record is only ever handled parsed:
//! [`DirectoryRecord::parse`] checks structure, bounds, the key, the signature and the
//! expiry, and the DHT's validator is that same function, so a node never stores or
//! serves a record it could not use.
//!
//! The published bundle carries no one-time prekey: every reader of the DHT sees the same
//! record, and a one-time prekey handed to many would be consumed once and then refused.
//! Sessions from DHT bundles rely on the signed prekey and the ML-KEM last-resort key,
//! which the X3DH and PQXDH specifications allow.

use talos_identity::keys::{IdentityKey, Signature, verify};
use talos_primitives::Ed25519Public;
use talos_ratchet::PreKeyBundle;
use thiserror::Error;

const MAGIC: &[u8; 4] = b"TLDR";
const VERSION: u8 = 1;
/// The version whose records carry a card.
const VERSION_CARD: u8 = 2;
/// The version whose records carry attestation credentials (and maybe a card).
const VERSION_ATT: u8 = 3;
const SIGNING_CONTEXT: &[u8] = b"talos/directory-record/v1";
/// The DHT key prefix; the identity key follows.
pub const DHT_PREFIX: &[u8] = b"/talos/did/";
/// Addresses one record may list.
pub const MAX_ADDRS: usize = 16;
/// Bytes one address may take.
pub const MAX_ADDR_LEN: usize = 256;
/// Mailboxes one record may name.
pub const MAX_MAILBOXES: usize = 4;
/// Bytes a whole record may take: what the DHT stores and serves
/// (`behaviour::MAX_RECORD_BYTES`). A card and two credentials at their bounds do not fit
/// beside a bundle; a node then publishes without the card, then without the credentials.
pub const MAX_RECORD: usize = 8 * 1024;
/// Bytes the agent card in a record may take.
pub const MAX_CARD: usize = 4 * 1024;
/// Attestation credentials one record may carry.
pub const MAX_RECORD_ATTESTATIONS: usize = 2;
/// Bytes one credential in a record may take.
pub const MAX_ATTESTATION: usize = 4 * 1024;

/// Why a directory record was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RecordError {
    /// Shorter than its fields say.
    #[error("directory record truncated at {0}")]
    Truncated(&'static str),
    /// Not a directory record, or a version this build does not read (1 to 3).
    #[error("not a version-1, -2 or -3 directory record")]
    Format,
    /// Larger than [`MAX_RECORD`], or a list or field past its bound.
    #[error("directory record too large: {0}")]
    TooLarge(&'static str),
    /// Bytes after the signature.
    #[error("trailing bytes after the directory record")]
    Trailing,
    /// A field does not parse.
    #[error("invalid directory record field: {0}")]
    Invalid(&'static str),
    /// The DHT key does not name the record's identity.
    #[error("directory record stored under another identity's key")]
    WrongKey,
    /// The signature does not verify under the record's identity.
    #[error("directory record signature does not verify")]
    BadSignature,
    /// Past `expires_at`.
    #[error("directory record expired")]
    Expired,
}

/// A verified directory record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryRecord {
    /// Whose record it is (the signer).
    pub identity: Ed25519Public,
    /// Increases with every publication; readers keep the highest.
    pub seq: u64,
    /// Unix seconds when signed.
    pub issued_at: u64,
    /// Unix seconds after which it must not be used.
    pub expires_at: u64,
    /// Binary multiaddrs the node listens on.
    pub addrs: Vec<Vec<u8>>,
    /// The identity keys of the mailboxes that hold frames for it while it is offline.
    pub mailboxes: Vec<Ed25519Public>,
    /// Its prekey bundle (no one-time prekey).
    pub bundle: PreKeyBundle,
    /// Its signed A2A agent card (JCS bytes), if it publishes one; unverified here.
    pub card: Option<Vec<u8>>,
    /// Its attestation credentials (JSON text), at most two; unverified here.
    pub attestations: Vec<Vec<u8>>,
}

/// What a node publishes, before it is signed.
#[derive(Clone, Copy, Debug)]
pub struct Unsigned<'a> {
    /// Increases with every publication.
    pub seq: u64,
    /// Unix seconds when signed.
    pub issued_at: u64,
    /// Unix seconds after which it must not be used.
    pub expires_at: u64,
    /// Binary multiaddrs.
    pub addrs: &'a [Vec<u8>],
    /// Mailbox identity keys.
    pub mailboxes: &'a [Ed25519Public],
    /// The prekey bundle (a one-time prekey in it is dropped).
    pub bundle: &'a PreKeyBundle,
    /// The agent card's JCS bytes.
    pub card: Option<&'a [u8]>,
    /// Attestation credentials (JSON text), at most [`MAX_RECORD_ATTESTATIONS`].
    pub attestations: &'a [&'a [u8]],
}

/// The DHT key under which `identity`'s record lives.
pub fn dht_key(identity: &Ed25519Public) -> Vec<u8> {
    [DHT_PREFIX, identity.as_bytes().as_slice()].concat()
}

impl DirectoryRecord {
    /// Signs and encodes a record. Addresses past the bounds are an error, not dropped,
    /// so a node never publishes less than it meant to.
    pub fn sign(
        identity: &IdentityKey,
        seq: u64,
        issued_at: u64,
        expires_at: u64,
        addrs: &[Vec<u8>],
        mailboxes: &[Ed25519Public],
        bundle: &PreKeyBundle,
    ) -> Result<Vec<u8>, RecordError> {
        Self::sign_unsigned(
            identity,
            &Unsigned {
                seq,
                issued_at,
                expires_at,
                addrs,
                mailboxes,
                bundle,
                card: None,
                attestations: &[],
            },
        )
    }

    /// Signs and encodes `u` (version 3 when it has credentials, else 2 when it has a
    /// card, else 1).
    pub fn sign_unsigned(identity: &IdentityKey, u: &Unsigned<'_>) -> Result<Vec<u8>, RecordError> {
        if u.card.is_some_and(|c| c.is_empty() || c.len() > MAX_CARD) {
            return Err(RecordError::TooLarge("card"));
        }
        if u.attestations.len() > MAX_RECORD_ATTESTATIONS
            || u.attestations
                .iter()
                .any(|a| a.is_empty() || a.len() > MAX_ATTESTATION)
        {
            return Err(RecordError::TooLarge("attestations"));
        }
        if u.addrs.len() > MAX_ADDRS {
            return Err(RecordError::TooLarge("addresses"));
        }
        if u.mailboxes.len() > MAX_MAILBOXES {
            return Err(RecordError::TooLarge("mailboxes"));
        }
        if u.bundle.identity != identity.public() {
            return Err(RecordError::Invalid("bundle of another identity"));
        }
        let mut bundle = u.bundle.clone();
        bundle.one_time_prekey = None;
        let bundle = bundle.encode();
        let mut out = Vec::with_capacity(128 + bundle.len());
        out.extend_from_slice(MAGIC);
        let version = match (u.card.is_some(), u.attestations.is_empty()) {
            (_, false) => VERSION_ATT,
            (true, true) => VERSION_CARD,
            (false, true) => VERSION,
        };
        out.push(version);
        out.extend_from_slice(identity.public().as_bytes());
        for n in [u.seq, u.issued_at, u.expires_at] {
            out.extend_from_slice(&n.to_be_bytes());
        }
        out.push(u8::try_from(u.addrs.len()).map_err(|_| RecordError::TooLarge("addresses"))?);
        for a in u.addrs {
            if a.len() > MAX_ADDR_LEN {
                return Err(RecordError::TooLarge("address"));
            }
            put16(&mut out, a, "address")?;
        }
        out.push(u8::try_from(u.mailboxes.len()).map_err(|_| RecordError::TooLarge("mailboxes"))?);
        for m in u.mailboxes {
            out.extend_from_slice(m.as_bytes());
        }
        put16(&mut out, &bundle, "bundle")?;
        if version >= VERSION_CARD {
            put16(&mut out, u.card.unwrap_or_default(), "card")?;
        }
        if version == VERSION_ATT {
            out.push(
                u8::try_from(u.attestations.len())
                    .map_err(|_| RecordError::TooLarge("attestations"))?,
            );
            for a in u.attestations {
                put16(&mut out, a, "attestation")?;
            }
        }
        let sig = identity.sign(&signing_input(&out));
        out.extend_from_slice(&sig.0);
        if out.len() > MAX_RECORD {
            return Err(RecordError::TooLarge("record"));
        }
        Ok(out)
    }

    /// Parses and verifies a record found under DHT key `key`, at unix time `now`.
    pub fn parse(key: &[u8], bytes: &[u8], now: u64) -> Result<Self, RecordError> {
        if bytes.len() > MAX_RECORD {
            return Err(RecordError::TooLarge("record"));
        }
        let body_len = bytes
            .len()
            .checked_sub(64)
            .ok_or(RecordError::Truncated("signature"))?;
        let (body, sig) = bytes.split_at(body_len);
        let mut r = Reader(body);
        if r.take(4, "magic")? != MAGIC {
            return Err(RecordError::Format);
        }
        let version = r.u8("version")?;
        if !(VERSION..=VERSION_ATT).contains(&version) {
            return Err(RecordError::Format);
        }
        let identity = Ed25519Public::from_bytes(r.array("identity")?)
            .map_err(|_| RecordError::Invalid("identity key"))?;
        if key != dht_key(&identity).as_slice() {
            return Err(RecordError::WrongKey);
        }
        let (seq, issued_at, expires_at) =
            (r.u64("seq")?, r.u64("issued_at")?, r.u64("expires_at")?);
        let addrs = r.addrs()?;
        let mailboxes = r.mailboxes()?;
        let bundle = PreKeyBundle::parse(r.bytes16("bundle", usize::from(u16::MAX))?)
            .map_err(|_| RecordError::Invalid("prekey bundle"))?;
        let card = match version >= VERSION_CARD {
            true => Some(r.bytes16("card", MAX_CARD)?.to_vec()).filter(|c| !c.is_empty()),
            false => None,
        };
        // Version 2 exists to carry a card; version 3 may carry none.
        if version == VERSION_CARD && card.is_none() {
            return Err(RecordError::TooLarge("card"));
        }
        let attestations = match version == VERSION_ATT {
            true => r.attestations()?,
            false => Vec::new(),
        };
        if !r.0.is_empty() {
            return Err(RecordError::Trailing);
        }
        if bundle.identity != identity {
            return Err(RecordError::Invalid("bundle of another identity"));
        }
        if bundle.one_time_prekey.is_some() {
            return Err(RecordError::Invalid(
                "one-time prekey in a published bundle",
            ));
        }
        let sig = Signature::from_slice(sig).map_err(|_| RecordError::BadSignature)?;
        verify(&identity, &signing_input(body), &sig).map_err(|_| RecordError::BadSignature)?;
        if now > expires_at {
            return Err(RecordError::Expired);
        }
        Ok(DirectoryRecord {
            identity,
            seq,
            issued_at,
            expires_at,
            addrs,
            mailboxes,
            bundle,
            card,
            attestations,
        })
    }
}

/// Appends `u16 length ‖ bytes`.
fn put16(out: &mut Vec<u8>, bytes: &[u8], what: &'static str) -> Result<(), RecordError> {
    let len = u16::try_from(bytes.len()).map_err(|_| RecordError::TooLarge(what))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
    Ok(())
}

fn signing_input(body: &[u8]) -> Vec<u8> {
    [SIGNING_CONTEXT, body].concat()
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], RecordError> {
        if self.0.len() < n {
            return Err(RecordError::Truncated(what));
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }
    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], RecordError> {
        self.take(N, what)?
            .try_into()
            .map_err(|_| RecordError::Truncated(what))
    }
    fn u8(&mut self, what: &'static str) -> Result<u8, RecordError> {
        Ok(u8::from_be_bytes(self.array(what)?))
    }
    fn u16(&mut self, what: &'static str) -> Result<u16, RecordError> {
        Ok(u16::from_be_bytes(self.array(what)?))
    }
    /// `u16 length ‖ bytes`, the length at most `max`.
    fn bytes16(&mut self, what: &'static str, max: usize) -> Result<&'a [u8], RecordError> {
        let len = usize::from(self.u16(what)?);
        if len > max {
            return Err(RecordError::TooLarge(what));
        }
        self.take(len, what)
    }

    /// `n_addrs u8 ‖ (len u16 ‖ multiaddr bytes)*`, within the bounds.
    fn addrs(&mut self) -> Result<Vec<Vec<u8>>, RecordError> {
        let n = usize::from(self.u8("address count")?);
        if n > MAX_ADDRS {
            return Err(RecordError::TooLarge("addresses"));
        }
        (0..n)
            .map(|_| Ok(self.bytes16("address", MAX_ADDR_LEN)?.to_vec()))
            .collect()
    }

    /// `n_mailboxes u8 ‖ (mailbox key 32)*`, within the bound.
    fn mailboxes(&mut self) -> Result<Vec<Ed25519Public>, RecordError> {
        let n = usize::from(self.u8("mailbox count")?);
        if n > MAX_MAILBOXES {
            return Err(RecordError::TooLarge("mailboxes"));
        }
        (0..n)
            .map(|_| {
                Ed25519Public::from_bytes(self.array("mailbox")?)
                    .map_err(|_| RecordError::Invalid("mailbox key"))
            })
            .collect()
    }

    /// `n_att u8 ‖ (len u16 ‖ credential)*`: 1 to 2, each 1 to 4 KiB.
    fn attestations(&mut self) -> Result<Vec<Vec<u8>>, RecordError> {
        let n = usize::from(self.u8("attestation count")?);
        if n == 0 || n > MAX_RECORD_ATTESTATIONS {
            return Err(RecordError::TooLarge("attestations"));
        }
        (0..n)
            .map(|_| {
                let a = self.bytes16("attestation", MAX_ATTESTATION)?;
                if a.is_empty() {
                    return Err(RecordError::TooLarge("attestation"));
                }
                Ok(a.to_vec())
            })
            .collect()
    }

    fn u64(&mut self, what: &'static str) -> Result<u64, RecordError> {
        Ok(u64::from_be_bytes(self.array(what)?))
    }
}
