//! The `att` caveat at the callee (FORMAT.md §3.5, docs/attestation.md). A call whose
//! leaf requires attestation carries the caller's credentials; each is verified once
//! (proof, validity, subject = the caller) and kept per caller, so a warm call costs a
//! hash of the presented text and a few comparisons. Bounded: [`CALLERS`] callers, each
//! with at most `MAX_ATTESTATIONS` credentials (a new caller displaces the oldest).

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::BuildHasher;

use talos_attest::Verified;
use talos_capability::stateful::AttCaveat;
use talos_net::invoke::MAX_ATTESTATIONS;
use talos_primitives::{Did, Ed25519Public, Hash32};

/// Callers whose credentials are kept.
const CALLERS: usize = 4096;
/// Credentials remembered as refused for good (a bad proof, malformed, about someone
/// else), so presenting one again costs a hash, not a verification.
const REJECTED: usize = 8192;

/// A credential verified once.
struct Known {
    /// A keyed hash of its text: a presented credential with the same hash is this one.
    /// Keyed by a per-process random seed (foldhash's `RandomState`), so no caller can
    /// make another text collide with one it presented; and a caller only ever meets its
    /// own entries.
    tag: (usize, u64),
    verified: Verified,
    /// The claims an `att` caveat may name, rendered once.
    claims: Vec<(&'static str, String)>,
    /// The issuer's chain key (`talos_anchor::did_key`), for on-chain revocations.
    pub(crate) chain_key: Hash32,
    /// Whether its issuer has been pinned (`Gate::note_issuers`), the first time the
    /// credential satisfied a caveat.
    pinned: bool,
}

/// Credentials presented by callers.
#[derive(Default)]
pub(crate) struct Attested {
    by_caller: HashMap<Ed25519Public, Vec<Known>>,
    order: VecDeque<Ed25519Public>,
    seed: foldhash::quality::RandomState,
    /// (caller, tag) of credentials refused for good, oldest first out.
    rejected: HashSet<(Ed25519Public, (usize, u64))>,
    rejected_order: VecDeque<(Ed25519Public, (usize, u64))>,
}

/// The verdict on a call's `att` caveat.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum AttVerdict {
    /// No credential of the caller satisfies it.
    Refused,
    /// One does; `pin` names its issuer the first time, for the gate to pin (so the
    /// issuer's published revocations are kept like a chain issuer's).
    Admitted {
        /// The issuer to pin, once.
        pin: Option<Did>,
    },
}

/// What a credential must not be, besides valid: revoked (by the issuer, or by us).
pub(crate) trait Revoked {
    /// True when `v` (whose issuer's chain key is `chain_key`) is revoked.
    fn revoked(&self, v: &Verified, chain_key: &Hash32) -> bool;
}

impl Attested {
    /// Whether `caller`, presenting `presented`, holds a credential `att` accepts at
    /// `now` (Unix seconds) that is not revoked. Newly presented credentials are verified
    /// and kept (those about someone else, or that fail, are dropped).
    pub(crate) fn check(
        &mut self,
        caller: &Ed25519Public,
        presented: &[String],
        att: &AttCaveat,
        now: u64,
        revoked: &dyn Revoked,
    ) -> AttVerdict {
        for text in presented.iter().take(MAX_ATTESTATIONS) {
            self.learn(caller, text, now);
        }
        let Some(known) = self.by_caller.get_mut(caller) else {
            return AttVerdict::Refused;
        };
        let found = known.iter_mut().find(|k| {
            let v = &k.verified;
            att.iss.contains(&v.issuer)
                && v.valid_from <= now
                && now <= v.valid_until
                && att
                    .clm
                    .iter()
                    .all(|(name, want)| k.claims.iter().any(|(n, have)| n == name && have == want))
                && !revoked.revoked(v, &k.chain_key)
        });
        match found {
            None => AttVerdict::Refused,
            Some(k) => {
                let pin = (!k.pinned).then_some(k.verified.issuer);
                k.pinned = true;
                AttVerdict::Admitted { pin }
            }
        }
    }

