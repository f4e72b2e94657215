//! Reading a log from a directory: bounded reads and typed errors.

use talos_audit::note::MAX_NOTE_BYTES;
use talos_transparency::source::{LogSource, SourceError};

#[tokio::test]
async fn reads_are_bounded_and_errors_typed() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        LogSource::parse("/no/such/dir"),
        Err(SourceError::BadLocation(_))
    ));
    let log = LogSource::parse(dir.path().to_str().unwrap()).unwrap();
    assert!(matches!(
        log.checkpoint().await,
        Err(SourceError::Missing(_))
    ));
    std::fs::write(
        dir.path().join("checkpoint"),
        vec![b'a'; MAX_NOTE_BYTES + 1],
    )
    .unwrap();
    assert!(matches!(
        log.checkpoint().await,
        Err(SourceError::TooLarge(_))
    ));
    std::fs::write(dir.path().join("checkpoint"), "origin\n1\nAAAA\n").unwrap();
    assert_eq!(log.checkpoint().await.unwrap(), "origin\n1\nAAAA\n");
    // A hash tile is at most 8 KiB.
    std::fs::create_dir_all(dir.path().join("tile/0")).unwrap();
    std::fs::write(dir.path().join("tile/0/000"), vec![0u8; 8193]).unwrap();
    assert!(matches!(
        log.get("tile/0/000").await,
        Err(SourceError::TooLarge(_))
    ));
    // A short or malformed entry bundle is an error, not a shorter list.
    std::fs::create_dir_all(dir.path().join("tile/entries/000.p")).unwrap();
    std::fs::write(
        dir.path().join("tile/entries/000.p/3"),
        [0u8, 1, b'x', 0, 0],
    )
    .unwrap();
    assert!(log.entries(0, 3).await.is_err());
    std::fs::write(
        dir.path().join("tile/entries/000.p/3"),
        [0u8, 1, b'x', 0, 0, 0, 0],
    )
    .unwrap();
    assert_eq!(
        log.entries(0, 3).await.unwrap(),
        vec![b"x".to_vec(), vec![], vec![]]
    );
}
