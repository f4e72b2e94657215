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

/// The node's metrics.
pub(crate) struct Metrics {
    registry: Registry,
    pub(crate) calls: Family<CallLabels, Counter>,
    pub(crate) messages_sent: Counter,
    pub(crate) frames_received: Counter,
    pub(crate) revocations: Counter,
    pub(crate) anchors: Counter,
    audit_size: Gauge,
    peers: Gauge,
    calls_waiting: Gauge,
}

impl Metrics {
    pub(crate) fn new() -> Metrics {
        let mut registry = Registry::with_prefix("talos");
        let m = Metrics {
            calls: Family::default(),
            messages_sent: Counter::default(),
            frames_received: Counter::default(),
            revocations: Counter::default(),
            anchors: Counter::default(),
            audit_size: Gauge::default(),
            peers: Gauge::default(),
            calls_waiting: Gauge::default(),
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
            "anchors",
            "Audit log heads anchored on the chain",
            m.anchors.clone(),
        );
        registry.register(
            "audit_log_size",
            "Events in the audit log",
            m.audit_size.clone(),
        );
        registry.register("peers_connected", "Connected peers", m.peers.clone());
        registry.register(
            "calls_waiting",
            "Allowed calls waiting for the agent's answer",
            m.calls_waiting.clone(),
        );
        Metrics { registry, ..m }
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
    pub(crate) fn encode(&self, audit_size: u64, peers: usize, waiting: usize) -> String {
        let g = |v: usize| i64::try_from(v).unwrap_or(i64::MAX);
        self.audit_size
            .set(i64::try_from(audit_size).unwrap_or(i64::MAX));
        self.peers.set(g(peers));
        self.calls_waiting.set(g(waiting));
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
