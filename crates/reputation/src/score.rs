//! The score (FORMAT.md §2): integer arithmetic only, so every implementation computes
//! the same number from the same reports, seeds and hour.
//!
//! Written by hand: the rules are ours (EigenTrust-style pre-trusted seeds, capped per
//! reporter and in all for strangers); no crate computes them.

use serde::Serialize;

use crate::report::Kind;

/// The best score, and a subject's score with no report about it.
pub const MAX_POINTS: u64 = 1000;
/// A report's weight halves every this many hours (7 days).
pub const HALF_LIFE_HOURS: u64 = 168;
/// A report this old (90 days) weighs nothing, and is dropped.
pub const MAX_AGE_HOURS: u64 = 2160;
/// What one reporter's reports about one subject may take from its score, together.
pub const REPORTER_CAP: u64 = 400;
/// What all reporters outside the seeds may take from a score, together: the bound on
/// what any number of fresh keys can do.
pub const STRANGER_CAP: u64 = 50;
/// How far ahead of the evaluation time a report may be dated and still count (s).
pub const FUTURE_SKEW: u64 = 300;

/// A subject's score at one hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Score {
    /// 0..=1000; 1000 is spotless.
    pub points: u16,
    /// Reports about the subject that weigh something now.
    pub reports: usize,
    /// Of them, those by seeds.
    pub from_seeds: usize,
}

/// The hour (since the Unix epoch) a time falls in: scores change only hourly.
pub const fn hour(t: u64) -> u64 {
    t / 3600
}

/// A report's weight at an age in whole hours (FORMAT.md §2.1): its kind's severity,
/// halved every [`HALF_LIFE_HOURS`], linear in between (integer division, rounding
/// down), and 0 from [`MAX_AGE_HOURS`].
pub const fn weight(kind: Kind, age_hours: u64) -> u64 {
    if age_hours >= MAX_AGE_HOURS {
        return 0;
    }
    let sev = kind.severity();
    // age < 2160 h, so k < 13 and the shifts stay in range.
    let k = age_hours / HALF_LIFE_HOURS;
    let r = age_hours % HALF_LIFE_HOURS;
    let a = sev >> k;
    let b = sev >> (k + 1);
    a - (a - b) * r / HALF_LIFE_HOURS
}

/// Whether a report dated `iat` counts at `now`, and its age in hours if so.
pub const fn age_hours(iat: u64, now: u64) -> Option<u64> {
    if iat > now.saturating_add(FUTURE_SKEW) {
        return None;
    }
    let age = hour(now).saturating_sub(hour(iat));
    if age >= MAX_AGE_HOURS {
        None
    } else {
        Some(age)
    }
}

/// What the seeds' reports take from a score: each seed's capped sum, added, at most
/// [`MAX_POINTS`].
pub fn seed_penalty(seed_sums: impl IntoIterator<Item = u64>) -> u64 {
    seed_sums
        .into_iter()
        .map(|s| s.min(REPORTER_CAP))
        .fold(0u64, u64::saturating_add)
        .min(MAX_POINTS)
}

/// What strangers' reports take from a score: each stranger's capped sum times its
/// standing (its own score from the seeds' reports alone, 0..=1000), added, divided by
/// 1000 (rounding down), at most [`STRANGER_CAP`].
pub fn stranger_penalty(sums_and_standing: impl IntoIterator<Item = (u64, u64)>) -> u64 {
    let weighted = sums_and_standing
        .into_iter()
        .map(|(sum, standing)| {
            sum.min(REPORTER_CAP)
                .saturating_mul(standing.min(MAX_POINTS))
        })
        .fold(0u64, u64::saturating_add);
    (weighted / MAX_POINTS).min(STRANGER_CAP)
}

/// The points left: 1000 minus both penalties, at least 0.
pub fn points(seed_penalty: u64, stranger_penalty: u64) -> u16 {
    let p = MAX_POINTS.saturating_sub(seed_penalty.saturating_add(stranger_penalty));
    // p <= 1000 always fits.
    u16::try_from(p).unwrap_or(0)
}
