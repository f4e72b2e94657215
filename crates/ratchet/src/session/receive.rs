//! Receiving: `RatchetDecrypt` (Signal spec §3.5) as a transaction. [`Session::decrypt`]
//! locates the message's chain, stages every derived key and the plaintext, and commits
//! them only after the AEAD has authenticated the message; skipped keys are bounded by
//! [`MAX_SKIP`] per chain and [`MAX_SKIPPED_TOTAL`] in all.

use crate::aead;
use crate::header::Header;
use crate::kdf::{kdf_ck, kdf_rk, message_keys};
use crate::keys::{ChainKey, HeaderKey, MessageKey};
use crate::message::Message;

use super::{
    ChainMark, Commit, DecryptError, MAX_RECEIVING_CHAINS, MAX_SKIP, MAX_SKIPPED_TOTAL, Session,
    Skipped, Slot, Staged,
};

impl Session {
    /// `RatchetDecrypt`, transactional. It needs no randomness: the next ratchet key is
    /// drawn by the next encryption.
    pub fn decrypt(&mut self, message: &Message) -> Result<Vec<u8>, DecryptError> {
        if message.is_header_encrypted() != self.header_encryption {
            return Err(DecryptError::HeaderEncryptionMismatch);
        }
        let (header, slot, chain) = self.locate(message)?;
        let staged = self.stage(message, &header, slot, chain)?;
        self.commit(staged.commit, chain);
        self.pending = None;
        Ok(staged.plaintext)
    }

    fn find_skipped(&self, chain: &[u8; 32], n: u32) -> Option<usize> {
        self.skipped
            .iter()
            .position(|s| &s.chain == chain && s.n == n)
    }

    /// The error for a key that is not held: evicted by the cap, or already used.
    fn missing(&self, chain: &[u8; 32], n: u32) -> DecryptError {
        match self.chains.iter().find(|c| &c.chain == chain) {
            Some(mark) if n < mark.evicted_below => DecryptError::SkippedKeyEvicted { n },
            _ => DecryptError::Duplicate { n },
        }
    }

    /// Reads the header and decides which chain the message belongs to.
    fn locate(&self, message: &Message) -> Result<(Header, Slot, [u8; 32]), DecryptError> {
        let sealed = message.header_bytes();
        if !self.header_encryption {
            let header = Header::decode(sealed).map_err(|_| DecryptError::Authentication)?;
            let chain = header.dh.0;
            if let Some(i) = self.find_skipped(&chain, header.n) {
                return Ok((header, Slot::Skipped(i), chain));
            }
            if self.dhr == Some(header.dh) && self.ckr.is_some() {
                if header.n < self.nr {
                    return Err(self.missing(&chain, header.n));
                }
                return Ok((header, Slot::Current, chain));
            }
            if self.chains.iter().any(|c| c.chain == chain) {
                return Err(self.missing(&chain, header.n));
            }
            return Ok((header, Slot::NewChain, chain));
        }
        // Header encryption: trial decryption, cheapest first — the current receiving
        // chain, then the next header key (a new ratchet step), then older chains (bounded
        // by MAX_RECEIVING_CHAINS) for late messages.
        if let Some(hkr) = &self.hkr
            && let Some(header) = Header::open(hkr, sealed)
        {
            return self.place(header, hkr.0, true);
        }
        if let Some(header) = Header::open(&self.nhkr, sealed) {
            return Ok((header, Slot::NewChain, self.nhkr.0));
        }
        for mark in self.chains.iter().rev() {
            if let Some(header) = Header::open(&HeaderKey(mark.chain), sealed) {
                return self.place(header, mark.chain, false);
            }
        }
        Err(DecryptError::UnknownHeaderKey)
    }

    /// A header opened by a known chain's key: a held skipped key, the next keys of the
    /// current chain, or a key already used or evicted.
    fn place(
        &self,
        header: Header,
        chain: [u8; 32],
        current: bool,
    ) -> Result<(Header, Slot, [u8; 32]), DecryptError> {
        if let Some(i) = self.find_skipped(&chain, header.n) {
            return Ok((header, Slot::Skipped(i), chain));
        }
        if current && header.n >= self.nr {
            return Ok((header, Slot::Current, chain));
        }
        Err(self.missing(&chain, header.n))
    }

