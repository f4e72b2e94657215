//! The contract's history as a verifier reads it: every account's claim on a DID, which
//! of those the DID's key bound (see [`crate::binding`]), and, from the bound ones only,
//! which account speaks for the DID, so a squatter's claim changes nothing.

use std::collections::HashMap;

use alloy::primitives::{Address, B256, Bytes};
use alloy::sol_types::{SolCall, SolEvent};
use talos_primitives::{Did, Hash32};

use super::{ChainLog, ContractAnchor, Executor, LogQuery, exec_domain, malformed};
use crate::abi::{self, TalosAnchor};
use crate::binding::{self, BindingError};
use crate::error::AnchorError;
use crate::types::{Inclusion, did_key};

/// One account's registration of a DID, as a verifier sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    /// The account.
    pub owner: Address,
    /// The document hash it registered.
    pub doc_hash: Hash32,
    /// Where it registered.
    pub at: Inclusion,
    /// Whether its owner binding binds the account to the DID; a claim whose binding does
    /// not is ignored by every read.
    pub binding: Result<(), BindingError>,
}

impl Claim {
    /// Whether the DID's key bound this account.
    pub fn is_bound(&self) -> bool {
        self.binding.is_ok()
    }
}

/// A `DidRegistered` log.
struct Registration {
    did: B256,
    owner: Address,
    doc_hash: Hash32,
    binding: Bytes,
    at: Inclusion,
}

fn decode_registration(log: &ChainLog) -> Result<Registration, AnchorError> {
    let ev = TalosAnchor::DidRegistered::decode_log_data(&log.log_data())
        .map_err(malformed("DidRegistered"))?;
    Ok(Registration {
        did: ev.did,
        owner: ev.owner,
        doc_hash: abi::hash(&ev.docHash),
        binding: ev.binding,
        at: log.at(),
    })
}

/// A claim's record, as `resolve(did, owner)` returns it.
pub(super) struct ClaimState {
    pub(super) version: u32,
    pub(super) doc_hash: Hash32,
    pub(super) prev_hash: Option<Hash32>,
    pub(super) deactivated: bool,
}

impl<E: Executor> ContractAnchor<E> {
    /// Every account's claim on `did`, oldest first, each with whether its owner binding
    /// verifies. Logs of another shape are passed over: the contract emits none.
    pub async fn claims(&self, did: &Did) -> Result<Vec<Claim>, AnchorError> {
        let key = did_key(did);
        let logs = self
            .exec
            .logs(LogQuery {
                topic0: TalosAnchor::DidRegistered::SIGNATURE_HASH,
                topic1: Some(abi::word(&key)),
                from: 0,
                to: None,
            })
            .await?;
        let domain = self.meta_domain();
        Ok(logs
            .iter()
            .filter_map(|log| decode_registration(log).ok())
            .filter(|r| r.did == abi::word(&key))
            .map(|r| Claim {
                owner: r.owner,
                doc_hash: r.doc_hash,
                at: r.at,
                binding: binding::verify(&r.binding, domain, &key, r.owner).map(|_| ()),
            })
            .collect())
    }

    /// The accounts the DID's key bound, in registration order.
    pub(super) async fn bound_owners(&self, did: &Did) -> Result<Vec<Address>, AnchorError> {
        Ok(self
            .claims(did)
            .await?
            .into_iter()
            .filter(Claim::is_bound)
            .map(|c| c.owner)
            .collect())
    }

    async fn claim_state(&self, did: &Did, owner: Address) -> Result<ClaimState, AnchorError> {
        let data = TalosAnchor::resolveCall {
            did: abi::word(&did_key(did)),
            owner,
        }
        .abi_encode();
        let out = self.exec.call(data.into()).await?;
        let r = TalosAnchor::resolveCall::abi_decode_returns(&out).map_err(malformed("resolve"))?;
        Ok(ClaimState {
            version: r.version,
            doc_hash: abi::hash(&r.docHash),
            prev_hash: (r.prevHash != B256::ZERO).then(|| abi::hash(&r.prevHash)),
            deactivated: r.deactivated,
        })
    }

    /// The DID's owner as verifiers see it: the first bound claim still active, or if
    /// every bound claim is deactivated, the last one (so the DID reads as deactivated).
    /// `None` when no claim is bound, however many accounts registered the DID.
    pub(super) async fn owner(
        &self,
        did: &Did,
    ) -> Result<Option<(Address, ClaimState)>, AnchorError> {
        let mut last = None;
        for owner in self.bound_owners(did).await? {
            let state = self.claim_state(did, owner).await?;
            if state.version == 0 {
                continue; // a registration log without state: not this contract's
            }
            if !state.deactivated {
                return Ok(Some((owner, state)));
            }
            last = Some((owner, state));
        }
        Ok(last)
    }

    /// The first `log` (oldest first) of `topic0` whose claim is bound and that `hit`
    /// accepts: the DID (chain key) that wrote it. `decode` gives a log's (DID, account,
    /// items); logs that do not decode are passed over.
    pub(super) async fn first_bound<T>(
        &self,
        topic0: B256,
        decode: impl Fn(&ChainLog) -> Option<(B256, Address, Vec<T>)>,
        hit: impl Fn(&T) -> bool,
    ) -> Result<Option<Hash32>, AnchorError> {
        let logs = self
            .exec
            .logs(LogQuery {
                topic0,
                topic1: None,
                from: 0,
                to: None,
            })
            .await?;
        let mut bound = BindingCache::default();
        for log in &logs {
            let Some((did, owner, items)) = decode(log) else {
                continue;
            };
            if items.iter().any(&hit) && bound.is_bound(&*self.exec, did, owner).await? {
                return Ok(Some(abi::hash(&did)));
            }
        }
        Ok(None)
    }
}

/// Whether claims (DID chain key, account) are bound, looked up once each: a claim is
/// registered once, with one binding, so the answer never changes.
#[derive(Default)]
pub(super) struct BindingCache {
    known: HashMap<(B256, Address), bool>,
}

/// Past this many claims the cache starts over, so a flood of squatters costs lookups,
/// not memory.
const BINDING_CACHE_MAX: usize = 4096;

impl BindingCache {
    pub(super) async fn is_bound<E: Executor>(
        &mut self,
        exec: &E,
        did: B256,
        owner: Address,
    ) -> Result<bool, AnchorError> {
        if let Some(b) = self.known.get(&(did, owner)) {
            return Ok(*b);
        }
        let logs = exec
            .logs(LogQuery {
                topic0: TalosAnchor::DidRegistered::SIGNATURE_HASH,
                topic1: Some(did),
                from: 0,
                to: None,
            })
            .await?;
        let domain = exec_domain(exec);
        let bound = logs
            .iter()
            .filter_map(|log| decode_registration(log).ok())
            .find(|r| r.did == did && r.owner == owner)
            .is_some_and(|r| binding::verify(&r.binding, domain, &abi::hash(&did), owner).is_ok());
        if self.known.len() >= BINDING_CACHE_MAX {
            self.known.clear();
        }
        self.known.insert((did, owner), bound);
        Ok(bound)
    }
}
