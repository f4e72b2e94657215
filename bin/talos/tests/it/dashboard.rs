//! The dashboard in a real browser: `browser-tests/dashboard.test.mjs` drives Debian's
//! chromium with Playwright against node B's `/dashboard`, while node A makes a call B
//! refuses. The screenshots of each step are kept under
//! `$CARGO_TARGET_DIR/test-artifacts/dashboard/`.

use std::path::{Path, PathBuf};

use reqwest::Method;
use talos_testkit::node::{NodeProc, flags, init};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn artifacts() -> PathBuf {
    let target =
        std::env::var("CARGO_TARGET_DIR").map_or_else(|_| repo().join("target"), PathBuf::from);
    target.join("test-artifacts/dashboard")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_a_refused_call_and_verifies_it_in_a_browser() {
    let root = tempfile::tempdir().unwrap();
    let b_home = init(
        root.path(),
        "b",
        &flags(&[
            ("--listen", "/ip4/127.0.0.1/tcp/0"),
            ("--dashboard", "true"),
            ("--anchor-secs", "0"),
        ]),
    );
    let b = NodeProc::up(&b_home, &[]).await;
    let a_home = init(
        root.path(),
        "a",
        &flags(&[
            ("--listen", "/ip4/127.0.0.1/tcp/0"),
            ("--bootstrap", &b.addr()),
        ]),
    );
    let a = NodeProc::up(&a_home, &[]).await;
    // A finds B (its DHT record) before the browser starts.
    let (s, v) = a.call(Method::GET, "/v1/peers", None).await;
    assert_eq!(s, 200, "{v}");

    // The URL an operator opens, as `talos agent dashboard` prints it.
    let out = talos_testkit::node::talos_run(
        &b_home,
        talos_testkit::node::PASS,
        &["agent", "dashboard"],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let url = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(url.contains("/dashboard#token="), "{url}");

    let shots = artifacts();
    std::fs::create_dir_all(&shots).unwrap();
    for f in ["1-loaded.png", "2-refused.png", "3-verified.png"] {
        let _ = std::fs::remove_file(shots.join(f));
    }
    let (_, a_api, a_token) = a.http();
    let (_, b_api, b_token) = b.http();
    let tests = repo().join("browser-tests");
    let out = tokio::process::Command::new("node")
        .arg(tests.join("dashboard.test.mjs"))
        .current_dir(&tests)
        .env("DASHBOARD_URL", &url)
        .env("A_API", a_api)
        .env("A_TOKEN", a_token)
        .env("A_DID", &a.did)
        .env("B_API", b_api)
        .env("B_TOKEN", b_token)
        .env("B_DID", &b.did)
        .env("SHOTS", &shots)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for f in ["1-loaded.png", "2-refused.png", "3-verified.png"] {
        let len = std::fs::metadata(shots.join(f))
            .map(|m| m.len())
            .unwrap_or(0);
        assert!(len > 1000, "no screenshot {f}");
    }
}

#[test]
fn the_vendored_chart_library_is_the_pinned_one() {
    // browser-tests/package-lock.json pins uplot; the node serves a copy of its files.
    let pinned = repo().join("browser-tests/node_modules/uplot/dist");
    let served = repo().join("crates/node/dashboard/vendor");
    for (from, to) in [
        ("uPlot.iife.min.js", "uPlot.iife.min.js"),
        ("uPlot.min.css", "uPlot.min.css"),
    ] {
        assert_eq!(
            std::fs::read(pinned.join(from)).unwrap(),
            std::fs::read(served.join(to)).unwrap(),
            "{to} differs from the pinned uplot"
        );
    }
}
