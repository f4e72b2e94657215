//! What an operator does once, outside any node: deploy the TalosAnchor contract and fund
//! a node's anchoring account. Each is one transaction, signed here and awaited to its
//! receipt, with the same RPC retries as the backend.

use alloy::consensus::TxEnvelope;
use alloy::eips::BlockId;
use alloy::eips::eip2718::Encodable2718;
use alloy::network::{
    EthereumWallet, NetworkTransactionBuilder, ReceiptResponse, TransactionBuilder,
};
use alloy::primitives::Address;
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;

use talos_primitives::Hash32;

use super::{EvmConfig, PrivateKeySigner, policy, retry};
use crate::abi;
use crate::endpoint::endpoint_of;
use crate::error::AnchorError;

/// Deploys TalosAnchor from `signer` (who becomes the allow-list admin) and returns its
/// address once the deployment has one confirmation.
pub async fn deploy(url: &str, signer: PrivateKeySigner) -> Result<Address, AnchorError> {
    let from = signer.address();
    let req = TransactionRequest::default()
        .with_from(from)
        .with_deploy_code(abi::deploy_code(from));
    let r = send_confirmed(url, signer, req).await?;
    r.contract_address()
        .ok_or_else(|| AnchorError::Malformed("deployment receipt has no address".into()))
}

/// Sends `wei` from `signer` to `to` (an operator funding a node's anchoring account) and
/// waits for one confirmation.
pub async fn fund(
    url: &str,
    signer: PrivateKeySigner,
    to: Address,
    wei: alloy::primitives::U256,
) -> Result<(), AnchorError> {
    let req = TransactionRequest::default()
        .with_from(signer.address())
        .with_to(to)
        .with_value(wei);
    send_confirmed(url, signer, req).await.map(|_| ())
}

/// Signs `req` with `signer` (nonce, gas and EIP-1559 fees filled in), sends it and
/// waits for its receipt (a reverted transaction is an error).
async fn send_confirmed(
    url: &str,
    signer: PrivateKeySigner,
    req: TransactionRequest,
) -> Result<alloy::rpc::types::TransactionReceipt, AnchorError> {
    let endpoint = endpoint_of(url);
    let cfg = EvmConfig::new(url, Address::ZERO);
    let policy = policy(&cfg);
    let attempts = cfg.retries + 1;
    let provider = retry(policy, attempts, &endpoint, || async {
        ProviderBuilder::new()
            .disable_recommended_fillers()
            .connect(url)
            .await
    })
    .await?;
    let from = signer.address();
    let wallet = EthereumWallet::from(signer);
    let chain_id = retry(policy, attempts, &endpoint, || async {
        provider.get_chain_id().await
    })
    .await?;
    let nonce = retry(policy, attempts, &endpoint, || async {
        provider.get_transaction_count(from).pending().await
    })
    .await?;
    let gas = retry(policy, attempts, &endpoint, || async {
        provider
            .estimate_gas(req.clone())
            .block(BlockId::latest())
            .await
    })
    .await?;
    let fees = retry(policy, attempts, &endpoint, || async {
        provider.estimate_eip1559_fees().await
    })
    .await?;
    let envelope: TxEnvelope = req
        .with_nonce(nonce)
        .with_chain_id(chain_id)
        .with_gas_limit(gas.saturating_add(gas / 5))
        .with_max_fee_per_gas(fees.max_fee_per_gas)
        .with_max_priority_fee_per_gas(fees.max_priority_fee_per_gas)
        .build(&wallet)
        .await
        .map_err(|e| AnchorError::Config(format!("signing a transaction: {e}")))?;
    let raw = envelope.encoded_2718();
    let hash = *envelope.tx_hash();
    let _pending = retry(policy, attempts, &endpoint, || async {
        provider.send_raw_transaction(&raw).await
    })
    .await?;
    let deadline = tokio::time::Instant::now() + cfg.confirm_timeout;
    loop {
        let receipt = retry(policy, attempts, &endpoint, || async {
            provider.get_transaction_receipt(hash).await
        })
        .await?;
        if let Some(r) = receipt {
            if !r.status() {
                return Err(AnchorError::Failed { tx: Hash32(hash.0) });
            }
            return Ok(r);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(AnchorError::NotConfirmed { tx: Hash32(hash.0) });
        }
        tokio::time::sleep(cfg.poll_interval).await;
    }
}
