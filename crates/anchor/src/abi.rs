//! The contract's ABI, compiled in from the committed artifact
//! (`contracts/artifacts/TalosAnchor.json`, kept fresh by `contracts/artifacts.sh --check`),
//! and the conversions between its types and ours.

use alloy::primitives::{Address, B256, FixedBytes};
#[cfg(feature = "backends")]
use alloy::primitives::{Bytes, Log};
#[cfg(feature = "backends")]
use alloy::sol_types::SolConstructor;
use alloy::sol_types::SolInterface;
use talos_primitives::{CapabilityId, Hash32};

#[cfg(feature = "backends")]
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
        // The account's own claim exists: for its caller, the DID is registered.
        Errors::ClaimExists(e) => Revert::DidExists { did: hash(&e.did) },
        Errors::UnknownClaim(e) => Revert::NoClaim {
            did: hash(&e.did),
            account: hex_addr(&e.owner),
        },
        Errors::Deactivated(e) => Revert::Deactivated { did: hash(&e.did) },
        Errors::BadBinding(e) => Revert::BadBinding {
            len: small(e.length),
        },
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

#[cfg(feature = "backends")]
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

#[cfg(feature = "backends")]
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

#[cfg(feature = "backends")]
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

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::U256;
    use alloy::sol_types::SolError;
    use proptest::prelude::*;

    #[test]
    fn typed_reverts_decode() {
        let did = B256::repeat_byte(1);
        let data = TalosAnchor::TreeSizeShrinks {
            did,
            current: U256::from(20),
            given: U256::from(8),
        }
        .abi_encode();
        assert_eq!(
            decode_revert(&data),
            Revert::TreeSizeShrinks {
                did: Hash32([1; 32]),
                current: 20,
                given: 8
            }
        );
        let data = TalosAnchor::BadNonce {
            expected: U256::from(1),
            given: U256::MAX,
        }
        .abi_encode();
        assert_eq!(
            decode_revert(&data),
            Revert::BadNonce {
                expected: 1,
                given: u64::MAX
            }
        );
        assert_eq!(
            decode_revert(&[0xde, 0xad]),
            Revert::Unrecognized {
                selector: "dead".into()
            }
        );
    }

    #[test]
    fn ids_round_trip_and_foreign_words_are_refused() {
        let id = CapabilityId([9; 16]);
        assert_eq!(word_id(&id_word(&id)).unwrap(), id);
        assert!(word_id(&B256::repeat_byte(1)).is_err());
    }

    proptest! {
        #[test]
        fn revert_decoding_never_panics(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode_revert(&data);
        }

        #[test]
        fn revert_decoding_keeps_known_selectors(tail in proptest::collection::vec(any::<u8>(), 0..100)) {
            let mut data = TalosAnchor::BadSignature::SELECTOR.to_vec();
            data.extend_from_slice(&tail);
            // Trailing bytes are tolerated or refused, never misread as another error.
            let r = decode_revert(&data);
            let ok = matches!(r, Revert::BadSignature | Revert::Unrecognized { .. });
            prop_assert!(ok, "misread as {:?}", r);
        }
    }

    #[cfg(feature = "backends")]
    proptest! {
        #[test]
        fn stored_logs_round_trip(
            block in any::<u64>(),
            idx in any::<u32>(),
            topics in proptest::collection::vec(any::<[u8; 32]>(), 0..5),
            data in proptest::collection::vec(any::<u8>(), 0..200),
        ) {
            let topics: Vec<B256> = topics.into_iter().map(B256::from).collect();
            let log = Log::new_unchecked(Address::ZERO, topics.clone(), data.clone().into());
            let tx = B256::repeat_byte(7);
            let mut key = block.to_be_bytes().to_vec();
            key.extend_from_slice(&idx.to_be_bytes());
            let back = decode_stored_log(&key, &encode_stored_log(&log, tx)).unwrap();
            prop_assert_eq!(back, ChainLog { block, tx, topics, data: data.into() });
        }

        #[test]
        fn stored_log_decoding_never_panics(
            key in proptest::collection::vec(any::<u8>(), 0..16),
            raw in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            let _ = decode_stored_log(&key, &raw);
        }
    }
}
