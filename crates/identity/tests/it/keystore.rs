//! The keystore: wrong passphrase, truncation and corruption are typed errors.

use talos_identity::keystore::{self, FILE_LEN, KdfParams, KeystoreError, Passphrase};

fn pass(s: &str) -> Passphrase {
    Passphrase::new(s.into())
}

#[test]
fn save_load_and_permissions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/identity.key");
    let key = crate::seeded(30);
    keystore::save(
        &path,
        &key,
        &pass("correct horse"),
        KdfParams::DANGEROUS_TEST_ONLY,
    )
    .unwrap();
    assert_eq!(
        keystore::load(&path, &pass("correct horse"))
            .unwrap()
            .public(),
        key.public()
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // The seed is not in the file in the clear.
    let bytes = std::fs::read(&path).unwrap();
    let seed = key.seed();
    assert!(!bytes.windows(32).any(|w| w == seed.dangerous_as_bytes()));
}

#[test]
fn default_params_work() {
    let key = crate::seeded(31);
    let sealed = keystore::seal(&key, &pass("p"), KdfParams::DEFAULT).unwrap();
    assert_eq!(
        keystore::open(&sealed, &pass("p")).unwrap().public(),
        key.public()
    );
}

#[test]
fn every_failure_is_typed() {
    let key = crate::seeded(32);
    let sealed = keystore::seal(&key, &pass("right"), KdfParams::DANGEROUS_TEST_ONLY).unwrap();

    assert!(matches!(
        keystore::open(&sealed, &pass("wrong")),
        Err(KeystoreError::WrongPassphraseOrCorrupt)
    ));
    for len in [0, 5, 8, 9, 48, FILE_LEN - 1] {
        assert!(
            matches!(
                keystore::open(&sealed[..len], &pass("right")),
                Err(KeystoreError::Truncated { .. })
            ),
            "len {len}"
        );
    }
    let mut long = sealed.clone();
    long.push(0);
    assert!(matches!(
        keystore::open(&long, &pass("right")),
        Err(KeystoreError::TrailingBytes { .. })
    ));

    let mut bad = sealed.clone();
    bad[0] = b'X';
    assert!(matches!(
        keystore::open(&bad, &pass("right")),
        Err(KeystoreError::BadMagic)
    ));
    let mut bad = sealed.clone();
    bad[8] = 9;
    assert!(matches!(
        keystore::open(&bad, &pass("right")),
        Err(KeystoreError::UnsupportedVersion(9))
    ));
    // Hostile cost parameters are refused before any work.
    let mut bad = sealed.clone();
    bad[9..13].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(
        keystore::open(&bad, &pass("right")),
        Err(KeystoreError::UnsafeParams)
    ));
    // Every single-bit flip in salt, nonce or ciphertext, or a tweak of the cost, is caught.
    for i in 13..FILE_LEN {
        let mut bad = sealed.clone();
        bad[i] ^= 0x01;
        assert!(
            matches!(
                keystore::open(&bad, &pass("right")),
                Err(KeystoreError::WrongPassphraseOrCorrupt | KeystoreError::UnsafeParams)
            ),
            "byte {i}"
        );
    }
}

#[test]
fn missing_file_is_io_error() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        keystore::load(&dir.path().join("nope"), &pass("x")),
        Err(KeystoreError::Io(_))
    ));
}
