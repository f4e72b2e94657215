//! The `embedded` backend, the default on a single machine with no chain: the committed
//! TalosAnchor bytecode on revm, state and history in RocksDB (talos-store), blocks with
//! deterministic numbers and timestamps.

mod chain;
mod state;

use alloy::primitives::{Address, Bytes};
use async_trait::async_trait;
pub use chain::{Clock, EMBEDDED_CHAIN_ID, EmbeddedChain};

use crate::contract::{ChainLog, ContractAnchor, Executor, LogQuery};
use crate::error::AnchorError;
use crate::types::Inclusion;

/// The embedded chain, acting as one account.
#[derive(Clone, Debug)]
pub struct EmbeddedExecutor {
    chain: EmbeddedChain,
    sender: Address,
}

/// [`crate::Anchor`] on the embedded chain.
pub type EmbeddedAnchor = ContractAnchor<EmbeddedExecutor>;

impl EmbeddedExecutor {
    /// Acts on `chain` as `sender`. The embedded chain has no signed transactions: the
    /// node that holds the database is the only one writing, as whichever of its
    /// accounts it chooses.
    pub fn new(chain: EmbeddedChain, sender: Address) -> Self {
        Self { chain, sender }
    }

    /// The chain.
    pub fn chain(&self) -> &EmbeddedChain {
        &self.chain
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(EmbeddedChain) -> Result<T, AnchorError> + Send + 'static,
    ) -> Result<T, AnchorError> {
        let chain = self.chain.clone();
        tokio::task::spawn_blocking(move || f(chain))
            .await
            .map_err(|_| AnchorError::Closed)?
    }
}

impl EmbeddedAnchor {
    /// The embedded backend acting as `sender`.
    pub fn embedded(chain: EmbeddedChain, sender: Address) -> Self {
        ContractAnchor::new(EmbeddedExecutor::new(chain, sender))
    }
}

#[async_trait]
impl Executor for EmbeddedExecutor {
    fn kind(&self) -> &'static str {
        "embedded"
    }

    fn sender(&self) -> Address {
        self.sender
    }

    fn chain_id(&self) -> u64 {
        EMBEDDED_CHAIN_ID
    }

    fn contract(&self) -> Address {
        self.chain.contract()
    }

    async fn call(&self, data: Bytes) -> Result<Bytes, AnchorError> {
        let from = self.sender;
        self.blocking(move |c| c.call(from, data)).await
    }

    async fn send(&self, data: Bytes) -> Result<Inclusion, AnchorError> {
        let from = self.sender;
        self.blocking(move |c| c.send(from, data)).await
    }

    async fn logs(&self, query: LogQuery) -> Result<Vec<ChainLog>, AnchorError> {
        self.blocking(move |c| c.logs(&query)).await
    }

    async fn head(&self) -> Result<u64, AnchorError> {
        Ok(self.chain.head_number())
    }

    async fn next_head(&self, after: u64) -> Result<u64, AnchorError> {
        let mut rx = self.chain.subscribe_head();
        let head = rx
            .wait_for(|h| *h > after)
            .await
            .map_err(|_| AnchorError::Closed)?;
        Ok(*head)
    }

    async fn resume(&self) -> Result<usize, AnchorError> {
        // Each embedded block is written and synced before `send` returns: nothing is
        // ever pending.
        Ok(0)
    }
}
