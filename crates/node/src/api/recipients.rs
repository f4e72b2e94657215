//! Recipients' did:key strings, decoded once. Decoding a did:key checks that its key is
//! a point of the curve, a field exponentiation; on the send path that was a tenth of a
//! sending node's CPU, for the same few recipients message after message.

use std::collections::HashMap;
use std::sync::Mutex;

use talos_identity::did_key;
use talos_primitives::{DidError, Ed25519Public};

/// Decoded DIDs kept at most; when full the cache starts over (an agent's working set of
/// recipients is far smaller, and the bound keeps a request loop from growing it).
const MAX_KEPT: usize = 1024;

/// did:key → key, for DIDs that decoded (a DID that did not is never kept).
#[derive(Default)]
pub(super) struct Recipients(Mutex<HashMap<Box<str>, Ed25519Public>>);

impl Recipients {
    /// [`did_key::decode`], remembered.
    pub(super) fn decode(&self, did: &str) -> Result<Ed25519Public, DidError> {
        if let Some(k) = self.0.lock().ok().and_then(|m| m.get(did).copied()) {
            return Ok(k);
        }
        let key = did_key::decode(did)?;
        if let Ok(mut m) = self.0.lock() {
            if m.len() >= MAX_KEPT {
                m.clear();
            }
            m.insert(did.into(), key);
        }
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_did_decodes_the_same_from_the_cache_and_bad_ones_are_never_kept() {
        let r = Recipients::default();
        let id = talos_identity::IdentityKey::generate().unwrap();
        let did = did_key::encode(&id.public());
        assert_eq!(r.decode(&did).unwrap(), id.public());
        assert_eq!(r.decode(&did).unwrap(), id.public());
        assert!(r.decode("did:key:zNotAKey").is_err());
        assert!(r.decode("did:key:zNotAKey").is_err());
        assert_eq!(r.0.lock().unwrap().len(), 1);
        for _ in 0..MAX_KEPT + 5 {
            let k = talos_identity::IdentityKey::generate().unwrap().public();
            r.decode(&did_key::encode(&k)).unwrap();
        }
        assert!(r.0.lock().unwrap().len() <= MAX_KEPT);
    }
}
