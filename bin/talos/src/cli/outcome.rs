//! How a command ended, and the one place that turns it into an exit code (as rustls maps
//! its errors to alerts in one `TryFrom`). Every command, `id`, `cap`, `audit` and `agent`
//! alike, returns an [`Outcome`]; an error that escapes a command carries its outcome as
//! a marker in its context ([`Classify`]), and an unmarked one is [`Outcome::Unavailable`]:
//! the command could not finish because something it needs failed.

use std::fmt;
use std::process::ExitCode;

use talos_identity::keystore::KeystoreError;
use talos_node::config::ConfigError;

/// How a command ended. Documented in `docs/cli.md#exit-codes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It did what it was asked; a verification held. Exit 0.
    Done,
    /// The answer is no: a proof or token does not verify, a call was refused. Exit 1.
    Refused,
    /// The input cannot be used: malformed file, token or argument. Exit 2 (clap's own
    /// usage errors exit 2 as well).
    Unusable,
    /// Something the command needs is missing or not answering: the node, the chain, the
    /// keystore, the disk. Exit 3.
    Unavailable,
}

impl Outcome {
    /// The outcome an escaped error carries: its marker if it has one, else what its
    /// typed causes say (a keystore that will not open with this passphrase, a
    /// configuration file that breaks a rule, hex or JSON that does not parse: the
    /// input), else `Unavailable`.
    pub fn of(err: &anyhow::Error) -> Self {
        if let Some(m) = err.downcast_ref::<Marker>() {
            return m.0;
        }
        let input = err.chain().any(|cause| {
            cause
                .downcast_ref::<KeystoreError>()
                .is_some_and(|k| !matches!(k, KeystoreError::Io(_)))
                || cause.downcast_ref::<ConfigError>().is_some_and(|c| {
                    matches!(c, ConfigError::Parse { .. } | ConfigError::Invalid(_))
                })
                || cause.is::<hex::FromHexError>()
                || cause.is::<talos_card::CardError>()
                || cause.is::<talos_attest::AttestError>()
                || cause.is::<talos_attest::measure::MeasureError>()
                || cause.is::<serde_json::Error>()
        });
        if input {
            Outcome::Unusable
        } else {
            Outcome::Unavailable
        }
    }

    /// The outcome of an HTTP status from the node's API: 2xx done, 400/413/422 unusable
    /// input, other 4xx refused, 5xx (and anything else) unavailable.
    pub fn of_status(status: u16) -> Self {
        match status {
            200..=299 => Outcome::Done,
            400 | 413 | 422 => Outcome::Unusable,
            401..=499 => Outcome::Refused,
            _ => Outcome::Unavailable,
        }
    }
}

impl From<Outcome> for ExitCode {
    fn from(o: Outcome) -> Self {
        ExitCode::from(match o {
            Outcome::Done => 0,
            Outcome::Refused => 1,
            Outcome::Unusable => 2,
            Outcome::Unavailable => 3,
        })
    }
}

/// The marker an error's context carries; it prints as the outcome's name, so the message
/// reads `error: unusable input: <cause>`.
#[derive(Debug, Clone, Copy)]
struct Marker(Outcome);

impl fmt::Display for Marker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            Outcome::Done => "done",
            Outcome::Refused => "refused",
            Outcome::Unusable => "unusable input",
            Outcome::Unavailable => "unavailable",
        })
    }
}

/// Marks an error with the outcome it means.
pub trait Classify<T> {
    /// The error means the input cannot be used (exit 2).
    fn unusable(self) -> anyhow::Result<T>;
    /// The error means something needed is missing or not answering (exit 3).
    fn unavailable(self) -> anyhow::Result<T>;
}

impl<T, E: Into<anyhow::Error>> Classify<T> for Result<T, E> {
    fn unusable(self) -> anyhow::Result<T> {
        self.map_err(|e| e.into().context(Marker(Outcome::Unusable)))
    }

    fn unavailable(self) -> anyhow::Result<T> {
        self.map_err(|e| e.into().context(Marker(Outcome::Unavailable)))
    }
}

/// An unusable-input error from a message.
pub fn unusable(msg: impl fmt::Display + Send + Sync + 'static) -> anyhow::Error {
    anyhow::Error::msg(msg.to_string()).context(Marker(Outcome::Unusable))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_survive_more_context_and_unmarked_is_unavailable() {
        let e: anyhow::Result<()> = Err(anyhow::anyhow!("bad token"));
        let e = e.unusable().map_err(|e| e.context("reading --token"));
        let Err(e) = e else { panic!("an error") };
        assert_eq!(Outcome::of(&e), Outcome::Unusable);
        assert!(format!("{e:#}").contains("unusable input: bad token"));
        assert_eq!(Outcome::of(&anyhow::anyhow!("disk")), Outcome::Unavailable);
        assert_eq!(Outcome::of_status(404), Outcome::Refused);
        assert_eq!(Outcome::of_status(413), Outcome::Unusable);
        assert_eq!(Outcome::of_status(503), Outcome::Unavailable);
    }
}
