//! The event loop's side of gossip: publishing, handing messages to the node over one
//! bounded queue per topic (full: the message is ignored, neither forwarded nor
//! penalized), and reporting the node's verdicts back to gossipsub.

use libp2p::PeerId;
use libp2p::gossipsub::{self, IdentTopic, MessageAcceptance, MessageId};
use tokio::sync::oneshot;
use tracing::debug;

use super::EventLoop;
use crate::behaviour::{REPORTS_TOPIC, REVOCATIONS_TOPIC};
use crate::client::{GossipMessage, GossipVerdict, Topic};
use crate::error::NetError;

impl EventLoop {
    pub(super) fn publish(
        &mut self,
        topic: Topic,
        data: Vec<u8>,
        reply: oneshot::Sender<Result<(), NetError>>,
    ) {
        let topic = IdentTopic::new(topic.name());
        let result = self
            .swarm
            .behaviour_mut()
            .gossip
            .publish(topic, data)
            .map(|_| ())
            .map_err(|e| NetError::Gossip(e.to_string()));
        let _ = reply.send(result);
    }

    pub(super) fn validated(&mut self, id: &MessageId, source: &PeerId, verdict: GossipVerdict) {
        let verdict = match verdict {
            GossipVerdict::Accept => MessageAcceptance::Accept,
            GossipVerdict::Reject => MessageAcceptance::Reject,
            GossipVerdict::Ignore => MessageAcceptance::Ignore,
        };
        self.swarm
            .behaviour_mut()
            .gossip
            .report_message_validation_result(id, source, verdict);
    }

    pub(super) fn on_gossip(&mut self, event: gossipsub::Event) {
        if let gossipsub::Event::Subscribed { topic, .. } = &event
            && topic.as_str() == REPORTS_TOPIC
        {
            self.report_subscribers.notify_one();
        }
        if let gossipsub::Event::Message {
            propagation_source,
            message_id,
            message,
        } = event
        {
            // Only the topics we subscribed to reach us; anything else is dropped unjudged.
            let topic = match message.topic.as_str() {
                t if t == REVOCATIONS_TOPIC => Topic::Revocations,
                t if t == REPORTS_TOPIC => Topic::Reports,
                _ => {
                    self.swarm
                        .behaviour_mut()
                        .gossip
                        .report_message_validation_result(
                            &message_id,
                            &propagation_source,
                            MessageAcceptance::Ignore,
                        );
                    return;
                }
            };
            let m = GossipMessage {
                topic,
                data: message.data,
                author: message.source,
                id: message_id,
                source: propagation_source,
            };
            let queue = match topic {
                Topic::Revocations => &self.revocations_in,
                Topic::Reports => &self.reports_in,
            };
            if let Err(e) = queue.try_send(m) {
                let m = e.into_inner();
                debug!(peer = %propagation_source, "gossip queue full; message ignored");
                self.swarm
                    .behaviour_mut()
                    .gossip
                    .report_message_validation_result(&m.id, &m.source, MessageAcceptance::Ignore);
            }
        }
    }
}
