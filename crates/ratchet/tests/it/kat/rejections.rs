//! `rejections.json`: inputs that must be refused, each with the error kind of
//! `FORMAT.md` ("Errors"), and a few acceptances at the exact limits. Every refusal is
//! checked to leave the receiver's state byte-identical.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use talos_ratchet::codec::DecodeError;
use talos_ratchet::group::wire::GroupWire;
use talos_ratchet::group::{Group, GroupError, GroupMessage, SenderKeyDistribution};
use talos_ratchet::membership::{MembershipError, MembershipEvent};
use talos_ratchet::x3dh::{self, PqPolicy};
use talos_ratchet::{
    DecryptError, HandshakeError, InitialMessage, Message, PreKeyBundle, PreKeyStore, Session,
    SessionConfig,
};

use super::pn::message_of;
use super::{KatRng, check_or_write, group, h, handshake, identity, layout};

pub(super) fn decode_kind(e: &DecodeError) -> Value {
    let k = match e {
        DecodeError::Truncated { .. } => "Truncated",
        DecodeError::Version(_) => "Version",
        DecodeError::Kind(_) => "Kind",
        DecodeError::Flags(_) => "Flags",
        DecodeError::Trailing(_) => "Trailing",
        DecodeError::TooLarge { .. } => "TooLarge",
        DecodeError::Invalid(_) => "Invalid",
    };
    json!({"error": format!("decode/{k}")})
}

fn decrypt_kind(e: &DecryptError) -> Value {
    match e {
        DecryptError::HeaderEncryptionMismatch => {
            json!({"error": "decrypt/HeaderEncryptionMismatch"})
        }
        DecryptError::UnknownHeaderKey => json!({"error": "decrypt/UnknownHeaderKey"}),
        DecryptError::TooManySkipped { skipped } => {
            json!({"error": "decrypt/TooManySkipped", "skipped": skipped})
        }
        DecryptError::Duplicate { n } => json!({"error": "decrypt/Duplicate", "n": n}),
        DecryptError::SkippedKeyEvicted { n } => {
            json!({"error": "decrypt/SkippedKeyEvicted", "n": n})
        }
        DecryptError::NonContributory(_) => json!({"error": "decrypt/NonContributory"}),
        DecryptError::Authentication => json!({"error": "decrypt/Authentication"}),
        DecryptError::ChainExhausted => json!({"error": "decrypt/ChainExhausted"}),
    }
}

fn handshake_kind(e: &HandshakeError) -> Value {
    match e {
        HandshakeError::BadSignedPreKeySignature => {
            json!({"error": "handshake/BadSignedPreKeySignature"})
        }
        HandshakeError::BadKemPreKeySignature => {
            json!({"error": "handshake/BadKemPreKeySignature"})
        }
        HandshakeError::InvalidKemKey(_) => json!({"error": "handshake/InvalidKemKey"}),
        HandshakeError::UnknownSignedPreKey(id) => {
            json!({"error": "handshake/UnknownSignedPreKey", "id": id})
        }
        HandshakeError::UnknownOneTimePreKey(id) => {
            json!({"error": "handshake/UnknownOneTimePreKey", "id": id})
        }
        HandshakeError::OneTimePreKeyAlreadyUsed(id) => {
            json!({"error": "handshake/OneTimePreKeyAlreadyUsed", "id": id})
        }
        HandshakeError::UnknownKemPreKey(id) => {
            json!({"error": "handshake/UnknownKemPreKey", "id": id})
        }
        HandshakeError::PostQuantumRequired => json!({"error": "handshake/PostQuantumRequired"}),
        HandshakeError::NonContributory(_) => json!({"error": "handshake/NonContributory"}),
        HandshakeError::FirstMessage(d) => {
            json!({"error": "handshake/FirstMessage", "cause": decrypt_kind(d)})
        }
    }
}

fn membership_kind(e: &MembershipError) -> Value {
    match e {
        MembershipError::WrongGroup => json!({"error": "membership/WrongGroup"}),
        MembershipError::Sequence { expected, got } => {
            json!({"error": "membership/Sequence", "expected": expected, "got": got})
        }
        MembershipError::BrokenChain => json!({"error": "membership/BrokenChain"}),
        MembershipError::BadSignature => json!({"error": "membership/BadSignature"}),
        MembershipError::NotAllowed => json!({"error": "membership/NotAllowed"}),
        MembershipError::WrongMemberState => json!({"error": "membership/WrongMemberState"}),
        MembershipError::Closed => json!({"error": "membership/Closed"}),
        MembershipError::Full => json!({"error": "membership/Full"}),
        MembershipError::UnboundGroupId => json!({"error": "membership/UnboundGroupId"}),
    }
}

