//! `group.json`: a sender-key group of three (creator `c`, members `m` and `n`) through
//! invitations, joins, a removal and the close, with every event, distribution and group
//! message, and the members' final states. Each group message and distribution is also
//! recomputed here from `FORMAT.md`'s formulas with the raw primitives (HMAC, HKDF,
//! ChaCha20-Poly1305, Ed25519), so the document and the code are checked against each
//! other. The group refusals of `rejections.json` are made here too, from the states the
//! scenario passes through.

use std::collections::BTreeMap;

use ed25519_dalek::Signer;
use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use talos_identity::IdentityKey;
use talos_primitives::Ed25519Public;
use talos_ratchet::group::wire::GroupWire;
use talos_ratchet::group::{Group, GroupMessage, Rekey, SenderKeyDistribution};
use talos_ratchet::membership::{EventKind, GroupId, MembershipEvent};

use super::rejections::{group_kind, parse_vector};
use super::{KatRng, check_or_write, h, identity};

/// The group's id: bound to its creator `c` (seed 0xC0), then sixteen bytes of 0x67.
fn group() -> GroupId {
    bound_id(&identity(0xC0).public(), 0x67)
}

/// The id a group `creator` starts: its 16-byte prefix, then `fill`.
fn bound_id(creator: &talos_primitives::Ed25519Public, fill: u8) -> GroupId {
    let mut id = GroupId::new_for(&mut rand::rng(), creator);
    id.0[16..].fill(fill);
    id
}

/// A sender key as `FORMAT.md` describes it: the chain key at `iteration` and the seed of
/// the Ed25519 key that signs the messages.
struct SpecKey {
    ck: [u8; 32],
    iteration: u32,
    seed: [u8; 32],
}

fn kdf_ck(ck: &[u8; 32]) -> ([u8; 32], [u8; 32]) {
    let mac = |c: u8| -> [u8; 32] {
        let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(ck).unwrap();
        m.update(&[c]);
        m.finalize().into_bytes().into()
    };
    (mac(0x01), mac(0x02))
}

fn group_message_keys(mk: &[u8; 32]) -> ([u8; 32], [u8; 12]) {
    let mut okm = [0u8; 44];
    Hkdf::<Sha256>::from_prk(mk)
        .unwrap()
        .expand(b"talos-ratchet-v1 messagegroup", &mut okm)
        .unwrap();
    (okm[..32].try_into().unwrap(), okm[32..].try_into().unwrap())
}

fn signing_public(seed: &[u8; 32]) -> [u8; 32] {
    ed25519_dalek::SigningKey::from_bytes(seed)
        .verifying_key()
        .to_bytes()
}

struct Member {
    name: &'static str,
    id: IdentityKey,
    rng: KatRng,
    group: Option<Group>,
}

impl Member {
    fn new(name: &'static str, seed: u8) -> Self {
        Self {
            name,
            id: identity(seed),
            rng: KatRng::new(&format!("group/{name}")),
            group: None,
        }
    }
    fn g(&mut self) -> &mut Group {
        self.group.as_mut().unwrap()
    }
    fn state(&self) -> Vec<u8> {
        self.group.as_ref().unwrap().encode().to_vec()
    }
}

struct Scenario {
    steps: Vec<Value>,
    vectors: Vec<Value>,
    spec: BTreeMap<(&'static str, u64), SpecKey>,
    names: Vec<(Ed25519Public, &'static str)>,
    log: Vec<MembershipEvent>,
}

fn kind_name(k: EventKind) -> &'static str {
    match k {
        EventKind::Invited => "INVITED",
        EventKind::Joined => "JOINED",
        EventKind::Removed => "REMOVED",
        EventKind::Closed => "CLOSED",
    }
}

impl Scenario {
    fn name(&self, k: &Ed25519Public) -> &'static str {
        self.names.iter().find(|(p, _)| p == k).unwrap().1
    }

