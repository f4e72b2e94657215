//! The embedded chain: revm runs the committed TalosAnchor bytecode in-process, one
//! transaction per block, and each block (state changes, header, logs) is one synced
//! RocksDB batch. It is not a new chain: it is the real contract on a real EVM, kept on
//! one machine, the SQLite to a real chain's Postgres.

use std::sync::{Arc, Mutex, MutexGuard};

use revm::context::TxEnv;
use revm::context::result::{ExecResultAndState, ExecutionResult, Output};
use revm::primitives::hardfork::SpecId;
use revm::primitives::{Address, B256, Bytes, U256, keccak256};
use revm::{Context, Database, ExecuteEvm, MainBuilder, MainContext};
use rocksdb::{Direction, IteratorMode, WriteBatch};
use talos_primitives::Hash32;
use talos_store::Store;
use talos_store::db::{CF_EVM_BLOCKS, CF_EVM_LOG_TOPICS, CF_EVM_LOGS, CF_EVM_META};
use tokio::sync::watch;

use super::state::{StateDb, write_changes};
use crate::abi;
use crate::contract::{ChainLog, LogQuery};
use crate::error::AnchorError;
use crate::types::Inclusion;

/// The embedded chain's id: distinct from public chains so EIP-712 signatures for it are
/// useless elsewhere.
pub const EMBEDDED_CHAIN_ID: u64 = 0x7a105;
/// Gas limit of every embedded block (one transaction each).
const BLOCK_GAS_LIMIT: u64 = 30_000_000;
/// The account that deploys the contract at genesis; nobody holds its key.
const GENESIS_DEPLOYER: Address = Address::new([0x7a; 20]);

const META_HEAD: &[u8] = b"head";
const META_CONTRACT: &[u8] = b"contract";

/// Where block timestamps come from. Either way they strictly increase by block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// Unix time, but at least one second after the previous block.
    System,
    /// `genesis + number`: fully reproducible chains, for tests.
    Fixed {
        /// Timestamp of block 0.
        genesis: u64,
    },
}

impl Clock {
    fn timestamp(self, number: u64, prev: u64) -> u64 {
        let now = match self {
            Clock::System => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            Clock::Fixed { genesis } => genesis.saturating_add(number),
        };
        now.max(prev.saturating_add(1))
    }
}

/// The head block: number and timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Head {
    pub(crate) number: u64,
    pub(crate) timestamp: u64,
}

impl Head {
    fn encode(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.number.to_be_bytes());
        b[8..].copy_from_slice(&self.timestamp.to_be_bytes());
        b
    }

    fn decode(b: &[u8]) -> Result<Self, AnchorError> {
        let b: &[u8; 16] = b
            .try_into()
            .map_err(|_| AnchorError::Malformed("embedded head record".into()))?;
        let (n, t) = b.split_at(8);
        Ok(Head {
            number: u64_be(n)?,
            timestamp: u64_be(t)?,
        })
    }
}

fn u64_be(b: &[u8]) -> Result<u64, AnchorError> {
    let a: [u8; 8] = b
        .try_into()
        .map_err(|_| AnchorError::Malformed("embedded u64".into()))?;
    Ok(u64::from_be_bytes(a))
}

struct Inner {
    store: Arc<Store>,
    clock: Clock,
    contract: Address,
    /// Serializes block production: one writer, blocks strictly in order.
    produce: Mutex<()>,
    head: watch::Sender<u64>,
}

/// A handle on the embedded chain; clones share it.
#[derive(Clone)]
pub struct EmbeddedChain {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for EmbeddedChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedChain")
            .field("contract", &self.inner.contract)
            .field("head", &*self.inner.head.borrow())
            .finish()
    }
}

fn evm_err(e: impl std::fmt::Debug) -> AnchorError {
    AnchorError::Halted(format!("{e:?}"))
}

impl EmbeddedChain {
    /// Opens the chain kept in `store`; on first use, block 0 deploys the contract with
    /// `admin` as its allow-list admin.
    pub fn open(store: Arc<Store>, clock: Clock, admin: Address) -> Result<Self, AnchorError> {
        let head = store.get(CF_EVM_META, META_HEAD)?;
        let contract = match head {
            Some(_) => {
                let raw = store.get(CF_EVM_META, META_CONTRACT)?.ok_or_else(|| {
                    AnchorError::Malformed("embedded chain has a head but no contract".into())
                })?;
                Address::try_from(raw.as_slice())
                    .map_err(|_| AnchorError::Malformed("embedded contract address".into()))?
            }
            None => genesis(&store, clock, admin)?,
        };
        let number = match store.get(CF_EVM_META, META_HEAD)? {
            Some(b) => Head::decode(&b)?.number,
            None => 0,
        };
        let (head, _) = watch::channel(number);
        Ok(Self {
            inner: Arc::new(Inner {
                store,
                clock,
                contract,
                produce: Mutex::new(()),
                head,
            }),
        })
    }

