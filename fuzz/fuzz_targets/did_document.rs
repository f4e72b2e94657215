//! DID documents and did:talos versions from untrusted JSON.
#![no_main]
use libfuzzer_sys::fuzz_target;
use talos_identity::document::DidDocument;
use talos_identity::talos_did::{SignedTalosDocument, TalosDidState};

fuzz_target!(|data: &[u8]| {
    if let Ok(doc) = DidDocument::from_json(data) {
        let again = serde_json::to_vec(&doc).unwrap();
        assert_eq!(DidDocument::from_json(&again).unwrap(), doc);
    }
    if let Ok(signed) = SignedTalosDocument::from_json(data) {
        let _ = TalosDidState::genesis(signed);
    }
});