pub(super) fn group_kind(e: &GroupError) -> Value {
    match e {
        GroupError::Membership(m) => {
            json!({"error": "group/Membership", "cause": membership_kind(m)})
        }
        GroupError::NotMember => json!({"error": "group/NotMember"}),
        GroupError::WrongGroup => json!({"error": "group/WrongGroup"}),
        GroupError::SenderNotMember => json!({"error": "group/SenderNotMember"}),
        GroupError::WrongDistributor => json!({"error": "group/WrongDistributor"}),
        GroupError::UnknownSenderKey => json!({"error": "group/UnknownSenderKey"}),
        GroupError::BadSignature => json!({"error": "group/BadSignature"}),
        GroupError::TooManySkipped(g) => json!({"error": "group/TooManySkipped", "skipped": g}),
        GroupError::Duplicate(i) => json!({"error": "group/Duplicate", "iteration": i}),
        GroupError::Authentication => json!({"error": "group/Authentication"}),
        GroupError::TooLarge => json!({"error": "group/TooLarge"}),
        GroupError::ChainExhausted => json!({"error": "group/ChainExhausted"}),
    }
}

/// Parses `bytes` as the named type of `FORMAT.md`.
pub(super) fn parse_as(ty: &str, bytes: &[u8]) -> Result<(), DecodeError> {
    match ty {
        "message" => Message::parse(bytes).map(drop),
        "initial_message" => InitialMessage::parse(bytes).map(drop),
        "bundle" => PreKeyBundle::parse(bytes).map(drop),
        "session_state" => Session::decode(bytes).map(drop),
        "prekey_store" => PreKeyStore::decode(bytes).map(drop),
        "group_message" => GroupMessage::parse(bytes).map(drop),
        "sender_key_distribution" => SenderKeyDistribution::parse(bytes).map(drop),
        "membership_event" => MembershipEvent::parse(bytes).map(drop),
        "group_item" => GroupWire::parse(bytes).map(drop),
        "group_state" => Group::decode(bytes).map(drop),
        other => panic!("no decoder named {other}"),
    }
}

/// A decoding refusal: `kind` is the `decode/…` kind it must produce.
pub(super) fn parse_vector(name: &str, ty: &str, input: &[u8], kind: &str, note: &str) -> Value {
    let err = parse_as(ty, input).expect_err(name);
    let expect = decode_kind(&err);
    assert_eq!(expect["error"], kind, "{name}: {err:?}");
    json!({"name": name, "op": "parse", "type": ty, "input": h(input), "expect": expect, "note": note})
}

fn sha(bytes: &[u8]) -> String {
    h(&Sha256::digest(bytes))
}

/// The receiver's own steps before the input (its encryptions with their draws, the
/// messages it decrypted), in the step schema of `ratchet.json`.
struct Prelude {
    steps: Vec<Value>,
    rng: KatRng,
    label: String,
}

impl Prelude {
    fn new(label: String) -> Self {
        Self {
            steps: Vec::new(),
            rng: KatRng::new(&label),
            label,
        }
    }

    fn encrypt(&mut self, s: &mut Session, by: &str, text: &str) -> Vec<u8> {
        let bytes = s
            .encrypt_with_rng(&mut self.rng, text.as_bytes())
            .unwrap()
            .encode();
        self.steps.push(json!({"op": "encrypt", "by": by, "plaintext": text, "draws": self.rng.take_draws(), "message": h(&bytes)}));
        bytes
    }

    fn decrypt(&mut self, s: &mut Session, by: &str, bytes: &[u8], text: &str) {
        assert_eq!(s.decrypt(&message_of(bytes)).unwrap(), text.as_bytes());
        self.steps
            .push(json!({"op": "decrypt", "by": by, "message": h(bytes), "plaintext": text}));
    }
}

