//! Gossip over real loopback sockets: one bounded queue per topic, so a flood of
//! reports (anyone can sign one) never crowds out a revocation notice, and the signal
//! a node republishes its reports on when a peer subscribes.

use std::time::Duration;

use talos_identity::keys::{IdentityKey, IdentitySeed};
use talos_net::{GossipStreams, GossipVerdict, NetConfig, Topic};

fn identity(seed: u8) -> IdentityKey {
    IdentityKey::from_seed(&IdentitySeed::from_bytes([seed; 32])).unwrap()
}

/// B never reads its reports queue (a report validator stuck behind a flood); A
/// publishes more reports than that queue holds, then one revocation notice: the
/// notice still reaches B, on its own queue, and is forwardable once accepted.
#[tokio::test]
async fn a_flood_of_reports_never_crowds_out_a_revocation() -> anyhow::Result<()> {
    let config = NetConfig {
        gossip_capacity: 16,
        ..NetConfig::default()
    };
    let a = talos_net::new(&identity(40), config.clone())?;
    let b = talos_net::new(&identity(41), config)?;
    let (a_client, b_client) = (a.client.clone(), b.client.clone());
    let GossipStreams {
        report_subscribers: a_subscribers,
        ..
    } = a.gossip;
    let GossipStreams {
        mut revocations,
        reports: b_reports,
        ..
    } = b.gossip;
    let _tasks = [
        tokio::spawn(a.event_loop.run()),
        tokio::spawn(b.event_loop.run()),
    ];
    let addr = b_client.listen("/ip4/127.0.0.1/tcp/0".parse()?).await?;
    a_client.dial(b_client.local_peer_id(), vec![addr]).await?;
    // A learns that B subscribed to the reports topic (the republish signal).
    tokio::time::timeout(Duration::from_secs(60), a_subscribers.notified()).await?;
    for i in 0..200u32 {
        let report = format!("report {i}").into_bytes();
        // Gossipsub may not yet know B is on the topic for the first few: retry those.
        while a_client
            .publish(Topic::Reports, report.clone())
            .await
            .is_err()
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let notice = b"a revocation notice".to_vec();
    while a_client
        .publish(Topic::Revocations, notice.clone())
        .await
        .is_err()
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let got = tokio::time::timeout(Duration::from_secs(60), revocations.recv())
        .await?
        .expect("the revocations queue is open");
    assert_eq!(
        (got.topic, got.data.as_slice()),
        (Topic::Revocations, &notice[..])
    );
    b_client.validated(&got, GossipVerdict::Accept).await?;
    // The reports queue is full: 16 held, the rest ignored without blame.
    assert_eq!(b_reports.len(), 16);
    Ok(())
}
