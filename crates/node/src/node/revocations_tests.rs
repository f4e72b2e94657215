//! Finding #1 of issue 17 at the node: the gate's gossiped and chain revocations are kept
//! per (publisher, id) within bounds, issuers of chains the gate verified are pinned, and a
//! restart restores exactly that.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, json};
use talos_capability::published::{MAX_PUBLISHERS, PER_PUBLISHER, Publication};
use talos_capability::{ActionSet, Capability, Caveats, Claims, ResourcePattern, Token};
use talos_identity::{IdentityKey, IdentitySeed};
use talos_net::invoke::InvokeRequest;
use talos_primitives::{CapabilityId, Hash32};
use talos_store::Store;
use talos_store::db::CF_REVOCATIONS;

use super::{published_key, restore};
use crate::node::gate::Gate;
use crate::node::sidecar::InvokeConfig;

const T0: u64 = 1_763_782_400;

fn key(seed: [u8; 32]) -> IdentityKey {
    IdentityKey::from_seed(&IdentitySeed::from_bytes(seed)).unwrap()
}
fn booking() -> IdentityKey {
    key([0xb0; 32])
}
fn planner() -> IdentityKey {
    key([0x91; 32])
}
fn assistant() -> IdentityKey {
    key([0xa5; 32])
}
/// A fresh key nobody trusts.
fn throwaway(i: u32) -> IdentityKey {
    let mut seed = [0x7a; 32];
    seed[..4].copy_from_slice(&i.to_be_bytes());
    key(seed)
}
fn id(n: u8) -> CapabilityId {
    CapabilityId([n; 16])
}
fn nth_id(tag: u8, i: u32) -> CapabilityId {
    let mut jti = [tag; 16];
    jti[..4].copy_from_slice(&i.to_be_bytes());
    CapabilityId(jti)
}

fn gate() -> Gate {
    let unlimited = NonZeroU32::MAX;
    let config = InvokeConfig {
        rate: unlimited,
        burst: unlimited,
        answer_within: Duration::from_secs(20),
        trusted_txn: Vec::new(),
        agent_url: None,
        ..InvokeConfig::default()
    };
    Gate::new(booking().public(), &config, std::iter::empty())
}

/// booking → planner (id 1) → assistant (id 2), called by the assistant: the leaf, or the
/// refusal.
fn call(gate: &mut Gate, n: u32) -> Result<(), &'static str> {
    let cap = Capability {
        res: ResourcePattern::parse("talos://booking/flights/*").unwrap(),
        act: ActionSet::new(["book".to_string()]).unwrap(),
        cav: Caveats::default(),
    };
    let root = Token::issue(
        &booking(),
        Claims {
            iss: booking().did(),
            aud: planner().did(),
            cap: vec![cap.clone()],
            nbf: T0 - 60,
            exp: T0 + 3600,
            jti: id(1),
            prf: None,
        },
    )
    .unwrap();
    let child = root
        .delegate(
            &planner(),
            assistant().did(),
            vec![cap],
            T0 - 60,
            T0 + 3600,
            id(2),
        )
        .unwrap();
    let mut args = Map::new();
    args.insert("amount".into(), json!(1));
    let req = InvokeRequest {
        chain: vec![root.as_str().into(), child.as_str().into()],
        txn: Vec::new(),
        nonce: format!("{n:032x}"),
        at_ms: T0 * 1000 + u64::from(n),
        invocation: None,
        resource: "talos://booking/flights/LH1".into(),
        action: "book".into(),
        args,
        traceparent: None,
        att: Vec::new(),
    };
    let now = T0 * 1000 + u64::from(n);
    gate.check(&assistant().public(), &req, now).map(|_| ())
}

#[test]
fn revocation_notices_cannot_be_censored_by_throwaway_publishers() {
    for throwaways in [8, 100] {
        let mut gate = gate();
        assert_eq!(call(&mut gate, 1), Ok(()));
        // Throwaway keys revoke the delegated link's id, by gossip and on the chain:
        // all kept, none of them issued a link, so the verdict does not move.
        for i in 0..throwaways {
            assert!(
                gate.revoke_published(throwaway(i).did(), id(2), false)
                    .applied()
            );
            let chain_key = Hash32([i as u8; 32]);
            assert!(gate.revoke_on_chain(chain_key, id(2), false).applied());
        }
        assert_eq!(
            call(&mut gate, 2),
            Ok(()),
            "{throwaways} throwaway publishers"
        );
        // The real issuer's notice is applied, and the chain refused.
        assert!(
            gate.revoke_published(planner().did(), id(2), false)
                .applied()
        );
        assert_eq!(call(&mut gate, 3), Err("revoked"));

        // Likewise for the chain's revocations, by the planner's chain key.
        let mut gate = self::gate();
        for i in 0..throwaways {
            assert!(
                gate.revoke_on_chain(Hash32([i as u8; 32]), id(2), false)
                    .applied()
            );
        }
        assert_eq!(call(&mut gate, 1), Ok(()));
        let planner_key = talos_anchor::did_key(&planner().did());
        assert!(gate.revoke_on_chain(planner_key, id(2), false).applied());
        assert_eq!(call(&mut gate, 2), Err("revoked"));
    }
}

