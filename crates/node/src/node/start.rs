//! Starting a node, one named step at a time: the network, the mailroom, the audit
//! writer, the sidecar, the inbound and send paths, and the sender that resumes the
//! outbox.

use std::sync::Arc;

use talos_delivery::Mailroom;
use talos_identity::keys::IdentityKey;
use talos_net::Client;
use talos_primitives::Ed25519Public;
use talos_ratchet::at_rest::StorageKey;
use talos_store::Store;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

use super::{
    Node, NodeConfig, audit, commit, directory, fresh_prekeys, groups, inbox, mailbox, metrics,
    publish, sender, sidecar,
};
use crate::error::NodeError;

/// The channels and shared state the node's tasks talk over.
struct Wiring {
    wake: mpsc::Sender<Ed25519Public>,
    delivered: Arc<Notify>,
    arrived: super::arrived::Arrived,
    pump: Arc<Notify>,
    metrics: Arc<metrics::Metrics>,
}

impl Node {
    /// Starts the node over `store` (delivery state) and `audit_log` (where every session
    /// and frame event goes), which must be opened in `store` (`AuditLog::open_in`, as
    /// `Home::open_stores` does): a message's state and its event are one batch there.
    /// Opens the mailroom, builds the swarm, starts the tasks, and resumes sending
    /// whatever the outbox holds from before.
    pub async fn start(
        identity: IdentityKey,
        storage_key: StorageKey,
        store: Arc<Store>,
        audit_log: Arc<talos_store::AuditLog>,
        config: NodeConfig,
    ) -> Result<Node, NodeError> {
        if !Arc::ptr_eq(audit_log.store(), &store) {
            return Err(NodeError::Internal(
                "the audit log is not in the node's store".into(),
            ));
        }
        let talos_net::Network {
            client,
            mut event_loop,
            inbound,
            invokes,
            gossip,
            approvals,
        } = talos_net::new(&identity, config.net.clone())?;
        event_loop.set_record_validator(directory::validator());
        let mailroom = open_mailroom(&identity, storage_key, &store, &config).await?;
        let (wake, wake_rx) = mpsc::channel(config.max_peers);
        let w = Wiring {
            wake,
            delivered: Arc::new(Notify::new()),
            arrived: Default::default(),
            pump: Arc::new(Notify::new()),
            metrics: Arc::new(metrics::Metrics::new()),
        };
        let mut tasks = vec![tokio::spawn(event_loop.run())];
        let budgets = super::budgets::load(&audit_log)?;
        let held = Arc::new(super::held::Held::load(&store, &identity.did())?);
        let mut durable = talos_capability::budget::Ledger::new();
        for (key, counter) in budgets.iter().cloned() {
            durable.set(key, counter);
        }
        let (auditor, audit_task) = audit::Auditor::start(
            identity.clone(),
            audit_log.clone(),
            w.metrics.audit_dropped_refusals.clone(),
            durable,
        );
        tasks.push(audit_task);
        // At the pace of the network's own upkeep: connections close at most that often.
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        tasks.push(tokio::spawn(super::memory::upkeep(config.net.idle_timeout)));
        tasks.push(tokio::spawn(inbox::upkeep(
            mailroom.clone(),
            w.arrived.clone(),
            config.inbox_retention,
            w.metrics.clone(),
        )));
        let sidecar =
            open_sidecar(&identity, &client, &auditor, &store, &config, &w, budgets).await?;
        tasks.push(tokio::spawn(sidecar::serve(sidecar.clone(), invokes)));
        tasks.push(tokio::spawn(super::approver::serve(
            sidecar.clone(),
            client.clone(),
            approvals,
        )));
        tasks.push(tokio::spawn(super::gossip::revocations(
            sidecar.clone(),
            client.clone(),
            gossip.revocations,
        )));
        tasks.push(tokio::spawn(super::gossip::reports(
            sidecar.clone(),
            client.clone(),
            gossip.reports,
            gossip.report_subscribers,
        )));
        let inbound_task = spawn_inbound(
            &mailroom, &auditor, &client, &store, &config, &w, inbound, &mut tasks,
        );
        tasks.push(inbound_task);
        let (sends, jobs) = mpsc::channel(config.net.channel_capacity);
        let fresh = commit::Fresh::default();
        tasks.push(tokio::spawn(commit::sends(
            mailroom.clone(),
            jobs,
            w.wake.clone(),
            fresh.clone(),
        )));
        tasks.push(tokio::spawn(groups::pump(
            client.clone(),
            mailroom.clone(),
            w.wake.clone(),
            w.pump.clone(),
        )));
        let sender = sender::Sender::new(
            client.clone(),
            mailroom.clone(),
            auditor.clone(),
            fresh,
            w.pump.clone(),
            &w.metrics,
            &config,
        );
        let pending = {
            let (m, max) = (mailroom.clone(), config.max_peers);
            tokio::task::spawn_blocking(move || m.peers_with_pending(max)).await??
        };
        tasks.push(tokio::spawn(sender.run(wake_rx, pending)));
        let publisher = Arc::new(publish::Publisher::open(
            audit_log.clone(),
            identity.clone(),
            &config.witnesses,
            auditor.clone(),
        )?);
        Ok(Node {
            held,
            client,
            identity,
            store,
            config,
            mailroom,
            sends,
            delivered: w.delivered,
            arrived: w.arrived,
            wake: w.wake,
            pump: w.pump,
            sidecar,
            metrics: w.metrics,
            publisher,
            audit_log,
            auditor,
            anchoring: None,
            tasks,
        })
    }
}

