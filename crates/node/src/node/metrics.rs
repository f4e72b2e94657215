//! Prometheus metrics (`GET /metrics`, text format): counters the node's tasks bump and
//! gauges read at scrape time. Labels are fixed names only (outcomes and refusal kinds),
//! never DIDs, ids or content.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// A call's outcome at the sidecar.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct CallLabels {
    /// `allowed` or `refused`.
    pub(crate) outcome: &'static str,
    /// The refusal kind (`none` when allowed).
    pub(crate) kind: String,
}

/// Whose frame a refusal answered: a peer with a session, or one without (which has
/// proven nothing; its refusals are counted here and not audited).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct PeerLabels {
    /// `authenticated` or `unauthenticated`.
    pub(crate) peer: &'static str,
}

/// Why inbox entries were deleted.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct DeletedLabels {
    /// `acknowledged` (by the agent) or `expired` (the retention).
    pub(crate) reason: &'static str,
}

/// The node's metrics.
pub(crate) struct Metrics {
    registry: Registry,
    pub(crate) calls: Family<CallLabels, Counter>,
    pub(crate) messages_sent: Counter,
    /// Outbox flushes: one per peer per pass of the sender (a spinning sender shows here).
    pub(crate) sender_flushes: Counter,
    /// Frames left with a peer's mailbox (custody passed to it).
    pub(crate) frames_deposited: Counter,
    pub(crate) frames_received: Counter,
    pub(crate) revocations: Counter,
    /// Revocations other issuers published that this node applied from gossip.
    pub(crate) revocations_learned: Counter,
    pub(crate) anchors: Counter,
    /// Duplicate frames whose events were durable already (counted, not audited).
    pub(crate) frames_duplicate: Counter,
    pub(crate) frames_refused: Family<PeerLabels, Counter>,
    /// Frames answered `OverQuota` (the sender keeps them and retries).
    pub(crate) frames_over_quota: Counter,
    /// Refusal events shed because the audit queue for them was full.
    pub(crate) audit_dropped_refusals: Counter,
    pub(crate) inbox_deleted: Family<DeletedLabels, Counter>,
    idle_evicted: Counter,
    inbox_entries: Gauge,
    inbox_bytes: Gauge,
    idle_peers: Gauge,
    audit_size: Gauge,
    peers: Gauge,
    dht_lookups: Gauge,
    dht_requests: Gauge,
    calls_waiting: Gauge,
    /// Units spent from `bud` budgets by admitted calls.
    pub(crate) budget_spent: Counter,
    /// Calls admitted over a warn-mode budget.
    pub(crate) budget_exceeded: Counter,
    budget_counters: Gauge,
    /// Misbehaviour reports this agent filed.
    pub(crate) reports_filed: Counter,
}

impl Metrics {
    pub(crate) fn new() -> Metrics {
        let mut registry = Registry::with_prefix("talos");
        let m = Metrics {
            calls: Family::default(),
            messages_sent: Counter::default(),
            sender_flushes: Counter::default(),
            frames_deposited: Counter::default(),
            frames_received: Counter::default(),
            revocations: Counter::default(),
            revocations_learned: Counter::default(),
            anchors: Counter::default(),
            frames_duplicate: Counter::default(),
            frames_refused: Family::default(),
            frames_over_quota: Counter::default(),
            audit_dropped_refusals: Counter::default(),
            inbox_deleted: Family::default(),
            idle_evicted: Counter::default(),
            inbox_entries: Gauge::default(),
            inbox_bytes: Gauge::default(),
            idle_peers: Gauge::default(),
            audit_size: Gauge::default(),
            peers: Gauge::default(),
            dht_lookups: Gauge::default(),
            dht_requests: Gauge::default(),
            calls_waiting: Gauge::default(),
            budget_spent: Counter::default(),
            budget_exceeded: Counter::default(),
            budget_counters: Gauge::default(),
            reports_filed: Counter::default(),
            registry: Registry::default(),
        };
        registry.register(
            "calls",
            "Calls from peer agents, by the sidecar's decision",
            m.calls.clone(),
        );
        registry.register(
            "messages_sent",
            "Messages the agent sent, durable in the outbox",
            m.messages_sent.clone(),
        );
        registry.register(
            "sender_flushes",
            "Outbox flushes, one per peer per pass of the sender",
            m.sender_flushes.clone(),
        );
        registry.register(
            "frames_deposited",
            "Frames left with a peer's mailbox after direct sends failed",
            m.frames_deposited.clone(),
        );
        registry.register(
            "frames_received",
            "Frames received and acknowledged (new ones, not duplicates)",
            m.frames_received.clone(),
        );
        registry.register(
            "revocations",
            "Capabilities this agent revoked",
            m.revocations.clone(),
        );
        registry.register(
            "revocations_learned",
            "Revocations published by others and applied from gossip (refused from then on)",
            m.revocations_learned.clone(),
        );
        registry.register(
            "anchors",
            "Audit log heads anchored on the chain",
            m.anchors.clone(),
        );
        m.register_delivery(&mut registry);
        registry.register(
            "audit_log_size",
            "Events in the audit log",
            m.audit_size.clone(),
        );
        registry.register("peers_connected", "Connected peers", m.peers.clone());
        registry.register(
            "dht_lookups",
            "Directory record lookups finished since start",
            m.dht_lookups.clone(),
        );
        registry.register(
            "dht_lookup_requests",
            "Requests to other peers those lookups made in all (per lookup: how far it went)",
            m.dht_requests.clone(),
        );
        registry.register(
            "calls_waiting",
            "Allowed calls waiting for the agent's answer",
            m.calls_waiting.clone(),
        );
        registry.register(
            "budget_spent",
            "Units spent from capability budgets (bud caveats) by admitted calls",
            m.budget_spent.clone(),
        );
        registry.register(
            "budget_exceeded",
            "Calls admitted over a warn-mode budget",
            m.budget_exceeded.clone(),
        );
        registry.register(
            "budget_counters",
            "Budget counters kept",
            m.budget_counters.clone(),
        );
        registry.register(
            "reports_filed",
            "Misbehaviour reports this agent filed",
            m.reports_filed.clone(),
        );
        Metrics { registry, ..m }
    }

