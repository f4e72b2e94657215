use talos_identity::IdentityKey;
use talos_ratchet::message::{Envelope, Message};
use talos_ratchet::prekey::PreKeyStore;
use talos_ratchet::session::Session;
use talos_ratchet::x3dh::{self, SessionConfig};

pub(crate) struct Party {
    pub(crate) identity: IdentityKey,
    pub(crate) store: PreKeyStore,
}

impl Party {
    pub(crate) fn new(pq: bool) -> Self {
        let identity = IdentityKey::generate().unwrap();
        let mut store = PreKeyStore::new(&mut rand::rng(), &identity, pq).unwrap();
        store
            .generate_one_time_prekeys(&mut rand::rng(), 5)
            .unwrap();
        Self { identity, store }
    }
}

pub(crate) fn message_of(env: Envelope) -> Message {
    match env {
        Envelope::Message(m) => m,
        Envelope::Initial(i) => i.message,
    }
}

/// Alice initiates to Bob; Bob responds to the first message. Returns (alice, bob).
pub(crate) fn pair(config: SessionConfig) -> (Session, Session) {
    let alice = Party::new(true);
    let mut bob = Party::new(true);
    let opk = bob.store.next_one_time_id();
    let bundle = bob.store.bundle(&bob.identity, opk).unwrap();
    let mut a = x3dh::initiate(&mut rand::rng(), &alice.identity, &bundle, config).unwrap();
    let Envelope::Initial(init) = a.encrypt(b"hello bob").unwrap() else {
        panic!("expected initial")
    };
    let (b, pt) = x3dh::respond(&bob.identity, &mut bob.store, &init, config).unwrap();
    assert_eq!(pt, b"hello bob");
    (a, b)
}
