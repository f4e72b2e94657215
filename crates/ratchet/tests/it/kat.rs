//! Our published known-answer files (`test-vectors/`): regenerated here from fixed seeds
//! and compared byte for byte with the committed JSON. `TALOS_REGEN_VECTORS=1` rewrites
//! them (and the fuzz seeds). See `test-vectors/README.md` for how to check another
//! implementation against them. Here: `x3dh.json`, `pqxdh.json`, `ratchet.json`; in
//! `kat/`: `ratchet-pn.json` (pn ≠ 0), `group.json`, `rejections.json`, and an independent
//! reader of the session-state layout of `FORMAT.md`.

use std::cell::RefCell;
use std::rc::Rc;

use rand::{TryCryptoRng, TryRng};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use talos_identity::{IdentityKey, IdentitySeed};
use talos_ratchet::{
    Envelope, InitialMessage, PreKeyBundle, PreKeyStore, Session, SessionConfig, x3dh,
};

mod group;
mod layout;
mod pn;
mod rejections;

/// The vectors' randomness: block i of a labelled stream is SHA-256(label ‖ i as u64 BE).
/// Every draw is also recorded, so the files list the exact bytes each step consumed.
#[derive(Clone)]
struct KatRng {
    label: String,
    counter: u64,
    buf: Vec<u8>,
    draws: Rc<RefCell<Vec<String>>>,
}

impl KatRng {
    fn new(label: &str) -> Self {
        Self {
            label: label.into(),
            counter: 0,
            buf: Vec::new(),
            draws: Rc::default(),
        }
    }

    fn take_draws(&self) -> Vec<String> {
        std::mem::take(&mut self.draws.borrow_mut())
    }
}

impl TryRng for KatRng {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        while self.buf.len() < dst.len() {
            let mut h = Sha256::new();
            h.update(self.label.as_bytes());
            h.update(self.counter.to_be_bytes());
            self.counter += 1;
            self.buf.extend_from_slice(&h.finalize());
        }
        let rest = self.buf.split_off(dst.len());
        dst.copy_from_slice(&self.buf);
        self.buf = rest;
        self.draws.borrow_mut().push(hex::encode(&*dst));
        Ok(())
    }
}

impl TryCryptoRng for KatRng {}

fn identity(byte: u8) -> IdentityKey {
    IdentityKey::from_seed(&IdentitySeed::from_bytes([byte; 32])).unwrap()
}

fn h(b: &[u8]) -> String {
    hex::encode(b)
}

/// A completed handshake of the known-answer files: both sessions, Bob's prekey store as it
/// was before he responded, and the JSON block that lets another implementation rebuild it.
struct Handshake {
    json: Value,
    alice: Session,
    bob: Session,
    /// Bob's store before `respond` (its one-time prekey still unused).
    store: PreKeyStore,
    bundle: PreKeyBundle,
    initial: InitialMessage,
    config: SessionConfig,
}

fn handshake(name: &str, pq: bool, one_time: bool, header_encryption: bool) -> Handshake {
    let (alice, bob) = (identity(0xA1), identity(0xB0));
    let (bob_label, alice_label) = (format!("{name}/bob"), format!("{name}/alice"));
    let mut bob_rng = KatRng::new(&bob_label);
    let mut store = PreKeyStore::new(&mut bob_rng, &bob, pq).unwrap();
    store.generate_one_time_prekeys(&mut bob_rng, 1).unwrap();
    let bob_store_draws = bob_rng.take_draws();
    let opk = if one_time {
        store.next_one_time_id()
    } else {
        None
    };
    let bundle = store.bundle(&bob, opk).unwrap();
    let mut alice_rng = KatRng::new(&alice_label);
    let cfg = SessionConfig {
        header_encryption,
        ..SessionConfig::default()
    };
    let mut a = x3dh::initiate(&mut alice_rng, &alice, &bundle, cfg).unwrap();
    let plaintext = b"first message from alice";
    let Envelope::Initial(init) = a.encrypt_with_rng(&mut alice_rng, plaintext).unwrap() else {
        panic!()
    };
    let alice_draws = alice_rng.take_draws();
    let store_before = store.clone();
    let (b, got) = x3dh::respond(&bob, &mut store, &init, cfg).unwrap();
    assert_eq!(got, plaintext);
    assert!(
        bob_rng.take_draws().is_empty(),
        "responding draws no randomness"
    );
    // The state encodings are checked against the layout of FORMAT.md independently.
    layout::parse_state(&a.encode());
    layout::parse_state(&b.encode());
    let json = json!({
        "name": name,
        "alice_identity_seed": h(&[0xA1; 32]),
        "bob_identity_seed": h(&[0xB0; 32]),
        "bob_rng_label": bob_label,
        "bob_prekey_draws": bob_store_draws,
        "bundle": h(&bundle.encode()),
        "alice_rng_label": alice_label,
        "pq_policy": "prefer",
        "header_encryption": header_encryption,
        "alice_draws": alice_draws,
        "associated_data": h(a.associated_data()),
        "handshake_id": h(a.handshake_id()),
        "plaintext": h(plaintext),
        "initial_message": h(&init.encode()),
        "alice_state": h(&a.encode()),
        "bob_state": h(&b.encode()),
    });
    Handshake {
        json,
        alice: a,
        bob: b,
        store: store_before,
        bundle,
        initial: init,
        config: cfg,
    }
}

