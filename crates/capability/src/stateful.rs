//! What the callee's node decides with state of its own, for a call the chain allows
//! (FORMAT.md §3.5): the `att` caveat of the leaf's governing capability, and the budget
//! of every link's governing capability, which [`budget::Ledger`](crate::budget::Ledger)
//! counts.

use talos_primitives::Commitment;

use crate::scope::Capability;
pub use crate::scope::stateful::{ApvCaveat, AttCaveat, BudgetCaveat, Mode, Window};

/// One budget counter: a link's commitment and the index of its governing capability.
/// The commitment, not the `jti`: ids are chosen by issuers, so a holder could mint a
/// link with another chain's `jti` and spend from (or exhaust) that chain's budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CounterKey {
    /// The link's commitment (FORMAT.md §1).
    pub link: Commitment,
    /// The capability's index in the link's `cap` (at most 31).
    pub cap: u8,
}

/// A budget a call spends from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    /// Its counter.
    pub key: CounterKey,
    /// The caveat.
    pub budget: BudgetCaveat,
    /// The link's `exp`: no chain through the link is valid from then on (a delegation
    /// never outlives its parent), so its counter may be dropped.
    pub exp: u64,
}

/// The stateful caveats a call must satisfy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stateful {
    /// The chain's root commitment (counters are bounded per root).
    pub root: Commitment,
    /// The leaf's governing capability's `att`.
    pub att: Option<AttCaveat>,
    /// The leaf's governing capability's `rep`.
    pub rep: Option<crate::scope::stateful::RepCaveat>,
    /// The leaf's governing capability's `apv`.
    pub apv: Option<crate::scope::stateful::ApvCaveat>,
    /// The budgets, root first: one per link whose governing capability has a `bud`.
    pub charges: Vec<Charge>,
}

/// A chain's links with their capabilities, kept only for chains with a stateful caveat.
pub(crate) type Links = std::sync::Arc<[Link]>;

/// One link of a chain with a stateful caveat.
#[derive(Debug)]
pub(crate) struct Link {
    pub(crate) commitment: Commitment,
    pub(crate) exp: u64,
    pub(crate) caps: Vec<Capability>,
}

/// The stateful caveats of a request under `links` (root first): at each link the
/// *governing* capability is the first, in `cap` order, that allows the request
/// statelessly (§3.3); `None` when none applies.
pub(crate) fn of(
    links: &Links,
    resource: &str,
    action: &str,
    args: &serde_json::Map<String, serde_json::Value>,
) -> Option<Stateful> {
    let root = links.first()?.commitment;
    let last = links.len().saturating_sub(1);
    let (mut att, mut rep, mut apv, mut charges) = (None, None, None, Vec::new());
    for (i, link) in links.iter().enumerate() {
        let governing = link
            .caps
            .iter()
            .enumerate()
            .find(|(_, c)| c.allows(resource, action, args));
        let Some((index, cap)) = governing else {
            continue;
        };
        if let (Some(budget), Ok(cap)) = (&cap.cav.bud, u8::try_from(index)) {
            let key = CounterKey {
                link: link.commitment,
                cap,
            };
            charges.push(Charge {
                key,
                budget: budget.clone(),
                exp: link.exp,
            });
        }
        if i == last {
            att = cap.cav.att.clone();
            rep = cap.cav.rep;
            apv = cap.cav.apv.clone();
        }
    }
    (att.is_some() || rep.is_some() || apv.is_some() || !charges.is_empty()).then_some(Stateful {
        root,
        att,
        rep,
        apv,
        charges,
    })
}
