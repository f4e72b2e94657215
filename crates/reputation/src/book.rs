//! The reports a node holds (FORMAT.md §3), bounded: each reporter keeps its 64 newest,
//! strangers their 256 newest about any one subject,
//! all strangers (reporters outside the seeds) together their 16,384 newest, so a flood
//! of fresh keys displaces only strangers' reports and never a seed's. Scores are cached
//! per subject for the hour they hold (a score changes only when an hour turns or a
//! report comes or goes).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use talos_primitives::{CapabilityId, Commitment, Did};

use crate::report::{Kind, SignedReport};
use crate::score::{self, Score};

/// Reports kept per reporter.
pub const MAX_PER_REPORTER: usize = 64;
/// Reports kept by all strangers together.
pub const MAX_STRANGER_REPORTS: usize = 16_384;
/// Strangers' reports kept about one subject: together they take at most 50 points, so
/// more would only make its score dearer to compute.
pub const MAX_STRANGERS_PER_SUBJECT: usize = 256;
/// Seeds a book may have (so at most 4,096 seed reports).
pub const MAX_SEEDS: usize = 64;
/// Subjects whose score is cached.
const CACHE: usize = 4096;

/// Why a report is not kept. None of these blames the sender: a report past a bound is
/// valid, just not needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BookError {
    /// Dated more than 5 minutes ahead of now.
    #[error("report dated in the future")]
    NotYetValid,
    /// 90 days old or more: it would weigh nothing.
    #[error("report too old to count")]
    TooOld,
    /// Older than every report its reporter (or, for a stranger, all strangers) keeps at
    /// the bound.
    #[error("report past its reporter's bound")]
    Quota,
    /// More than [`MAX_SEEDS`] seeds.
    #[error("more than 64 reputation seeds")]
    TooManySeeds,
}

/// A report kept.
#[derive(Debug, Clone)]
struct Entry {
    reporter: Did,
    subject: Did,
    kind: Kind,
    iat: u64,
    jti: CapabilityId,
}

/// The reports about one subject, by seeds, by the book's owner and by strangers,
/// oldest first.
#[derive(Debug, Default)]
struct About {
    seeds: BTreeSet<(u64, Commitment)>,
    own: BTreeSet<(u64, Commitment)>,
    strangers: BTreeSet<(u64, Commitment)>,
}

impl About {
    fn all(&self) -> impl Iterator<Item = &(u64, Commitment)> {
        self.seeds.iter().chain(&self.own).chain(&self.strangers)
    }

    fn is_empty(&self) -> bool {
        self.seeds.is_empty() && self.own.is_empty() && self.strangers.is_empty()
    }
}

/// Whose report it is, for the bounds and the weight.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    /// A seed's: weighs fully; bounded per reporter only.
    Seed,
    /// The book owner's (the node's own agent), when not a seed: weighs as a stranger's,
    /// so every node computes the same score, but is bounded per reporter only, so a
    /// flood of strangers' reports cannot displace what the node itself filed.
    Own,
    /// Anyone else's.
    Stranger,
}

/// The bounds a stranger's report must fit (a seed's, only the first).
#[derive(Clone, Copy)]
enum Bound {
    Reporter,
    Subject,
    Strangers,
}

/// What [`Book::insert`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted {
    /// Kept; `evicted` are the commitments it displaced (to delete from disk).
    Added {
        /// Reports dropped to make room (or a same-id report it replaced).
        evicted: Vec<Commitment>,
    },
    /// Already held (the same report, or one with the same reporter and id and a smaller
    /// commitment, which wins wherever it arrives first).
    Known,
}

/// The reports a node holds and the seeds it weighs them by.
#[derive(Debug)]
pub struct Book {
    seeds: BTreeSet<Did>,
    own: Option<Did>,
    entries: HashMap<Commitment, Entry>,
    by_id: HashMap<(Did, CapabilityId), Commitment>,
    by_reporter: HashMap<Did, BTreeSet<(u64, Commitment)>>,
    strangers: BTreeSet<(u64, Commitment)>,
    about: HashMap<Did, About>,
    cache: HashMap<Did, (u64, Score)>,
}

impl Default for Book {
    /// A book with no seeds.
    fn default() -> Self {
        Book {
            seeds: BTreeSet::new(),
            own: None,
            entries: HashMap::new(),
            by_id: HashMap::new(),
            by_reporter: HashMap::new(),
            strangers: BTreeSet::new(),
            about: HashMap::new(),
            cache: HashMap::new(),
        }
    }
}

