use super::FileConfig;

fn resolved(toml_text: &str) -> super::Resolved {
    let c: FileConfig = toml::from_str(toml_text).unwrap();
    c.resolve().unwrap()
}

#[test]
fn the_evm_fee_cap_is_read_in_gwei_and_zero_is_none() {
    assert_eq!(resolved("").evm_max_fee, None);
    assert_eq!(resolved("evm_max_fee_gwei = 0").evm_max_fee, None);
    assert_eq!(
        resolved("evm_max_fee_gwei = 25").evm_max_fee,
        Some(25_000_000_000)
    );
    assert!(toml::from_str::<FileConfig>("evm_max_fee_gwei = -1").is_err());
}

#[test]
fn workers_zero_is_one_per_core_and_the_count_is_bounded() {
    assert_eq!(resolved("").workers, None);
    assert_eq!(resolved("workers = 0").workers, None);
    assert_eq!(resolved("workers = 1").workers.map(|n| n.get()), Some(1));
    let c: FileConfig = toml::from_str("workers = 1025").unwrap();
    let e = c.resolve().unwrap_err().to_string();
    assert!(e.contains("workers must be 0"), "{e}");
    assert!(toml::from_str::<FileConfig>("workers = -1").is_err());
}
