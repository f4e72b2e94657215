//! Ratchet and group messages from untrusted bytes: parsing gives typed errors, and a
//! decryption attempt on a live session (plain and header-encrypted) never panics and
//! leaves the session byte-identical when it fails.
#![no_main]
use std::sync::{LazyLock, Mutex};

use libfuzzer_sys::fuzz_target;
use rand::SeedableRng;
use rand::rngs::StdRng;
use talos_identity::{IdentityKey, IdentitySeed};
use talos_ratchet::group::GroupMessage;
use talos_ratchet::{Envelope, PreKeyStore, Session, SessionConfig, x3dh};

fn session(header_encryption: bool) -> Session {
    let mut rng = StdRng::seed_from_u64(7);
    let alice = IdentityKey::from_seed(&IdentitySeed::from_bytes([1; 32])).unwrap();
    let bob = IdentityKey::from_seed(&IdentitySeed::from_bytes([2; 32])).unwrap();
    let mut store = PreKeyStore::new(&mut rng, &bob, true).unwrap();
    let bundle = store.bundle(&bob, None).unwrap();
    let cfg = SessionConfig { header_encryption, ..SessionConfig::default() };
    let mut a = x3dh::initiate(&mut rng, &alice, &bundle, cfg).unwrap();
    let Envelope::Initial(init) = a.encrypt_with_rng(&mut rng, b"seed").unwrap() else { unreachable!() };
    x3dh::respond(&bob, &mut store, &init, cfg).unwrap().0
}

static SESSIONS: LazyLock<Mutex<[Session; 2]>> = LazyLock::new(|| Mutex::new([session(false), session(true)]));

fuzz_target!(|data: &[u8]| {
    let _ = GroupMessage::parse(data);
    let Ok(env) = Envelope::parse(data) else { return };
    assert_eq!(Envelope::parse(&env.encode()).unwrap(), env);
    let msg = match env {
        Envelope::Message(m) => m,
        Envelope::Initial(i) => i.message,
    };
    let mut sessions = SESSIONS.lock().unwrap();
    for s in sessions.iter_mut() {
        let before = s.encode();
        if s.decrypt(&msg).is_err() {
            assert_eq!(*before, *s.encode());
        }
    }
});
