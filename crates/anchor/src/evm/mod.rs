//! The `evm` backend: the TalosAnchor contract on any EVM chain, over JSON-RPC (HTTP or
//! WS) with alloy and a local signer. Transactions are signed here, persisted before they
//! are broadcast, and forgotten only once confirmed, so a crash or an RPC outage loses
//! nothing and doubles nothing. RPC calls are retried with exponential backoff; after
//! that the error says the endpoint is unreachable.

mod operator;
mod pending;
mod submit;

pub use operator::{deploy, fund};

pub use alloy::primitives::U256;
pub use alloy::signers::local::PrivateKeySigner;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use alloy::eips::BlockId;
use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Address, B256, Bytes};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::{Filter, TransactionRequest};
use alloy::transports::TransportError;
use async_trait::async_trait;
use backon::{ExponentialBuilder, Retryable};
use talos_store::Store;
use tokio::sync::Mutex;

use self::pending::PendingSet;
use crate::abi;
use crate::contract::{ChainLog, ContractAnchor, Executor, LogQuery};
use crate::endpoint::{endpoint_of, scrub};
use crate::error::AnchorError;
use crate::types::Inclusion;

/// How the `evm` backend reaches its chain.
#[derive(Clone, Debug)]
pub struct EvmConfig {
    /// `http://`, `https://`, `ws://` or `wss://` endpoint.
    pub url: String,
    /// The deployed TalosAnchor.
    pub contract: Address,
    /// Blocks a transaction needs (its own included) before it counts as confirmed.
    pub confirmations: u64,
    /// How often receipts and new blocks are polled.
    pub poll_interval: Duration,
    /// How long a write waits for confirmation before returning
    /// [`AnchorError::NotConfirmed`] (it stays pending and is resubmitted later).
    pub confirm_timeout: Duration,
    /// Retries of a failed RPC request before [`AnchorError::Unavailable`].
    pub retries: usize,
    /// First backoff delay (doubling, capped at 2 s).
    pub retry_delay: Duration,
    /// Blocks a broadcast transaction may stay unmined before it is replaced at the same
    /// nonce with higher fees (at least 12.5 % more, at most 15 times).
    pub bump_after_blocks: u64,
    /// The most this client signs for a unit of gas (EIP-1559 `maxFeePerGas`), in wei.
    /// A replacement the cap leaves less than 10 % above the version before is not
    /// signed: the transaction waits, still pending and rebroadcast, for the base fee to
    /// fall under the cap. `None`: no cap but the bound of 16 versions.
    pub max_fee_per_gas: Option<u128>,
}

impl EvmConfig {
    /// Defaults for `url` and `contract`: 1 confirmation, 250 ms polling, 60 s to
    /// confirm, 5 retries from 100 ms, a fee bump after 3 blocks unmined, no fee cap.
    pub fn new(url: impl Into<String>, contract: Address) -> Self {
        Self {
            url: url.into(),
            contract,
            confirmations: 1,
            poll_interval: Duration::from_millis(250),
            confirm_timeout: Duration::from_secs(60),
            retries: 5,
            retry_delay: Duration::from_millis(100),
            bump_after_blocks: 3,
            max_fee_per_gas: None,
        }
    }
}

/// The TalosAnchor contract over JSON-RPC, acting as one local signer.
pub struct EvmExecutor {
    provider: DynProvider,
    wallet: EthereumWallet,
    sender: Address,
    chain_id: u64,
    cfg: EvmConfig,
    endpoint: String,
    store: Arc<Store>,
    pending: PendingSet,
    /// One submission at a time: nonces are assigned in order, with no gaps.
    submit: Mutex<()>,
}

impl std::fmt::Debug for EvmExecutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvmExecutor")
            .field("endpoint", &self.endpoint)
            .field("chain_id", &self.chain_id)
            .field("contract", &self.cfg.contract)
            .field("sender", &self.sender)
            .finish_non_exhaustive()
    }
}

/// [`crate::Anchor`] on an EVM chain over JSON-RPC.
pub type EvmAnchor = ContractAnchor<EvmExecutor>;

impl EvmAnchor {
    /// Connects, checks the contract is deployed, and resubmits whatever this signer
    /// left pending in `store`.
    pub async fn connect(
        cfg: EvmConfig,
        signer: PrivateKeySigner,
        store: Arc<Store>,
    ) -> Result<Self, AnchorError> {
        let exec = EvmExecutor::connect(cfg, signer, store).await?;
        let anchor = ContractAnchor::new(exec);
        anchor.executor().flush_pending().await?;
        Ok(anchor)
    }
}

fn classify(endpoint: &str, attempts: usize, e: TransportError) -> AnchorError {
    if e.is_transport_error() {
        return AnchorError::Unavailable {
            endpoint: endpoint.to_string(),
            attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            reason: scrub(&e.to_string()),
        };
    }
    if let Some(data) = e.as_error_resp().and_then(|p| p.as_revert_data()) {
        return abi::decode_revert(&data).into();
    }
    AnchorError::Rpc(scrub(&e.to_string()))
}

async fn retry<T, F, Fut>(
    policy: ExponentialBuilder,
    attempts: usize,
    endpoint: &str,
    f: F,
) -> Result<T, AnchorError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, TransportError>>,
{
    f.retry(policy)
        .when(|e: &TransportError| e.is_transport_error())
        .await
        .map_err(|e| classify(endpoint, attempts, e))
}

