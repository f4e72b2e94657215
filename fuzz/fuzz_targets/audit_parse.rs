//! Signed notes, checkpoints, verifier keys, proof JSON, signed events, tile paths,
//! entry bundles, tlog-proofs and witness requests from untrusted bytes: typed errors
//! only, and what parses re-serializes faithfully.
#![no_main]
use libfuzzer_sys::fuzz_target;
use talos_audit::checkpoint::Checkpoint;
use talos_audit::event::SignedEvent;
use talos_audit::note::{Note, NoteVerifier};
use talos_audit::tiles::{Tile, bundle, parse_bundle, parse_hashes};
use talos_audit::tlog_proof::TlogProof;
use talos_audit::witness::protocol::AddCheckpoint;
use talos_audit::wire::{ConsistencyProof, InclusionProof};

fuzz_target!(|data: &[u8]| {
    let _ = SignedEvent::from_leaf(data);
    if let Ok(entries) = parse_bundle(data, 256) {
        assert_eq!(bundle(entries).unwrap(), data);
    }
    let _ = parse_hashes(data);
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(r) = AddCheckpoint::parse(s) {
        assert_eq!(AddCheckpoint::parse(&r.to_text()).unwrap(), r);
    }
    if let Ok(p) = TlogProof::parse(s) {
        assert_eq!(TlogProof::parse(&p.to_text()).unwrap(), p);
    }
    if let Ok(t) = Tile::parse(s) {
        assert_eq!(t.to_string(), s);
    }
    if let Ok(note) = Note::parse(s) {
        assert_eq!(Note::parse(&note.to_text()).unwrap(), note);
        let _ = Checkpoint::parse_text(&note.text);
    }
    if let Ok(cp) = Checkpoint::parse_text(s) {
        assert_eq!(Checkpoint::parse_text(&cp.to_text()).unwrap(), cp);
    }
    if let Ok(v) = NoteVerifier::parse(s) {
        assert_eq!(NoteVerifier::parse(&v.to_string()).unwrap(), v);
    }
    if let Ok(p) = serde_json::from_str::<InclusionProof>(s) {
        let _ = p.verify();
    }
    if let Ok(p) = serde_json::from_str::<ConsistencyProof>(s) {
        let _ = p.verify();
    }
});
