//! The contract's ABI, compiled in from the committed artifact
//! (`contracts/artifacts/TalosAnchor.json`, kept fresh by `contracts/artifacts.sh --check`),
//! and the conversions between its types and ours.

use alloy::primitives::{Address, B256, Bytes, FixedBytes, Log};
use alloy::sol_types::{SolConstructor, SolInterface};
use talos_primitives::{CapabilityId, Hash32};

use crate::contract::ChainLog;
use crate::error::{AnchorError, Revert};

alloy::sol!(
    #[allow(missing_docs)]
    #[derive(Debug, PartialEq, Eq)]
    TalosAnchor,
    "../../contracts/artifacts/TalosAnchor.json"
);

pub(crate) use TalosAnchor::TalosAnchorErrors as Errors;

/// Capability ids are 16 bytes; on chain they are `bytes32` with the id in the high
/// half (Solidity's `bytes32(bytes16(id))`), so events decode back to the id exactly.
pub(crate) fn id_word(id: &CapabilityId) -> B256 {
    let mut w = [0u8; 32];
    w[..16].copy_from_slice(&id.0);
    B256::from(w)
}

/// The inverse of [`id_word`]; a word with a non-zero low half is not an id we wrote.
pub(crate) fn word_id(w: &B256) -> Result<CapabilityId, AnchorError> {
    let (hi, lo) = w.as_slice().split_at(16);
    if lo.iter().any(|b| *b != 0) {
        return Err(AnchorError::Malformed(
            "revoked id is not a 16-byte capability id".into(),
        ));
    }
    CapabilityId::from_slice(hi).map_err(|_| AnchorError::Malformed("capability id".into()))
}

pub(crate) fn word(h: &Hash32) -> B256 {
    B256::from(h.0)
}

pub(crate) fn hash(w: &FixedBytes<32>) -> Hash32 {
    Hash32(w.0)
}

fn hex_addr(a: &Address) -> String {
    format!("{a:#x}")
}

fn small(v: alloy::primitives::U256) -> u64 {
    u64::try_from(v).unwrap_or(u64::MAX)
}

/// Decodes revert data into the contract's typed errors.
pub(crate) fn decode_revert(data: &[u8]) -> Revert {
    let Ok(e) = Errors::abi_decode(data) else {
        return Revert::Unrecognized {
            selector: hex::encode(data.get(..4).unwrap_or(data)),
        };
    };
    match e {
        Errors::DidExists(e) => Revert::DidExists { did: hash(&e.did) },
        Errors::UnknownDid(e) => Revert::UnknownDid { did: hash(&e.did) },
        Errors::NotOwner(e) => Revert::NotOwner {
            did: hash(&e.did),
            sender: hex_addr(&e.sender),
        },
        Errors::Deactivated(e) => Revert::Deactivated { did: hash(&e.did) },
        Errors::NotWriter(e) => Revert::NotWriter {
            sender: hex_addr(&e.sender),
        },
        Errors::NotAdmin(e) => Revert::NotAdmin {
            sender: hex_addr(&e.sender),
        },
        Errors::ZeroAddress(_) => Revert::ZeroAddress,
        Errors::EmptyBatch(_) => Revert::EmptyBatch,
        Errors::BatchTooLarge(e) => Revert::BatchTooLarge { len: small(e.len) },
        Errors::TreeSizeShrinks(e) => Revert::TreeSizeShrinks {
            did: hash(&e.did),
            current: small(e.current),
            given: small(e.given),
        },
        Errors::ConflictingRoot(e) => Revert::ConflictingRoot {
            did: hash(&e.did),
            tree_size: small(e.treeSize),
        },
        Errors::TreeSizeTooLarge(_) => Revert::TreeSizeTooLarge,
        Errors::InvalidRoot(_) => Revert::InvalidRoot,
        Errors::Expired(e) => Revert::Expired {
            deadline: small(e.deadline),
        },
        Errors::BadNonce(e) => Revert::BadNonce {
            expected: small(e.expected),
            given: small(e.given),
        },
        Errors::BadSignature(_) => Revert::BadSignature,
        Errors::MalleableSignature(_) => Revert::MalleableSignature,
        Errors::MetaCallFailed(_) => Revert::MetaCallFailed,
    }
}

/// Creation code with constructor arguments `(admin, allowList = false)`.
pub(crate) fn deploy_code(admin: Address) -> Bytes {
    let mut code = TalosAnchor::BYTECODE.to_vec();
    code.extend_from_slice(
        &TalosAnchor::constructorCall {
            admin_: admin,
            allowList_: false,
        }
        .abi_encode(),
    );
    Bytes::from(code)
}

/// The embedded chain's stored log: `tx(32) ‖ n(1) ‖ topics(32·n) ‖ data`. The emitting
/// address is not kept: only the contract emits.
pub(crate) fn encode_stored_log(log: &Log, tx: B256) -> Vec<u8> {
    let topics = log.data.topics();
    let mut out = Vec::with_capacity(33 + 32 * topics.len() + log.data.data.len());
    out.extend_from_slice(tx.as_slice());
    out.push(u8::try_from(topics.len()).unwrap_or(u8::MAX));
    for t in topics {
        out.extend_from_slice(t.as_slice());
    }
    out.extend_from_slice(&log.data.data);
    out
}

/// The inverse of [`encode_stored_log`]; `key` is `block(8) ‖ index(4)`.
pub(crate) fn decode_stored_log(key: &[u8], raw: &[u8]) -> Result<ChainLog, AnchorError> {
    let bad = || AnchorError::Malformed("stored log".into());
    let block = key
        .get(..8)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_be_bytes)
        .ok_or_else(bad)?;
    let tx = raw.get(..32).map(B256::from_slice).ok_or_else(bad)?;
    let n = usize::from(*raw.get(32).ok_or_else(bad)?);
    let end = 33 + 32 * n;
    let topics = raw
        .get(33..end)
        .ok_or_else(bad)?
        .chunks_exact(32)
        .map(B256::from_slice)
        .collect();
    let data = Bytes::copy_from_slice(raw.get(end..).ok_or_else(bad)?);
    Ok(ChainLog {
        block,
        tx,
        topics,
        data,
    })
}