    /// The event encoding and signature, recomputed from `FORMAT.md`.
    fn check_event(&self, ev: &MembershipEvent, actor_seed: u8) {
        let code = match ev.kind {
            EventKind::Invited => 1,
            EventKind::Joined => 2,
            EventKind::Removed => 3,
            EventKind::Closed => 4,
        };
        let mut signed = vec![0x01, 0x22, code];
        signed.extend_from_slice(&ev.group.0);
        signed.extend_from_slice(&ev.seq.to_be_bytes());
        signed.extend_from_slice(ev.member.as_bytes());
        signed.extend_from_slice(ev.actor.as_bytes());
        signed.extend_from_slice(&ev.prev_digest);
        assert_eq!(signed.len(), 139);
        let sig = ed25519_dalek::SigningKey::from_bytes(&[actor_seed; 32]).sign(&signed);
        let mut enc = signed;
        enc.extend_from_slice(&sig.to_bytes());
        assert_eq!(enc, ev.encode(), "event layout");
        let prev = self.log.last().map_or([0; 32], MembershipEvent::digest);
        assert_eq!(ev.prev_digest, prev);
        assert_eq!(ev.digest(), <[u8; 32]>::from(Sha256::digest(&enc)));
    }

    fn sign(
        &mut self,
        by: &Member,
        seed: u8,
        kind: EventKind,
        member: Ed25519Public,
    ) -> MembershipEvent {
        let ev = by.group.as_ref().unwrap().sign_event(&by.id, kind, member);
        self.check_event(&ev, seed);
        self.steps.push(json!({
            "op": "sign_event",
            "by": by.name,
            "kind": kind_name(kind),
            "member": self.name(&member),
            "seq": ev.seq,
            "event": h(&ev.encode()),
            "digest": h(&ev.digest()),
        }));
        ev
    }

    /// Checks a distribution against the sender's key as the spec tracks it.
    fn check_distribution(
        &self,
        by: &'static str,
        sender: &Ed25519Public,
        d: &SenderKeyDistribution,
    ) {
        let key = &self.spec[&(by, d.epoch)];
        let mut expect = vec![0x01, 0x20];
        expect.extend_from_slice(&group().0);
        expect.extend_from_slice(sender.as_bytes());
        expect.extend_from_slice(&d.epoch.to_be_bytes());
        expect.extend_from_slice(&key.iteration.to_be_bytes());
        expect.extend_from_slice(&key.ck);
        expect.extend_from_slice(&signing_public(&key.seed));
        assert_eq!(*d.encode(), expect, "distribution layout");
    }

    /// `who` applies `ev`; a fresh sender key (epoch = seq) comes from two draws.
    fn apply(&mut self, who: &mut Member, ev: &MembershipEvent) -> Rekey {
        let rekey = who.group.as_mut().unwrap().apply(&mut who.rng, ev).unwrap();
        let draws = who.rng.take_draws();
        if !draws.is_empty() {
            assert_eq!(draws.len(), 2, "chain key, then signing seed");
            let dec =
                |i: usize| -> [u8; 32] { hex::decode(&draws[i]).unwrap().try_into().unwrap() };
            self.spec.insert(
                (who.name, ev.seq),
                SpecKey {
                    ck: dec(0),
                    iteration: 0,
                    seed: dec(1),
                },
            );
        }
        let me = who.id.public();
        for (_, d) in &rekey {
            self.check_distribution(who.name, &me, d);
        }
        let dists: Vec<Value> = rekey
            .iter()
            .map(|(to, d)| json!({"to": self.name(to), "distribution": h(&d.encode())}))
            .collect();
        self.steps.push(json!({
            "op": "apply",
            "by": who.name,
            "seq": ev.seq,
            "draws": draws,
            "distributions": dists,
        }));
        rekey
    }