    fn register_delivery(&self, registry: &mut Registry) {
        let counters = [
            (
                "frames_duplicate",
                "Duplicate frames acknowledged without a new audit event",
                &self.frames_duplicate,
            ),
            (
                "frames_over_quota",
                "Frames answered OverQuota: the sender keeps them and retries",
                &self.frames_over_quota,
            ),
            (
                "audit_dropped_refusals",
                "Refusal events not audited because their bounded queue was full",
                &self.audit_dropped_refusals,
            ),
            (
                "idle_peers_evicted",
                "Idle peers (state but nothing ever taken) whose state was dropped",
                &self.idle_evicted,
            ),
        ];
        for (name, help, c) in counters {
            registry.register(name, help, c.clone());
        }
        registry.register(
            "frames_refused",
            "Frames refused, by whether the peer had a session (unauthenticated ones are not audited)",
            self.frames_refused.clone(),
        );
        registry.register(
            "inbox_deleted",
            "Inbox entries deleted, by reason",
            self.inbox_deleted.clone(),
        );
        let gauges = [
            (
                "inbox_unread_entries",
                "Unread inbox entries",
                &self.inbox_entries,
            ),
            (
                "inbox_unread_bytes",
                "Bytes of unread inbox entries",
                &self.inbox_bytes,
            ),
            (
                "idle_peers",
                "Peers with state that never had a frame take effect",
                &self.idle_peers,
            ),
        ];
        for (name, help, g) in gauges {
            registry.register(name, help, g.clone());
        }
    }

    /// A refusal of a frame from a peer with a session or without.
    pub(crate) fn frame_refused(&self, authenticated: bool) {
        let peer = if authenticated {
            "authenticated"
        } else {
            "unauthenticated"
        };
        self.frames_refused
            .get_or_create(&PeerLabels { peer })
            .inc();
    }

    /// Inbox entries deleted.
    pub(crate) fn inbox_deleted(&self, reason: &'static str, n: u64) {
        self.inbox_deleted
            .get_or_create(&DeletedLabels { reason })
            .inc_by(n);
    }

    /// The delivery gauges, read at scrape time.
    pub(crate) fn set_delivery(&self, usage: talos_delivery::InboxUsage, idle: u64, evicted: u64) {
        let g = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        self.inbox_entries.set(g(usage.entries));
        self.inbox_bytes.set(g(usage.bytes));
        self.idle_peers.set(g(idle));
        // The mailroom counts evictions; the counter follows it.
        self.idle_evicted
            .inc_by(evicted.saturating_sub(self.idle_evicted.get()));
    }

    /// Records a sidecar decision.
    pub(crate) fn call(&self, refused: Option<&str>) {
        let labels = CallLabels {
            outcome: if refused.is_some() {
                "refused"
            } else {
                "allowed"
            },
            kind: refused.unwrap_or("none").to_string(),
        };
        self.calls.get_or_create(&labels).inc();
    }

    /// The text exposition, with the gauges set to these values first.
    pub(crate) fn encode(
        &self,
        audit_size: u64,
        peers: usize,
        waiting: usize,
        budgets: usize,
        dht: talos_net::DhtStats,
    ) -> String {
        let g = |v: usize| i64::try_from(v).unwrap_or(i64::MAX);
        self.dht_lookups
            .set(i64::try_from(dht.lookups).unwrap_or(i64::MAX));
        self.dht_requests
            .set(i64::try_from(dht.requests).unwrap_or(i64::MAX));
        self.audit_size
            .set(i64::try_from(audit_size).unwrap_or(i64::MAX));
        self.peers.set(g(peers));
        self.calls_waiting.set(g(waiting));
        self.budget_counters.set(g(budgets));
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

impl super::Node {
    /// The Prometheus text exposition of this node's metrics.
    pub async fn metrics_text(&self) -> String {
        let peers = self
            .client
            .connected_peers()
            .await
            .map(|p| p.len())
            .unwrap_or(0);
        let dht = self.client.dht_stats().await.unwrap_or_default();
        let m = self.mailroom.clone();
        let read = tokio::task::spawn_blocking(move || {
            Ok::<_, talos_delivery::DeliveryError>((
                m.inbox_usage()?,
                m.idle_peers()?,
                m.evicted_peers(),
            ))
        })
        .await;
        if let Ok(Ok((usage, idle, evicted))) = read {
            self.metrics.set_delivery(usage, idle, evicted);
        }
        self.metrics.encode(
            self.audit_log.size(),
            peers,
            self.sidecar.waiting_len(),
            self.sidecar.budget_counters(),
            dht,
        )
    }
}
