//! Misbehaviour reports (FORMAT.md §1): "reporter `iss` says `sub` did `knd`, see the
//! audit events `evd`", signed by the reporter. A report proves only who said it; how
//! much it counts is the score's business ([`crate::score`]).

use serde::{Deserialize, Serialize};
use talos_capability::{CapError, MAX_INTEGER, statement, token::commitment_of};
use talos_identity::IdentityKey;
use talos_primitives::{CapabilityId, Commitment, Did, Hash32};

/// The JWS `typ` of a report.
pub const REPORT_TYP: &str = "talos-report+jwt";
/// Evidence digests one report may carry.
pub const MAX_EVIDENCE: usize = 8;

/// What the subject did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A storm of calls the reporter's node refused.
    RefusedStorm,
    /// An answer that was wrong or harmful.
    BadAnswer,
    /// An attestation credential that did not hold (revoked, wrong digests).
    BrokenAttestation,
    /// A protocol violation (malformed frames, replays, forged statements).
    ProtocolViolation,
    /// A report by a human operator.
    OperatorReport,
}

impl Kind {
    /// Every kind, in the order of FORMAT.md's table.
    pub const ALL: [Kind; 5] = [
        Kind::RefusedStorm,
        Kind::BadAnswer,
        Kind::BrokenAttestation,
        Kind::ProtocolViolation,
        Kind::OperatorReport,
    ];

    /// The kind's severity: the points a fresh report of it weighs (FORMAT.md §2.1).
    pub const fn severity(self) -> u64 {
        match self {
            Kind::RefusedStorm => 100,
            Kind::BadAnswer => 150,
            Kind::ProtocolViolation => 200,
            Kind::BrokenAttestation => 300,
            Kind::OperatorReport => 400,
        }
    }

    /// The kind's wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::RefusedStorm => "refused_storm",
            Kind::BadAnswer => "bad_answer",
            Kind::BrokenAttestation => "broken_attestation",
            Kind::ProtocolViolation => "protocol_violation",
            Kind::OperatorReport => "operator_report",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// What a report says (its JWS payload).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// The reporter, who signs (a did:key).
    pub iss: Did,
    /// Whom it is about (a did:key, not the reporter).
    pub sub: Did,
    /// What happened.
    pub knd: Kind,
    /// Leaf hashes of the audit events that show it, in the reporter's log: ascending,
    /// distinct, at most [`MAX_EVIDENCE`].
    pub evd: Vec<Hash32>,
    /// When it was signed (Unix seconds).
    pub iat: u64,
    /// The reporter's id for it.
    pub jti: CapabilityId,
}

/// A report whose signature verified, with its commitment (SHA-256 of its compact form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedReport {
    /// What it says.
    pub report: Report,
    /// SHA-256 of its compact JWS: what the reporter's audit log records and anchors.
    pub commitment: Commitment,
    /// The compact JWS itself, for storing and forwarding.
    pub compact: String,
}

/// Why a report is refused. Every one an attacker can cause is returned, never panicked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    /// Not a valid strict EdDSA JWS of type `talos-report+jwt`, or a bad signature.
    #[error("report: {0}")]
    Jws(#[from] CapError),
    /// The claims break a rule of FORMAT.md §1.2.
    #[error("report: {0}")]
    Claims(&'static str),
}

impl ReportError {
    /// The fixed kind that goes on the wire and into logs.
    pub const fn kind(&self) -> &'static str {
        match self {
            ReportError::Jws(e) => e.kind(),
            ReportError::Claims(_) => "malformed_claims",
        }
    }
}

impl Report {
    /// Signs a report by `key` about `sub`; `evd` is sorted and deduplicated here.
    pub fn sign(
        key: &IdentityKey,
        sub: Did,
        knd: Kind,
        mut evd: Vec<Hash32>,
        now: u64,
        jti: CapabilityId,
    ) -> Result<String, ReportError> {
        evd.sort_unstable();
        evd.dedup();
        let r = Report {
            iss: key.did(),
            sub,
            knd,
            evd,
            iat: now,
            jti,
        };
        r.check()?;
        Ok(statement::sign(key, REPORT_TYP, &r)?)
    }

    /// Parses a report, checks its claims (FORMAT.md §1.2) and its signature by `iss`.
    pub fn verify(compact: &str) -> Result<SignedReport, ReportError> {
        let report: Report = statement::verify(compact, REPORT_TYP, |r: &Report| &r.iss)?;
        report.check()?;
        Ok(SignedReport {
            report,
            commitment: commitment_of(compact),
            compact: compact.to_owned(),
        })
    }

    /// The claims' own rules: did:keys, not about oneself, bounded canonical evidence,
    /// an integer time.
    fn check(&self) -> Result<(), ReportError> {
        if self.iss.as_key().is_none() || self.sub.as_key().is_none() {
            return Err(ReportError::Claims("iss and sub must be did:key DIDs"));
        }
        if self.iss == self.sub {
            return Err(ReportError::Claims(
                "a report may not be about its reporter",
            ));
        }
        if self.evd.len() > MAX_EVIDENCE {
            return Err(ReportError::Claims("more than 8 evidence digests"));
        }
        if self
            .evd
            .iter()
            .zip(self.evd.iter().skip(1))
            .any(|(a, b)| a >= b)
        {
            return Err(ReportError::Claims(
                "evidence digests not ascending and distinct",
            ));
        }
        if self.iat > MAX_INTEGER {
            return Err(ReportError::Claims("iat above 2^53-1"));
        }
        Ok(())
    }
}
