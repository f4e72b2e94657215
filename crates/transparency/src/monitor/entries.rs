//! Reading a log's new entries: each bundle fetched while the previous one is checked
//! (decoded, signed by the agent, at its index) on both cores, every leaf hash appended
//! to the frontier kept from the last round, whose root must then be the signed one.

use std::collections::BTreeMap;

use talos_audit::event::SignedEvent;
use talos_audit::hash::leaf_hash;
use talos_audit::tiles::{TILE_WIDTH, TileNodes};
use talos_audit::tree::Frontier;
use talos_primitives::{Did, Hash32, TreeHead};

use super::{Alarm, AlarmKind, Monitor, MonitorError, Round, Seen, b64};
use crate::source::Blocking;

impl Monitor {
    /// Reads the entries past `seen.read` and checks that they rebuild `head`'s root.
    pub(super) async fn read_entries(
        &self,
        seen: &mut Seen,
        head: &TreeHead,
        round: &mut Round,
    ) -> Result<(), MonitorError> {
        let start = if seen.read > head.size { 0 } else { seen.read };
        let mut frontier = self.frontier_at(start, head.size, seen).await?;
        let Some(frontier) = frontier.as_mut() else {
            round.alarms.push(Alarm::new(
                AlarmKind::EntryChanged,
                format!("the tiles at size {start} do not reproduce the root verified there"),
            ));
            return Ok(());
        };
        let mut at = start;
        let mut kinds = BTreeMap::new();
        let mut bad = Vec::new();
        // A pipeline: the next bundle is fetched while this one is checked (on the
        // blocking pool, both cores: signatures are most of a catch-up's time).
        let mut pending = match at < head.size {
            true => Some(self.source.entries(at, head.size).await?),
            false => None,
        };
        while let Some(entries) = pending.take() {
            let bundle_start = at - at % TILE_WIDTH;
            let skip = usize::try_from(at - bundle_start).unwrap_or(0);
            let next_at = bundle_start + entries.len() as u64;
            let did = self.did;
            let check = tokio::task::spawn_blocking(move || {
                check_bundle(&entries, skip, bundle_start, &did)
            });
            let fetch = async {
                match next_at < head.size {
                    true => Some(self.source.entries(next_at, head.size).await),
                    false => None,
                }
            };
            let (checked, fetched) = tokio::join!(check, fetch);
            let checked = checked.map_err(|e| MonitorError::Internal(e.to_string()))?;
            for h in checked.leaves {
                frontier.append(h, |_, _, _| {});
            }
            for (k, n) in checked.kinds {
                *kinds.entry(k).or_insert(0u64) += n;
            }
            bad.extend(checked.bad);
            pending = fetched.transpose()?;
            at = next_at;
        }
        // One alarm per bad entry, up to a bound (a log of garbage must not fill memory).
        for index in bad.iter().take(MAX_ENTRY_ALARMS) {
            round.alarms.push(Alarm::new(
                AlarmKind::BadEntry,
                format!("entry {index} is not the agent's signed event at that index"),
            ));
        }
        if bad.len() > MAX_ENTRY_ALARMS {
            round.alarms.push(Alarm::new(
                AlarmKind::BadEntry,
                format!("{} more bad entries", bad.len() - MAX_ENTRY_ALARMS),
            ));
        }
        if frontier.root() != head.root {
            round.alarms.push(Alarm::new(
                AlarmKind::EntryChanged,
                format!(
                    "the entries do not rebuild the signed root at size {} (an entry was changed or removed)",
                    head.size
                ),
            ));
            return Ok(());
        }
        round.new_entries = head.size - start;
        for (k, n) in &kinds {
            *seen.kinds.entry(k.clone()).or_insert(0) += n;
        }
        round.kinds = kinds;
        seen.read = head.size;
        Ok(())
    }

    /// The frontier of the first `size` entries, from the tiles of the tree of `of`; `None`
    /// when it does not reproduce the root verified at that size.
    async fn frontier_at(
        &self,
        size: u64,
        of: u64,
        seen: &Seen,
    ) -> Result<Option<Frontier>, MonitorError> {
        if size == 0 {
            return Ok(Some(Frontier::new()));
        }
        let source = self.source.clone();
        let runtime = tokio::runtime::Handle::current();
        let loaded = tokio::task::spawn_blocking(move || {
            let fetch = Blocking {
                source: &source,
                runtime,
            };
            Frontier::load(&TileNodes::new(&fetch, of), size)
        })
        .await
        .map_err(|e| MonitorError::Internal(e.to_string()))?;
        Ok(loaded
            .ok()
            .filter(|f| size != seen.size || b64(&f.root()) == seen.root))
    }
}

/// Bad-entry alarms listed one by one in a round; past it, one counts the rest.
const MAX_ENTRY_ALARMS: usize = 16;

/// What a bundle's entries say: their leaf hashes in order, their kinds, the indices of
/// the ones that are not this agent's signed events at their index.
struct Checked {
    leaves: Vec<Hash32>,
    kinds: BTreeMap<String, u64>,
    bad: Vec<u64>,
}

/// Checks `entries[skip..]` (the bundle starting at leaf `start`) on two threads.
fn check_bundle(entries: &[Vec<u8>], skip: usize, start: u64, did: &Did) -> Checked {
    let todo: Vec<(u64, &Vec<u8>)> = entries
        .iter()
        .enumerate()
        .skip(skip)
        .map(|(i, e)| (start + i as u64, e))
        .collect();
    let half = todo.len().div_ceil(2).max(1);
    let parts: Vec<Checked> = std::thread::scope(|scope| {
        let handles: Vec<_> = todo
            .chunks(half)
            .map(|chunk| scope.spawn(move || check_entries(chunk, did)))
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let mut out = Checked {
        leaves: Vec::with_capacity(todo.len()),
        kinds: BTreeMap::new(),
        bad: Vec::new(),
    };
    for p in parts {
        out.leaves.extend(p.leaves);
        for (k, n) in p.kinds {
            *out.kinds.entry(k).or_insert(0) += n;
        }
        out.bad.extend(p.bad);
    }
    out
}

fn check_entries(chunk: &[(u64, &Vec<u8>)], did: &Did) -> Checked {
    let mut out = Checked {
        leaves: Vec::with_capacity(chunk.len()),
        kinds: BTreeMap::new(),
        bad: Vec::new(),
    };
    for (index, e) in chunk {
        out.leaves.push(leaf_hash(e));
        match SignedEvent::from_leaf(e) {
            Ok(ev) if ev.body.agent == *did && ev.body.seq == *index => {
                let kind = serde_json::to_value(&ev.body.event)
                    .ok()
                    .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_string))
                    .unwrap_or_default();
                *out.kinds.entry(kind).or_insert(0) += 1;
            }
            _ => out.bad.push(*index),
        }
    }
    out
}
