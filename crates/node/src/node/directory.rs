//! The node's entry in the DHT directory: its signed record (addresses + prekey bundle),
//! published at start and on a schedule, and the lookup of other agents' records when a
//! session has to be started or a peer's address is unknown.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::NodeError;
use talos_delivery::Mailroom;
use talos_identity::keys::IdentityKey;
use talos_identity::peer_id::peer_id_of;
use talos_net::directory::{DirectoryRecord, Unsigned, dht_key};
use talos_net::{Client, Multiaddr};
use talos_primitives::Ed25519Public;
use tracing::{debug, info, warn};

/// Unix seconds now (0 if the clock is before 1970, which only makes records look old).
pub(super) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The DHT validator: a record is stored only if it parses, verifies and is unexpired.
pub(super) fn validator() -> talos_net::event_loop::RecordValidator {
    Arc::new(
        |key: &[u8], value: &[u8]| match DirectoryRecord::parse(key, value, now()) {
            Ok(_) => true,
            Err(e) => {
                debug!(%e, "DHT record refused");
                false
            }
        },
    )
}

/// Signs this node's current record and puts it on the DHT. The record lives three
/// republish periods, so one missed republish does not make the node unreachable.
pub(super) async fn publish(
    client: &Client,
    identity: &IdentityKey,
    mailroom: &Arc<Mailroom>,
    config: &super::NodeConfig,
    held: &super::held::Held,
) -> Result<(), NodeError> {
    let (external, republish) = (&config.net.external, config.republish);
    let m = mailroom.clone();
    let bundle = tokio::task::spawn_blocking(move || m.published_bundle()).await??;
    let mut addrs: Vec<Vec<u8>> = external.iter().map(|a| a.to_vec()).collect();
    for a in client.listen_addrs().await? {
        if addrs.len() >= talos_net::directory::MAX_ADDRS {
            break;
        }
        let bytes = a.to_vec();
        if !addrs.contains(&bytes) {
            addrs.push(bytes);
        }
    }
    let issued = now();
    let ttl = republish.as_secs().saturating_mul(3).max(60);
    // seq: the issue time in milliseconds, so a restarted node still publishes a higher
    // one without keeping a counter.
    let seq = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    let card = card_bytes(identity, config);
    let texts = held.published();
    let attestations: Vec<&[u8]> = texts.iter().map(|t| t.as_bytes()).collect();
    let unsigned = Unsigned {
        seq,
        issued_at: issued,
        expires_at: issued.saturating_add(ttl),
        addrs: &addrs,
        mailboxes: &config.mailboxes,
        bundle: &bundle,
        card: card.as_deref(),
        attestations: &attestations,
    };
    // Over the record's bound with everything: the node must stay reachable, so the card
    // and then the credentials are left out (the card is still served over HTTP, the
    // credentials presented on calls).
    let lighter = [
        unsigned,
        Unsigned {
            card: None,
            ..unsigned
        },
        Unsigned {
            card: None,
            attestations: &[],
            ..unsigned
        },
    ];
    let mut record = Err(talos_net::RecordError::TooLarge("record"));
    for (i, u) in lighter.iter().enumerate() {
        record = DirectoryRecord::sign_unsigned(identity, u);
        match &record {
            Err(talos_net::RecordError::TooLarge("record")) => continue,
            Ok(_) if i > 0 => warn!(
                card = u.card.is_some(),
                attestations = u.attestations.len(),
                "the directory record is too large with everything; published a lighter one"
            ),
            _ => {}
        }
        break;
    }
    let record = record?;
    client
        .put_record(dht_key(&identity.public()), record)
        .await?;
    info!(addrs = addrs.len(), "directory record published");
    Ok(())
}

/// The agent's signed card as the record carries it (JCS bytes), if it has one that
/// fits; one that does not is left out with a warning (the card is still served at
/// `/.well-known/agent-card.json`).
fn card_bytes(identity: &IdentityKey, config: &super::NodeConfig) -> Option<Vec<u8>> {
    let bytes = match super::card::signed_bytes(identity, config.card.as_ref()?) {
        Ok(b) => b,
        Err(e) => {
            warn!(%e, "the agent card cannot be signed; not published in the directory record");
            return None;
        }
    };
    if bytes.len() > talos_net::directory::MAX_CARD {
        warn!(
            bytes = bytes.len(),
            max = talos_net::directory::MAX_CARD,
            "the agent card is too large for the directory record; not published there"
        );
        return None;
    }
    Some(bytes)
}

/// Looks up `peer`'s record, teaches the swarm its addresses, and returns it (the one
/// with the highest seq among those that verify).
pub(super) async fn lookup(
    client: &Client,
    peer: &Ed25519Public,
) -> Result<DirectoryRecord, NodeError> {
    let key = dht_key(peer);
    let now = now();
    let best = client
        .get_record(key.clone())
        .await?
        .iter()
        .filter_map(|v| DirectoryRecord::parse(&key, v, now).ok())
        .max_by_key(|r| r.seq)
        .ok_or(NodeError::PeerNotFound)?;
    let peer_id = peer_id_of(peer)?;
    for a in &best.addrs {
        match Multiaddr::try_from(a.clone()) {
            Ok(addr) => client.add_address(peer_id, addr).await?,
            Err(_) => debug!(%peer_id, "unparseable address in a directory record; skipped"),
        }
    }
    Ok(best)
}
