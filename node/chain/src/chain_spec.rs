//! Chain specs: the built-in `dev` and `local` presets, or a JSON file.

use sc_service::ChainType;

/// A chain spec for this runtime (no extensions).
pub(crate) type ChainSpec = sc_service::GenericChainSpec;

fn wasm() -> Result<&'static [u8], String> {
    talos_runtime::WASM_BINARY
        .ok_or_else(|| "this binary was built without the runtime's wasm (SKIP_WASM_BUILD)".into())
}

fn properties() -> sc_service::Properties {
    let mut p = sc_service::Properties::new();
    p.insert("tokenSymbol".into(), "TALOS".into());
    p.insert("tokenDecimals".into(), 12.into());
    p.insert("ss58Format".into(), 42.into());
    p
}

/// One validator (//Alice), from the runtime's `development` preset.
pub(crate) fn development() -> Result<ChainSpec, String> {
    Ok(ChainSpec::builder(wasm()?, None)
        .with_name("talos development")
        .with_id("talos_dev")
        .with_chain_type(ChainType::Development)
        .with_genesis_config_preset_name(sp_genesis_builder::DEV_RUNTIME_PRESET)
        .with_properties(properties())
        .build())
}

/// Four validators (//Alice, //Bob, //Charlie, //Dave), from the `local_testnet` preset.
pub(crate) fn local() -> Result<ChainSpec, String> {
    Ok(ChainSpec::builder(wasm()?, None)
        .with_name("talos local consortium")
        .with_id("talos_local")
        .with_chain_type(ChainType::Local)
        .with_genesis_config_preset_name(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET)
        .with_properties(properties())
        .build())
}