/// `sender` encrypts `texts` with its own stream (not listed: only the receiver's view
/// matters); returns the ratchet messages (unwrapped from initial messages).
fn send_all(
    sender: &mut Session,
    rng: &mut KatRng,
    texts: impl Iterator<Item = String>,
) -> Vec<Vec<u8>> {
    texts
        .map(|t| {
            let env = sender.encrypt_with_rng(rng, t.as_bytes()).unwrap().encode();
            message_of(&env).as_bytes().to_vec()
        })
        .collect()
}

struct DecryptCase<'a> {
    name: &'a str,
    setup: &'a str,
    receiver: &'a str,
    prelude: Option<Prelude>,
    note: &'a str,
}

fn decrypt_vector(case: DecryptCase<'_>, state: &Session, input: &[u8], kind: &str) -> Value {
    let mut r = state.clone();
    let before = r.encode();
    layout::parse_state(&before);
    let msg = Message::parse(input).unwrap();
    let expect = match r.decrypt(&msg) {
        Ok(pt) => json!({"ok": true, "plaintext": h(&pt)}),
        Err(e) => {
            assert_eq!(
                *before,
                *r.encode(),
                "{}: a refusal changed the state",
                case.name
            );
            decrypt_kind(&e)
        }
    };
    if kind == "ok" {
        assert_eq!(expect["ok"], true, "{}: {expect}", case.name);
    } else {
        assert_eq!(expect["error"], kind, "{}: {expect}", case.name);
    }
    let (prelude, label) = case.prelude.map_or((Vec::new(), Value::Null), |p| {
        (p.steps, Value::from(p.label))
    });
    json!({
        "name": case.name,
        "op": "decrypt",
        "setup": case.setup,
        "receiver": case.receiver,
        "prelude_rng_label": label,
        "prelude": prelude,
        "state_sha256": sha(&before),
        "input": h(input),
        "expect": expect,
        "note": case.note,
    })
}

fn flip(bytes: &[u8], at: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[at] ^= 0x01;
    out
}

/// Low-order X25519 u-coordinates: 0 (order 1/2), 1 (order 4) and a point of order 8.
const LOW_ORDER: [(&str, &str); 3] = [
    (
        "zero",
        "0000000000000000000000000000000000000000000000000000000000000000",
    ),
    (
        "one",
        "0100000000000000000000000000000000000000000000000000000000000000",
    ),
    (
        "order-8",
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    ),
];

