//! Sender-key groups over real mailrooms (RocksDB): five members, invitations and joins
//! through the creator, rekeys, removal, a join race, and a reopen in the middle.

use std::collections::BTreeMap;
use std::path::Path;

use talos_delivery::{GroupId, Mailroom, Receipt};
use talos_net::AckStatus;
use talos_primitives::Ed25519Public;

use super::mailroom::Agent;

struct Net {
    agents: Vec<Agent>,
    rooms: Vec<Option<Mailroom>>,
}

impl Net {
    fn new(root: &Path, n: u8) -> Self {
        let agents: Vec<Agent> = (1..=n).map(|s| Agent::new(root, 40 + s)).collect();
        let rooms = agents.iter().map(|a| Some(a.open())).collect();
        Net { agents, rooms }
    }

    fn room(&self, i: usize) -> &Mailroom {
        self.rooms[i].as_ref().unwrap()
    }

    fn key(&self, i: usize) -> Ed25519Public {
        self.agents[i].public()
    }

    fn index(&self, key: &Ed25519Public) -> usize {
        self.agents.iter().position(|a| &a.public() == key).unwrap()
    }

    /// Reopens agent `i`'s mailroom, as after a crash.
    fn reopen(&mut self, i: usize) {
        self.rooms[i] = None;
        self.rooms[i] = Some(self.agents[i].open());
    }

    /// Moves every queued send and every outbox frame to its peer until nothing moves.
    fn settle(&self) {
        for _ in 0..100 {
            let mut moved = false;
            for i in 0..self.agents.len() {
                let room = self.room(i);
                for peer in room.queued_peers(None, 100).unwrap() {
                    let bundle = self.room(self.index(&peer)).bundle().unwrap();
                    moved |= room.flush_queued(&peer, Some(&bundle)).unwrap() > 0;
                }
                for peer in room.peers_with_pending(100).unwrap() {
                    let to = self.room(self.index(&peer));
                    for frame in room.pending(&peer, 1000).unwrap() {
                        let receipt = to.receive(&self.key(i), &frame).unwrap();
                        assert_eq!(
                            receipt,
                            Receipt::Ack(AckStatus::Accepted),
                            "{i} -> {} seq {} {:?}",
                            self.index(&peer),
                            frame.seq(),
                            frame.kind()
                        );
                        room.acknowledged(&peer, &[frame.seq()]).unwrap();
                        moved = true;
                    }
                }
            }
            if !moved {
                return;
            }
        }
        panic!("traffic did not settle");
    }

    /// Group messages in agent `i`'s inbox: sender → bodies in arrival order.
    fn group_inbox(&self, i: usize, id: &GroupId) -> BTreeMap<usize, Vec<Vec<u8>>> {
        let mut out: BTreeMap<usize, Vec<Vec<u8>>> = BTreeMap::new();
        for d in self.room(i).inbox(0, 10_000).unwrap() {
            if d.group.as_ref() == Some(id) {
                out.entry(self.index(&d.peer))
                    .or_default()
                    .push(d.body.to_vec());
            }
        }
        out
    }
}

fn form_group(net: &mut Net, n: usize) -> GroupId {
    let id = net.room(0).group_create().unwrap();
    for i in 1..n {
        net.room(0).group_invite(&id, &net.key(i)).unwrap();
    }
    net.settle();
    for i in 1..n {
        let (_, invitations) = net.room(i).groups(10).unwrap();
        assert_eq!(invitations.len(), 1, "agent {i} has its invitation");
        assert!(invitations[0].ready);
        net.room(i).group_join(&id).unwrap();
        assert_eq!(
            net.room(i).group(&id).unwrap().unwrap().pending,
            Some("join")
        );
    }
    net.settle();
    id
}

#[test]
fn a_group_of_five_forms_talks_and_removes_a_member() {
    let dir = tempfile::tempdir().unwrap();
    let mut net = Net::new(dir.path(), 5);
    let id = form_group(&mut net, 5);
    let all: Vec<Ed25519Public> = {
        let mut v: Vec<_> = (0..5).map(|i| net.key(i)).collect();
        v.sort();
        v
    };
    for i in 0..5 {
        let g = net.room(i).group(&id).unwrap().unwrap();
        assert_eq!(g.members, all, "agent {i} sees all five");
        assert!(g.member && g.pending.is_none() && g.invited.is_empty());
        // Four invitations and four joins after the genesis.
        assert_eq!(g.epoch, 8);
    }

    for round in 0..3u8 {
        for i in 0..5 {
            let sent = net.room(i).group_send(&id, &[i as u8, round]).unwrap();
            assert_eq!(sent, 4);
        }
        if round == 1 {
            // A crash between rounds loses nothing: every state is on disk.
            net.reopen(2);
        }
    }
    net.settle();
    for i in 0..5 {
        let got = net.group_inbox(i, &id);
        assert_eq!(got.len(), 4, "agent {i} heard from every other member");
        for (sender, bodies) in got {
            let want: Vec<Vec<u8>> = (0..3u8).map(|r| vec![sender as u8, r]).collect();
            assert_eq!(
                bodies, want,
                "agent {i}: sender {sender} once each, in order"
            );
        }
    }

    // The creator removes agent 4; what follows is not for it.
    net.room(0).group_remove(&id, &net.key(4)).unwrap();
    net.settle();
    // Removed: the group's state, keys and log are gone from its node.
    assert_eq!(net.room(4).group(&id).unwrap(), None);
    assert!(matches!(
        net.room(4).group_send(&id, b"still here?"),
        Err(talos_delivery::DeliveryError::UnknownGroup(_))
    ));
    assert_eq!(net.room(3).group_send(&id, b"after").unwrap(), 3);
    net.settle();
    assert_eq!(net.group_inbox(4, &id).get(&3).map(Vec::len), Some(3));
    for i in 0..3 {
        assert_eq!(net.group_inbox(i, &id)[&3].last().unwrap(), b"after");
    }

    // A member leaves by proposing its removal to the creator.
    net.room(2).group_leave(&id).unwrap();
    net.settle();
    for i in [0, 1, 3] {
        assert_eq!(net.room(i).group(&id).unwrap().unwrap().members.len(), 3);
    }
    assert_eq!(net.room(2).group(&id).unwrap(), None);

    // A removed member can be invited again, and reads what follows its return only.
    net.room(0).group_invite(&id, &net.key(4)).unwrap();
    net.settle();
    net.room(4).group_join(&id).unwrap();
    net.settle();
    net.room(1).group_send(&id, b"welcome back").unwrap();
    net.settle();
    let back = net.group_inbox(4, &id);
    assert_eq!(back[&1].last().unwrap(), b"welcome back");
    assert_eq!(
        back[&1].len(),
        4,
        "three from before its removal, one after its return"
    );
    assert_eq!(net.room(4).group(&id).unwrap().unwrap().members.len(), 4);
}