    fn accept(&mut self, who: &mut Member, from: &'static str, rekey: &Rekey) {
        let me = who.id.public();
        let from_key = self.names.iter().find(|(_, n)| *n == from).unwrap().0;
        let (_, d) = rekey.iter().find(|(to, _)| *to == me).unwrap();
        let d = SenderKeyDistribution::parse(&d.encode()).unwrap();
        who.g().accept_distribution(&from_key, &d).unwrap();
        self.steps.push(
            json!({"op": "accept", "by": who.name, "from": from, "distribution": h(&d.encode())}),
        );
    }

    /// `who` encrypts; the message is recomputed from the spec's copy of its sender key.
    fn encrypt(&mut self, who: &mut Member, text: &str) -> GroupMessage {
        let msg = who.g().encrypt(text.as_bytes()).unwrap();
        let key = self.spec.get_mut(&(who.name, msg.epoch)).unwrap();
        assert_eq!(key.iteration, msg.iteration);
        let (mk, next) = kdf_ck(&key.ck);
        let (aead_key, nonce) = group_message_keys(&mk);
        let mut expect = vec![0x01, 0x21];
        expect.extend_from_slice(&group().0);
        expect.extend_from_slice(who.id.public().as_bytes());
        expect.extend_from_slice(&msg.epoch.to_be_bytes());
        expect.extend_from_slice(&msg.iteration.to_be_bytes());
        assert_eq!(expect.len(), 78);
        let prefix = expect.clone();
        talos_ratchet::aead::seal(&aead_key, &nonce, &[&prefix], text.as_bytes(), &mut expect);
        let sig = ed25519_dalek::SigningKey::from_bytes(&key.seed).sign(&expect);
        expect.extend_from_slice(&sig.to_bytes());
        assert_eq!(msg.as_bytes(), expect, "group message layout");
        let step = json!({
            "op": "encrypt",
            "by": who.name,
            "plaintext": text,
            "epoch": msg.epoch,
            "iteration": msg.iteration,
            "chain_key": h(&key.ck),
            "message_key": h(&mk),
            "aead_key": h(&aead_key),
            "aead_nonce": h(&nonce),
            "message": h(msg.as_bytes()),
        });
        key.ck = next;
        key.iteration += 1;
        self.steps.push(step);
        msg
    }

    fn decrypt(&mut self, who: &mut Member, msg: &GroupMessage, text: &str) {
        let msg = GroupMessage::parse(msg.as_bytes()).unwrap();
        assert_eq!(who.g().decrypt(&msg).unwrap(), text.as_bytes());
        self.steps.push(json!({"op": "decrypt", "by": who.name, "message": h(msg.as_bytes()), "plaintext": text}));
    }

    /// A refusal by `who` in its current state; the state must not change.
    #[allow(clippy::too_many_arguments)] // one vector's fields
    fn refuse(
        &mut self,
        name: &str,
        who: &Member,
        op: &str,
        input: &[u8],
        from: Option<&Ed25519Public>,
        kind: &str,
        note: &str,
    ) {
        let state = who.state();
        let mut g = Group::decode(&state).unwrap();
        let mut rng = KatRng::new("group/refusals");
        let res = match op {
            "group_decrypt" => g.decrypt(&GroupMessage::parse(input).unwrap()).map(Some),
            "group_accept" => g
                .accept_distribution(from.unwrap(), &SenderKeyDistribution::parse(input).unwrap())
                .map(|()| None),
            "group_apply" => g
                .apply(&mut rng, &MembershipEvent::parse(input).unwrap())
                .map(|_| None),
            other => panic!("{other}"),
        };
        let expect = match res {
            Ok(plaintext) => {
                assert_eq!(kind, "ok", "{name}: accepted");
                json!({"ok": true, "plaintext": plaintext.map(|p| h(&p))})
            }
            Err(e) => {
                assert_eq!(*g.encode(), state, "{name}: a refusal changed the state");
                assert!(rng.take_draws().is_empty());
                let k = group_kind(&e);
                assert_eq!(k["error"], kind, "{name}: {e:?}");
                k
            }
        };
        let mut v = json!({
            "name": name,
            "op": op,
            "setup": "group.json",
            "receiver": who.name,
            "after_step": self.steps.len(),
            "state": h(&state),
            "input": h(input),
            "expect": expect,
            "note": note,
        });
        if let Some(f) = from {
            v["from"] = json!(self.name(f));
        }
        self.vectors.push(v);
    }
}

