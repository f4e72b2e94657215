//! Reputation at the node (`crates/reputation/FORMAT.md` §4): the reports it holds
//! (in the gate's bounded book, durable under `report/<commitment>` in `CF_META`), the
//! reports its agent files (signed, kept, audited as `report_filed` so the log anchors
//! their commitments, and gossiped), and the reports peers gossip (verified, kept within
//! the book's bounds, made durable, and only then forwarded).

use std::sync::Arc;

use talos_audit::event::{DenyKind, EventKind};
use talos_net::{GossipVerdict, Topic};
use talos_primitives::{CapabilityId, Commitment, Did, Hash32};
use talos_reputation::book::{MAX_PER_REPORTER, MAX_SEEDS, MAX_STRANGER_REPORTS};
use talos_reputation::{Inserted, Kind, Report, Score, SignedReport};
use talos_store::Store;
use talos_store::db::CF_META;
use tracing::debug;

use super::gate::Gate;
use super::sidecar::{Sidecar, now_ms};
use crate::error::NodeError;

const PREFIX: &[u8] = b"report/";
/// More than the book can hold, so a restart scan sees every stored report.
const SCAN: usize = MAX_SEEDS * MAX_PER_REPORTER + MAX_STRANGER_REPORTS + 1024;

fn key(c: &Commitment) -> Vec<u8> {
    let mut k = PREFIX.to_vec();
    k.extend_from_slice(c.to_string().as_bytes());
    k
}

fn now() -> u64 {
    now_ms() / 1000
}

/// Loads the stored reports into `gate`'s book, re-verifying each; deletes those it no
/// longer keeps (unreadable, expired, or displaced within the bounds).
pub(super) fn restore(store: &Store, gate: &mut Gate) -> Result<(), NodeError> {
    let cf = store.cf(CF_META)?;
    let mode = rocksdb::IteratorMode::From(PREFIX, rocksdb::Direction::Forward);
    let (now, mut stale) = (now(), Vec::new());
    for item in store.db().iterator_cf(cf, mode).take(SCAN) {
        let (k, v) = item.map_err(|e| NodeError::Internal(e.to_string()))?;
        if !k.starts_with(PREFIX) {
            break;
        }
        let verified = std::str::from_utf8(&v)
            .ok()
            .and_then(|t| Report::verify(t).ok());
        match verified.map(|r| gate.keep_report(r, now)) {
            Some(Ok(Inserted::Added { evicted })) => stale.extend(evicted.iter().map(key)),
            Some(Ok(Inserted::Known)) | Some(Err(_)) | None => stale.push(k.to_vec()),
        }
    }
    if !stale.is_empty() {
        let mut batch = rocksdb::WriteBatch::default();
        for k in stale {
            batch.delete_cf(cf, k);
        }
        store.write(batch, true)?;
    }
    Ok(())
}

/// Stores the kept reports and deletes what they displaced, in one synced write.
async fn persist(
    store: &Arc<Store>,
    kept: Vec<&SignedReport>,
    evicted: Vec<Commitment>,
) -> Result<(), NodeError> {
    // Deletions first: a report evicted and kept in one batch is kept.
    let items = evicted
        .iter()
        .map(|c| (key(c), None))
        .chain(
            kept.into_iter()
                .map(|r| (key(&r.commitment), Some(r.compact.as_bytes().to_vec()))),
        )
        .collect();
    super::meta::write(store, items).await
}

impl Gate {
    /// Keeps a verified misbehaviour report within the book's bounds.
    pub fn keep_report(
        &mut self,
        report: SignedReport,
        now: u64,
    ) -> Result<Inserted, talos_reputation::BookError> {
        self.reports.insert(report, now)
    }

    /// `did`'s reputation score at `now` (cached for the hour).
    pub fn reputation(&mut self, did: &Did, now: u64) -> Score {
        self.reports.score(did, now)
    }

    /// Reports held.
    pub fn reports_held(&self) -> usize {
        self.reports.len()
    }

