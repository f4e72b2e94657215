//! Budget counters on disk (the `bud` caveat, FORMAT.md §3.5). The audit writer keeps
//! the durable counters: each admitted call's spend becomes `budget_spent` events and a
//! side record per counter, written in the same synced batch as the call's
//! `capability_used` (one fsync for both). On start the node reads the side records back
//! into the writer's ledger and the gate's.

use talos_capability::budget::{Counter, Ledger, MAX_COUNTERS, Spend};
use talos_capability::stateful::CounterKey;
use talos_store::{AuditLog, SideRecords};

use crate::error::NodeError;

/// Side records of budget counters start with this.
const PREFIX: &[u8] = b"budget/";

/// A counter's side-record key: `budget/<link commitment hex>/<cap>`.
fn key_of(key: &CounterKey) -> Vec<u8> {
    format!("budget/{}/{}", key.link, key.cap).into_bytes()
}

fn parse_key(k: &[u8]) -> Option<CounterKey> {
    let rest = std::str::from_utf8(k.strip_prefix(PREFIX)?).ok()?;
    let (link, cap) = rest.split_once('/')?;
    Some(CounterKey {
        link: talos_primitives::Commitment(link.parse().ok()?),
        cap: cap.parse().ok()?,
    })
}

/// The durable counters (a record that does not parse is a corrupt store).
pub(crate) fn load(log: &AuditLog) -> Result<Vec<(CounterKey, Counter)>, NodeError> {
    let records = log.side_records(PREFIX, MAX_COUNTERS)?;
    records
        .into_iter()
        .map(|(k, v)| {
            let key = parse_key(&k);
            let counter = serde_json::from_slice::<Counter>(&v).ok();
            key.zip(counter).ok_or_else(|| {
                NodeError::Internal("a budget counter on disk does not parse".into())
            })
        })
        .collect()
}

/// The events and side records of a call's spend, counted against the durable `ledger`
/// (the totals are the log's own: replaying `budget_spent` in log order gives them).
pub(crate) fn record(
    ledger: &mut Ledger,
    spend: &Spend,
    events: &mut Vec<talos_audit::event::EventKind>,
    side: &mut SideRecords,
) {
    use talos_audit::event::EventKind;
    for item in ledger.record(spend) {
        let (link, cap, limit) = (item.key.link, u64::from(item.key.cap), item.budget.limit);
        events.push(EventKind::BudgetSpent {
            link,
            cap,
            window: item.window,
            amount: item.amount,
            total: item.total,
            limit,
        });
        if item.over() {
            events.push(EventKind::BudgetExceeded {
                link,
                cap,
                total: item.total,
                limit,
            });
        }
        if let Some(c) = ledger.get(&item.key)
            && let Ok(v) = serde_json::to_vec(c)
        {
            side.push((key_of(&item.key), v));
        }
    }
}

/// Drops the counters whose link expired (`Ledger::sweep`) from the writer's `ledger`:
/// their side-record keys, for [`AuditLog::delete_side_records`]. Run by the audit
/// writer, the only task that writes them, once its earlier appends are durable. (If the
/// deletion fails, the records are read back at the next start and dropped again.)
pub(crate) fn expire(ledger: &mut Ledger, now: u64) -> Vec<Vec<u8>> {
    ledger.sweep(now).iter().map(key_of).collect()
}

#[cfg(test)]
mod tests {
    use talos_primitives::{Commitment, Hash32};

    #[test]
    fn keys_round_trip() {
        let key = super::CounterKey {
            link: Commitment(Hash32([0xab; 32])),
            cap: 31,
        };
        assert_eq!(super::parse_key(&super::key_of(&key)), Some(key));
        assert_eq!(super::parse_key(b"budget/zz/1"), None);
    }

    /// A counter's side record outlives its link by the grace only: the writer's sweep
    /// deletes it from the disk, and a restart does not bring it back.
    #[test]
    fn an_expired_links_counter_is_deleted_from_disk() {
        use talos_capability::budget::{Counter, SWEEP_GRACE};
        use talos_capability::stateful::{BudgetCaveat, Mode, Window};
        let dir = tempfile::tempdir().unwrap();
        let log =
            talos_store::AuditLog::open(dir.path(), talos_store::LogConfig::default()).unwrap();
        let mut ledger = super::Ledger::new();
        let budget = BudgetCaveat {
            arg: None,
            limit: 10,
            window: Window::Total,
            mode: Mode::Hard,
        };
        let (t, exp) = (1_796_342_400, 1_796_346_000);
        for (i, exp) in [(1u8, exp), (2, exp + 86_400)] {
            let key = super::CounterKey {
                link: Commitment(Hash32([i; 32])),
                cap: 0,
            };
            let c = Counter {
                root: Commitment(Hash32([9; 32])),
                budget: budget.clone(),
                window: 0,
                spent: 1,
                exp,
            };
            assert!(ledger.set(key, c.clone()));
            let leaf = vec![i; 40];
            let side = vec![(super::key_of(&key), serde_json::to_vec(&c).unwrap())];
            log.append_many_with(vec![leaf], side).unwrap();
        }
        assert_eq!(super::load(&log).unwrap().len(), 2);
        assert!(super::expire(&mut ledger, t).is_empty());
        let dead = super::expire(&mut ledger, exp + SWEEP_GRACE);
        assert_eq!(dead.len(), 1);
        log.delete_side_records(&dead).unwrap();
        let left = super::load(&log).unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].1.exp, exp + 86_400);
        assert_eq!(ledger.len(), 1);
    }
}

/// A budget counter as the API shows it.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetView {
    /// The link's commitment (hex).
    pub link: String,
    /// The capability's index in the link.
    pub cap: u8,
    /// The chain's root commitment (hex).
    pub root: String,
    /// The caveat.
    pub budget: talos_capability::stateful::BudgetCaveat,
    /// The current window's start (Unix seconds; 0 for `total`).
    pub window: u64,
    /// Spent in it (calls admitted, durable or about to be).
    pub spent: u64,
    /// What is left of the limit.
    pub left: u64,
}

impl super::Node {
    /// The budget counters (the `bud` caveat), by id (at most `budget::MAX_COUNTERS`).
    pub fn budgets(&self) -> Vec<BudgetView> {
        let now = super::sidecar::now_ms() / 1000;
        let Ok(gate) = self.sidecar.gate.lock() else {
            return Vec::new();
        };
        let mut out: Vec<BudgetView> = gate
            .budgets()
            .iter()
            .map(|(k, c)| {
                let window = c.budget.window.start(now);
                let spent = if window == c.window { c.spent } else { 0 };
                BudgetView {
                    link: k.link.to_string(),
                    cap: k.cap,
                    root: c.root.to_string(),
                    budget: c.budget.clone(),
                    window,
                    spent,
                    left: c.budget.limit.saturating_sub(spent),
                }
            })
            .collect();
        out.sort_by(|a, b| (&a.link, a.cap).cmp(&(&b.link, b.cap)));
        out
    }
}