#[test]
fn a_flood_of_fresh_publishers_keeps_the_gate_bounded_and_verified_issuers_pinned() {
    let mut gate = gate();
    // The chain is verified: booking and the planner are pinned from now on.
    assert_eq!(call(&mut gate, 1), Ok(()));
    assert!(
        gate.revoke_published(planner().did(), id(2), false)
            .applied()
    );
    let planner_key = talos_anchor::did_key(&planner().did());
    assert!(gate.revoke_on_chain(planner_key, id(2), false).applied());
    for i in 0..(2 * MAX_PUBLISHERS as u32) {
        gate.revoke_published(throwaway(i).did(), nth_id(3, i), false);
        let mut k = [0x5c; 32];
        k[..4].copy_from_slice(&i.to_be_bytes());
        gate.revoke_on_chain(Hash32(k), nth_id(4, i), false);
        let (pairs, publishers, chain_pairs, revokers) = gate.published_counts();
        assert!(publishers <= MAX_PUBLISHERS && revokers <= MAX_PUBLISHERS);
        assert!(pairs <= MAX_PUBLISHERS * PER_PUBLISHER);
        assert!(chain_pairs <= MAX_PUBLISHERS * PER_PUBLISHER);
    }
    // Both revocations by the planner survived the flood.
    assert_eq!(call(&mut gate, 2), Err("revoked"));
    assert_eq!(
        gate.revoke_published(planner().did(), id(2), false),
        Publication::Known
    );
    assert_eq!(
        gate.revoke_on_chain(planner_key, id(2), false),
        Publication::Known
    );
}

fn keys(store: &Store, len: usize) -> usize {
    let cf = store.cf(CF_REVOCATIONS).unwrap();
    store
        .db()
        .iterator_cf(cf, rocksdb::IteratorMode::Start)
        .filter(|i| i.as_ref().map(|(k, _)| k.len() == len).unwrap_or(false))
        .count()
}

#[tokio::test]
async fn a_restart_restores_the_bounded_revocations_and_their_pins() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let cf = store.cf(CF_REVOCATIONS).unwrap();
    // Entries as the node wrote them before the bounds (the layout is unchanged): our
    // own, the planner's, and strangers' beyond the bounds (a flood under the old rules).
    let mut batch = rocksdb::WriteBatch::default();
    batch.put_cf(cf, id(7).0, []);
    batch.put_cf(cf, published_key(&id(6), &planner().public()), []);
    for i in 0..(MAX_PUBLISHERS as u32 + 50) {
        batch.put_cf(cf, published_key(&id(5), &throwaway(i).public()), []);
    }
    store.write(batch, true).unwrap();

    let mut g = gate();
    restore(&store, &mut g).unwrap();
    let (pairs, publishers, _, _) = g.published_counts();
    assert_eq!(publishers, MAX_PUBLISHERS);
    // What is on disk is what is in force: the excess was deleted.
    assert_eq!(keys(&store, 48), pairs);
    assert!(!g.revoke(id(7)), "our own revocation was restored");

    // The chain is verified (its issuers pinned), then the planner revokes link 2: the
    // entry and the planner's pin are written as a gossiped notice's are.
    assert_eq!(call(&mut g, 1), Ok(()));
    let Publication::Applied { pinned, evicted } =
        g.revoke_published(planner().did(), id(2), false)
    else {
        panic!("the planner's notice was not applied");
    };
    assert!(pinned);
    super::persist_published(&store, id(2), planner().public(), pinned, evicted)
        .await
        .unwrap();
    assert_eq!(call(&mut g, 2), Err("revoked"));

    // After a restart the pin is restored with the planner's entries, so a new flood of
    // strangers cannot displace them, and the chain stays refused.
    let mut g = gate();
    restore(&store, &mut g).unwrap();
    assert_eq!(keys(&store, 34), 1, "the planner's pin is kept");
    for i in 0..(2 * MAX_PUBLISHERS as u32) {
        g.revoke_published(throwaway(100_000 + i).did(), id(2), false);
        assert!(g.published_counts().1 <= MAX_PUBLISHERS);
    }
    assert_eq!(
        g.revoke_published(planner().did(), id(2), false),
        Publication::Known
    );
    assert_eq!(call(&mut g, 3), Err("revoked"));
}