fn flip(bytes: &[u8], at: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[at] ^= 0x01;
    out
}

/// Runs the scenario: returns `group.json` and the group vectors of `rejections.json`.
#[allow(clippy::too_many_lines)] // one scenario, read top to bottom
pub(super) fn scenario() -> (Value, Vec<Value>) {
    let mut c = Member::new("c", 0xC0);
    let mut m = Member::new("m", 0xD0);
    let mut n = Member::new("n", 0xE0);
    let (cp, mp, np) = (c.id.public(), m.id.public(), n.id.public());
    let mut s = Scenario {
        steps: Vec::new(),
        vectors: Vec::new(),
        spec: BTreeMap::new(),
        names: vec![(cp, "c"), (mp, "m"), (np, "n")],
        log: Vec::new(),
    };

    // The creator's genesis (its own JOINED at seq 0) and first sender key (epoch 0).
    let (g, genesis) = Group::create(&mut c.rng, &c.id, group()).unwrap();
    c.group = Some(g);
    let draws = c.rng.take_draws();
    s.check_event(&genesis, 0xC0);
    let dec = |d: &String| -> [u8; 32] { hex::decode(d).unwrap().try_into().unwrap() };
    s.spec.insert(
        ("c", 0),
        SpecKey {
            ck: dec(&draws[0]),
            iteration: 0,
            seed: dec(&draws[1]),
        },
    );
    s.check_distribution("c", &cp, &c.g().own_distribution().unwrap());
    s.steps.push(json!({"op": "create", "by": "c", "group": h(&group().0), "draws": draws, "event": h(&genesis.encode()), "digest": h(&genesis.digest())}));
    s.log.push(genesis);

    // c invites m; m joins from the log.
    let ev1 = s.sign(&c, 0xC0, EventKind::Invited, mp);
    s.apply(&mut c, &ev1);
    s.log.push(ev1);
    m.group = Some(Group::from_log(mp, &s.log).unwrap());
    s.steps
        .push(json!({"op": "from_log", "by": "m", "events": s.log.len()}));
    let ev2 = s.sign(&m, 0xD0, EventKind::Joined, mp);
    let rk_m = s.apply(&mut m, &ev2);
    let rk_c = s.apply(&mut c, &ev2);
    s.log.push(ev2);
    s.accept(&mut c, "m", &rk_m);
    s.accept(&mut m, "c", &rk_c);

    // c sends three messages at epoch 2; m reads them last first (two keys skipped).
    let g0 = s.encrypt(&mut c, "g0");
    let g1 = s.encrypt(&mut c, "g1");
    let g2 = s.encrypt(&mut c, "g2");
    s.decrypt(&mut m, &g2, "g2");
    s.decrypt(&mut m, &g0, "g0");
    s.decrypt(&mut m, &g1, "g1");

    // Refusals by m at this point (c's chain at iteration 3 in m's view).
    s.refuse(
        "group-duplicate",
        &m,
        "group_decrypt",
        g1.as_bytes(),
        None,
        "group/Duplicate",
        "g1 again: its skipped key was used",
    );
    let mut c_copy = Group::decode(&c.state()).unwrap();
    let ahead: Vec<GroupMessage> = (3..=1004)
        .map(|i| c_copy.encrypt(format!("i{i}").as_bytes()).unwrap())
        .collect();
    s.refuse(
        "group-max-skip-exceeded",
        &m,
        "group_decrypt",
        ahead[1001].as_bytes(),
        None,
        "group/TooManySkipped",
        "iteration 1004 while m expects 3: 1001 keys to skip",
    );
    s.refuse(
        "group-max-skip-reached",
        &m,
        "group_decrypt",
        ahead[1000].as_bytes(),
        None,
        "ok",
        "iteration 1003 while m expects 3: exactly MAX_SKIP = 1000 keys skipped, accepted",
    );
    let next = ahead[0].as_bytes();
    s.refuse(
        "group-bad-signature",
        &m,
        "group_decrypt",
        &flip(next, next.len() - 1),
        None,
        "group/BadSignature",
        "c's iteration-3 message with the last signature byte's low bit flipped",
    );
    let mut forged = flip(next, 78);
    let seed = s.spec[&("c", 2)].seed;
    let sig = ed25519_dalek::SigningKey::from_bytes(&seed).sign(&forged[..forged.len() - 64]);
    let at = forged.len() - 64;
    forged[at..].copy_from_slice(&sig.to_bytes());
    s.refuse("group-authentication", &m, "group_decrypt", &forged, None, "group/Authentication", "c's iteration-3 message with its first ciphertext byte flipped and signed again with c's epoch-2 signing key");
    let mut other = next.to_vec();
    other[2] ^= 0x01;
    s.refuse(
        "group-wrong-group",
        &m,
        "group_decrypt",
        &other,
        None,
        "group/WrongGroup",
        "the group id's first byte changed (the signature is not reached)",
    );

    // m answers.
    let m0 = s.encrypt(&mut m, "m0");
    s.decrypt(&mut c, &m0, "m0");

    // c invites n; n joins; everybody rekeys twice (epochs 3 and 4).
    let ev3 = s.sign(&c, 0xC0, EventKind::Invited, np);
    let rk_c = s.apply(&mut c, &ev3);
    let rk_m = s.apply(&mut m, &ev3);
    s.log.push(ev3);
    s.accept(&mut c, "m", &rk_m);
    s.accept(&mut m, "c", &rk_c);
    n.group = Some(Group::from_log(np, &s.log).unwrap());
    s.steps
        .push(json!({"op": "from_log", "by": "n", "events": s.log.len()}));
    let invite = GroupWire::Invite(s.log.clone());
    let ev4 = s.sign(&n, 0xE0, EventKind::Joined, np);
    let rk_n = s.apply(&mut n, &ev4);
    let rk_c = s.apply(&mut c, &ev4);
    let rk_m = s.apply(&mut m, &ev4);
    s.log.push(ev4.clone());
    s.accept(&mut c, "n", &rk_n);
    s.accept(&mut c, "m", &rk_m);
    s.accept(&mut m, "n", &rk_n);
    s.accept(&mut m, "c", &rk_c);
    s.accept(&mut n, "c", &rk_c);
    s.accept(&mut n, "m", &rk_m);
    let n_dist_for_m = rk_n
        .iter()
        .find(|(to, _)| *to == mp)
        .unwrap()
        .1
        .encode()
        .to_vec();
    s.refuse(
        "group-unknown-sender-key",
        &m,
        "group_decrypt",
        g0.as_bytes(),
        None,
        "group/UnknownSenderKey",
        "c's epoch-2 message g0: m keeps c's two newest epochs (3, 4) only",
    );

    let t = s.encrypt(&mut c, "to three");
    s.decrypt(&mut m, &t, "to three");
    s.decrypt(&mut n, &t, "to three");
    let from_n = s.encrypt(&mut n, "from n");
    s.decrypt(&mut c, &from_n, "from n");

    // c removes n (epoch 5): n's keys are dropped, n gets no new ones.
    let ev5 = s.sign(&c, 0xC0, EventKind::Removed, np);
    let rk_c = s.apply(&mut c, &ev5);
    let rk_m = s.apply(&mut m, &ev5);
    let rk_n = s.apply(&mut n, &ev5);
    assert!(rk_n.is_empty());
    s.log.push(ev5.clone());
    s.accept(&mut c, "m", &rk_m);
    s.accept(&mut m, "c", &rk_c);
    s.refuse(
        "group-sender-not-member",
        &m,
        "group_decrypt",
        from_n.as_bytes(),
        None,
        "group/SenderNotMember",
        "n's epoch-4 message, delivered after n's removal",
    );
    let c_dist = rk_c[0].1.encode().to_vec();
    s.refuse(
        "group-wrong-distributor",
        &m,
        "group_accept",
        &c_dist,
        Some(&np),
        "group/WrongDistributor",
        "c's epoch-5 sender key arriving over the session with n",
    );
    s.refuse(
        "group-distribution-sender-not-member",
        &m,
        "group_accept",
        &n_dist_for_m,
        Some(&np),
        "group/SenderNotMember",
        "n's epoch-4 sender key, from n, after n's removal",
    );
    let mut other = c_dist.clone();
    other[2] ^= 0x01;
    s.refuse(
        "group-distribution-wrong-group",
        &m,
        "group_accept",
        &other,
        Some(&cp),
        "group/WrongGroup",
        "c's epoch-5 sender key with the group id's first byte changed",
    );

    // Membership events m refuses (its log head is seq 5).
    let head = s.log.last().unwrap().digest();
    let close = c
        .group
        .as_ref()
        .unwrap()
        .sign_event(&c.id, EventKind::Closed, cp);
    let bytes = close.encode();
    s.refuse(
        "event-bad-signature",
        &m,
        "group_apply",
        &flip(&bytes, bytes.len() - 1),
        None,
        "group/Membership",
        "c's CLOSED at seq 6 with the last signature byte's low bit flipped",
    );
    s.refuse(
        "event-sequence",
        &m,
        "group_apply",
        &ev5.encode(),
        None,
        "group/Membership",
        "c's REMOVED (seq 5) again",
    );
    let broken = MembershipEvent::sign(&c.id, group(), 6, EventKind::Closed, cp, [0; 32]);
    s.refuse(
        "event-broken-chain",
        &m,
        "group_apply",
        &broken.encode(),
        None,
        "group/Membership",
        "c's CLOSED at seq 6 signed on prev_digest = 0 instead of the head",
    );
    let not_allowed = MembershipEvent::sign(&m.id, group(), 6, EventKind::Removed, cp, head);
    s.refuse(
        "event-not-allowed",
        &m,
        "group_apply",
        &not_allowed.encode(),
        None,
        "group/Membership",
        "m removes c: only the creator removes others",
    );
    let wrong_state = MembershipEvent::sign(&c.id, group(), 6, EventKind::Invited, mp, head);
    s.refuse(
        "event-wrong-member-state",
        &m,
        "group_apply",
        &wrong_state.encode(),
        None,
        "group/Membership",
        "c invites m, already a member",
    );
    let wrong_group =
        MembershipEvent::sign(&c.id, bound_id(&cp, 0x68), 6, EventKind::Closed, cp, head);
    s.refuse(
        "event-wrong-group",
        &m,
        "group_apply",
        &wrong_group.encode(),
        None,
        "group/Membership",
        "c's CLOSED for group 68×32",
    );

    let after = s.encrypt(&mut c, "after removal");
    s.decrypt(&mut m, &after, "after removal");
    s.refuse(
        "group-not-member",
        &n,
        "group_decrypt",
        after.as_bytes(),
        None,
        "group/NotMember",
        "c's epoch-5 message to n, removed at seq 5",
    );

    let before_close = json!({"c": h(&c.state()), "m": h(&m.state()), "n": h(&n.state())});

    // The creator closes the group: no sender keys, no further events.
    let ev6 = s.sign(&c, 0xC0, EventKind::Closed, cp);
    assert!(s.apply(&mut c, &ev6).is_empty());
    assert!(s.apply(&mut m, &ev6).is_empty());
    s.log.push(ev6);
    let late = MembershipEvent::sign(
        &c.id,
        group(),
        7,
        EventKind::Invited,
        np,
        s.log.last().unwrap().digest(),
    );
    s.refuse(
        "event-after-close",
        &m,
        "group_apply",
        &late.encode(),
        None,
        "group/Membership",
        "c invites n again at seq 7, after CLOSED",
    );

    // Group items as they travel inside pairwise plaintexts.
    let items = [
        ("invite", invite),
        ("event", GroupWire::Event(ev4)),
        (
            "reject",
            GroupWire::Reject {
                group: group(),
                next_seq: 5,
            },
        ),
        (
            "distribution",
            GroupWire::Distribution(SenderKeyDistribution::parse(&c_dist).unwrap()),
        ),
        ("message", GroupWire::Message(after)),
    ];
    let wire: Vec<Value> = items
        .iter()
        .map(|(what, item)| {
            let enc = item.encode();
            assert!(GroupWire::parse(&enc).unwrap() == *item);
            json!({"item": what, "encoding": h(&enc)})
        })
        .collect();

    // Decoding refusals of the group formats.
    let mut d = c_dist.clone();
    let sk_at = 2 + 32 + 32 + 8 + 4 + 32;
    d[sk_at..].copy_from_slice(&{
        let mut id = [0u8; 32];
        id[0] = 1;
        id
    });
    s.vectors.push(parse_vector(
        "distribution-low-order-signing-key",
        "sender_key_distribution",
        &d,
        "decode/Invalid",
        "the signing key is the Ed25519 identity point (small order)",
    ));
    let msg = t.as_bytes();
    s.vectors.push(parse_vector(
        "group-message-truncated",
        "group_message",
        &msg[..78 + 16 + 63],
        "decode/Truncated",
        "the prefix and 79 bytes: shorter than a tag and a signature",
    ));
    let mut e = s.log[1].encode();
    e[2] = 5;
    s.vectors.push(parse_vector(
        "event-unknown-kind",
        "membership_event",
        &e,
        "decode/Invalid",
        "event kind 5",
    ));
    s.vectors.push(parse_vector(
        "group-item-empty-invite",
        "group_item",
        &[1, 0, 0],
        "decode/Invalid",
        "an Invite of 0 events",
    ));
    s.vectors.push(parse_vector(
        "group-item-unknown-tag",
        "group_item",
        &[6],
        "decode/Kind",
        "item tag 6",
    ));
    let mut r = vec![3];
    r.extend_from_slice(&group().0);
    r.extend_from_slice(&[0; 7]);
    s.vectors.push(parse_vector(
        "group-item-short-reject",
        "group_item",
        &r,
        "decode/Invalid",
        "a Reject whose next_seq has 7 bytes",
    ));

    let json = json!({
        "version": 1,
        "group": h(&group().0),
        "members": [
            {"name": "c", "identity_seed": h(&[0xC0; 32]), "public": h(cp.as_bytes()), "rng_label": "group/c"},
            {"name": "m", "identity_seed": h(&[0xD0; 32]), "public": h(mp.as_bytes()), "rng_label": "group/m"},
            {"name": "n", "identity_seed": h(&[0xE0; 32]), "public": h(np.as_bytes()), "rng_label": "group/n"},
        ],
        "steps": s.steps,
        "log": s.log.iter().map(|e| h(&e.encode())).collect::<Vec<_>>(),
        "wire_items": wire,
        "state_before_close": before_close,
        "final_state": {"c": h(&c.state()), "m": h(&m.state()), "n": h(&n.state())},
    });
    (json, s.vectors)
}

#[test]
fn group_known_answers() {
    check_or_write("group.json", &scenario().0);
}
