//! The CLI on its own: `talos id`, `talos cap`, `talos audit` and `talos demo`, run as the
//! real binary.

use talos_testkit::node::talos;

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
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("64 hex digits"));
}

/// One exit code per outcome, the same across `id`, `cap`, `audit` and `agent`
/// (`docs/cli.md#exit-codes`): 0 done, 1 refused, 2 unusable input, 3 unavailable.
#[test]
fn each_outcome_has_its_own_exit_code() {
    let home = tempfile::tempdir().unwrap();
    let code = |args: &[&str], stdin: &str| {
        talos_testkit::node::talos_run(home.path(), "pass-each-outcome", args, stdin)
            .status
            .code()
    };
    let did = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
    let verify = [
        "cap",
        "verify",
        "--token",
        "-",
        "--holder",
        did,
        "--resource",
        "talos://x",
        "--action",
        "a",
    ];
    // Unavailable: no keystore yet; no node running for `agent`.
    assert_eq!(code(&["id", "show"], ""), Some(3));
    assert_eq!(
        code(&["agent", "send", "--to", did, "--text", "hi"], ""),
        Some(3)
    );
    // Done.
    assert_eq!(
        code(&["id", "did-key", "--seed", &"00".repeat(32)], ""),
        Some(0)
    );
    assert_eq!(code(&["id", "new"], ""), Some(0));
    assert_eq!(code(&["audit", "root"], ""), Some(0));
    // Refused: a token the spec refuses; a proof that does not hold.
    assert_eq!(code(&verify, "not-a-token"), Some(1));
    let bad_proof = r#"{"leafIdx":0,"treeSize":1,"root":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","leafHash":"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","proof":[]}"#;
    assert_eq!(code(&["audit", "verify-inclusion"], bad_proof), Some(1));
    // Unusable input: a malformed seed, a DID clap refuses, a proof that is not JSON.
    assert_eq!(code(&["id", "did-key", "--seed", "abc"], ""), Some(2));
    assert_eq!(
        code(
            &[
                "cap",
                "verify",
                "--token",
                "-",
                "--holder",
                "not-a-did",
                "--resource",
                "talos://x",
                "--action",
                "a"
            ],
            ""
        ),
        Some(2)
    );
    assert_eq!(code(&["audit", "verify-inclusion"], "nope"), Some(2));
    assert_eq!(code(&["agent", "revoke", "--id", "zz"], ""), Some(2));
    // A config.toml with an unknown field, then one breaking a rule, is the input too.
    let config = home.path().join("config.toml");
    std::fs::write(&config, "bogus = 1\n").unwrap();
    assert_eq!(code(&["up"], ""), Some(2));
    std::fs::write(&config, "window = 0\n").unwrap();
    assert_eq!(code(&["up"], ""), Some(2));
    // MCP over HTTP on a public address is refused before anything listens.
    assert_eq!(code(&["mcp", "serve", "--http", "0.0.0.0:0"], ""), Some(2));
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
    let out = run(&["id", "new", "--json"], "pass-9f3c1e");
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
    let out = run(&["id", "new"], "pass-9f3c1e");
    assert!(!out.status.success());

    let out = run(&["id", "show", "--json"], "pass-9f3c1e");
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["did"], did.as_str());

    let out = run(&["id", "did-doc", "--json"], "pass-9f3c1e");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["id"], did.as_str());

    let out = run(&["id", "show"], "wrong");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong passphrase"));
    // Secrets never reach the output (a passphrase no temp path can contain).
    assert!(!String::from_utf8_lossy(&out.stderr).contains("pass-9f3c1e"));
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
    assert!(text.contains("book LHR-JFK for 450: allowed"));
    assert!(text.contains("refused (widening)"));
    assert!(text.contains("refused (revoked)"));
    assert!(text.contains("inclusion proof of 2 hashes leads to the signed root"));
    assert!(text.contains("the root anchored at size 4 (block 2) matches"));
    assert!(text.contains("refused by the contract: TreeSizeShrinks"));
    // Part two: three real nodes on loopback.
    assert!(text.contains("frame 1 delivered to booking's agent"));
    assert!(text.contains("book LHR-JFK for 450 under the capability: answered"));
    assert!(text.contains("(over the 500 caveat): refused by the callee's node (not_authorized)"));
    assert!(text.contains("\"payment\":{\"charged\":450}"));
    assert!(text.contains("(over the transaction's 1000): refused by the callee's node"));
    assert!(text.contains("after the revocation: refused by the callee's node (revoked)"));
    assert!(text.contains("leads to the root anchored at size"));
}

mod audit;
mod cap;
