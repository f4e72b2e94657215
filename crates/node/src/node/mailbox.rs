//! Mailboxes in the running node: serving as one (deposits in, hand-on to recipients
//! that drain), and using one's own (draining them at start and on every upkeep tick).

use std::sync::Arc;

use futures::future::join_all;
use talos_delivery::Mailbox;
use talos_identity::peer_id::peer_id_of;
use talos_net::{AckStatus, Client, Frame, FrameKind};
use talos_primitives::Ed25519Public;
use tokio::sync::mpsc;
use tracing::{debug, warn};

/// Frames handed on to a recipient at once.
const WINDOW: usize = 64;

/// Hands on what the mailbox holds to each recipient that drains (sent on `drains`),
/// deleting each frame once the recipient acknowledged it.
pub(super) async fn hand_on(
    mailbox: Arc<Mailbox>,
    client: Client,
    mut drains: mpsc::Receiver<Ed25519Public>,
) {
    while let Some(recipient) = drains.recv().await {
        let Ok(peer) = peer_id_of(&recipient) else {
            continue;
        };
        loop {
            let m = mailbox.clone();
            let batch =
                match tokio::task::spawn_blocking(move || m.pending(&recipient, WINDOW)).await {
                    Ok(Ok(b)) => b,
                    Ok(Err(e)) => {
                        warn!(%e, "mailbox unreadable");
                        break;
                    }
                    Err(_) => break,
                };
            if batch.is_empty() {
                break;
            }
            let sends = batch.iter().map(|(_, f)| client.send(peer, f.clone()));
            let results = join_all(sends).await;
            let mut done = Vec::new();
            let mut failed = false;
            for ((sender, frame), r) in batch.iter().zip(results) {
                match r {
                    // The recipient no longer lists this mailbox: keep the frames (they
                    // stay within the per-recipient bound) rather than drop them.
                    Ok(ack)
                        if ack.status
                            == AckStatus::Refused(talos_net::RefuseReason::Unauthorized) =>
                    {
                        failed = true;
                    }
                    // Not taken now (the recipient is busy, far behind, or holds as
                    // many unread messages from this sender as it allows): again later.
                    Ok(ack) if matches!(ack.status, AckStatus::Later | AckStatus::OverQuota) => {
                        failed = true
                    }
                    // Otherwise the answer is final: accepted, duplicate, or refused by
                    // the recipient's session.
                    Ok(_) => done.push((*sender, frame.seq())),
                    Err(e) => {
                        debug!(%peer, %e, "recipient unreachable; keeping its frames");
                        failed = true;
                    }
                }
            }
            let m = mailbox.clone();
            let _ = tokio::task::spawn_blocking(move || m.delivered(&recipient, &done)).await;
            if failed {
                break;
            }
        }
    }
}

/// The ack for a deposit or drain frame arriving at a node that serves as a mailbox.
pub(super) async fn serve(
    mailbox: &Arc<Mailbox>,
    drains: &mpsc::Sender<Ed25519Public>,
    writer: Ed25519Public,
    frame: Frame,
) -> AckStatus {
    let m = mailbox.clone();
    match frame.kind() {
        FrameKind::Deposit => {
            match tokio::task::spawn_blocking(move || m.deposit(&writer, &frame)).await {
                Ok(Ok(status)) => status,
                Ok(Err(e)) => {
                    warn!(%e, "deposit not stored");
                    AckStatus::Refused(talos_net::RefuseReason::MailboxRefused)
                }
                Err(_) => AckStatus::Refused(talos_net::RefuseReason::MailboxRefused),
            }
        }
        _ => match tokio::task::spawn_blocking(move || m.register(&writer)).await {
            Ok(Ok(true)) => {
                // A full queue only delays the hand-on to the recipient's next drain.
                let _ = drains.try_send(writer);
                AckStatus::Accepted
            }
            _ => AckStatus::Refused(talos_net::RefuseReason::MailboxRefused),
        },
    }
}

/// Asks each of this node's mailboxes to hand on what it holds (and registers there).
pub(super) async fn drain_mine(client: &Client, mailboxes: &[Ed25519Public]) {
    for m in mailboxes {
        let Ok(peer) = peer_id_of(m) else { continue };
        // Learn the mailbox's addresses if we do not know them yet.
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            super::directory::lookup(client, m),
        )
        .await;
        let Ok(drain) = Frame::new(FrameKind::Drain, 1, Vec::new()) else {
            continue;
        };
        match client.send(peer, drain).await {
            Ok(ack) if ack.status == AckStatus::Accepted => debug!(%peer, "mailbox drained"),
            Ok(ack) => warn!(%peer, status = ?ack.status, "mailbox refused the drain"),
            Err(e) => debug!(%peer, %e, "mailbox unreachable"),
        }
    }
}