impl Book {
    /// An empty book weighing reports by `seeds` (at most [`MAX_SEEDS`]).
    pub fn new(seeds: BTreeSet<Did>) -> Result<Book, BookError> {
        if seeds.len() > MAX_SEEDS {
            return Err(BookError::TooManySeeds);
        }
        Ok(Book {
            seeds,
            ..Book::default()
        })
    }

    /// The same book, owned by `did`: its reports weigh as a stranger's (scores do not
    /// depend on whose book it is) but are bounded only per reporter, so strangers'
    /// reports never displace them.
    pub fn owned_by(mut self, did: Did) -> Book {
        self.own = Some(did);
        self
    }

    /// The commitments of `reporter`'s reports held, oldest first.
    pub fn reports_by(&self, reporter: &Did) -> Vec<Commitment> {
        self.by_reporter
            .get(reporter)
            .map(|s| s.iter().map(|(_, c)| *c).collect())
            .unwrap_or_default()
    }

    fn class(&self, reporter: &Did) -> Class {
        if self.seeds.contains(reporter) {
            Class::Seed
        } else if self.own.as_ref() == Some(reporter) {
            Class::Own
        } else {
            Class::Stranger
        }
    }

    /// The seeds.
    pub fn seeds(&self) -> &BTreeSet<Did> {
        &self.seeds
    }

    /// Reports held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no report is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Keeps a verified report, within the bounds, at `now` (Unix seconds).
    pub fn insert(&mut self, signed: SignedReport, now: u64) -> Result<Inserted, BookError> {
        let r = &signed.report;
        if r.iat > now.saturating_add(score::FUTURE_SKEW) {
            return Err(BookError::NotYetValid);
        }
        if score::age_hours(r.iat, now).is_none() {
            return Err(BookError::TooOld);
        }
        let c = signed.commitment;
        if self.entries.contains_key(&c) {
            return Ok(Inserted::Known);
        }
        // Evictions happen one bound at a time; if a later bound refuses the report, the
        // ones already made are put back, so a refused report changes nothing.
        let mut evicted: Vec<(Commitment, Entry)> = Vec::new();
        if let Some(&old) = self.by_id.get(&(r.iss, r.jti)) {
            if old <= c {
                return Ok(Inserted::Known);
            }
            evicted.extend(self.remove(&old).map(|e| (old, e)));
        }
        let key = (r.iat, c);
        let class = self.class(&r.iss);
        for bound in [Bound::Reporter, Bound::Subject, Bound::Strangers] {
            let (set, max) = match bound {
                Bound::Reporter => (self.by_reporter.get(&r.iss), MAX_PER_REPORTER),
                _ if class != Class::Stranger => continue,
                Bound::Subject => (
                    self.about.get(&r.sub).map(|a| &a.strangers),
                    MAX_STRANGERS_PER_SUBJECT,
                ),
                Bound::Strangers => (Some(&self.strangers), MAX_STRANGER_REPORTS),
            };
            let Some(oldest) = set
                .filter(|s| s.len() >= max)
                .and_then(|s| s.first().copied())
            else {
                continue;
            };
            if key < oldest {
                for (c, e) in evicted {
                    let class = self.class(&e.reporter);
                    self.add(c, e, class);
                }
                return Err(BookError::Quota);
            }
            evicted.extend(self.remove(&oldest.1).map(|e| (oldest.1, e)));
        }
        let evicted = evicted.into_iter().map(|(c, _)| c).collect();
        let entry = Entry {
            reporter: r.iss,
            subject: r.sub,
            kind: r.knd,
            iat: r.iat,
            jti: r.jti,
        };
        self.add(c, entry, class);
        Ok(Inserted::Added { evicted })
    }

    fn add(&mut self, c: Commitment, e: Entry, class: Class) {
        self.by_id.insert((e.reporter, e.jti), c);
        self.by_reporter
            .entry(e.reporter)
            .or_default()
            .insert((e.iat, c));
        let about = self.about.entry(e.subject).or_default();
        match class {
            Class::Stranger => {
                self.strangers.insert((e.iat, c));
                about.strangers.insert((e.iat, c));
            }
            Class::Own => {
                about.own.insert((e.iat, c));
            }
            Class::Seed => {
                about.seeds.insert((e.iat, c));
            }
        }
        self.forget_scores(&e, class);
        self.entries.insert(c, e);
    }

