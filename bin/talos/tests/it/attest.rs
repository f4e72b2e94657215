//! `talos attest measure | issue | verify` on the command line: an attester measures an
//! agent's binary and configuration, issues a credential about it, and a verifier checks
//! it (subject and accepted attesters); a changed credential or another attester exits
//! 1, garbage 2. And interop with Digital Bazaar's `eddsa-jcs-2022` both ways.

use serde_json::Value;
use talos_testkit::node::{PASS, TCP0, flags, init, talos_run};

fn json_of(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

fn did_of(home: &std::path::Path) -> String {
    let out = talos_run(home, PASS, &["id", "show", "--json"], "");
    json_of(&out)["did"].as_str().unwrap().to_string()
}

#[test]
fn an_attester_measures_issues_and_a_verifier_checks() {
    let root = tempfile::tempdir().unwrap();
    let attester = init(root.path(), "attester", &flags(&[("--listen", TCP0)]));
    let agent = init(root.path(), "agent", &flags(&[("--listen", TCP0)]));
    let agent_did = did_of(&agent);
    let attester_did = did_of(&attester);

    let out = talos_run(&agent, PASS, &["attest", "measure"], "");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m = json_of(&out);
    let (bin, cfg) = (
        m["binarySha256"].as_str().unwrap(),
        m["configSha256"].as_str().unwrap(),
    );
    assert_eq!((bin.len(), cfg.len()), (64, 64));
    // The same file measures the same from another home.
    let config = agent.join("config.toml");
    let again = talos_run(
        &attester,
        PASS,
        &["attest", "measure", "--config", config.to_str().unwrap()],
        "",
    );
    assert_eq!(json_of(&again)["configSha256"], m["configSha256"]);

    let policy = "ab".repeat(32);
    let out = talos_run(
        &attester,
        PASS,
        &[
            "attest",
            "issue",
            "--subject",
            &agent_did,
            "--binary-sha256",
            bin,
            "--config-sha256",
            cfg,
            "--model",
            "example-model-1",
            "--policy-sha256",
            &policy,
        ],
        "",
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let credential = String::from_utf8(out.stdout).unwrap();

    let verify = |text: &str, extra: &[&str]| {
        let mut args = vec!["attest", "verify", "-"];
        args.extend_from_slice(extra);
        let out = talos_run(&agent, PASS, &args, text);
        (out.status.code().unwrap(), json_of(&out))
    };
    let (code, v) = verify(
        &credential,
        &["--subject", &agent_did, "--issuer", &attester_did],
    );
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["claims"]["model"], "example-model-1");
    assert_eq!(v["issuer"], attester_did);
    // Another attester, another subject, a changed claim, garbage.
    assert_eq!(verify(&credential, &["--issuer", &agent_did]).0, 1);
    assert_eq!(verify(&credential, &["--subject", &attester_did]).0, 1);
    let changed = credential.replace("example-model-1", "example-model-2");
    assert_eq!(verify(&changed, &[]).0, 1);
    assert_eq!(verify("{not json", &[]).0, 2);
}

/// `node interop/vc-di/SCRIPT ARGS` with `stdin`: (exit code, stdout, stderr). Digital
/// Bazaar's `eddsa-jcs-2022` cryptosuite, an independent implementation of the proof
/// (pinned in interop/vc-di/package-lock.json; scripts/bootstrap.sh installs it).
fn digital_bazaar(script: &str, args: &[&str], stdin: &str) -> (i32, String, String) {
    use std::io::Write;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../interop/vc-di");
    assert!(
        dir.join("node_modules").exists(),
        "{} missing: run scripts/bootstrap.sh",
        dir.join("node_modules").display()
    );
    let mut child = std::process::Command::new("node")
        .arg(dir.join(script))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Interop both ways with an independent Data Integrity implementation (Digital Bazaar's
/// JavaScript `@digitalbazaar/eddsa-jcs-2022-cryptosuite`): a credential `talos attest
/// issue` signs verifies there, and one it signs verifies with `talos attest verify`;
/// either one changed after signing fails both.
#[test]
fn credentials_interoperate_with_digital_bazaars_eddsa_jcs_2022() {
    let root = tempfile::tempdir().unwrap();
    let attester = init(root.path(), "attester", &flags(&[("--listen", TCP0)]));
    let agent = init(root.path(), "agent", &flags(&[("--listen", TCP0)]));
    let agent_did = did_of(&agent);
    let h = "ab".repeat(32);
    let out = talos_run(
        &attester,
        PASS,
        &[
            "attest",
            "issue",
            "--subject",
            &agent_did,
            "--binary-sha256",
            &h,
            "--config-sha256",
            &h,
            "--model",
            "talos-model",
            "--policy-sha256",
            &h,
        ],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ours = String::from_utf8(out.stdout).unwrap();
    let (code, _, err) = digital_bazaar("verify.mjs", &["-"], &ours);
    assert_eq!(code, 0, "Digital Bazaar refused talos's credential: {err}");
    let changed = ours.replace("talos-model", "other-model");
    assert_ne!(changed, ours);
    let (code, _, _) = digital_bazaar("verify.mjs", &["-"], &changed);
    assert_eq!(code, 1, "Digital Bazaar accepted a changed credential");

    let (code, theirs, err) = digital_bazaar("sign.mjs", &[&agent_did], "");
    assert_eq!(code, 0, "{err}");
    let out = talos_run(
        &agent,
        PASS,
        &["attest", "verify", "-", "--subject", &agent_did],
        &theirs,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "talos refused Digital Bazaar's credential: {}\n{theirs}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json_of(&out)["claims"]["model"], "js-model");
    let changed = theirs.replace("js-model", "js-model-2");
    let out = talos_run(&agent, PASS, &["attest", "verify", "-"], &changed);
    assert_eq!(
        out.status.code(),
        Some(1),
        "talos accepted a changed credential"
    );
}
