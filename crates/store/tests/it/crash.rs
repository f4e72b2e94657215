//! kill -9 at arbitrary points: no acknowledged entry is lost or duplicated, and the root
//! recomputed on open equals the stored one (`AuditLog::open` refuses otherwise).

use std::collections::HashSet;
use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::Duration;

use talos_store::{AuditLog, LogConfig};

fn iterations() -> u32 {
    std::env::var("TALOS_CRASH_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20)
}

/// Runs the child for `ms` milliseconds, SIGKILLs it, and returns what it acknowledged.
fn run_child(dir: &std::path::Path, run: u32, ms: u64) -> Vec<(u64, String)> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_talos-store-crash-child"))
        .arg(dir)
        .arg(run.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut acked = vec![];
        let mut r = std::io::BufReader::new(stdout);
        let mut line = String::new();
        while r.read_line(&mut line).unwrap_or(0) > 0 {
            // A line cut by the kill has no newline and is ignored.
            if let Some(l) = line.strip_suffix('\n')
                && let Some((i, leaf)) = l.split_once(' ')
            {
                acked.push((i.parse().unwrap(), leaf.to_string()));
            }
            line.clear();
        }
        acked
    });
    std::thread::sleep(Duration::from_millis(ms));
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    reader.join().unwrap()
}

#[test]
fn kill_9_loses_and_duplicates_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let mut all_acked: Vec<(u64, String)> = vec![];
    let mut total = 0;
    for run in 0..iterations() {
        // Vary the kill point: early (during open/recovery), mid-stream, later.
        let ms = [15u64, 60, 140, 35, 90][run as usize % 5];
        let acked = run_child(dir.path(), run, ms);
        total += acked.len();
        all_acked.extend(acked);

        let log = AuditLog::open(dir.path(), LogConfig::default())
            .expect("reopen after kill -9 (root check)");
        let size = log.size();
        for (i, leaf) in &all_acked {
            assert!(
                *i < size,
                "acknowledged index {i} beyond recovered size {size}"
            );
            assert_eq!(
                log.leaf(*i).unwrap().as_deref(),
                Some(leaf.as_bytes()),
                "leaf {i} lost or changed"
            );
        }
        let mut seen = HashSet::new();
        for i in 0..size {
            let leaf = log.leaf(i).unwrap().expect("gap in the log");
            assert!(seen.insert(leaf), "duplicate entry at {i}");
        }
    }
    assert!(
        total > 100,
        "the child acknowledged too little to prove anything ({total})"
    );
}
