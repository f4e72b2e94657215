//! CLI tests: run the real `talos` binary.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::Command;

fn talos() -> Command {
    Command::new(env!("CARGO_BIN_EXE_talos"))
}

#[test]
fn did_key_from_seed_matches_vector() {
    let out = talos()
        .args(["id", "did-key", "--seed", &"00".repeat(32)])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
    );
    let out = talos()
        .args(["id", "did-key", "--seed", "abc", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("64 hex digits"));
}

#[test]
fn new_show_did_doc() {
    let home = tempfile::tempdir().unwrap();
    let run = |args: &[&str], pass: &str| {
        talos()
            .args(args)
            .env("TALOS_HOME", home.path())
            .env("TALOS_PASSPHRASE", pass)
            .output()
            .unwrap()
    };
    let out = run(&["id", "new", "--json"], "pw");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let did = created["did"].as_str().unwrap().to_string();
    assert!(did.starts_with("did:key:z6Mk"));
    assert!(created["peerId"].as_str().unwrap().starts_with("12D3KooW"));

    // A second `new` refuses to clobber the identity.
    let out = run(&["id", "new"], "pw");
    assert!(!out.status.success());

    let out = run(&["id", "show", "--json"], "pw");
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["did"], did.as_str());

    let out = run(&["id", "did-doc", "--json"], "pw");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["id"], did.as_str());

    let out = run(&["id", "show"], "wrong");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong passphrase"));
    // Secrets never reach the output.
    assert!(!String::from_utf8_lossy(&out.stderr).contains("pw"));
}

#[test]
fn demo_runs() {
    let out = talos().arg("demo").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("refused"));
    assert!(text.contains("did:talos:z"));
}