#[test]
fn concurrent_joins_are_ordered_by_the_creator() {
    let dir = tempfile::tempdir().unwrap();
    let mut net = Net::new(dir.path(), 4);
    let id = form_group(&mut net, 2);
    // Two invitations, then both invitees sign their JOINED on the same head: the
    // creator takes one and rejects the other, which signs again.
    net.room(0).group_invite(&id, &net.key(2)).unwrap();
    net.room(0).group_invite(&id, &net.key(3)).unwrap();
    net.settle();
    net.room(2).group_join(&id).unwrap();
    net.room(3).group_join(&id).unwrap();
    net.settle();
    let views: Vec<_> = (0..4)
        .map(|i| net.room(i).group(&id).unwrap().unwrap())
        .collect();
    for v in &views {
        assert_eq!(v.members.len(), 4);
        assert_eq!(v.epoch, views[0].epoch, "one log for everyone");
        assert!(v.pending.is_none());
    }
    for i in 0..4 {
        net.room(i).group_send(&id, b"hello").unwrap();
    }
    net.settle();
    for i in 0..4 {
        assert_eq!(net.group_inbox(i, &id).len(), 3);
    }
}

#[test]
fn only_the_creator_orders_the_log_and_strangers_stay_out() {
    use talos_delivery::DeliveryError;
    let dir = tempfile::tempdir().unwrap();
    let mut net = Net::new(dir.path(), 3);
    let id = form_group(&mut net, 2);
    assert!(matches!(
        net.room(1).group_invite(&id, &net.key(2)),
        Err(DeliveryError::NotCreator(_))
    ));
    assert!(matches!(
        net.room(1).group_remove(&id, &net.key(0)),
        Err(DeliveryError::NotCreator(_))
    ));
    assert!(matches!(
        net.room(0).group_leave(&id),
        Err(DeliveryError::GroupState(_))
    ));
    assert!(matches!(
        net.room(2).group_join(&id),
        Err(DeliveryError::UnknownGroup(_))
    ));
    assert!(matches!(
        net.room(2).group_send(&id, b"let me in"),
        Err(DeliveryError::UnknownGroup(_))
    ));
    // Agent 2 invites agent 1 to a group of its own: an invitation, nothing more.
    let other = net.room(2).group_create().unwrap();
    net.room(2).group_invite(&other, &net.key(1)).unwrap();
    net.settle();
    let (groups, invitations) = net.room(1).groups(10).unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].members.len(), 2);
    assert_eq!(invitations.len(), 1);
    assert_eq!(invitations[0].id, other);
    assert_eq!(invitations[0].creator, net.key(2));
    // Declined: gone, and a member cannot "forget" a group it is still in.
    net.room(1).group_forget(&other).unwrap();
    assert!(net.room(1).groups(10).unwrap().1.is_empty());
    assert!(matches!(
        net.room(1).group_forget(&id),
        Err(DeliveryError::GroupState(_))
    ));
}

/// Finding 9 of issue 17: invitations were bounded only in total, so a stranger creating
/// groups could take every slot. Now one inviter holds at most its share; others still
/// get through, and a declined invitation frees its inviter's slot.
#[test]
fn group_invitations_from_one_inviter_are_bounded() {
    use talos_delivery::MAX_INVITATIONS_PER_INVITER;
    let dir = tempfile::tempdir().unwrap();
    let net = Net::new(dir.path(), 3);
    let quota = usize::try_from(MAX_INVITATIONS_PER_INVITER).unwrap();
    let mut ids = Vec::new();
    for _ in 0..quota + 3 {
        let id = net.room(0).group_create().unwrap();
        net.room(0).group_invite(&id, &net.key(1)).unwrap();
        ids.push(id);
    }
    net.settle();
    let (_, invitations) = net.room(1).groups(100).unwrap();
    assert_eq!(
        invitations.len(),
        quota,
        "one inviter holds at most its quota"
    );
    // Another inviter is not locked out.
    let other = net.room(2).group_create().unwrap();
    net.room(2).group_invite(&other, &net.key(1)).unwrap();
    net.settle();
    let (_, invitations) = net.room(1).groups(100).unwrap();
    assert_eq!(invitations.len(), quota + 1);
    // Declining one frees a slot for that inviter's next invitation.
    net.room(1).group_forget(&ids[0]).unwrap();
    let again = net.room(0).group_create().unwrap();
    net.room(0).group_invite(&again, &net.key(1)).unwrap();
    net.settle();
    let (_, invitations) = net.room(1).groups(100).unwrap();
    assert_eq!(invitations.len(), quota + 1);
    assert!(invitations.iter().any(|i| i.id == again));
}