impl EvmExecutor {
    async fn connect(
        cfg: EvmConfig,
        signer: PrivateKeySigner,
        store: Arc<Store>,
    ) -> Result<Self, AnchorError> {
        let endpoint = endpoint_of(&cfg.url);
        let url = cfg.url.clone();
        let policy = policy(&cfg);
        let provider = retry(policy, cfg.retries + 1, &endpoint, || async {
            ProviderBuilder::new()
                .disable_recommended_fillers()
                .connect(&url)
                .await
        })
        .await?
        .erased();
        let chain_id = retry(policy, cfg.retries + 1, &endpoint, || async {
            provider.get_chain_id().await
        })
        .await?;
        let code = retry(policy, cfg.retries + 1, &endpoint, || async {
            provider.get_code_at(cfg.contract).await
        })
        .await?;
        if code.is_empty() {
            return Err(AnchorError::Config(format!(
                "no contract at {} on chain {chain_id} ({endpoint})",
                cfg.contract
            )));
        }
        let sender = signer.address();
        Ok(Self {
            pending: PendingSet::new(chain_id, cfg.contract, sender),
            provider,
            wallet: EthereumWallet::from(signer),
            sender,
            chain_id,
            cfg,
            endpoint,
            store,
            submit: Mutex::new(()),
        })
    }

    async fn rpc<T, F, Fut>(&self, f: F) -> Result<T, AnchorError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, TransportError>>,
    {
        retry(policy(&self.cfg), self.cfg.retries + 1, &self.endpoint, f).await
    }

    fn request(&self, data: Bytes) -> TransactionRequest {
        TransactionRequest::default()
            .with_from(self.sender)
            .with_to(self.cfg.contract)
            .with_input(data)
    }

    /// The latest block, without the confirmation offset.
    async fn latest(&self) -> Result<u64, AnchorError> {
        self.rpc(|| async { self.provider.get_block_number().await })
            .await
    }
}

fn policy(cfg: &EvmConfig) -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(cfg.retry_delay)
        .with_max_delay(Duration::from_secs(2))
        .with_max_times(cfg.retries)
}

#[async_trait]
impl Executor for EvmExecutor {
    fn kind(&self) -> &'static str {
        "evm"
    }

    fn sender(&self) -> Address {
        self.sender
    }

    fn chain_id(&self) -> u64 {
        self.chain_id
    }

    fn contract(&self) -> Address {
        self.cfg.contract
    }

    async fn call(&self, data: Bytes) -> Result<Bytes, AnchorError> {
        let req = self.request(data);
        self.rpc(|| async {
            self.provider
                .call(req.clone())
                .block(BlockId::latest())
                .await
        })
        .await
    }

    async fn send(&self, data: Bytes) -> Result<Inclusion, AnchorError> {
        let _turn = self.submit.lock().await;
        // Earlier transactions first: a new nonce must not leave a gap behind it.
        self.flush_pending().await?;
        let nonce = self
            .rpc(|| async {
                self.provider
                    .get_transaction_count(self.sender)
                    .pending()
                    .await
            })
            .await?;
        let mut p = self.sign(data.clone(), nonce).await?;
        self.pending.put(&self.store, &p)?;
        tracing::debug!(tx = %p.latest()?.hash, nonce, "submitting");
        // Under a fee cap, the first version may already be below the base fee: it is
        // kept and offered again until the base fee falls, not an error.
        self.offer(p.latest()?).await?;
        let result = self.confirm(&mut p, Some(&data)).await;
        match &result {
            Ok(_) | Err(AnchorError::Revert(_) | AnchorError::Failed { .. }) => {
                self.pending.remove(&self.store, &p)?;
            }
            Err(_) => {} // stays pending; resubmitted by the next send or by resume
        }
        result
    }

    async fn logs(&self, query: LogQuery) -> Result<Vec<ChainLog>, AnchorError> {
        let to = match query.to {
            Some(t) => t,
            None => self.head().await?,
        };
        let mut filter = Filter::new()
            .address(self.cfg.contract)
            .event_signature(query.topic0)
            .from_block(query.from)
            .to_block(to);
        if let Some(t1) = query.topic1 {
            filter = filter.topic1(t1);
        }
        let logs = self
            .rpc(|| async { self.provider.get_logs(&filter).await })
            .await?;
        logs.into_iter()
            .map(|l| {
                Ok(ChainLog {
                    block: l
                        .block_number
                        .ok_or_else(|| AnchorError::Malformed("log without block".into()))?,
                    tx: l.transaction_hash.unwrap_or(B256::ZERO),
                    topics: l.topics().to_vec(),
                    data: l.data().data.clone(),
                })
            })
            .collect()
    }

    async fn head(&self) -> Result<u64, AnchorError> {
        Ok(self
            .latest()
            .await?
            .saturating_sub(self.cfg.confirmations.saturating_sub(1)))
    }

    async fn next_head(&self, after: u64) -> Result<u64, AnchorError> {
        loop {
            let head = self.head().await?;
            if head > after {
                return Ok(head);
            }
            tokio::time::sleep(self.cfg.poll_interval).await;
        }
    }

    async fn resume(&self) -> Result<usize, AnchorError> {
        let _turn = self.submit.lock().await;
        self.flush_pending().await
    }
}
