//! The embedded EVM's world state in RocksDB: revm reads it through [`StateDb`], and each
//! block's changes go into one write batch with the block and its logs.

use revm::Database;
use revm::database_interface::DBErrorMarker;
use revm::primitives::{Address, B256, Bytes, KECCAK_EMPTY, U256};
use revm::state::{AccountInfo, Bytecode, EvmState};
use rocksdb::WriteBatch;
use talos_store::Store;
use talos_store::db::{CF_EVM_ACCOUNTS, CF_EVM_CODE, CF_EVM_STORAGE};

/// A state read failed: RocksDB, or stored bytes of the wrong shape.
#[derive(Debug, thiserror::Error)]
#[error("embedded EVM state: {0}")]
pub(crate) struct StateError(pub(crate) String);

impl DBErrorMarker for StateError {}

impl From<talos_store::StoreError> for StateError {
    fn from(e: talos_store::StoreError) -> Self {
        StateError(e.to_string())
    }
}

/// `balance(32) ‖ nonce(8) ‖ code_hash(32)`.
const ACCOUNT_LEN: usize = 72;

fn encode_account(info: &AccountInfo) -> [u8; ACCOUNT_LEN] {
    let mut out = [0u8; ACCOUNT_LEN];
    out[..32].copy_from_slice(&info.balance.to_be_bytes::<32>());
    out[32..40].copy_from_slice(&info.nonce.to_be_bytes());
    out[40..].copy_from_slice(info.code_hash.as_slice());
    out
}

fn decode_account(bytes: &[u8]) -> Result<AccountInfo, StateError> {
    let b: &[u8; ACCOUNT_LEN] = bytes
        .try_into()
        .map_err(|_| StateError(format!("account record of {} bytes", bytes.len())))?;
    let (balance, rest) = b.split_at(32);
    let (nonce, hash) = rest.split_at(8);
    let mut n = [0u8; 8];
    n.copy_from_slice(nonce);
    Ok(AccountInfo::default()
        .with_balance(U256::from_be_slice(balance))
        .with_nonce(u64::from_be_bytes(n))
        .with_code_hash(B256::from_slice(hash)))
}

fn storage_key(address: &Address, slot: &U256) -> [u8; 52] {
    let mut k = [0u8; 52];
    k[..20].copy_from_slice(address.as_slice());
    k[20..].copy_from_slice(&slot.to_be_bytes::<32>());
    k
}

/// revm's view of the stored state. Reads only; [`write_changes`] writes.
pub(crate) struct StateDb<'a> {
    pub(crate) store: &'a Store,
}

impl Database for StateDb<'_> {
    type Error = StateError;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, StateError> {
        self.store
            .get(CF_EVM_ACCOUNTS, address.as_slice())?
            .map(|b| decode_account(&b))
            .transpose()
    }

    fn code_by_hash(&mut self, code_hash: B256) -> Result<Bytecode, StateError> {
        if code_hash == KECCAK_EMPTY {
            return Ok(Bytecode::default());
        }
        let raw = self
            .store
            .get(CF_EVM_CODE, code_hash.as_slice())?
            .ok_or_else(|| StateError(format!("no code with hash {code_hash}")))?;
        Bytecode::new_raw_checked(Bytes::from(raw)).map_err(|e| StateError(format!("{e:?}")))
    }

    fn storage(&mut self, address: Address, index: U256) -> Result<U256, StateError> {
        Ok(self
            .store
            .get(CF_EVM_STORAGE, &storage_key(&address, &index))?
            .map(|b| U256::from_be_slice(&b))
            .unwrap_or_default())
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, StateError> {
        // The contract never reads BLOCKHASH; a deterministic stand-in keeps it pure.
        Ok(revm::primitives::keccak256(number.to_be_bytes()))
    }
}

/// Adds one transaction's state changes to `batch`.
pub(crate) fn write_changes(
    store: &Store,
    state: &EvmState,
    batch: &mut WriteBatch,
) -> Result<(), StateError> {
    let accounts = store.cf(CF_EVM_ACCOUNTS)?;
    let code = store.cf(CF_EVM_CODE)?;
    let storage = store.cf(CF_EVM_STORAGE)?;
    for (address, account) in state {
        if !account.is_touched() {
            continue;
        }
        if account.is_selfdestructed() || account.is_created() {
            // A fresh or destroyed account has no old storage.
            let from = storage_key(address, &U256::ZERO);
            let mut to = [0xffu8; 52];
            to[..20].copy_from_slice(address.as_slice());
            batch.delete_range_cf(storage, from, to);
            batch.delete_cf(storage, to);
        }
        if account.is_selfdestructed() {
            batch.delete_cf(accounts, address.as_slice());
            continue;
        }
        if let Some(c) = &account.info.code
            && account.info.code_hash != KECCAK_EMPTY
        {
            batch.put_cf(code, account.info.code_hash.as_slice(), c.original_bytes());
        }
        batch.put_cf(accounts, address.as_slice(), encode_account(&account.info));
        for (slot, value) in account.changed_storage_slots() {
            let key = storage_key(address, slot);
            if value.present_value.is_zero() {
                batch.delete_cf(storage, key);
            } else {
                batch.put_cf(storage, key, value.present_value.to_be_bytes::<32>());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_round_trip() {
        let info = AccountInfo::default()
            .with_balance(U256::from(7u64))
            .with_nonce(9)
            .with_code_hash(B256::repeat_byte(3));
        let back = decode_account(&encode_account(&info)).unwrap();
        assert_eq!(back.balance, info.balance);
        assert_eq!(back.nonce, 9);
        assert_eq!(back.code_hash, info.code_hash);
        assert!(decode_account(&[0u8; 71]).is_err());
    }
}
