//! The swarm bench's recovery round: every node sends numbered messages to its peer
//! while 10 % of the nodes are killed with -9 and restarted; every acknowledged message
//! must then arrive exactly once.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use talos_testkit::node::{Api, NodeProc};

use super::Pairs;

/// Numbered messages each node sends in the recovery round, one POST each.
const RECOVERY_PER_NODE: u32 = 40;

/// Sends `rec {i} {k}` for every k, one POST each, through whatever API `api` holds
/// now (a restarted node has a new one); a failed POST (the node was just killed) moves
/// on to the next number. Returns the numbers acknowledged.
async fn numbered(
    i: usize,
    api: Arc<tokio::sync::Mutex<Api>>,
    to: String,
    progress: Arc<AtomicUsize>,
) -> Vec<u32> {
    let mut acked = Vec::new();
    for k in 0..RECOVERY_PER_NODE {
        let current = api.lock().await.clone();
        match current.send(&to, format!("rec {i} {k}").as_bytes()).await {
            Ok(_) => {
                acked.push(k);
                progress.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    acked
}

/// Every `rec` message in `node`'s inbox, counted.
async fn received(node: &NodeProc) -> HashMap<Vec<u8>, usize> {
    let mut seen = HashMap::new();
    let mut from = 0;
    loop {
        let got = node.read(from, 0).await;
        let Some(last) = got.last() else {
            return seen;
        };
        from = last.0 + 1;
        for (_, _, _, body) in got {
            if body.starts_with(b"rec ") {
                *seen.entry(body).or_insert(0) += 1;
            }
        }
    }
}

/// The recovery round: (nodes killed, messages acknowledged, time from the last restart
/// until every acknowledged message had arrived).
pub(super) async fn recovery(
    nodes: &mut [NodeProc],
    peer_of: &[usize],
    pairs: &mut Pairs,
) -> (usize, usize, Duration) {
    let n = nodes.len();
    let apis: Vec<_> = nodes
        .iter()
        .map(|p| Arc::new(tokio::sync::Mutex::new(p.api.clone())))
        .collect();
    let progress = Arc::new(AtomicUsize::new(0));
    let senders: Vec<_> = (0..n)
        .map(|i| {
            tokio::spawn(numbered(
                i,
                apis[i].clone(),
                nodes[peer_of[i]].did.clone(),
                progress.clone(),
            ))
        })
        .collect();
    let mut victims: Vec<usize> = Vec::new();
    while victims.len() < n.div_ceil(10) {
        let v = pairs.below(n);
        if !victims.contains(&v) {
            victims.push(v);
        }
    }
    // Kill on progress (a quarter of the messages acknowledged), not on the clock.
    let quarter = n * RECOVERY_PER_NODE as usize / 4;
    while progress.load(Ordering::Relaxed) < quarter {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for &v in &victims {
        nodes[v].kill9().await;
    }
    for &v in &victims {
        nodes[v].restart().await;
        *apis[v].lock().await = nodes[v].api.clone();
    }
    let restarted = Instant::now();
    let mut owed: Vec<HashSet<Vec<u8>>> = vec![HashSet::new(); n];
    let mut acked = 0;
    for (i, s) in senders.into_iter().enumerate() {
        for k in s.await.unwrap() {
            owed[peer_of[i]].insert(format!("rec {i} {k}").into_bytes());
            acked += 1;
        }
    }
    let deadline = Instant::now() + Duration::from_secs(300);
    for (j, owed) in owed.iter().enumerate() {
        loop {
            let seen = received(&nodes[j]).await;
            if let Some((body, times)) = seen.iter().find(|(_, c)| **c > 1) {
                panic!(
                    "{} arrived {times} times at node {j}",
                    String::from_utf8_lossy(body)
                );
            }
            if owed.iter().all(|b| seen.contains_key(b)) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "acknowledged messages never reached node {j}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    (victims.len(), acked, restarted.elapsed())
}