    /// The commitments of `reporter`'s reports held, oldest first.
    pub fn reports_by(&self, reporter: &Did) -> Vec<Commitment> {
        self.reports.reports_by(reporter)
    }

    /// Drops the reports too old to count; their commitments.
    pub fn sweep_reports(&mut self, now: u64) -> Vec<Commitment> {
        self.reports.sweep(now)
    }
}

impl Sidecar {
    /// Files a report by this agent about `subject`: signed, kept and durable, audited
    /// (`report_filed`, synced) before this returns, then gossiped.
    pub(crate) async fn file_report(
        &self,
        subject: Did,
        kind: Kind,
        evidence: Vec<Hash32>,
    ) -> Result<SignedReport, NodeError> {
        let bad = |e: String| NodeError::BadRequest(format!("report: {e}"));
        let jti = CapabilityId(rand::random());
        let compact = Report::sign(&self.identity, subject, kind, evidence, now(), jti)
            .map_err(|e| bad(e.to_string()))?;
        let signed = Report::verify(&compact).map_err(|e| bad(e.to_string()))?;
        {
            let _order = self.reports_write.lock().await;
            let evicted = match self.lock_gate()?.keep_report(signed.clone(), now()) {
                Ok(Inserted::Added { evicted }) => evicted,
                Ok(Inserted::Known) => Vec::new(),
                Err(e) => return Err(bad(e.to_string())),
            };
            persist(&self.store, vec![&signed], evicted).await?;
        }
        let event = EventKind::ReportFiled {
            report: signed.commitment,
            subject,
            kind: DenyKind::new(kind.as_str())
                .ok_or_else(|| NodeError::Internal("report kind name".into()))?,
        };
        if !self.auditor.record(vec![event]).await {
            return Err(NodeError::Internal(
                "the report's audit event was not written".into(),
            ));
        }
        self.metrics.reports_filed.inc();
        if let Err(e) = self
            .client
            .publish(Topic::Reports, compact.into_bytes())
            .await
        {
            // Alone on the network: it holds here, and the reports task republishes it
            // when a peer subscribes.
            debug!(%e, "report not gossiped");
        }
        Ok(signed)
    }

    /// Checks a batch of gossiped reports and keeps them, with one synced write for all:
    /// an invalid one is rejected (its sender penalized), a valid one already held, past
    /// the bounds, or displaced within the batch ignored, a kept one forwarded once it is
    /// durable. One verdict per report, in order.
    pub(super) async fn apply_reports(&self, batch: &[&[u8]]) -> Vec<GossipVerdict> {
        let verified: Vec<Option<SignedReport>> = batch
            .iter()
            .map(|d| {
                std::str::from_utf8(d)
                    .ok()
                    .and_then(|t| Report::verify(t).ok())
            })
            .collect();
        let _order = self.reports_write.lock().await;
        let (mut verdicts, mut evicted) = (Vec::with_capacity(batch.len()), Vec::new());
        match self.gate.lock() {
            Ok(mut gate) => {
                for r in &verified {
                    verdicts.push(match r {
                        None => GossipVerdict::Reject,
                        Some(r) => match gate.keep_report(r.clone(), now()) {
                            Ok(Inserted::Added { evicted: e }) => {
                                evicted.extend(e);
                                GossipVerdict::Accept
                            }
                            Ok(Inserted::Known) | Err(_) => GossipVerdict::Ignore,
                        },
                    });
                }
            }
            Err(_) => return vec![GossipVerdict::Ignore; batch.len()],
        }
        let mut kept = Vec::new();
        for (v, r) in verdicts.iter_mut().zip(&verified) {
            match r {
                Some(r) if *v == GossipVerdict::Accept && evicted.contains(&r.commitment) => {
                    *v = GossipVerdict::Ignore;
                }
                Some(r) if *v == GossipVerdict::Accept => kept.push(r),
                _ => {}
            }
        }
        if kept.is_empty() && evicted.is_empty() {
            return verdicts;
        }
        if let Err(e) = persist(&self.store, kept, evicted).await {
            debug!(%e, "gossiped reports not stored");
            for v in &mut verdicts {
                if *v == GossipVerdict::Accept {
                    *v = GossipVerdict::Ignore;
                }
            }
        }
        verdicts
    }

