//! Finding 8 of the security review, with real `talos up` processes: messages the API
//! called durable, encrypted to a prekey bundle the recipient rotated out three times
//! before they reached it, are refused by the recipient's node; the sender's node then
//! sends them again on a new session from the recipient's current bundle. Before the
//! fix the sender dropped the refused frames and kept the stale session: all lost.

use std::path::Path;
use std::time::Duration;

use talos_testkit::node::{NodeProc, flags, free_port, init, set_config};

fn tcp(port: u16) -> String {
    format!("/ip4/127.0.0.1/tcp/{port}")
}

/// Waits until `home`'s node log shows `n` signed-prekey rotations (over all its runs):
/// progress, not a guess at how long rotations take on a busy machine.
async fn rotations(home: &Path, n: usize) {
    for _ in 0..1200 {
        let log = std::fs::read_to_string(home.join("node.log")).unwrap_or_default();
        let seen = log
            .lines()
            .filter(|l| l.contains("prekeys refreshed") && l.contains("rotated=true"))
            .count();
        if seen >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{} never rotated its prekeys {n} times", home.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_frames_lose_no_acknowledged_message() {
    let root = tempfile::tempdir().unwrap();
    // A third node keeps the directory while the two others are away.
    let hub_home = init(root.path(), "hub", &flags(&[("--listen", &tcp(0))]));
    let hub = NodeProc::up(&hub_home, &[]).await;
    let peer_flags = |port: u16| flags(&[("--listen", &tcp(port)), ("--bootstrap", &hub.addr())]);
    let bob_home = init(root.path(), "bob", &peer_flags(free_port()));
    // Bob rotates its signed prekey whenever a second has passed since the last time.
    set_config(&bob_home, &[("prekey_rotation_secs", "1")]);
    let alice_home = init(root.path(), "alice", &peer_flags(free_port()));
    let mut bob = NodeProc::up(&bob_home, &[]).await;
    // Bob's record (with the bundle of its first rotation) reaches the hub.
    rotations(&bob_home, 1).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(bob.term().await.success());

    // Bob is away: alice's node takes the messages (durable) on bob's published bundle.
    let mut alice = NodeProc::up(&alice_home, &[]).await;
    for k in 0..3u8 {
        alice.send(&bob.did, &[k]).await.unwrap();
    }
    assert!(alice.term().await.success());

    // Bob comes back and rotates until that bundle's prekey is gone (it keeps three).
    bob.restart().await;
    rotations(&bob_home, 4).await;

    // Alice comes back: bob refuses her frames, and her node starts over with bob's
    // current bundle and sends them all again, in order, once.
    alice.restart().await;
    let got = bob.read_until(3, Duration::from_secs(90)).await;
    let bodies: Vec<Vec<u8>> = got.iter().map(|m| m.3.clone()).collect();
    assert_eq!(bodies, vec![vec![0], vec![1], vec![2]]);
    assert!(got.iter().all(|m| m.1 == alice.did));
    // The conversation goes on, and nothing is delivered twice.
    alice.send(&bob.did, b"after").await.unwrap();
    let more = bob.read(got.last().unwrap().0 + 1, 30_000).await;
    assert_eq!(more[0].3, b"after".to_vec());
    let log = std::fs::read_to_string(alice_home.join("node.log")).unwrap();
    assert!(
        log.contains("its messages wait for a new one"),
        "the frames were never refused, so nothing was tested"
    );
}
