//! Four validators (Alice, Bob, Charlie, Dave) from the committed `chain-spec/local.json`
//! on loopback: they produce and finalize blocks; with Dave stopped, GRANDPA keeps
//! finalizing (3 of 4 votes is more than two thirds); Dave restarts on its database and
//! catches up to the others' finalized head.

use std::path::Path;
use std::time::Duration;

use talos_testkit::chain::{TalosChain, finalized, wait_finalized};

/// A fixed libp2p node key and its peer id, so the others can name Alice as bootnode.
fn node_key(i: u8) -> (String, String) {
    let secret = [i; 32];
    let kp = libp2p_identity::Keypair::ed25519_from_bytes(secret).unwrap();
    (hex::encode(secret), kp.public().to_peer_id().to_string())
}

fn validator(name: &str, i: u8, base: &Path, bootnode: Option<&str>) -> TalosChain {
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../chain-spec/local.json");
    let (key, _) = node_key(i);
    let mut args: Vec<String> = vec![
        "--chain".into(),
        spec.display().to_string(),
        "--base-path".into(),
        base.join(name).display().to_string(),
        format!("--{name}"),
        "--node-key".into(),
        key,
    ];
    if let Some(b) = bootnode {
        args.extend(["--bootnodes".into(), b.to_string()]);
    }
    TalosChain::start(args)
}

#[test]
fn four_validators_finalize_survive_one_down_and_catch_up() {
    let dir = tempfile::tempdir().unwrap();
    let alice = validator("alice", 1, dir.path(), None);
    let bootnode = format!(
        "/ip4/127.0.0.1/tcp/{}/p2p/{}",
        alice.p2p_port,
        node_key(1).1
    );
    let bob = validator("bob", 2, dir.path(), Some(&bootnode));
    let charlie = validator("charlie", 3, dir.path(), Some(&bootnode));
    let mut dave = validator("dave", 4, dir.path(), Some(&bootnode));

    // All four: blocks are produced and finalized, and every node sees finality.
    wait_finalized(&alice, 3, Duration::from_secs(180));
    for n in [&bob, &charlie, &dave] {
        wait_finalized(n, 3, Duration::from_secs(60));
    }

    // Dave down: the three left still finalize new blocks.
    dave.kill();
    let before = finalized(alice.rpc_port).unwrap();
    wait_finalized(&alice, before + 5, Duration::from_secs(120));
    wait_finalized(&charlie, before + 5, Duration::from_secs(60));

    // Dave back on its own database: it catches up with what was finalized without it.
    dave.restart();
    let target = finalized(alice.rpc_port).unwrap();
    wait_finalized(&dave, target, Duration::from_secs(180));
    // And finality goes on with all four.
    wait_finalized(&alice, target + 3, Duration::from_secs(120));
}