    /// The reports this agent filed that still count, as signed, for republishing.
    pub(super) async fn own_reports(&self) -> Result<Vec<String>, NodeError> {
        let mine = self.lock_gate()?.reports_by(&self.identity.did());
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            let cf = store.cf(CF_META)?;
            let mut out = Vec::with_capacity(mine.len());
            for c in &mine {
                let v = store
                    .db()
                    .get_cf(cf, key(c))
                    .map_err(|e| NodeError::Internal(e.to_string()))?;
                out.extend(v.and_then(|v| String::from_utf8(v).ok()));
            }
            Ok(out)
        })
        .await?
    }

    /// Drops the reports too old to count, from the book and the disk.
    pub(super) async fn sweep_reports(&self) {
        let _order = self.reports_write.lock().await;
        let old = match self.gate.lock() {
            Ok(mut gate) => gate.sweep_reports(now()),
            Err(_) => return,
        };
        if !old.is_empty()
            && let Err(e) = persist(&self.store, Vec::new(), old).await
        {
            debug!(%e, "expired reports not deleted");
        }
    }

    /// `did`'s score now, and the number of reports held.
    pub(crate) fn reputation(&self, did: &Did) -> Result<(Score, usize), NodeError> {
        let mut gate = self.lock_gate()?;
        Ok((gate.reputation(did, now()), gate.reports_held()))
    }

    fn lock_gate(&self) -> Result<std::sync::MutexGuard<'_, Gate>, NodeError> {
        self.gate
            .lock()
            .map_err(|_| NodeError::Internal("the gate is poisoned".into()))
    }
}

impl super::Node {
    /// Files a misbehaviour report by this agent about `subject` (see
    /// `Sidecar::file_report`).
    pub async fn file_report(
        &self,
        subject: Did,
        kind: Kind,
        evidence: Vec<Hash32>,
    ) -> Result<SignedReport, NodeError> {
        self.sidecar.file_report(subject, kind, evidence).await
    }

    /// `did`'s reputation score as this node computes it now, and the reports it holds.
    pub fn reputation(&self, did: &Did) -> Result<(Score, usize), NodeError> {
        self.sidecar.reputation(did)
    }

    /// The threshold below which callers are refused (0: none).
    pub fn min_reputation(&self) -> u16 {
        self.sidecar.min_reputation()
    }
}

#[cfg(test)]
mod tests {
    use talos_identity::{IdentityKey, IdentitySeed};
    use talos_net::invoke::InvokeRequest;
    use talos_primitives::{CapabilityId, Did};
    use talos_reputation::{Kind, Report};

    use super::Gate;
    use crate::node::sidecar::InvokeConfig;

    const T: u64 = 1_796_342_400;

    fn key(b: u8) -> IdentityKey {
        IdentityKey::from_seed(&IdentitySeed::from_bytes([b; 32])).unwrap()
    }

    fn request() -> InvokeRequest {
        InvokeRequest {
            chain: Vec::new(),
            txn: Vec::new(),
            nonce: format!("{:032x}", 1),
            at_ms: T * 1000,
            invocation: None,
            resource: "talos://x/y".into(),
            action: "read".into(),
            args: serde_json::Map::new(),
            traceparent: None,
            att: Vec::new(),
        }
    }