fn pairwise_vectors(out: &mut Vec<Value>, setups: &mut Vec<Value>) {
    let x = handshake("rejections-x3dh", false, true, false);
    let he = handshake("rejections-x3dh-header-encryption", false, true, true);
    setups.push(x.json.clone());
    setups.push(he.json.clone());
    let sx = "rejections-x3dh";
    let she = "rejections-x3dh-header-encryption";

    // MAX_SKIP on the current chain: Alice's messages n = 1..=1002; Bob expects n = 1.
    let mut a = x.alice.clone();
    let mut rng = KatRng::new("rejections/max-skip/alice");
    let msgs = send_all(&mut a, &mut rng, (1..=1002).map(|i| format!("n{i}")));
    out.push(decrypt_vector(
        DecryptCase {
            name: "max-skip-exceeded-current-chain",
            setup: sx,
            receiver: "b",
            prelude: None,
            note: "Alice's message n = 1002 while Bob expects n = 1: 1001 keys to skip",
        },
        &x.bob,
        &msgs[1001],
        "decrypt/TooManySkipped",
    ));
    out.push(decrypt_vector(
        DecryptCase {
            name: "max-skip-reached-current-chain",
            setup: sx,
            receiver: "b",
            prelude: None,
            note: "n = 1001 while Bob expects n = 1: exactly MAX_SKIP = 1000 keys skipped, accepted",
        },
        &x.bob,
        &msgs[1000],
        "ok",
    ));

    // MAX_SKIP on a new chain: Bob's messages n = 0..=1001; Alice has no receiving chain.
    let mut b = x.bob.clone();
    let mut rng = KatRng::new("rejections/max-skip-new-chain/bob");
    let msgs = send_all(&mut b, &mut rng, (0..=1001).map(|i| format!("n{i}")));
    out.push(decrypt_vector(
        DecryptCase {
            name: "max-skip-exceeded-new-chain",
            setup: sx,
            receiver: "a",
            prelude: None,
            note: "Bob's first chain, message n = 1001: a new ratchet key with 1001 keys to skip",
        },
        &x.alice,
        &msgs[1001],
        "decrypt/TooManySkipped",
    ));

    // MAX_SKIP on the previous chain (pn): Alice sends n = 1..=1001 (undelivered), reads
    // Bob's reply, and starts a new chain with pn = 1002; Bob still expects n = 1.
    let mut a = x.alice.clone();
    let mut b = x.bob.clone();
    let mut rng = KatRng::new("rejections/max-skip-pn/alice");
    send_all(&mut a, &mut rng, (1..=1001).map(|i| format!("n{i}")));
    let mut pre = Prelude::new("rejections/max-skip-pn/bob".into());
    let reply = pre.encrypt(&mut b, "b", "b0");
    a.decrypt(&message_of(&reply)).unwrap();
    let input = a.encrypt_with_rng(&mut rng, b"after").unwrap().encode();
    out.push(decrypt_vector(
        DecryptCase {
            name: "max-skip-exceeded-previous-chain",
            setup: sx,
            receiver: "b",
            prelude: Some(pre),
            note: "a new ratchet key with pn = 1002 while Bob expects n = 1 on the previous chain: 1001 keys to skip there",
        },
        &b,
        &input,
        "decrypt/TooManySkipped",
    ));

    out.push(decrypt_vector(
        DecryptCase {
            name: "duplicate",
            setup: sx,
            receiver: "b",
            prelude: None,
            note: "the ratchet message inside the initial message again (n = 0, already decrypted by respond)",
        },
        &x.bob,
        x.initial.message.as_bytes(),
        "decrypt/Duplicate",
    ));

    // The total cap: three chains of 1000 skipped keys each; the first chain's are evicted.
    let mut a = x.alice.clone();
    let mut b = x.bob.clone();
    let mut rng = KatRng::new("rejections/evicted/alice");
    let mut pre = Prelude::new("rejections/evicted/bob".into());
    let mut first = Vec::new();
    for round in 0..3 {
        let start = if round == 0 { 1 } else { 0 };
        let texts: Vec<String> = (start..start + 1001)
            .map(|i| format!("r{round}n{i}"))
            .collect();
        let msgs = send_all(&mut a, &mut rng, texts.iter().cloned());
        pre.decrypt(&mut b, "b", msgs.last().unwrap(), texts.last().unwrap());
        let reply = pre.encrypt(&mut b, "b", &format!("ack{round}"));
        a.decrypt(&message_of(&reply)).unwrap();
        if round == 0 {
            first = msgs;
        }
    }
    assert_eq!(b.skipped_keys(), talos_ratchet::MAX_SKIPPED_TOTAL);
    out.push(decrypt_vector(
        DecryptCase {
            name: "skipped-key-evicted",
            setup: sx,
            receiver: "b",
            prelude: Some(pre),
            note: "Alice's first chain n = 1: its key was skipped, then evicted when the third chain pushed the store past 2000 keys",
        },
        &b,
        &first[0],
        "decrypt/SkippedKeyEvicted",
    ));

    for (label, hex_key) in LOW_ORDER {
        let mut input = vec![1, 0];
        input.extend_from_slice(&hex::decode(hex_key).unwrap());
        input.extend_from_slice(&[0; 8 + 16]);
        out.push(decrypt_vector(
            DecryptCase {
                name: &format!("low-order-ratchet-key-{label}"),
                setup: sx,
                receiver: "b",
                prelude: None,
                note: "plain header with a low-order ratchet key, pn = n = 0, empty ciphertext, zero tag: the DH is refused before any AEAD",
            },
            &x.bob,
            &input,
            "decrypt/NonContributory",
        ));
    }

    let mut a = x.alice.clone();
    let mut rng = KatRng::new("rejections/tamper/alice");
    let genuine = message_of(&a.encrypt_with_rng(&mut rng, b"n1").unwrap().encode())
        .as_bytes()
        .to_vec();
    out.push(decrypt_vector(
        DecryptCase {
            name: "tampered-tag",
            setup: sx,
            receiver: "b",
            prelude: None,
            note: "Alice's ratchet message n = 1 (without its initial-message wrapping) with the last tag byte's low bit flipped",
        },
        &x.bob,
        &flip(&genuine, genuine.len() - 1),
        "decrypt/Authentication",
    ));
    out.push(decrypt_vector(
        DecryptCase {
            name: "tampered-header-pn",
            setup: sx,
            receiver: "b",
            prelude: None,
            note: "the same message with pn changed from 0 to 1: the right key, but the header is associated data",
        },
        &x.bob,
        &flip(&genuine, 2 + 32 + 3),
        "decrypt/Authentication",
    ));

    // Header encryption.
    let mut plain = vec![1, 0];
    plain.extend_from_slice(&[0; 40 + 16]);
    out.push(decrypt_vector(
        DecryptCase {
            name: "header-encryption-mismatch",
            setup: she,
            receiver: "b",
            prelude: None,
            note: "a plain-header message (all-zero header and tag) on a header-encrypting session",
        },
        &he.bob,
        &plain,
        "decrypt/HeaderEncryptionMismatch",
    ));
    let mut a = he.alice.clone();
    let mut rng = KatRng::new("rejections/he/alice");
    let genuine = message_of(&a.encrypt_with_rng(&mut rng, b"n1").unwrap().encode())
        .as_bytes()
        .to_vec();
    out.push(decrypt_vector(
        DecryptCase {
            name: "unknown-header-key",
            setup: she,
            receiver: "b",
            prelude: None,
            note: "Alice's message n = 1 with the first byte of its sealed header flipped: no header key opens it",
        },
        &he.bob,
        &flip(&genuine, 14),
        "decrypt/UnknownHeaderKey",
    ));
    out.push(decrypt_vector(
        DecryptCase {
            name: "duplicate-header-encryption",
            setup: she,
            receiver: "b",
            prelude: None,
            note: "the ratchet message inside the initial message again",
        },
        &he.bob,
        he.initial.message.as_bytes(),
        "decrypt/Duplicate",
    ));
    let nhkr = layout::parse_state(&he.bob.encode()).nhkr;
    let header = talos_ratchet::header::Header {
        dh: talos_ratchet::keys::DhPublic([0; 32]),
        pn: 0,
        n: 0,
    };
    let nonce = [0x4e; 12];
    let mut input = vec![1, 1];
    input.extend_from_slice(&nonce);
    talos_ratchet::aead::seal(
        &nhkr,
        &nonce,
        &[b"talos-ratchet-v1 header"],
        &header.encode(),
        &mut input,
    );
    input.extend_from_slice(&[0; 16]);
    out.push(decrypt_vector(
        DecryptCase {
            name: "low-order-ratchet-key-header-encryption",
            setup: she,
            receiver: "b",
            prelude: None,
            note: "header (dh = 0, pn = 0, n = 0) sealed under Bob's NHKr with nonce 4e×12, empty ciphertext, zero tag",
        },
        &he.bob,
        &input,
        "decrypt/NonContributory",
    ));
}

