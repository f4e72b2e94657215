//! The session-state layout of `FORMAT.md` ("Session state"), read here field by field
//! without the library's decoder, so that the document and the encoder are checked against
//! each other on every state the known-answer files contain.

use sha2::{Digest, Sha256};

/// A session state as `FORMAT.md` lays it out.
pub(super) struct State {
    pub(super) hks: Option<[u8; 32]>,
    pub(super) nhkr: [u8; 32],
}

struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> &'a [u8] {
        assert!(self.0.len() >= n, "state shorter than FORMAT.md's layout");
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        head
    }
    fn key(&mut self) -> [u8; 32] {
        self.take(32).try_into().unwrap()
    }
    fn u32(&mut self) -> u32 {
        u32::from_be_bytes(self.take(4).try_into().unwrap())
    }
    fn u16(&mut self) -> u16 {
        u16::from_be_bytes(self.take(2).try_into().unwrap())
    }
}

const HE: u16 = 1 << 0;
const INITIATOR: u16 = 1 << 1;
const PENDING: u16 = 1 << 2;
const DHR: u16 = 1 << 3;
const CKS: u16 = 1 << 4;
const CKR: u16 = 1 << 5;
const HKS: u16 = 1 << 6;
const HKR: u16 = 1 << 7;
const OPK: u16 = 1 << 8;
const KEM: u16 = 1 << 9;

/// Reads a `TLRS` version 2 encoding; panics where it departs from `FORMAT.md`.
pub(super) fn parse_state(bytes: &[u8]) -> State {
    let mut c = Cursor(bytes);
    assert_eq!(c.take(4), b"TLRS");
    assert_eq!(c.take(1), [2]);
    let flags = c.u16();
    assert_eq!(flags >> 10, 0, "only flag bits 0..9 are defined");
    let has = |f: u16| flags & f != 0;
    let ik_a = c.key();
    let _ik_b = c.key();
    let handshake_id = c.key();
    let dhs = c.key();
    let dhs_public = c.key();
    assert_eq!(
        dhs_public,
        x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(dhs)).to_bytes(),
        "DHs_pub is X25519(DHs, 9)"
    );
    if has(DHR) {
        c.key();
    }
    c.key(); // RK
    if has(CKS) {
        c.key();
    }
    if has(CKR) {
        c.key();
    }
    let (_ns, _nr, _pn) = (c.u32(), c.u32(), c.u32());
    let hks = has(HKS).then(|| c.key());
    if has(HKR) {
        c.key();
    }
    let _nhks = c.key();
    let nhkr = c.key();
    if has(PENDING) {
        assert!(has(INITIATOR), "only an initiator has a pending handshake");
        let ek = c.key();
        let expect: [u8; 32] =
            Sha256::digest([b"talos-ratchet-v1 handshake".as_slice(), &ik_a, &ek].concat()).into();
        assert_eq!(
            handshake_id, expect,
            "handshake_id = SHA-256(label ‖ IK_A ‖ EK_A)"
        );
        c.u32(); // spk_id
        if has(OPK) {
            c.u32();
        }
        if has(KEM) {
            c.u32();
            c.take(1088);
        }
    } else {
        assert_eq!(flags & (OPK | KEM), 0);
    }
    if !has(HE) {
        assert!(!has(HKR), "plain-header sessions never hold HKr");
        assert_eq!(
            has(HKS),
            has(INITIATOR),
            "HKs = shared HKa on the initiator only"
        );
    }
    let chains = c.take(1)[0];
    assert!(chains <= 32);
    for _ in 0..chains {
        c.key();
        c.u32();
    }
    let skipped = c.u16();
    assert!(skipped <= 2000);
    for _ in 0..skipped {
        c.key();
        c.u32();
        c.key();
    }
    assert!(c.0.is_empty(), "bytes after the last skipped key");
    State { hks, nhkr }
}
