//! `ratchet-pn.json`: conversations in which both parties take a second and a third sending
//! ratchet step, so headers carry `pn ≠ 0` and the receiver stores the skipped keys of the
//! previous chain (`pn - Nr` of them) before it ratchets. Every step records the acting
//! party's state digest and every message its header; the final states are given whole.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use talos_ratchet::header::Header;
use talos_ratchet::{Envelope, Message, Session};

use super::{KatRng, check_or_write, h, handshake, layout};

/// One step of a script.
#[derive(Clone, Copy)]
pub(super) enum Op {
    /// `who` encrypts `text` (the plaintext is its UTF-8 bytes).
    Send(char, &'static str),
    /// The message carrying `text` is delivered to the other party.
    Deliver(&'static str),
}

pub(super) fn message_of(bytes: &[u8]) -> Message {
    match Envelope::parse(bytes).unwrap() {
        Envelope::Message(m) => m,
        Envelope::Initial(i) => i.message,
    }
}

/// The header as the sender wrote it; an encrypted one is opened with the sender's HKs
/// read from its state encoding (the layout of `FORMAT.md`).
fn header_of(sender: &Session, bytes: &[u8]) -> Header {
    let msg = message_of(bytes);
    let raw = msg.as_bytes();
    if !msg.is_header_encrypted() {
        return Header::decode(&raw[2..42]).unwrap();
    }
    let hks = layout::parse_state(&sender.encode()).hks.unwrap();
    let nonce: [u8; 12] = raw[2..14].try_into().unwrap();
    let plain =
        talos_ratchet::aead::open(&hks, &nonce, &[b"talos-ratchet-v1 header"], &raw[14..70])
            .unwrap();
    Header::decode(&plain).unwrap()
}

fn digest(s: &Session) -> String {
    let state = s.encode();
    layout::parse_state(&state);
    h(&Sha256::digest(&*state))
}

/// Runs `script` with one conversation stream for both parties (as `ratchet.json` does).
/// Returns the steps and each sent message's header, by plaintext.
pub(super) fn run(
    a: &mut Session,
    b: &mut Session,
    rng: &mut KatRng,
    script: &[Op],
) -> (Vec<Value>, Vec<(&'static str, Header)>) {
    let mut steps = Vec::new();
    let mut headers = Vec::new();
    let mut in_flight: Vec<(char, &'static str, Vec<u8>)> = Vec::new();
    for op in script {
        match *op {
            Op::Send(who, text) => {
                let sender = if who == 'a' { &mut *a } else { &mut *b };
                let bytes = sender
                    .encrypt_with_rng(rng, text.as_bytes())
                    .unwrap()
                    .encode();
                let header = header_of(sender, &bytes);
                headers.push((text, header));
                steps.push(json!({
                    "op": "encrypt",
                    "by": who.to_string(),
                    "plaintext": text,
                    "draws": rng.take_draws(),
                    "message": h(&bytes),
                    "header": {"dh": h(&header.dh.0), "pn": header.pn, "n": header.n},
                    "state_sha256": digest(sender),
                }));
                in_flight.push((who, text, bytes));
            }
            Op::Deliver(text) => {
                let at = in_flight.iter().position(|(_, t, _)| *t == text).unwrap();
                let (who, _, bytes) = in_flight.remove(at);
                let (receiver, by) = if who == 'a' {
                    (&mut *b, "b")
                } else {
                    (&mut *a, "a")
                };
                let pt = receiver.decrypt(&message_of(&bytes)).unwrap();
                assert_eq!(pt, text.as_bytes());
                assert!(rng.take_draws().is_empty(), "decryption draws nothing");
                steps.push(json!({
                    "op": "decrypt",
                    "by": by,
                    "message": h(&bytes),
                    "plaintext": text,
                    "state_sha256": digest(receiver),
                }));
            }
        }
    }
    assert!(in_flight.is_empty());
    (steps, headers)
}

const SCRIPT: &[Op] = &[
    Op::Send('a', "a1"),
    Op::Send('a', "a2"),
    Op::Send('a', "a3"),
    Op::Deliver("a2"),
    Op::Send('b', "b0"),
    Op::Send('b', "b1"),
    Op::Deliver("b1"),
    Op::Send('a', "a4"),
    Op::Send('a', "a5"),
    Op::Deliver("a5"),
    Op::Deliver("a1"),
    Op::Deliver("a3"),
    Op::Send('b', "b2"),
    Op::Deliver("b2"),
    Op::Deliver("b0"),
    Op::Send('a', "a6"),
    Op::Deliver("a6"),
    Op::Deliver("a4"),
    Op::Send('b', "b3"),
    Op::Deliver("b3"),
];

fn pn_case(name: &str, pq: bool, header_encryption: bool) -> Value {
    let hs = handshake(name, pq, true, header_encryption);
    let (mut a, mut b) = (hs.alice, hs.bob);
    let label = format!("{name}/conversation");
    let mut rng = KatRng::new(&label);
    let (steps, headers) = run(&mut a, &mut b, &mut rng, SCRIPT);
    // What the script is for: (plaintext, pn, n) of every message.
    let expect: &[(&str, u32, u32)] = &[
        ("a1", 0, 1),
        ("a2", 0, 2),
        ("a3", 0, 3),
        ("b0", 0, 0),
        ("b1", 0, 1),
        ("a4", 4, 0),
        ("a5", 4, 1),
        ("b2", 2, 0),
        ("a6", 2, 0),
        ("b3", 1, 0),
    ];
    let got: Vec<(&str, u32, u32)> = headers.iter().map(|(t, hd)| (*t, hd.pn, hd.n)).collect();
    assert_eq!(got, expect);
    assert_eq!((a.skipped_keys(), b.skipped_keys()), (0, 0));
    json!({
        "name": name,
        "header_encryption": header_encryption,
        "handshake": hs.json,
        "conversation_rng_label": label,
        "steps": steps,
        "final_state": {"a": h(&a.encode()), "b": h(&b.encode())},
    })
}

#[test]
fn ratchet_pn_known_answers() {
    let cases = vec![
        pn_case("ratchet-pn-plain-header", true, false),
        pn_case("ratchet-pn-header-encryption", false, true),
    ];
    check_or_write("ratchet-pn.json", &json!({"version": 1, "cases": cases}));
}
