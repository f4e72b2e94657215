//! `talos cap ...`: issue, delegate, inspect and verify, with their exit codes.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use talos_testkit::node::talos;

struct Node {
    home: tempfile::TempDir,
    did: String,
}

fn node() -> Node {
    let home = tempfile::tempdir().unwrap();
    let out = talos()
        .args(["id", "new", "--json"])
        .env("TALOS_HOME", home.path())
        .env("TALOS_PASSPHRASE", "pw")
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    Node {
        did: v["did"].as_str().unwrap().to_string(),
        home,
    }
}

fn run(n: &Node, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd: Command = talos();
    cmd.args(args)
        .env("TALOS_HOME", n.home.path())
        .env("TALOS_PASSPHRASE", "pw");
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

#[test]
fn issue_delegate_verify_with_exit_codes() {
    let booking = node();
    let planner = node();
    let assistant = node();
    let out = run(
        &booking,
        &[
            "cap",
            "issue",
            "--to",
            &planner.did,
            "--res",
            "talos://booking/flights/**",
            "--act",
            "book,read",
            "--max",
            "amount=1000",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let root = String::from_utf8(out.stdout).unwrap();
    let out = run(
        &planner,
        &[
            "cap",
            "delegate",
            "--parent",
            "-",
            "--to",
            &assistant.did,
            "--res",
            "talos://booking/flights/LHR-JFK",
            "--act",
            "book",
            "--max",
            "amount=500",
            "--ttl",
            "600",
        ],
        Some(&root),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let chain = String::from_utf8(out.stdout).unwrap();
    assert_eq!(chain.lines().count(), 2);

    let verify = |extra: &[&str]| {
        let mut args = vec![
            "cap",
            "verify",
            "--token",
            "-",
            "--holder",
            &assistant.did,
            "--resource",
            "talos://booking/flights/LHR-JFK",
            "--action",
            "book",
            "--args",
            r#"{"amount":450}"#,
            "--root",
            &booking.did,
            "--json",
        ];
        args.extend_from_slice(extra);
        run(&booking, &args, Some(&chain))
    };
    let out = verify(&[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // Denied: a revoked root.
    let inspect = run(
        &booking,
        &["cap", "inspect", "--token", "-", "--json"],
        Some(&chain),
    );
    let decoded: serde_json::Value = serde_json::from_slice(&inspect.stdout).unwrap();
    let root_jti = decoded[0]["claims"]["jti"].as_str().unwrap().to_string();
    let out = verify(&["--revoked", &root_jti]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kind"], "revoked");

    // Denied: expired.
    let out = verify(&["--at", "99999999999"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kind"], "expired");

    // A token the spec refuses, however malformed, is a refusal with its kind.
    let out = run(
        &booking,
        &[
            "cap",
            "verify",
            "--token",
            "-",
            "--holder",
            &assistant.did,
            "--resource",
            "talos://x",
            "--action",
            "a",
            "--json",
        ],
        Some("not-a-token"),
    );
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kind"], "malformed_jws");

    // Delegating more than you hold is refused before signing.
    let out = run(
        &planner,
        &[
            "cap",
            "delegate",
            "--parent",
            "-",
            "--to",
            &assistant.did,
            "--res",
            "talos://booking/**",
            "--act",
            "book",
        ],
        Some(&root),
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("widens"));
}
