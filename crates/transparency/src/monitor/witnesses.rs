//! What the witnesses say about the log: the checkpoint each last cosigned must be one
//! the log extends, and any split-view evidence a witness kept (two checkpoints both
//! signed by the agent, one size, two roots) is an alarm carrying both notes.

use talos_primitives::TreeHead;
use tracing::warn;

use super::{Alarm, AlarmKind, Monitor, Round};
use crate::proof::verify_checkpoint;

/// Largest answer read from a witness: a few notes.
const MAX_ANSWER: usize = 64 * 1024;

async fn get(client: &reqwest::Client, url: &str) -> Option<String> {
    let mut r = client.get(url).send().await.ok()?;
    if !r.status().is_success() {
        return None;
    }
    let body = crate::body::read_bounded(&mut r, MAX_ANSWER).await.ok()?;
    String::from_utf8(body).ok()
}

/// Percent-encodes an origin for a query string (`talos/did:key:z...`).
fn encode(origin: &str) -> String {
    origin
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A note signed by this agent's log, and its head.
fn ours(monitor: &Monitor, text: &str) -> Option<TreeHead> {
    match verify_checkpoint(text) {
        Ok((did, cp, _)) if did == monitor.did => Some(cp.head),
        _ => None,
    }
}

pub(super) async fn check(monitor: &Monitor, head: &TreeHead, round: &mut Round) {
    if monitor.witnesses.is_empty() {
        return;
    }
    let client = reqwest::Client::new();
    let origin = encode(&talos_audit::checkpoint::talos_origin(&monitor.did));
    for w in &monitor.witnesses {
        let w = w.trim_end_matches('/');
        match get(&client, &format!("{w}/latest?origin={origin}")).await {
            Some(note) => {
                if let Some(wh) = ours(monitor, &note)
                    && wh.size <= head.size
                    && !monitor.extends(head, &wh).await.unwrap_or(true)
                {
                    let mut a = Alarm::new(
                        AlarmKind::SplitView,
                        format!(
                            "witness {w} cosigned size {} with a root this log does not extend",
                            wh.size
                        ),
                    );
                    a.evidence.push(note);
                    round.alarms.push(a);
                }
            }
            None => warn!(witness = %w, "no checkpoint from the witness"),
        }
        let Some(evidence) = get(&client, &format!("{w}/evidence?origin={origin}")).await else {
            continue;
        };
        let pairs: Vec<crate::witness::state::Evidence> =
            serde_json::from_str(&evidence).unwrap_or_default();
        for p in pairs {
            let (a, b) = (p.cosigned.as_str(), p.offered.as_str());
            // Only evidence both halves of which the agent signed counts.
            if let (Some(ha), Some(hb)) = (ours(monitor, a), ours(monitor, b))
                && ha.size == hb.size
                && ha.root != hb.root
            {
                let mut alarm = Alarm::new(
                    AlarmKind::SplitView,
                    format!("witness {w} holds two signed roots for size {}", ha.size),
                );
                alarm.evidence = vec![a.to_string(), b.to_string()];
                round.alarms.push(alarm);
            }
        }
    }
}
