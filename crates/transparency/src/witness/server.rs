//! The witness's HTTP service.
//!
//! - `POST /add-checkpoint`: C2SP `tlog-witness`, statuses as the spec fixes them: 404
//!   unknown origin, 403 no valid log signature, 400 malformed or `old` past the size,
//!   409 `old` not the size last cosigned (body: that size, `text/x.tlog.size`) or a
//!   split view, 422 an inconsistent proof, 200 the cosignature line.
//! - `GET /latest?origin=O`: the checkpoint last cosigned for O, with the cosignature
//!   (what a monitor compares with the log's own view).
//! - `GET /evidence?origin=O`: the split views refused for O, as JSON.
//!
//! Bounded: a per-address rate, bodies of at most one request's size, and at most
//! `max_logs` origins kept (an open witness accepts any talos agent's log, whose key its
//! origin names, so strangers cannot make it store unbounded state).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::Deserialize;
use talos_audit::checkpoint::Checkpoint;
use talos_audit::note::NoteVerifier;
use talos_audit::witness::{AddError, WitnessKey, check_add, cosignature};
use talos_identity::IdentityKey;

use super::state::{Evidence, StateError, WitnessState};
use talos_audit::witness::protocol::{AddCheckpoint, MAX_BODY, SIZE_TYPE};

/// Which logs a witness cosigns.
#[derive(Debug, Clone)]
pub enum Trust {
    /// Only these: origin → the log's verifier key.
    Logs(HashMap<String, NoteVerifier>),
    /// Any talos agent's log (`talos/<did:key>`, verified by the key the DID names).
    AnyTalos,
}

impl Trust {
    fn verifier(&self, origin: &str) -> Option<NoteVerifier> {
        match self {
            Trust::Logs(m) => m.get(origin).cloned(),
            Trust::AnyTalos => talos_audit::checkpoint::talos_log(origin).map(|(_, v)| v),
        }
    }
}

/// A witness: its name and key, the logs it trusts, its state.
pub struct WitnessService {
    name: String,
    key: IdentityKey,
    trust: Trust,
    state: WitnessState,
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
}

impl WitnessService {
    /// A witness named `name` signing with `key`, limited to `rate` requests per second
    /// per address (and a burst of 4× that).
    pub fn new(
        name: &str,
        key: IdentityKey,
        trust: Trust,
        state: WitnessState,
        rate: NonZeroU32,
    ) -> Self {
        let burst = rate.saturating_mul(NonZeroU32::new(4).unwrap_or(NonZeroU32::MIN));
        Self {
            name: name.into(),
            key,
            trust,
            state,
            per_ip: RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)),
        }
    }

    /// The witness's cosignature verifier key.
    pub fn verifier_key(&self) -> WitnessKey {
        WitnessKey::of(&self.name, &self.key)
    }

    /// Handles one `add-checkpoint` body: the cosignature line(s), or the refusal.
    pub fn add_checkpoint(&self, body: &str) -> Result<String, Refusal> {
        let req = AddCheckpoint::parse(body).map_err(|e| Refusal::BadRequest(e.to_string()))?;
        let cp = Checkpoint::parse_text(&req.checkpoint.text)
            .map_err(|e| Refusal::BadRequest(e.to_string()))?;
        let verifier = self
            .trust
            .verifier(&cp.origin)
            .ok_or(Refusal::UnknownOrigin)?;
        req.checkpoint
            .verify(&verifier)
            .map_err(|_| Refusal::NotSigned)?;
        // Only the log's signature and ours go into what is kept and answered.
        let mut note = req.checkpoint.clone();
        note.signatures
            .retain(|s| s.name == verifier.name && s.key_id == verifier.key_id());
        let offered = note.to_text();
        let stored = self.state.update(&cp.origin, |last| {
            let head = last.as_ref().map(|(h, _)| *h);
            match check_add(head.as_ref(), req.old, &cp.head, &req.proof) {
                Ok(()) => {}
                Err(AddError::SplitView) => {
                    let cosigned = last.map(|(_, t)| t).unwrap_or_default();
                    self.state.keep_evidence(
                        &cp.origin,
                        &Evidence {
                            cosigned,
                            offered: offered.clone(),
                        },
                    )?;
                    return Err(Refusal::Conflict(AddError::SplitView));
                }
                Err(e) => return Err(Refusal::from(e)),
            }
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let mut kept = note.clone();
            kept.signatures
                .push(cosignature(&self.name, &self.key, &note.text, now));
            Ok(kept.to_text())
        })?;
        // The answer is our signature line(s) only.
        Ok(stored
            .lines()
            .filter(|l| l.starts_with(&format!("— {} ", self.name)))
            .map(|l| format!("{l}\n"))
            .collect())
    }
}

