//! The relay of `carried.rs`: toward the sender it is the receiver (seed 2, so its
//! PeerId), toward the receiver it is the sender (seed 1); it hands each frame on in
//! stream order, under rules the test sets.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use talos_audit::event::FrameRef;
use talos_net::{
    AckStatus, Client, Deposit, Frame, FrameKind, InboundFrame, Multiaddr, NetConfig, PeerId,
    Responder,
};
use talos_node::node::Node;
use talos_primitives::Hash32;
use tokio::task::JoinHandle;

use crate::delivery::identity;

/// What the relay does with the frames it is given.
#[derive(Clone, Copy, Debug)]
pub(super) struct Rules {
    /// Frames in hand wait, unanswered, until the rules open again.
    pub(super) closed: bool,
    /// Direct frames with a higher seq are kept unanswered for good: the sender's
    /// request times out (a failed send). Deposits always go on.
    pub(super) hold_above: u64,
    /// The frame with this seq has the last bit of its body flipped on the way: the
    /// receiver cannot open it and refuses it (`Malformed`), and opens the later ones.
    pub(super) garble: Option<u64>,
}

impl Rules {
    pub(super) const PASS: Rules = Rules {
        closed: false,
        hold_above: u64::MAX,
        garble: None,
    };
}

/// A frame the relay handed on, and the receiver's answer.
#[derive(Clone, Copy, Debug)]
pub(super) struct Passed {
    pub(super) seq: u64,
    /// It came as a deposit (the relay serving as the receiver's mailbox).
    pub(super) deposit: bool,
    /// The sender's frame, as its audit log names it.
    pub(super) frame: Hash32,
    /// What reached the receiver (differs from `frame` only when garbled).
    pub(super) wire: Hash32,
    pub(super) status: AckStatus,
}

struct State {
    rules: Rules,
    passed: Vec<Passed>,
    /// The seqs of the direct frames that reached the relay, in order.
    arrived: Vec<u64>,
}

struct Shared {
    state: Mutex<State>,
    /// Rung when the rules change (so frames in hand go on when the relay opens).
    changed: tokio::sync::Notify,
}

impl Shared {
    fn rules(&self) -> Rules {
        self.state.lock().unwrap().rules
    }
}

/// Seed 2 (the receiver) toward the sender, seed 1 (the sender) toward the receiver.
pub(super) struct Relay {
    /// Where the sender reaches "the receiver".
    pub(super) addr: Multiaddr,
    /// The side that faces the sender (its DHT serves the receiver's record).
    pub(super) front: Client,
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Relay {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Relay {
    /// A relay to the receiver (seed 2) listening at `to`.
    pub(super) async fn start(to: &Multiaddr, rules: Rules) -> Relay {
        let talos_net::Network {
            client: front,
            event_loop,
            inbound,
            ..
        } = talos_net::new(&identity(2), NetConfig::default()).unwrap();
        let mut tasks = vec![tokio::spawn(event_loop.run())];
        let talos_net::Network {
            client: back,
            event_loop,
            ..
        } = talos_net::new(&identity(1), NetConfig::default()).unwrap();
        tasks.push(tokio::spawn(event_loop.run()));
        let receiver = Node::peer_id(&identity(2).public()).unwrap();
        back.add_address(receiver, to.clone()).await.unwrap();
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                rules,
                passed: Vec::new(),
                arrived: Vec::new(),
            }),
            changed: tokio::sync::Notify::new(),
        });
        tasks.push(tokio::spawn(relay_frames(
            front.clone(),
            back,
            receiver,
            inbound,
            shared.clone(),
        )));
        let addr = front
            .listen("/ip4/127.0.0.1/tcp/0".parse().unwrap())
            .await
            .unwrap();
        Relay {
            addr,
            front,
            shared,
            tasks,
        }
    }

    pub(super) fn set(&self, rules: Rules) {
        self.shared.state.lock().unwrap().rules = rules;
        self.shared.changed.notify_one();
    }

    pub(super) fn passed(&self) -> Vec<Passed> {
        self.shared.state.lock().unwrap().passed.clone()
    }

    /// Waits (boundedly) until a direct frame with `seq` has reached the relay.
    pub(super) async fn wait_arrived(&self, seq: u64) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while !self.shared.state.lock().unwrap().arrived.contains(&seq) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "frame {seq} never reached the relay"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// The relay's loop: takes the sender's frames (and deposits) and hands them on to the
/// receiver one at a time, in stream order (a resent one at once), answering each with
/// the receiver's answer.
async fn relay_frames(
    front: Client,
    back: Client,
    to: PeerId,
    mut inbound: tokio::sync::mpsc::Receiver<InboundFrame>,
    shared: Arc<Shared>,
) {
    // Frames in hand, by seq, and whether each came as a deposit.
    let mut waiting: BTreeMap<u64, (Frame, bool, Responder)> = BTreeMap::new();
    // Kept unanswered while the relay runs (dropping one would answer `Later`).
    let mut held: Vec<Responder> = Vec::new();
    // The receiver's next expected seq (every stream starts at 1).
    let mut next = 1u64;
    loop {
        tokio::select! {
            got = inbound.recv() => {
                let Some(InboundFrame { frame, responder, .. }) = got else {
                    return;
                };
                let rules = shared.rules();
                if frame.kind() != FrameKind::Deposit {
                    shared.state.lock().unwrap().arrived.push(frame.seq());
                }
                if frame.kind() == FrameKind::Deposit {
                    // As the receiver's mailbox. An unparsable one is dropped: `Later`.
                    if let Ok(d) = Deposit::parse(&frame) {
                        waiting.insert(d.inner.seq(), (d.inner, true, responder));
                    }
                } else if frame.seq() > rules.hold_above {
                    held.push(responder);
                } else {
                    // A copy already in hand (its request timed out) is replaced; the
                    // old responder answers `Later` to a request nobody waits for.
                    waiting.insert(frame.seq(), (frame, false, responder));
                }
            }
            () = shared.changed.notified() => {}
        }
        let rules = shared.rules();
        if rules.closed {
            continue;
        }
        while waiting
            .first_key_value()
            .is_some_and(|(&seq, _)| seq <= next)
        {
            let Some((seq, (frame, deposit, responder))) = waiting.pop_first() else {
                break;
            };
            let original = FrameRef::of(&frame.encode()).frame;
            let wire = if rules.garble == Some(seq) {
                let mut body = frame.body().to_vec();
                if let Some(last) = body.last_mut() {
                    *last ^= 1;
                }
                Frame::new(frame.kind(), seq, body).unwrap()
            } else {
                frame
            };
            let wire_ref = FrameRef::of(&wire.encode()).frame;
            match back.send(to, wire).await {
                Ok(ack) => {
                    shared.state.lock().unwrap().passed.push(Passed {
                        seq,
                        deposit,
                        frame: original,
                        wire: wire_ref,
                        status: ack.status,
                    });
                    let _ = front.respond(responder, ack.status).await;
                }
                // No answer from the receiver: the responder, dropped, answers `Later`.
                Err(_) => drop(responder),
            }
            next = next.max(seq.saturating_add(1));
        }
    }
}