fn respond_vector(
    name: &str,
    setup: &str,
    hs: &super::Handshake,
    require_pq: bool,
    prelude: &[&InitialMessage],
    input: &[u8],
    kind: &str,
) -> Value {
    let mut store = hs.store.clone();
    let cfg = SessionConfig {
        require_pq,
        ..hs.config
    };
    let bob = identity(0xB0);
    for p in prelude {
        x3dh::respond(&bob, &mut store, p, cfg).unwrap();
    }
    let before = store.encode();
    let init = InitialMessage::parse(input).unwrap();
    let err = x3dh::respond(&bob, &mut store, &init, cfg).unwrap_err();
    assert_eq!(
        *before,
        *store.encode(),
        "{name}: a refusal changed the store"
    );
    let expect = handshake_kind(&err);
    assert_eq!(expect["error"], kind, "{name}: {err:?}");
    json!({
        "name": name,
        "op": "respond",
        "setup": setup,
        "require_pq": require_pq,
        "prelude": prelude.iter().map(|p| h(&p.encode())).collect::<Vec<_>>(),
        "input": h(input),
        "expect": expect,
    })
}

fn initiate_vector(name: &str, setup: &str, policy: PqPolicy, bundle: &[u8], kind: &str) -> Value {
    let label = format!("rejections/{name}/alice");
    let mut rng = KatRng::new(&label);
    let bundle_parsed = PreKeyBundle::parse(bundle).unwrap();
    let cfg = SessionConfig {
        pq: policy,
        ..SessionConfig::default()
    };
    let err = x3dh::initiate(&mut rng, &identity(0xA1), &bundle_parsed, cfg).unwrap_err();
    let expect = handshake_kind(&err);
    assert_eq!(expect["error"], kind, "{name}: {err:?}");
    let policy = match policy {
        PqPolicy::Prefer => "prefer",
        PqPolicy::Require => "require",
        PqPolicy::Off => "off",
    };
    json!({
        "name": name,
        "op": "initiate",
        "setup": setup,
        "pq_policy": policy,
        "rng_label": label,
        "draws": rng.take_draws(),
        "input": h(bundle),
        "expect": expect,
    })
}