/// Opens the mailroom (migrating an older store in place) with the node's limits.
async fn open_mailroom(
    identity: &IdentityKey,
    storage_key: StorageKey,
    store: &Arc<Store>,
    config: &NodeConfig,
) -> Result<Arc<Mailroom>, NodeError> {
    let prekey_identity = identity.clone();
    let (store, identity) = (store.clone(), identity.clone());
    let (session, limits) = (config.session, config.limits);
    let mailroom = tokio::task::spawn_blocking(move || {
        Mailroom::open(store, identity, storage_key, session, || {
            fresh_prekeys(&prekey_identity)
        })
        .map(|m| m.with_limits(limits))
    })
    .await??;
    Ok(Arc::new(mailroom))
}

/// Opens the sidecar (its revocations and replay state come back from the store).
async fn open_sidecar(
    identity: &IdentityKey,
    client: &Client,
    auditor: &audit::Auditor,
    store: &Arc<Store>,
    config: &NodeConfig,
    w: &Wiring,
    budgets: Vec<(
        talos_capability::stateful::CounterKey,
        talos_capability::budget::Counter,
    )>,
) -> Result<Arc<sidecar::Sidecar>, NodeError> {
    let (me, client, auditor, store, metrics) = (
        identity.clone(),
        client.clone(),
        auditor.clone(),
        store.clone(),
        w.metrics.clone(),
    );
    let config = config.invoke.clone();
    let sidecar = tokio::task::spawn_blocking(move || {
        sidecar::Sidecar::open(me, client, auditor, store, config, metrics, budgets)
    })
    .await??;
    Ok(Arc::new(sidecar))
}

/// The inbound path (and, on a mailbox server, the task that hands deposits on).
#[allow(clippy::too_many_arguments)] // one call site; a struct would only rename them
fn spawn_inbound(
    mailroom: &Arc<Mailroom>,
    auditor: &audit::Auditor,
    client: &Client,
    store: &Arc<Store>,
    config: &NodeConfig,
    w: &Wiring,
    inbound: mpsc::Receiver<talos_net::InboundFrame>,
    tasks: &mut Vec<JoinHandle<()>>,
) -> JoinHandle<()> {
    let serving = config.mailbox_server.then(|| {
        let mb = Arc::new(talos_delivery::Mailbox::new(store.clone()));
        let (drains, drain_rx) = mpsc::channel(config.max_peers);
        tasks.push(tokio::spawn(mailbox::hand_on(
            mb.clone(),
            client.clone(),
            drain_rx,
        )));
        (mb, drains)
    });
    tokio::spawn(commit::inbound(
        commit::Inbound {
            mailroom: mailroom.clone(),
            auditor: auditor.clone(),
            client: client.clone(),
            delivered: w.delivered.clone(),
            arrived: w.arrived.clone(),
            mailboxes: config.mailboxes.clone(),
            serving,
            wake: w.wake.clone(),
            pump: w.pump.clone(),
            metrics: w.metrics.clone(),
        },
        inbound,
    ))
}
