use talos_ratchet::message::Envelope;
use talos_ratchet::simultaneous::resolve;
use talos_ratchet::x3dh::{self, SessionConfig};

use crate::common::{Party, message_of};

/// Both agents start a session at the same moment. Each accepts the other's initial
/// message, then both resolve to the same session, and traffic flows on it both ways;
/// the retired session still decrypts a frame that was in flight.
#[test]
fn simultaneous_initiation_resolves_to_the_same_session() {
    let cfg = SessionConfig::default();
    let mut a = Party::new(true);
    let mut b = Party::new(true);
    let ba = b
        .store
        .bundle(&b.identity, b.store.next_one_time_id())
        .unwrap();
    let ab = a
        .store
        .bundle(&a.identity, a.store.next_one_time_id())
        .unwrap();
    let mut a_out = x3dh::initiate(&mut rand::rng(), &a.identity, &ba, cfg).unwrap();
    let mut b_out = x3dh::initiate(&mut rand::rng(), &b.identity, &ab, cfg).unwrap();
    let Envelope::Initial(from_a) = a_out.encrypt(b"a first").unwrap() else {
        panic!()
    };
    let Envelope::Initial(from_b) = b_out.encrypt(b"b first").unwrap() else {
        panic!()
    };
    let late_from_a = message_of(a_out.encrypt(b"a late").unwrap());
    let (a_in, pt) = x3dh::respond(&a.identity, &mut a.store, &from_b, cfg).unwrap();
    assert_eq!(pt, b"b first");
    let (b_in, pt) = x3dh::respond(&b.identity, &mut b.store, &from_a, cfg).unwrap();
    assert_eq!(pt, b"a first");
    let mut ra = resolve(a_out, a_in).unwrap();
    let mut rb = resolve(b_out, b_in).unwrap();
    assert_eq!(ra.active.handshake_id(), rb.active.handshake_id());
    assert_eq!(ra.retired.handshake_id(), rb.retired.handshake_id());
    // Traffic on the active session, both directions, starting from either side.
    let active_initiator_is_a = ra.active.role() == talos_ratchet::session::Role::Initiator;
    let (first, second) = if active_initiator_is_a {
        (&mut rb, &mut ra)
    } else {
        (&mut ra, &mut rb)
    };
    // The responder of the active session speaks first (it has a sending chain).
    let m = message_of(first.active.encrypt(b"on active").unwrap());
    assert_eq!(second.active.decrypt(&m).unwrap(), b"on active");
    let m = message_of(second.active.encrypt(b"reply").unwrap());
    assert_eq!(first.active.decrypt(&m).unwrap(), b"reply");
    // A frame sent on A's outbound session before resolution still decrypts at B.
    let b_session_for_late = if active_initiator_is_a {
        &mut rb.active
    } else {
        &mut rb.retired
    };
    assert_eq!(b_session_for_late.decrypt(&late_from_a).unwrap(), b"a late");
    // Mixing sessions of different peers is refused.
    let c = Party::new(false);
    let bc = b.store.bundle(&b.identity, None).unwrap();
    let c_out = x3dh::initiate(&mut rand::rng(), &c.identity, &bc, cfg).unwrap();
    assert!(resolve(c_out, ra.retired).is_err());
}