    /// Derives keys and decrypts without touching `self`.
    fn stage(
        &self,
        message: &Message,
        header: &Header,
        slot: Slot,
        chain: [u8; 32],
    ) -> Result<Staged, DecryptError> {
        let open = |mk: &MessageKey| -> Result<Vec<u8>, DecryptError> {
            let (key, nonce) = message_keys(mk, &[]);
            aead::open(
                &key,
                &nonce,
                &[&self.ad, message.header_bytes()],
                message.body(),
            )
            .map_err(|_| DecryptError::Authentication)
        };
        match slot {
            Slot::Skipped(i) => {
                let entry = self.skipped.get(i).ok_or(DecryptError::Authentication)?;
                Ok(Staged {
                    plaintext: open(&entry.mk)?,
                    commit: Commit::RemoveSkipped(i),
                })
            }
            Slot::Current => {
                let ckr = self.ckr.as_ref().ok_or(DecryptError::Authentication)?;
                let (skipped, mk, ckr) = skip(ckr, self.nr, header.n)?;
                let nr = header
                    .n
                    .checked_add(1)
                    .ok_or(DecryptError::ChainExhausted)?;
                Ok(Staged {
                    plaintext: open(&mk)?,
                    commit: Commit::Advance { ckr, nr, skipped },
                })
            }
            Slot::NewChain => {
                let old_skipped = match &self.ckr {
                    Some(ckr) if header.pn > self.nr => skip(ckr, self.nr, header.pn)?.0,
                    _ => Vec::new(),
                };
                let dh_out = self.dhs.diffie_hellman(&header.dh)?;
                let (rk, ckr, nhkr) = kdf_rk(&self.rk, &dh_out);
                let (new_skipped, mk, ckr) = skip(&ckr, 0, header.n)?;
                let nr = header
                    .n
                    .checked_add(1)
                    .ok_or(DecryptError::ChainExhausted)?;
                let _ = chain;
                Ok(Staged {
                    plaintext: open(&mk)?,
                    commit: Commit::Ratchet {
                        old_skipped,
                        rk,
                        ckr,
                        nhkr,
                        dhr: header.dh,
                        nr,
                        new_skipped,
                    },
                })
            }
        }
    }

    /// Writes back a decryption; nothing here can fail.
    fn commit(&mut self, commit: Commit, chain: [u8; 32]) {
        match commit {
            Commit::RemoveSkipped(i) => {
                self.skipped.remove(i);
            }
            Commit::Advance { ckr, nr, skipped } => {
                self.ckr = Some(ckr);
                self.nr = nr;
                self.push_skipped(chain, skipped);
            }
            Commit::Ratchet {
                old_skipped,
                rk,
                ckr,
                nhkr,
                dhr,
                nr,
                new_skipped,
            } => {
                let old_chain = if self.header_encryption {
                    self.hkr.as_ref().map(|k| k.0)
                } else {
                    self.dhr.map(|d| d.0)
                };
                if let Some(old_chain) = old_chain {
                    self.push_skipped(old_chain, old_skipped);
                }
                self.pn = self.ns;
                self.ns = 0;
                self.nr = nr;
                self.dhr = Some(dhr);
                if self.header_encryption {
                    self.hks = Some(self.nhks.clone());
                    self.hkr = Some(self.nhkr.clone());
                }
                self.nhkr = nhkr;
                self.ckr = Some(ckr);
                self.rk = rk;
                // The sending half of the DH ratchet waits for the next encryption (as in
                // vodozemac): no sending chain until then.
                self.cks = None;
                self.remember_chain(chain);
                self.push_skipped(chain, new_skipped);
            }
        }
    }

    fn remember_chain(&mut self, chain: [u8; 32]) {
        self.chains.push_back(ChainMark {
            chain,
            evicted_below: 0,
        });
        while self.chains.len() > MAX_RECEIVING_CHAINS {
            if let Some(old) = self.chains.pop_front() {
                self.skipped.retain(|s| s.chain != old.chain);
            }
        }
    }

    fn push_skipped(&mut self, chain: [u8; 32], keys: Vec<(u32, MessageKey)>) {
        for (n, mk) in keys {
            self.skipped.push_back(Skipped { chain, n, mk });
        }
        while self.skipped.len() > MAX_SKIPPED_TOTAL {
            if let Some(evicted) = self.skipped.pop_front()
                && let Some(mark) = self.chains.iter_mut().find(|c| c.chain == evicted.chain)
            {
                mark.evicted_below = mark.evicted_below.max(evicted.n.saturating_add(1));
            }
        }
    }
}

/// Skipped keys, the message key, and the chain key after it.
type SkipOutput = (Vec<(u32, MessageKey)>, MessageKey, ChainKey);

/// Steps a chain from `from` to `until`, returning the skipped keys, the key for `until`
/// and the chain key after it. At most [`MAX_SKIP`] keys may be skipped.
fn skip(ck: &ChainKey, from: u32, until: u32) -> Result<SkipOutput, DecryptError> {
    let gap = u64::from(until.saturating_sub(from));
    if gap > u64::from(MAX_SKIP) {
        return Err(DecryptError::TooManySkipped { skipped: gap });
    }
    let mut skipped = Vec::with_capacity(gap as usize);
    let mut ck = ck.clone();
    for n in from..until {
        let (mk, next) = kdf_ck(&ck);
        skipped.push((n, mk));
        ck = next;
    }
    let (mk, next) = kdf_ck(&ck);
    Ok((skipped, mk, next))
}