/// Why `add-checkpoint` refused, with the spec's status.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// 400.
    #[error("{0}")]
    BadRequest(String),
    /// 404.
    #[error("unknown log origin")]
    UnknownOrigin,
    /// 403.
    #[error("no valid signature by the log's key")]
    NotSigned,
    /// 409 (with the size last cosigned), 422, or 400, from the rules.
    #[error(transparent)]
    Conflict(AddError),
    /// 429.
    #[error("too many requests")]
    RateLimited,
    /// 503: the state failed or is full.
    #[error(transparent)]
    State(#[from] StateError),
}

impl From<AddError> for Refusal {
    fn from(e: AddError) -> Self {
        Refusal::Conflict(e)
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let status = match &self {
            Refusal::BadRequest(_) | Refusal::Conflict(AddError::OldPastSize { .. }) => {
                StatusCode::BAD_REQUEST
            }
            Refusal::UnknownOrigin => StatusCode::NOT_FOUND,
            Refusal::NotSigned => StatusCode::FORBIDDEN,
            Refusal::Conflict(AddError::NotLatest { latest }) => {
                return (
                    StatusCode::CONFLICT,
                    [(header::CONTENT_TYPE, SIZE_TYPE)],
                    format!("{latest}\n"),
                )
                    .into_response();
            }
            Refusal::Conflict(AddError::SplitView) => StatusCode::CONFLICT,
            Refusal::Conflict(AddError::Inconsistent(_)) => StatusCode::UNPROCESSABLE_ENTITY,
            Refusal::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Refusal::State(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        (status, format!("{self}\n")).into_response()
    }
}

/// The service's routes; serve with `into_make_service_with_connect_info::<SocketAddr>()`.
pub fn router(service: Arc<WitnessService>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add))
        .route("/latest", get(latest))
        .route("/evidence", get(evidence))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .with_state(service)
}

fn admit(s: &WitnessService, from: SocketAddr) -> Result<(), Refusal> {
    s.per_ip
        .check_key(&from.ip())
        .map_err(|_| Refusal::RateLimited)
}

async fn add(
    State(s): State<Arc<WitnessService>>,
    ConnectInfo(from): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Result<String, Refusal> {
    admit(&s, from)?;
    let body = String::from_utf8(body.to_vec())
        .map_err(|_| Refusal::BadRequest("the body is not UTF-8".into()))?;
    // Signature checks and a synced write: off the async workers.
    tokio::task::spawn_blocking(move || s.add_checkpoint(&body))
        .await
        .map_err(|e| Refusal::BadRequest(e.to_string()))?
}

#[derive(Deserialize)]
struct OriginQuery {
    origin: String,
}

async fn latest(
    State(s): State<Arc<WitnessService>>,
    ConnectInfo(from): ConnectInfo<SocketAddr>,
    Query(q): Query<OriginQuery>,
) -> Result<Response, Refusal> {
    admit(&s, from)?;
    match s.state.latest(&q.origin)? {
        Some((_, note)) => {
            Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], note).into_response())
        }
        None => Ok(StatusCode::NOT_FOUND.into_response()),
    }
}

async fn evidence(
    State(s): State<Arc<WitnessService>>,
    ConnectInfo(from): ConnectInfo<SocketAddr>,
    Query(q): Query<OriginQuery>,
) -> Result<Response, Refusal> {
    admit(&s, from)?;
    Ok(axum::Json(s.state.evidence(&q.origin)?).into_response())
}