fn handshake_vectors(out: &mut Vec<Value>, setups: &mut Vec<Value>) {
    let x = handshake("rejections-x3dh", false, true, false);
    let pq = handshake("rejections-pqxdh", true, true, false);
    setups.push(pq.json.clone());
    let (sx, spq) = ("rejections-x3dh", "rejections-pqxdh");

    let mut m = x.initial.clone();
    m.signed_prekey_id = 0x0042_4242;
    out.push(respond_vector(
        "unknown-signed-prekey",
        sx,
        &x,
        false,
        &[],
        &m.encode(),
        "handshake/UnknownSignedPreKey",
    ));
    let mut m = x.initial.clone();
    m.one_time_prekey_id = Some(0x0099_9999);
    out.push(respond_vector(
        "unknown-one-time-prekey",
        sx,
        &x,
        false,
        &[],
        &m.encode(),
        "handshake/UnknownOneTimePreKey",
    ));
    let mut m = pq.initial.clone();
    if let Some((id, _)) = m.kem.as_mut() {
        *id = 0x0077_7777;
    }
    out.push(respond_vector(
        "unknown-kem-prekey",
        spq,
        &pq,
        false,
        &[],
        &m.encode(),
        "handshake/UnknownKemPreKey",
    ));
    out.push(respond_vector(
        "one-time-prekey-already-used",
        sx,
        &x,
        false,
        &[&x.initial],
        &x.initial.encode(),
        "handshake/OneTimePreKeyAlreadyUsed",
    ));
    out.push(respond_vector(
        "post-quantum-required",
        sx,
        &x,
        true,
        &[],
        &x.initial.encode(),
        "handshake/PostQuantumRequired",
    ));
    let mut m = x.initial.clone();
    m.ephemeral = talos_ratchet::keys::DhPublic([0; 32]);
    out.push(respond_vector(
        "low-order-ephemeral-key",
        sx,
        &x,
        false,
        &[],
        &m.encode(),
        "handshake/NonContributory",
    ));
    let bytes = x.initial.encode();
    out.push(respond_vector(
        "forged-first-message",
        sx,
        &x,
        false,
        &[],
        &flip(&bytes, bytes.len() - 1),
        "handshake/FirstMessage",
    ));
    // The KEM ciphertext starts after version, kind, flags, IK_A, EK_A, spk_id, opk_id, kem_id.
    let bytes = pq.initial.encode();
    out.push(respond_vector(
        "forged-kem-ciphertext",
        spq,
        &pq,
        false,
        &[],
        &flip(&bytes, 3 + 32 + 32 + 4 + 4 + 4),
        "handshake/FirstMessage",
    ));

    // The initiator's checks of a bundle. Offsets: flags at 2, sig_spk at 71..135, the
    // one-time prekey at 135..171, then kem_id, EK_kem (1184) and sig_kem (64).
    let bx = x.bundle.encode();
    out.push(initiate_vector(
        "bad-signed-prekey-signature",
        sx,
        PqPolicy::Prefer,
        &flip(&bx, 71),
        "handshake/BadSignedPreKeySignature",
    ));
    let bpq = pq.bundle.encode();
    out.push(initiate_vector(
        "bad-kem-prekey-signature",
        spq,
        PqPolicy::Prefer,
        &flip(&bpq, bpq.len() - 64),
        "handshake/BadKemPreKeySignature",
    ));
    // An encapsulation key whose first coefficient is 4095 (≥ q = 3329), validly signed.
    let mut bad = bpq.clone();
    let ek_at = 171 + 4;
    bad[ek_at] = 0xFF;
    bad[ek_at + 1] |= 0x0F;
    let kem_id = &bad[171..175];
    let signed = [
        b"talos-ratchet-v1 kem-prekey".as_slice(),
        kem_id,
        &bad[ek_at..ek_at + 1184],
    ]
    .concat();
    let sig = identity(0xB0).sign(&signed);
    let sig_at = bad.len() - 64;
    bad[sig_at..].copy_from_slice(&sig.0);
    out.push(initiate_vector(
        "invalid-kem-prekey",
        spq,
        PqPolicy::Prefer,
        &bad,
        "handshake/InvalidKemKey",
    ));
    out.push(initiate_vector(
        "post-quantum-required-by-initiator",
        sx,
        PqPolicy::Require,
        &bx,
        "handshake/PostQuantumRequired",
    ));
    let mut low = bx.clone();
    low[139..171].copy_from_slice(&[0; 32]);
    out.push(initiate_vector(
        "low-order-one-time-prekey",
        sx,
        PqPolicy::Prefer,
        &low,
        "handshake/NonContributory",
    ));
}

