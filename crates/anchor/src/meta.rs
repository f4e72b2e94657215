//! EIP-712 meta-transactions: an agent with no gas signs a [`Call`]; any relayer submits
//! it through `executeMeta`, and the contract acts as the signer. The domain binds the
//! chain id and the contract address; the per-signer nonce makes a replay fail with
//! [`crate::Revert::BadNonce`].

use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{SolCall, SolStruct, eip712_domain};

use crate::abi::TalosAnchor;
use crate::contract::Call;
use crate::error::AnchorError;

alloy::sol! {
    /// The signed struct; its type string matches the contract's `META_TX_TYPEHASH`.
    struct MetaTransaction {
        address signer;
        bytes data;
        uint256 nonce;
        uint256 deadline;
    }
}

/// Where a meta-transaction is valid: one contract on one chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Domain {
    /// Chain id.
    pub chain_id: u64,
    /// The contract's address.
    pub contract: Address,
}

/// A signed meta-transaction, ready for any relayer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetaTx {
    /// Who signed, and whom the contract acts as.
    pub signer: Address,
    /// The inner call's calldata.
    pub data: Bytes,
    /// The signer's nonce.
    pub nonce: u64,
    /// Unix seconds after which it is refused.
    pub deadline: u64,
    /// Recovery id, 27 or 28.
    pub v: u8,
    /// Signature r.
    pub r: B256,
    /// Signature s (low half, EIP-2).
    pub s: B256,
}

impl MetaTx {
    /// Signs `call` for `domain` with `key` at `nonce`, valid until `deadline`.
    pub fn sign(
        key: &PrivateKeySigner,
        domain: Domain,
        call: &Call,
        nonce: u64,
        deadline: u64,
    ) -> Result<Self, AnchorError> {
        let data = call.encode()?;
        let msg = MetaTransaction {
            signer: key.address(),
            data: data.clone(),
            nonce: U256::from(nonce),
            deadline: U256::from(deadline),
        };
        let sig = key
            .sign_hash_sync(&msg.eip712_signing_hash(&eip712(domain)))
            .map_err(|e| AnchorError::Config(format!("signing: {e}")))?
            // k256 already signs low-s; normalizing keeps the contract's EIP-2 check moot.
            .normalized_s();
        Ok(Self {
            signer: key.address(),
            data,
            nonce,
            deadline,
            v: 27 + u8::from(sig.v()),
            r: sig.r().into(),
            s: sig.s().into(),
        })
    }

    /// The digest the contract checks (its `metaTxDigest`).
    pub fn digest(&self, domain: Domain) -> B256 {
        MetaTransaction {
            signer: self.signer,
            data: self.data.clone(),
            nonce: U256::from(self.nonce),
            deadline: U256::from(self.deadline),
        }
        .eip712_signing_hash(&eip712(domain))
    }

    pub(crate) fn execute_calldata(&self) -> Bytes {
        TalosAnchor::executeMetaCall {
            signer: self.signer,
            data: self.data.clone(),
            nonce: U256::from(self.nonce),
            deadline: U256::from(self.deadline),
            v: self.v,
            r: self.r,
            s: self.s,
        }
        .abi_encode()
        .into()
    }
}

fn eip712(d: Domain) -> alloy::sol_types::Eip712Domain {
    eip712_domain! {
        name: "TalosAnchor",
        version: "1",
        chain_id: d.chain_id,
        verifying_contract: d.contract,
    }
}
