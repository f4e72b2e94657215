//! Collecting cosignatures: a log submits its new checkpoint to every configured witness
//! at once, each with a consistency proof from the size that witness last cosigned, and
//! keeps the valid cosignatures that arrive before the deadline. A witness that answers
//! 409 with another size gets one retry with a proof from that size (the log learns the
//! size a witness holds after a restart, or from a first contact).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use talos_audit::checkpoint::Checkpoint;
use talos_audit::note::Note;
use talos_audit::witness::WitnessKey;
use talos_primitives::Hash32;

use talos_audit::witness::protocol::{AddCheckpoint, SIZE_TYPE};

/// A witness the log asks: its key and its submission URL prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessPeer {
    /// The cosignature verifier key.
    pub key: WitnessKey,
    /// The submission prefix (`<prefix>/add-checkpoint`).
    pub url: String,
}

impl WitnessPeer {
    /// Parses `<verifier key>@<url>`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let (key, url) = s
            .split_once('@')
            .ok_or_else(|| format!("{s:?} is not <witness key>@<url>"))?;
        let key = WitnessKey::parse(key).map_err(|e| format!("witness key: {e}"))?;
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!("witness URL {url:?} is not http(s)"));
        }
        Ok(Self {
            key,
            url: url.trim_end_matches('/').to_string(),
        })
    }
}

/// What one round of collection got.
#[derive(Debug, Clone)]
pub struct Collected {
    /// The checkpoint with every valid cosignature that arrived.
    pub note: Note,
    /// The witnesses that cosigned.
    pub cosigned: Vec<String>,
    /// The witnesses that did not, and why (no content: statuses and kinds).
    pub failed: Vec<(String, String)>,
}

/// The witnesses a log asks, and what it knows of each.
#[derive(Debug)]
pub struct Witnesses {
    peers: Vec<WitnessPeer>,
    timeout: Duration,
    client: reqwest::Client,
    /// The size each witness last cosigned, as far as this log knows.
    known: Mutex<HashMap<String, u64>>,
}

enum Answer {
    Cosigned(Vec<talos_audit::note::NoteSignature>),
    HasSize(u64),
    Refused(String),
}

impl Witnesses {
    /// Asks `peers`, each within `timeout`.
    pub fn new(peers: Vec<WitnessPeer>, timeout: Duration) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            peers,
            timeout,
            client,
            known: Mutex::new(HashMap::new()),
        })
    }

    /// How many witnesses are configured.
    pub fn len(&self) -> usize {
        self.peers.len()
    }

    /// Whether none are.
    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }

    /// Submits `note` (a checkpoint signed by the log) to every witness; `proof(old, new)`
    /// gives the consistency proof between two sizes of the log.
    pub async fn collect(
        &self,
        note: &Note,
        proof: &(dyn Fn(u64, u64) -> Result<Vec<Hash32>, String> + Sync),
    ) -> Collected {
        let size = Checkpoint::parse_text(&note.text).map_or(0, |c| c.head.size);
        let asks = self.peers.iter().map(|p| async move {
            let r = tokio::time::timeout(self.timeout, self.ask_one(p, note, size, proof)).await;
            (p, r.unwrap_or_else(|_| Err("timed out".into())))
        });
        let mut out = Collected {
            note: note.clone(),
            cosigned: Vec::new(),
            failed: Vec::new(),
        };
        for (peer, r) in futures::future::join_all(asks).await {
            match r {
                Ok(sigs) => {
                    out.note.signatures.extend(sigs);
                    out.cosigned.push(peer.key.name.clone());
                }
                Err(why) => out.failed.push((peer.key.name.clone(), why)),
            }
        }
        out
    }

    async fn ask_one(
        &self,
        peer: &WitnessPeer,
        note: &Note,
        size: u64,
        proof: &(dyn Fn(u64, u64) -> Result<Vec<Hash32>, String> + Sync),
    ) -> Result<Vec<talos_audit::note::NoteSignature>, String> {
        let mut old = self.known_size(&peer.key.name).min(size);
        for _ in 0..2 {
            // No proof from nothing, nor between a size and itself (RFC 9162: empty).
            let p = if old == 0 || old == size {
                Vec::new()
            } else {
                proof(old, size)?
            };
            match self.submit(peer, note, old, p).await? {
                Answer::Cosigned(sigs) => {
                    if let Ok(mut k) = self.known.lock() {
                        k.insert(peer.key.name.clone(), size);
                    }
                    return Ok(sigs);
                }
                Answer::HasSize(s) if s <= size && s != old => old = s,
                Answer::HasSize(s) => return Err(format!("the witness holds size {s}")),
                Answer::Refused(why) => return Err(why),
            }
        }
        Err("the witness's size kept changing".into())
    }

    fn known_size(&self, name: &str) -> u64 {
        self.known
            .lock()
            .ok()
            .and_then(|k| k.get(name).copied())
            .unwrap_or(0)
    }

    async fn submit(
        &self,
        peer: &WitnessPeer,
        note: &Note,
        old: u64,
        proof: Vec<Hash32>,
    ) -> Result<Answer, String> {
        let body = AddCheckpoint {
            old,
            proof,
            checkpoint: note.clone(),
        }
        .to_text();
        let r = self
            .client
            .post(format!("{}/add-checkpoint", peer.url))
            .body(body)
            .send()
            .await
            .map_err(|e| format!("unreachable: {}", e.without_url()))?;
        let status = r.status().as_u16();
        let sized = r
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes() == SIZE_TYPE.as_bytes());
        let text = read_bounded(r, 4096).await?;
        match status {
            200 => {
                // Only this witness's valid cosignatures on this very checkpoint count.
                let joined = format!("{}{text}", note.to_text());
                let answered =
                    Note::parse(&joined).map_err(|_| "a malformed answer".to_string())?;
                let mine: Vec<_> = answered
                    .signatures
                    .into_iter()
                    .filter(|s| s.name == peer.key.name)
                    .filter(|s| {
                        let one = Note {
                            text: note.text.clone(),
                            signatures: vec![s.clone()],
                        };
                        peer.key.cosigned(&one).is_some()
                    })
                    .collect();
                if mine.is_empty() {
                    return Err("no valid cosignature in the answer".into());
                }
                Ok(Answer::Cosigned(mine))
            }
            409 if sized => text
                .trim_end()
                .parse()
                .map(Answer::HasSize)
                .map_err(|_| "a malformed size".into()),
            _ => Ok(Answer::Refused(format!("HTTP {status}"))),
        }
    }
}

async fn read_bounded(mut r: reqwest::Response, max: usize) -> Result<String, String> {
    let body = crate::body::read_bounded(&mut r, max)
        .await
        .map_err(|e| match e {
            crate::body::BodyError::TooLarge { .. } => "an answer larger than a cosignature".into(),
            e => e.to_string(),
        })?;
    String::from_utf8(body).map_err(|_| "an answer that is not UTF-8".into())
}