fn decode_vectors(out: &mut Vec<Value>) {
    let x = handshake("rejections-x3dh", false, true, false);
    let msg = x.initial.message.as_bytes().to_vec();
    let mut v = msg.clone();
    v[0] = 2;
    out.push(parse_vector(
        "message-version",
        "message",
        &v,
        "decode/Version",
        "version byte 2",
    ));
    let mut v = msg.clone();
    v[1] = 3;
    out.push(parse_vector(
        "message-kind",
        "message",
        &v,
        "decode/Kind",
        "kind 0x03",
    ));
    out.push(parse_vector(
        "message-truncated",
        "message",
        &msg[..2 + 40 + 15],
        "decode/Truncated",
        "a plain header and 15 bytes: shorter than a tag",
    ));
    let init = x.initial.encode();
    let mut v = init.clone();
    v[2] |= 0x08;
    out.push(parse_vector(
        "initial-unknown-flag",
        "initial_message",
        &v,
        "decode/Flags",
        "flag bit 0x08",
    ));
    let mut v = init.clone();
    v[2] |= 0x04;
    out.push(parse_vector(
        "initial-header-encryption-flag-mismatch",
        "initial_message",
        &v,
        "decode/Invalid",
        "flag 0x04 set, the inner message has a plain header",
    ));
    let mut v = init.clone();
    v[3..35].copy_from_slice(&{
        let mut id = [0u8; 32];
        id[0] = 1;
        id
    });
    out.push(parse_vector(
        "initial-low-order-identity",
        "initial_message",
        &v,
        "decode/Invalid",
        "IK_A is the Ed25519 identity point (small order)",
    ));
    let bundle = x.bundle.encode();
    let mut v = bundle.clone();
    v.push(0);
    out.push(parse_vector(
        "bundle-trailing-byte",
        "bundle",
        &v,
        "decode/Trailing",
        "one byte after the last field",
    ));
    let mut v = bundle.clone();
    v[2] |= 0x04;
    out.push(parse_vector(
        "bundle-unknown-flag",
        "bundle",
        &v,
        "decode/Flags",
        "flag bit 0x04",
    ));
    let state = x.bob.encode();
    let mut v = state.to_vec();
    v[4] = 1;
    out.push(parse_vector(
        "session-state-version-1",
        "session_state",
        &v,
        "decode/Version",
        "TLRS version 1 is not read",
    ));
    let mut v = state.to_vec();
    v[5] |= 0x04;
    out.push(parse_vector(
        "session-state-unknown-flag",
        "session_state",
        &v,
        "decode/Flags",
        "flag bit 10",
    ));
    let mut v = state.to_vec();
    v[5] |= 0x01;
    out.push(parse_vector(
        "session-state-one-time-flag-without-pending",
        "session_state",
        &v,
        "decode/Invalid",
        "flag bit 8 (pending one-time prekey) without bit 2 (pending)",
    ));
}

#[test]
fn rejection_known_answers() {
    let mut setups = Vec::new();
    let mut vectors = Vec::new();
    pairwise_vectors(&mut vectors, &mut setups);
    handshake_vectors(&mut vectors, &mut setups);
    decode_vectors(&mut vectors);
    let (_, group_vectors) = group::scenario();
    vectors.extend(group_vectors);
    let names: std::collections::BTreeSet<&str> = vectors
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), vectors.len(), "vector names are unique");
    check_or_write(
        "rejections.json",
        &json!({"version": 1, "setups": setups, "vectors": vectors}),
    );
}
