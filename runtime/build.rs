//! Builds the runtime's wasm blob with substrate-wasm-builder (the chain node embeds it).
fn main() {
    #[cfg(feature = "std")]
    substrate_wasm_builder::WasmBuilder::build_using_defaults();
}