    /// The contract's address.
    pub fn contract(&self) -> Address {
        self.inner.contract
    }

    /// The latest block number.
    pub fn head_number(&self) -> u64 {
        *self.inner.head.borrow()
    }

    pub(crate) fn subscribe_head(&self) -> watch::Receiver<u64> {
        self.inner.head.subscribe()
    }

    fn lock(&self) -> Result<MutexGuard<'_, ()>, AnchorError> {
        self.inner
            .produce
            .lock()
            .map_err(|_| AnchorError::Halted("a previous block failed mid-way".into()))
    }

    fn read_head(&self) -> Result<Head, AnchorError> {
        let raw = self
            .inner
            .store
            .get(CF_EVM_META, META_HEAD)?
            .ok_or_else(|| AnchorError::Malformed("embedded chain has no head".into()))?;
        Head::decode(&raw)
    }

    /// Runs a read-only call against the head state.
    pub(crate) fn call(&self, from: Address, data: Bytes) -> Result<Bytes, AnchorError> {
        let head = self.read_head()?;
        let mut db = StateDb {
            store: &self.inner.store,
        };
        let nonce = db.basic(from).map_err(evm_err)?.map_or(0, |a| a.nonce);
        let out = run(
            &self.inner.store,
            head,
            from,
            Some(self.inner.contract),
            data,
            nonce,
        )?;
        match out.result {
            ExecutionResult::Success { output, .. } => Ok(output.into_data()),
            ExecutionResult::Revert { output, .. } => Err(abi::decode_revert(&output).into()),
            ExecutionResult::Halt { reason, .. } => Err(evm_err(reason)),
        }
    }

    /// Executes `data` from `from` in a new block and persists it (synced) before
    /// returning. A revert produces no block.
    pub(crate) fn send(&self, from: Address, data: Bytes) -> Result<Inclusion, AnchorError> {
        let _guard = self.lock()?;
        let prev = self.read_head()?;
        let number = prev.number.saturating_add(1);
        let head = Head {
            number,
            timestamp: self.inner.clock.timestamp(number, prev.timestamp),
        };
        let mut db = StateDb {
            store: &self.inner.store,
        };
        let nonce = db.basic(from).map_err(evm_err)?.map_or(0, |a| a.nonce);
        let tx = tx_hash(from, nonce, &data);
        let out = run(
            &self.inner.store,
            head,
            from,
            Some(self.inner.contract),
            data,
            nonce,
        )?;
        let logs = match out.result {
            ExecutionResult::Success { logs, .. } => logs,
            ExecutionResult::Revert { output, .. } => {
                return Err(abi::decode_revert(&output).into());
            }
            ExecutionResult::Halt { reason, .. } => return Err(evm_err(reason)),
        };
        commit_block(
            &self.inner.store,
            WriteBatch::default(),
            head,
            tx,
            &out.state,
            &logs,
        )?;
        self.inner.head.send_replace(number);
        Ok(Inclusion {
            block: number,
            tx: Hash32(tx.0),
        })
    }

    /// Logs matching `query`, oldest first.
    pub(crate) fn logs(&self, query: &LogQuery) -> Result<Vec<ChainLog>, AnchorError> {
        let store = &self.inner.store;
        let to = query.to.unwrap_or(u64::MAX);
        let mut out = Vec::new();
        match query.topic1 {
            // By (topic0, topic1): the index, then the log itself.
            Some(t1) => {
                let mut prefix = Vec::with_capacity(64);
                prefix.extend_from_slice(query.topic0.as_slice());
                prefix.extend_from_slice(t1.as_slice());
                let mut start = prefix.clone();
                start.extend_from_slice(&query.from.to_be_bytes());
                let iter = store.db().iterator_cf(
                    store.cf(CF_EVM_LOG_TOPICS)?,
                    IteratorMode::From(&start, Direction::Forward),
                );
                for item in iter {
                    let (k, _) = item.map_err(talos_store::StoreError::from)?;
                    let Some(pos) = k.strip_prefix(prefix.as_slice()) else {
                        break;
                    };
                    if u64_be(pos.get(..8).unwrap_or_default())? > to {
                        break;
                    }
                    let raw = store.get(CF_EVM_LOGS, pos)?.ok_or_else(|| {
                        AnchorError::Malformed("log index points at no log".into())
                    })?;
                    out.push(abi::decode_stored_log(pos, &raw)?);
                }
            }
            // By topic0 alone: walk the blocks from `from` (the watcher's case, which
            // only ever asks for new blocks).
            None => {
                let iter = store.db().iterator_cf(
                    store.cf(CF_EVM_LOGS)?,
                    IteratorMode::From(&query.from.to_be_bytes(), Direction::Forward),
                );
                for item in iter {
                    let (k, v) = item.map_err(talos_store::StoreError::from)?;
                    if u64_be(k.get(..8).unwrap_or_default())? > to {
                        break;
                    }
                    let log = abi::decode_stored_log(&k, &v)?;
                    if log.topics.first() == Some(&query.topic0) {
                        out.push(log);
                    }
                }
            }
        }
        Ok(out)
    }
}