    /// Verifies and keeps `text` for `caller` unless it is known already.
    fn learn(&mut self, caller: &Ed25519Public, text: &str, now: u64) {
        let tag = (text.len(), self.seed.hash_one(text));
        if self
            .by_caller
            .get(caller)
            .is_some_and(|ks| ks.iter().any(|k| k.tag == tag))
            || self.rejected.contains(&(*caller, tag))
        {
            return;
        }
        let verified = match talos_attest::verify(text.as_bytes(), now) {
            Ok(v) if v.claims.id == Did::Key(*caller) => v,
            // Not valid yet, or no longer: its time may come, so it is not remembered.
            Err(talos_attest::AttestError::NotValidNow { .. }) => return,
            _ => {
                self.reject(*caller, tag);
                return;
            }
        };
        let claims = talos_capability::scope::stateful::ATT_CLAIMS
            .iter()
            .filter_map(|n| verified.claims.claim(n).map(|v| (*n, v)))
            .collect();
        let known = Known {
            pinned: false,
            tag,
            chain_key: talos_anchor::did_key(&verified.issuer),
            verified,
            claims,
        };
        if !self.by_caller.contains_key(caller) {
            if self.order.len() >= CALLERS
                && let Some(old) = self.order.pop_front()
            {
                self.by_caller.remove(&old);
            }
            self.order.push_back(*caller);
        }
        let ks = self.by_caller.entry(*caller).or_default();
        // The newest replaces the one expiring first.
        if ks.len() >= MAX_ATTESTATIONS {
            ks.sort_by_key(|k| k.verified.valid_until);
            ks.remove(0);
        }
        ks.push(known);
    }

    /// Remembers a credential refused for good (bounded: the oldest is forgotten).
    fn reject(&mut self, caller: Ed25519Public, tag: (usize, u64)) {
        if self.rejected_order.len() >= REJECTED
            && let Some(old) = self.rejected_order.pop_front()
        {
            self.rejected.remove(&old);
        }
        if self.rejected.insert((caller, tag)) {
            self.rejected_order.push_back((caller, tag));
        }
    }

    /// Callers with credentials kept.
    pub(crate) fn callers(&self) -> usize {
        self.by_caller.len()
    }
}

#[cfg(test)]
mod tests {
    use talos_identity::IdentityKey;
    use talos_primitives::Hash32;

    use super::*;

    struct NeverRevoked;
    impl Revoked for NeverRevoked {
        fn revoked(&self, _: &Verified, _: &Hash32) -> bool {
            false
        }
    }

    fn credential(attester: &IdentityKey, about: &IdentityKey, now: u64) -> String {
        let h = Hash32([0x11; 32]);
        let claims = talos_attest::Claims {
            id: about.did(),
            binary_sha256: h,
            config_sha256: h,
            model: "m".into(),
            policy_sha256: h,
            intoto_sha256: None,
        };
        talos_attest::issue(attester, claims, now - 60, now + 3600)
            .unwrap()
            .to_string()
    }

    /// A credential about another DID is refused and remembered as refused; one about
    /// the caller admits, and asks for its issuer to be pinned once.
    #[test]
    fn only_the_callers_own_credential_admits_and_pins_once() {
        let (attester, caller, other) = (
            IdentityKey::generate().unwrap(),
            IdentityKey::generate().unwrap(),
            IdentityKey::generate().unwrap(),
        );
        let now = 1_800_000_000;
        let att = AttCaveat {
            iss: vec![attester.did()],
            clm: [("model".to_string(), "m".to_string())].into(),
        };
        let mut a = Attested::default();
        let wrong = vec![credential(&attester, &other, now)];
        let me = caller.public();
        assert_eq!(
            a.check(&me, &wrong, &att, now, &NeverRevoked),
            AttVerdict::Refused
        );
        assert_eq!(a.rejected.len(), 1);
        let right = vec![credential(&attester, &caller, now)];
        let pin = Some(attester.did());
        assert_eq!(
            a.check(&me, &right, &att, now, &NeverRevoked),
            AttVerdict::Admitted { pin }
        );
        assert_eq!(
            a.check(&me, &[], &att, now, &NeverRevoked),
            AttVerdict::Admitted { pin: None }
        );
        // Past its validity, and for another model, it admits nothing.
        assert_eq!(
            a.check(&me, &[], &att, now + 7200, &NeverRevoked),
            AttVerdict::Refused
        );
        let other_model = AttCaveat {
            clm: [("model".to_string(), "n".to_string())].into(),
            ..att
        };
        assert_eq!(
            a.check(&me, &[], &other_model, now, &NeverRevoked),
            AttVerdict::Refused
        );
        assert_eq!(a.callers(), 1);
    }
}