fn handshake_case(
    name: &str,
    pq: bool,
    one_time: bool,
    header_encryption: bool,
) -> (Value, Session, Session) {
    let hs = handshake(name, pq, one_time, header_encryption);
    (hs.json, hs.alice, hs.bob)
}

fn ratchet_case(name: &str, header_encryption: bool) -> Value {
    let (setup, mut a, mut b) = handshake_case(name, false, true, header_encryption);
    let mut rng = KatRng::new(&format!("{name}/conversation"));
    // Everything is sent first, then delivered last first: skipped keys, late messages and
    // one DH ratchet step beyond the handshake's (pn stays 0; `pn.rs` covers pn ≠ 0).
    let script: &[(char, &str)] = &[
        ('b', "b0"),
        ('b', "b1"),
        ('a', "a0"),
        ('a', "a1"),
        ('a', "a2"),
        ('b', "b2"),
        ('a', "a3"),
    ];
    let mut steps = Vec::new();
    let mut in_flight: Vec<(char, Vec<u8>, String)> = Vec::new();
    for (who, text) in script {
        let sender = if *who == 'a' { &mut a } else { &mut b };
        let env = sender.encrypt_with_rng(&mut rng, text.as_bytes()).unwrap();
        let bytes = env.encode();
        steps.push(json!({"op": "encrypt", "by": who.to_string(), "plaintext": text, "draws": rng.take_draws(), "message": h(&bytes)}));
        in_flight.push((*who, bytes, text.to_string()));
    }
    // Deliver out of order: everything, last first within each sender.
    in_flight.reverse();
    for (who, bytes, text) in in_flight {
        let receiver = if who == 'a' { &mut b } else { &mut a };
        let msg = match Envelope::parse(&bytes).unwrap() {
            Envelope::Message(m) => m,
            Envelope::Initial(i) => i.message,
        };
        let pt = receiver.decrypt(&msg).unwrap();
        assert_eq!(pt, text.as_bytes());
        steps.push(json!({"op": "decrypt", "by": if who == 'a' { "b" } else { "a" }, "message": h(&bytes), "plaintext": text}));
        assert!(
            rng.take_draws().is_empty(),
            "decryption draws no randomness"
        );
    }
    json!({"name": name, "header_encryption": header_encryption, "handshake": setup, "conversation_rng_label": format!("{name}/conversation"), "steps": steps})
}

fn check_or_write(file: &str, value: &Value) {
    let path = format!("{}/test-vectors/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = serde_json::to_string_pretty(value).unwrap() + "\n";
    if std::env::var_os("TALOS_REGEN_VECTORS").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap();
    assert!(
        committed == text,
        "{file} differs from what this build computes; regenerate with TALOS_REGEN_VECTORS=1 only if the format changed on purpose"
    );
}

#[test]
fn x3dh_known_answers() {
    let cases: Vec<Value> = vec![
        handshake_case("x3dh-four-dh", false, true, false).0,
        handshake_case("x3dh-three-dh", false, false, false).0,
    ];
    check_or_write("x3dh.json", &json!({"version": 1, "cases": cases}));
}

#[test]
fn pqxdh_known_answers() {
    let cases: Vec<Value> = vec![
        handshake_case("pqxdh-four-dh", true, true, false).0,
        handshake_case("pqxdh-three-dh-header-encryption", true, false, true).0,
    ];
    check_or_write("pqxdh.json", &json!({"version": 1, "cases": cases}));
}

#[test]
fn ratchet_known_answers() {
    let cases = vec![
        ratchet_case("ratchet-plain-header", false),
        ratchet_case("ratchet-header-encryption", true),
    ];
    check_or_write("ratchet.json", &json!({"version": 1, "cases": cases}));
    if std::env::var_os("TALOS_REGEN_VECTORS").is_some() {
        write_fuzz_seeds(&cases);
    }
}

/// Valid encodings as fuzz seeds, so the fuzzer starts from real messages.
fn write_fuzz_seeds(cases: &[Value]) {
    let root = format!("{}/../../fuzz/seeds", env!("CARGO_MANIFEST_DIR"));
    let put = |target: &str, name: &str, bytes: &[u8]| {
        let dir = format!("{root}/{target}");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(format!("{dir}/{name}"), bytes).unwrap();
    };
    for (i, step) in cases[1]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .take(3)
        .enumerate()
    {
        put(
            "ratchet_message",
            &format!("he_{i}"),
            &hex::decode(step["message"].as_str().unwrap()).unwrap(),
        );
    }
    for (i, step) in cases[0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .take(3)
        .enumerate()
    {
        put(
            "ratchet_message",
            &format!("plain_{i}"),
            &hex::decode(step["message"].as_str().unwrap()).unwrap(),
        );
    }
    let (hs, a, b) = handshake_case("seed", true, true, false);
    put(
        "ratchet_bundle",
        "bundle_pq",
        &hex::decode(hs["bundle"].as_str().unwrap()).unwrap(),
    );
    put(
        "ratchet_bundle",
        "initial_pq",
        &hex::decode(hs["initial_message"].as_str().unwrap()).unwrap(),
    );
    put("ratchet_state", "initiator", &a.encode());
    put("ratchet_state", "responder", &b.encode());
    put(
        "ratchet_header",
        "header",
        &talos_ratchet::header::Header {
            dh: talos_ratchet::keys::DhPublic([9; 32]),
            pn: 3,
            n: 7,
        }
        .encode(),
    );
}