    /// Drops the cached scores a report coming or going changes: its subject's, and, for
    /// a seed's report, the scores of everyone its subject reported (its standing as a
    /// reporter moved).
    fn forget_scores(&mut self, e: &Entry, class: Class) {
        self.cache.remove(&e.subject);
        if class != Class::Seed {
            return;
        }
        for (_, c) in self.by_reporter.get(&e.subject).into_iter().flatten() {
            if let Some(x) = self.entries.get(c) {
                self.cache.remove(&x.subject);
            }
        }
    }

    fn remove(&mut self, c: &Commitment) -> Option<Entry> {
        let e = self.entries.remove(c)?;
        self.by_id.remove(&(e.reporter, e.jti));
        if let Some(set) = self.by_reporter.get_mut(&e.reporter) {
            set.remove(&(e.iat, *c));
            if set.is_empty() {
                self.by_reporter.remove(&e.reporter);
            }
        }
        self.strangers.remove(&(e.iat, *c));
        if let Some(a) = self.about.get_mut(&e.subject) {
            a.seeds.remove(&(e.iat, *c));
            a.own.remove(&(e.iat, *c));
            a.strangers.remove(&(e.iat, *c));
            if a.is_empty() {
                self.about.remove(&e.subject);
            }
        }
        let class = self.class(&e.reporter);
        self.forget_scores(&e, class);
        Some(e)
    }

    /// Drops the reports 90 days old at `now`; their commitments, to delete from disk.
    pub fn sweep(&mut self, now: u64) -> Vec<Commitment> {
        let old: Vec<Commitment> = self
            .entries
            .iter()
            .filter(|(_, e)| score::age_hours(e.iat, now).is_none() && e.iat <= now)
            .map(|(c, _)| *c)
            .collect();
        for c in &old {
            let _ = self.remove(c);
        }
        old
    }

    /// Each reporter's summed report weights about `subject` at `now` (of the seeds only,
    /// or of everyone), and how many reports count.
    fn sums(&self, subject: &Did, now: u64, seeds_only: bool) -> (BTreeMap<Did, u64>, usize) {
        let mut sums = BTreeMap::new();
        let mut n = 0;
        let Some(about) = self.about.get(subject) else {
            return (sums, 0);
        };
        let held: Box<dyn Iterator<Item = &(u64, Commitment)>> = if seeds_only {
            Box::new(about.seeds.iter())
        } else {
            Box::new(about.all())
        };
        for (_, c) in held {
            let Some(e) = self.entries.get(c) else {
                continue;
            };
            if let Some(age) = score::age_hours(e.iat, now) {
                let w = sums.entry(e.reporter).or_insert(0u64);
                *w = w.saturating_add(score::weight(e.kind, age));
                n += 1;
            }
        }
        (sums, n)
    }

    /// What the seeds' reports take from `subject`'s score.
    fn seeds_take(&self, sums: &BTreeMap<Did, u64>) -> u64 {
        score::seed_penalty(
            sums.iter()
                .filter(|(r, _)| self.seeds.contains(*r))
                .map(|(_, s)| *s),
        )
    }

    /// `subject`'s score at `now` (FORMAT.md §2.2), from the cache when its hour holds.
    pub fn score(&mut self, subject: &Did, now: u64) -> Score {
        let h = score::hour(now);
        if let Some((at, s)) = self.cache.get(subject)
            && *at == h
        {
            return *s;
        }
        let s = self.compute(subject, now);
        if self.cache.len() >= CACHE {
            self.cache.clear();
        }
        self.cache.insert(*subject, (h, s));
        s
    }

    /// The score without the cache. Its cost is bounded by the book's bounds: the
    /// subject's reports (the seeds' and at most 256 strangers'), and for each of those
    /// strangers the seeds' reports about it.
    pub fn compute(&self, subject: &Did, now: u64) -> Score {
        let (sums, reports) = self.sums(subject, now, false);
        let (_, from_seeds) = self.sums(subject, now, true);
        let seed = self.seeds_take(&sums);
        let strangers = sums
            .iter()
            .filter(|(r, _)| !self.seeds.contains(*r))
            .map(|(r, sum)| {
                let standing = score::MAX_POINTS - self.seeds_take(&self.sums(r, now, true).0);
                (*sum, standing)
            });
        let stranger = score::stranger_penalty(strangers);
        Score {
            points: score::points(seed, stranger),
            reports,
            from_seeds,
        }
    }
}