    /// A caller below `min_reputation` is refused before its chain is looked at; one at
    /// or above it goes on to the chain (here an empty one, refused for that).
    #[test]
    fn a_caller_below_the_threshold_is_refused_before_its_chain() {
        let (me, seed, caller) = (key(1), key(2), key(3));
        let config = InvokeConfig {
            reputation_seeds: [seed.did()].into(),
            min_reputation: 700,
            ..InvokeConfig::default()
        };
        let mut gate = Gate::new(me.public(), &config, std::iter::empty());
        let chain_kind = gate
            .check(&caller.public(), &request(), T * 1000)
            .unwrap_err();
        assert_ne!(chain_kind, "low_reputation");
        let report = |kind, j| {
            let c = Report::sign(
                &seed,
                Did::Key(caller.public()),
                kind,
                vec![],
                T,
                CapabilityId([j; 16]),
            );
            Report::verify(&c.unwrap()).unwrap()
        };
        // 150 points off: 850, still admitted to the chain check.
        gate.keep_report(report(Kind::BadAnswer, 1), T).unwrap();
        assert_eq!(
            gate.check(&caller.public(), &request(), T * 1000).err(),
            Some(chain_kind)
        );
        // 400 more (capped per reporter at 400 in all): 600 < 700.
        gate.keep_report(report(Kind::OperatorReport, 2), T)
            .unwrap();
        assert_eq!(gate.reputation(&caller.did(), T).points, 600);
        assert_eq!(
            gate.check(&caller.public(), &request(), T * 1000).err(),
            Some("low_reputation")
        );
        // A stranger's reports cannot do it: another caller, reported by a fresh key.
        let other = key(4);
        let c = Report::sign(
            &key(5),
            other.did(),
            Kind::OperatorReport,
            vec![],
            T,
            CapabilityId([3; 16]),
        );
        gate.keep_report(Report::verify(&c.unwrap()).unwrap(), T)
            .unwrap();
        assert_eq!(gate.reputation(&other.did(), T).points, 950);
        assert_eq!(
            gate.check(&other.public(), &request(), T * 1000).err(),
            Some(chain_kind)
        );
    }

    /// The `rep` caveat: the capability asks for a minimum score, checked after the chain
    /// (with no node-wide threshold): admitted at 850, refused at 450.
    #[test]
    fn a_capabilitys_minimum_reputation_is_checked_after_its_chain() {
        use talos_capability::scope::stateful::RepCaveat;
        use talos_capability::{ActionSet, Capability, Caveats, Claims, ResourcePattern, Token};
        let (me, seed, caller) = (key(1), key(2), key(3));
        let config = InvokeConfig {
            reputation_seeds: [seed.did()].into(),
            ..InvokeConfig::default()
        };
        let mut gate = Gate::new(me.public(), &config, std::iter::empty());
        let root = Token::issue(
            &me,
            Claims {
                iss: me.did(),
                aud: caller.did(),
                cap: vec![Capability {
                    res: ResourcePattern::parse("talos://x/**").unwrap(),
                    act: ActionSet::new(["read".to_string()]).unwrap(),
                    cav: Caveats {
                        rep: RepCaveat::new(700),
                        ..Caveats::default()
                    },
                }],
                nbf: T - 60,
                exp: T + 3600,
                jti: CapabilityId([9; 16]),
                prf: None,
            },
        )
        .unwrap();
        let call = |gate: &mut Gate, n: u32| {
            let mut req = request();
            req.chain = vec![root.as_str().to_string()];
            req.nonce = format!("{n:032x}");
            gate.check(&caller.public(), &req, T * 1000).err()
        };
        assert_eq!(call(&mut gate, 1), None);
        let report = |kind, j| {
            let c = Report::sign(&seed, caller.did(), kind, vec![], T, CapabilityId([j; 16]));
            Report::verify(&c.unwrap()).unwrap()
        };
        gate.keep_report(report(Kind::BadAnswer, 1), T).unwrap();
        assert_eq!(call(&mut gate, 2), None);
        gate.keep_report(report(Kind::OperatorReport, 2), T)
            .unwrap();
        // 1000 − min(400, 150 + 400) = 600 < 700.
        assert_eq!(gate.reputation(&caller.did(), T).points, 600);
        assert_eq!(call(&mut gate, 3), Some("low_reputation"));
        // With no node-wide threshold, the same caller without the capability is refused
        // for its chain, not its score.
        assert_eq!(
            gate.check(&caller.public(), &request(), T * 1000).err(),
            Some("empty_chain")
        );
    }
}
