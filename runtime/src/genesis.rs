//! Genesis presets: `dev` (one validator) and `local` (a four-validator consortium, so
//! GRANDPA keeps finalizing with one validator down: 3 of 4 is more than two thirds).
//!
//! Both use the well-known development keys (//Alice, //Bob, ...): they are for
//! development and tests only. A real consortium writes its own chain spec from its
//! validators' keys (README: "Running a consortium").

use alloc::{vec, vec::Vec};
use frame_support::build_struct_json_patch;
use serde_json::Value;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_genesis_builder::PresetId;
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

use crate::{
    AccountId, BalancesConfig, MembersConfig, RuntimeGenesisConfig, SessionConfig, SessionKeys,
    SudoConfig, UNIT, ValidatorsConfig,
};

/// Balance given to each endowed development account.
const ENDOWMENT: u128 = 1_000_000 * UNIT;

fn validator(k: Sr25519Keyring) -> (AccountId, SessionKeys) {
    let grandpa = match k {
        Sr25519Keyring::Bob => Ed25519Keyring::Bob,
        Sr25519Keyring::Charlie => Ed25519Keyring::Charlie,
        Sr25519Keyring::Dave => Ed25519Keyring::Dave,
        Sr25519Keyring::Eve => Ed25519Keyring::Eve,
        Sr25519Keyring::Ferdie => Ed25519Keyring::Ferdie,
        _ => Ed25519Keyring::Alice,
    };
    let keys = SessionKeys {
        aura: AuraId::from(k.public()),
        grandpa: GrandpaId::from(grandpa.public()),
    };
    (k.to_account_id(), keys)
}

fn consortium(validators: &[Sr25519Keyring], endowed: &[Sr25519Keyring]) -> Value {
    let vals: Vec<(AccountId, SessionKeys)> = validators.iter().map(|k| validator(*k)).collect();
    let mut members: Vec<AccountId> = vals.iter().map(|(a, _)| a.clone()).collect();
    members.sort();
    build_struct_json_patch!(RuntimeGenesisConfig {
        balances: BalancesConfig {
            balances: endowed
                .iter()
                .map(|k| (k.to_account_id(), ENDOWMENT))
                .collect::<Vec<_>>(),
        },
        session: SessionConfig {
            keys: vals
                .iter()
                .map(|(a, k)| (a.clone(), a.clone(), k.clone()))
                .collect::<Vec<_>>(),
        },
        sudo: SudoConfig {
            key: Some(Sr25519Keyring::Alice.to_account_id())
        },
        // The validators' organisations are the first members.
        members: MembersConfig {
            members: members.clone(),
        },
        validators: ValidatorsConfig {
            members: members.try_into().unwrap_or_default(),
        },
    })
}

/// One validator (Alice, also sudo).
pub fn dev() -> Value {
    consortium(
        &[Sr25519Keyring::Alice],
        &[Sr25519Keyring::Alice, Sr25519Keyring::Bob],
    )
}

/// Four validators (Alice, Bob, Charlie, Dave); Alice is sudo.
pub fn local() -> Value {
    let four = [
        Sr25519Keyring::Alice,
        Sr25519Keyring::Bob,
        Sr25519Keyring::Charlie,
        Sr25519Keyring::Dave,
    ];
    consortium(&four, &four)
}

/// The preset named `id`, as JSON bytes.
pub fn preset(id: &PresetId) -> Option<Vec<u8>> {
    let patch = match id.as_ref() {
        sp_genesis_builder::DEV_RUNTIME_PRESET => dev(),
        sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET => local(),
        _ => return None,
    };
    serde_json::to_vec(&patch).ok()
}

/// The presets this runtime offers.
pub fn preset_names() -> Vec<PresetId> {
    vec![
        PresetId::from(sp_genesis_builder::DEV_RUNTIME_PRESET),
        PresetId::from(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET),
    ]
}
