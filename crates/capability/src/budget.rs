//! Budget counters (FORMAT.md §3.5): what each `bud` caveat has spent in its current
//! window. The node plans a call's spend under its gate's lock, spends only once the call
//! is admitted, and makes the spend durable in the same synced write as the call's audit
//! event; on restart it restores the durable counters. Bounded: at most
//! [`MAX_COUNTERS`] counters, and [`MAX_PER_ROOT`] under one root capability (roots are
//! issued by the callee itself; delegations below them are not, so a holder minting
//! delegations with budgets of their own fills only its root's share).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use talos_primitives::Commitment;

use crate::stateful::{BudgetCaveat, CounterKey, Mode, Stateful};

/// Most counters kept.
pub const MAX_COUNTERS: usize = 65_536;
/// Most counters under one root capability.
pub const MAX_PER_ROOT: usize = 1_024;
/// How long after its link's `exp` a counter is kept (s): no call under the link is
/// valid then, and a call admitted just before has long been written.
pub const SWEEP_GRACE: u64 = 300;

/// One counter's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counter {
    /// The chain's root commitment.
    pub root: Commitment,
    /// The caveat counted.
    pub budget: BudgetCaveat,
    /// The current window's start (Unix seconds; 0 for `total`).
    pub window: u64,
    /// Spent in it.
    pub spent: u64,
    /// The link's `exp`; the counter is dropped [`SWEEP_GRACE`] after it. 0 (records
    /// written before this field): kept.
    #[serde(default)]
    pub exp: u64,
}

/// One budget a planned call spends from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The counter.
    pub key: CounterKey,
    /// The caveat.
    pub budget: BudgetCaveat,
    /// The window the call falls in.
    pub window: u64,
    /// What the call spends.
    pub amount: u64,
    /// Spent in the window once the call is counted.
    pub total: u64,
    /// The link's `exp`.
    pub exp: u64,
}

impl Item {
    /// True when the call takes the window over its limit (admitted only in warn mode).
    pub const fn over(&self) -> bool {
        self.total > self.budget.limit
    }
}

/// A call's planned spend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spend {
    /// The chain's root commitment.
    pub root: Commitment,
    /// Each budget, root first.
    pub items: Vec<Item>,
}

/// Why a call may not spend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BudgetError {
    /// A hard budget would go over its limit.
    #[error("the call would take a hard budget over its limit")]
    OverBudget,
    /// A new counter has no room: all [`MAX_COUNTERS`], or its root's [`MAX_PER_ROOT`].
    #[error("no room for another budget counter")]
    Full,
}

impl BudgetError {
    /// The refusal kind: `over_budget` for both (a full table fails closed).
    pub const fn kind(&self) -> &'static str {
        "over_budget"
    }
}

/// The counters.
#[derive(Debug, Default)]
pub struct Ledger {
    counters: HashMap<CounterKey, Counter>,
    per_root: HashMap<Commitment, usize>,
}

impl Ledger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    /// Plans the spend of a request with `args` at `now` (Unix seconds); nothing changes
    /// until [`Ledger::commit`]. Every budget's amount is its own `arg` (the chain's
    /// stateless check made sure the request carries it).
    pub fn plan(
        &self,
        st: &Stateful,
        args: &serde_json::Map<String, serde_json::Value>,
        now: u64,
    ) -> Result<Spend, BudgetError> {
        let mut items = Vec::with_capacity(st.charges.len());
        let mut fresh = 0usize;
        for charge in &st.charges {
            let b = &charge.budget;
            let amount = b.amount(args).ok_or(BudgetError::OverBudget)?;
            let current = b.window.start(now);
            let (window, spent) = match self.counters.get(&charge.key) {
                // A window newer than now's means the clock stepped back: the call counts
                // in that window (otherwise a step back would grant the limit again).
                Some(c) if c.window >= current => (c.window, c.spent),
                Some(_) => (current, 0),
                None => {
                    fresh += 1;
                    (current, 0)
                }
            };
            let total = spent.checked_add(amount).ok_or(BudgetError::OverBudget)?;
            if total > b.limit && b.mode == Mode::Hard {
                return Err(BudgetError::OverBudget);
            }
            items.push(Item {
                key: charge.key,
                budget: b.clone(),
                window,
                amount,
                total,
                exp: charge.exp,
            });
        }
        let under_root = self.per_root.get(&st.root).copied().unwrap_or(0);
        if fresh > 0
            && (self.counters.len() + fresh > MAX_COUNTERS || under_root + fresh > MAX_PER_ROOT)
        {
            return Err(BudgetError::Full);
        }
        Ok(Spend {
            root: st.root,
            items,
        })
    }

    /// Counts a planned spend (the call was admitted).
    pub fn commit(&mut self, spend: &Spend) {
        for item in &spend.items {
            self.set(
                item.key,
                Counter {
                    root: spend.root,
                    budget: item.budget.clone(),
                    window: item.window,
                    spent: item.total,
                    exp: item.exp,
                },
            );
        }
    }

    /// Counts `spend` against this ledger's own counters (the durable ones, kept by the
    /// audit writer in log order), returning each item with its total recomputed from
    /// them. A spend dated in a window older than its counter's is not counted there (that
    /// window is over).
    pub fn record(&mut self, spend: &Spend) -> Vec<Item> {
        let mut out = Vec::with_capacity(spend.items.len());
        for item in &spend.items {
            let (prev, stale) = match self.counters.get(&item.key) {
                Some(c) if c.window == item.window => (c.spent, false),
                Some(c) => (0, c.window > item.window),
                None => (0, false),
            };
            // A spend planned in a window the counter has since left (calls reach the
            // writer a little out of order around a window's turn) counted in that older
            // window: its total is the one the gate planned, not this counter's.
            let total = if stale {
                item.total
            } else {
                prev.saturating_add(item.amount)
            };
            if !stale {
                let counter = Counter {
                    root: spend.root,
                    budget: item.budget.clone(),
                    window: item.window,
                    spent: total,
                    exp: item.exp,
                };
                self.set(item.key, counter);
            }
            out.push(Item {
                total,
                ..item.clone()
            });
        }
        out
    }

    /// Sets a counter (on restore, from the durable state); false when there is no room.
    pub fn set(&mut self, key: CounterKey, counter: Counter) -> bool {
        if !self.counters.contains_key(&key) {
            let under_root = self.per_root.entry(counter.root).or_insert(0);
            if self.counters.len() >= MAX_COUNTERS || *under_root >= MAX_PER_ROOT {
                return false;
            }
            *under_root += 1;
        }
        self.counters.insert(key, counter);
        true
    }

    /// Drops the counters whose link expired [`SWEEP_GRACE`] before `now`, freeing their
    /// room (and their root's share); their keys, for the durable copies.
    pub fn sweep(&mut self, now: u64) -> Vec<CounterKey> {
        let dead: Vec<CounterKey> = self
            .counters
            .iter()
            .filter(|(_, c)| c.exp != 0 && now >= c.exp.saturating_add(SWEEP_GRACE))
            .map(|(k, _)| *k)
            .collect();
        for k in &dead {
            if let Some(c) = self.counters.remove(k)
                && let Some(n) = self.per_root.get_mut(&c.root)
            {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.per_root.remove(&c.root);
                }
            }
        }
        dead
    }

    /// A counter.
    pub fn get(&self, key: &CounterKey) -> Option<&Counter> {
        self.counters.get(key)
    }

    /// Every counter, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&CounterKey, &Counter)> {
        self.counters.iter()
    }

    /// How many counters there are.
    pub fn len(&self) -> usize {
        self.counters.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.counters.is_empty()
    }
}