/// Writes one block (state changes, block record, logs and their index, new head) with
/// whatever `batch` already holds, synced.
fn commit_block(
    store: &Store,
    mut batch: WriteBatch,
    head: Head,
    tx: B256,
    state: &revm::state::EvmState,
    logs: &[revm::primitives::Log],
) -> Result<(), AnchorError> {
    write_changes(store, state, &mut batch).map_err(|e| AnchorError::Malformed(e.0))?;
    batch.put_cf(
        store.cf(CF_EVM_BLOCKS)?,
        head.number.to_be_bytes(),
        tx.as_slice(),
    );
    for (i, log) in logs.iter().enumerate() {
        let idx = u32::try_from(i).map_err(|_| AnchorError::Halted("too many logs".into()))?;
        let mut key = [0u8; 12];
        key[..8].copy_from_slice(&head.number.to_be_bytes());
        key[8..].copy_from_slice(&idx.to_be_bytes());
        batch.put_cf(store.cf(CF_EVM_LOGS)?, key, abi::encode_stored_log(log, tx));
        let topics = log.data.topics();
        let t0 = topics.first().copied().unwrap_or_default();
        let t1 = topics.get(1).copied().unwrap_or_default();
        let mut ikey = Vec::with_capacity(76);
        ikey.extend_from_slice(t0.as_slice());
        ikey.extend_from_slice(t1.as_slice());
        ikey.extend_from_slice(&key);
        batch.put_cf(store.cf(CF_EVM_LOG_TOPICS)?, ikey, []);
    }
    batch.put_cf(store.cf(CF_EVM_META)?, META_HEAD, head.encode());
    store.write(batch, true)?;
    Ok(())
}

/// A deterministic transaction id: the embedded chain has no signed transactions, so this
/// hashes what identifies one (chain, sender, nonce, calldata).
fn tx_hash(from: Address, nonce: u64, data: &[u8]) -> B256 {
    let mut pre = Vec::with_capacity(36 + data.len());
    pre.extend_from_slice(&EMBEDDED_CHAIN_ID.to_be_bytes());
    pre.extend_from_slice(from.as_slice());
    pre.extend_from_slice(&nonce.to_be_bytes());
    pre.extend_from_slice(data);
    keccak256(pre)
}

type RunResult =
    ExecResultAndState<ExecutionResult<revm::context::result::HaltReason>, revm::state::EvmState>;

fn run(
    store: &Store,
    head: Head,
    from: Address,
    to: Option<Address>,
    data: Bytes,
    nonce: u64,
) -> Result<RunResult, AnchorError> {
    let mut evm = Context::mainnet()
        .with_db(StateDb { store })
        .modify_cfg_chained(|c| {
            c.set_spec_and_mainnet_gas_params(SpecId::CANCUN);
            c.chain_id = EMBEDDED_CHAIN_ID;
        })
        .modify_block_chained(|b| {
            b.number = U256::from(head.number);
            b.timestamp = U256::from(head.timestamp);
            b.gas_limit = BLOCK_GAS_LIMIT;
            b.basefee = 0;
        })
        .build_mainnet();
    let builder = TxEnv::builder()
        .caller(from)
        .data(data)
        .gas_limit(BLOCK_GAS_LIMIT)
        .gas_price(0)
        .nonce(nonce)
        .chain_id(Some(EMBEDDED_CHAIN_ID));
    let tx = match to {
        Some(to) => builder.call(to),
        None => builder.create(),
    }
    .build_fill();
    evm.transact(tx).map_err(evm_err)
}

/// Block 0: deploys the committed bytecode with `admin`.
fn genesis(store: &Store, clock: Clock, admin: Address) -> Result<Address, AnchorError> {
    let head = Head {
        number: 0,
        timestamp: clock.timestamp(0, 0),
    };
    let init = abi::deploy_code(admin);
    let out = run(store, head, GENESIS_DEPLOYER, None, init.clone(), 0)?;
    let contract = match out.result {
        ExecutionResult::Success {
            output: Output::Create(_, Some(a)),
            ..
        } => a,
        other => {
            return Err(AnchorError::Halted(format!(
                "genesis deploy failed: {other:?}"
            )));
        }
    };
    let tx = tx_hash(GENESIS_DEPLOYER, 0, &init);
    let mut batch = WriteBatch::default();
    batch.put_cf(store.cf(CF_EVM_META)?, META_CONTRACT, contract.as_slice());
    commit_block(store, batch, head, tx, &out.state, out.result.logs())?;
    Ok(contract)
}
