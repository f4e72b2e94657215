//! Reputation for talos agents: signed misbehaviour reports, and a score every node
//! computes the same way from the reports it holds.
//!
//! - [`report`]: a report (`typ: talos-report+jwt`): reporter, subject, kind, evidence
//!   digests (audit events in the reporter's log), time; a strict EdDSA JWS checked like
//!   every talos statement.
//! - [`score`]: the score, 0..=1000, in integer arithmetic: each report's weight decays
//!   with a 7-day half-life, each reporter's sum about a subject is capped, and reporters
//!   outside the configured seeds count only by their own standing, all of them together
//!   at most [`score::STRANGER_CAP`] points: a flock of fresh keys moves nothing more.
//! - [`book`]: the reports a node holds, bounded per reporter, per subject and in all
//!   (strangers' reports never displace the seeds'), with a per-hour score cache.
//!
//! `FORMAT.md` beside this crate specifies every rule; `test-vectors/scores.json` holds
//! known answers.
//!
//! ```
//! use std::collections::BTreeSet;
//! use talos_identity::IdentityKey;
//! use talos_primitives::CapabilityId;
//! use talos_reputation::{Book, Kind, Report};
//! let (operator, agent) = (IdentityKey::generate()?, IdentityKey::generate()?);
//! let now = 1_800_000_000;
//! let signed = Report::sign(&operator, agent.did(), Kind::OperatorReport, vec![], now,
//!     CapabilityId([1; 16]))?;
//! let mut book = Book::new(BTreeSet::from([operator.did()]))?;
//! book.insert(Report::verify(&signed)?, now)?;
//! assert_eq!(book.score(&agent.did(), now).points, 600);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod book;
pub mod report;
pub mod score;

pub use book::{Book, BookError, Inserted};
pub use report::{Kind, Report, ReportError, SignedReport};
pub use score::Score;
