//! The event loop's side of the Kademlia DHT: puts and gets start bounded queries;
//! inbound record puts pass the node's validator before they are stored, and finished
//! queries answer the commands waiting on them.

use libp2p::kad::store::RecordStore;
use libp2p::kad::{self, GetRecordOk, PeerRecord, QueryResult, Quorum, Record, RecordKey};
use tracing::debug;

use super::{EventLoop, MAX_PENDING, MAX_RECORD_VALUES, Reply};
use crate::behaviour::MAX_RECORD_BYTES;
use crate::error::NetError;

impl EventLoop {
    pub(super) fn put_record(&mut self, key: Vec<u8>, value: Vec<u8>, reply: Reply<()>) {
        if self.puts.len() >= MAX_PENDING {
            let _ = reply.send(Err(NetError::Busy("DHT puts")));
            return;
        }
        let record = Record::new(RecordKey::new(&key), value);
        match self
            .swarm
            .behaviour_mut()
            .kad
            .put_record(record, Quorum::One)
        {
            Ok(id) => {
                self.puts.insert(id, reply);
            }
            Err(e) => {
                let _ = reply.send(Err(NetError::Dht {
                    op: "put",
                    reason: e.to_string(),
                }));
            }
        }
    }

    pub(super) fn get_record(&mut self, key: &[u8], reply: Reply<Vec<Vec<u8>>>) {
        if self.gets.len() >= MAX_PENDING {
            let _ = reply.send(Err(NetError::Busy("DHT gets")));
            return;
        }
        let id = self
            .swarm
            .behaviour_mut()
            .kad
            .get_record(RecordKey::new(&key));
        self.gets.insert(id, (Vec::new(), reply));
    }

    /// A finished lookup's statistics (cumulative over its steps) into the totals.
    fn count_lookup(&mut self, stats: &kad::QueryStats) {
        self.dht.lookups = self.dht.lookups.saturating_add(1);
        self.dht.requests = self
            .dht
            .requests
            .saturating_add(u64::from(stats.num_requests()));
    }

    pub(super) fn on_kad(&mut self, event: kad::Event) {
        match event {
            kad::Event::InboundRequest {
                request:
                    kad::InboundRequest::PutRecord {
                        source,
                        record: Some(record),
                        ..
                    },
            } => {
                if record.value.len() <= MAX_RECORD_BYTES
                    && (self.validator)(record.key.as_ref(), &record.value)
                {
                    if let Err(e) = self.swarm.behaviour_mut().kad.store_mut().put(record) {
                        debug!(%source, %e, "DHT record not stored");
                    }
                } else {
                    debug!(%source, "DHT record refused by the validator");
                }
            }
            kad::Event::OutboundQueryProgressed {
                id,
                result,
                step,
                stats,
            } => match result {
                QueryResult::PutRecord(result) => {
                    if let Some(reply) = self.puts.remove(&id) {
                        let _ = reply.send(match result {
                            Ok(_) => Ok(()),
                            // Stored locally; a lonely node still serves its own record.
                            Err(kad::PutRecordError::QuorumFailed { .. }) => Ok(()),
                            Err(e) => Err(NetError::Dht {
                                op: "put",
                                reason: e.to_string(),
                            }),
                        });
                    }
                }
                QueryResult::GetRecord(result) => {
                    let done = step.last;
                    if let Some((values, _)) = self.gets.get_mut(&id) {
                        match result {
                            Ok(GetRecordOk::FoundRecord(PeerRecord { record, .. })) => {
                                if values.len() < MAX_RECORD_VALUES
                                    && !values.contains(&record.value)
                                {
                                    values.push(record.value);
                                }
                            }
                            Ok(GetRecordOk::FinishedWithNoAdditionalRecord { .. }) => {}
                            Err(e) => {
                                if let Some((values, reply)) = self.gets.remove(&id) {
                                    self.count_lookup(&stats);
                                    let _ = reply.send(if values.is_empty() {
                                        Err(NetError::Dht {
                                            op: "get",
                                            reason: e.to_string(),
                                        })
                                    } else {
                                        Ok(values)
                                    });
                                }
                                return;
                            }
                        }
                    }
                    if done && let Some((values, reply)) = self.gets.remove(&id) {
                        self.count_lookup(&stats);
                        let _ = reply.send(Ok(values));
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }
}
