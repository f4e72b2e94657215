//! Signed notes, checkpoints and the witness.

use talos_audit::MemoryTree;
use talos_audit::checkpoint::Checkpoint;
use talos_audit::hash::leaf_hash;
use talos_audit::note::{Note, NoteError, NoteVerifier};
use talos_audit::tree::consistency_proof;
use talos_audit::witness::{Witness, WitnessError, verify_cosignature};

use talos_primitives::TreeHead;

use talos_testkit::keys::identity as key;

/// The known-answer note of golang.org/x/mod/sumdb/note (note_test.go / package docs).
#[test]
fn go_sumdb_note_vector_verifies() {
    let vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    let text = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    let signed = format!(
        "{text}\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
    );
    let v = NoteVerifier::parse(vkey).unwrap();
    assert_eq!(v.to_string(), vkey);
    let note = Note::parse(&signed).unwrap();
    assert_eq!(note.text, text);
    note.verify(&v).unwrap();
    assert_eq!(note.to_text(), signed);
    // One changed character in the text breaks it.
    let tampered = signed.replace("cryptography", "cryptographY");
    assert!(matches!(
        Note::parse(&tampered).unwrap().verify(&v),
        Err(NoteError::Unverified(_))
    ));
}

#[test]
fn malformed_notes_are_typed() {
    for bad in [
        "",
        "no newline",
        "text\n",
        "text\n\nnot a signature\n",
        "text\n\n\u{2014} name !!!\n",
        "a\r\n\n\u{2014} n AAAAAAA=\n",
    ] {
        assert!(Note::parse(bad).is_err(), "{bad:?}");
    }
    assert!(NoteVerifier::parse("name+00000000+AQ==").is_err());
    assert!(
        NoteVerifier::parse("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
            .is_err()
    );
}

fn checkpoint(t: &MemoryTree) -> Checkpoint {
    Checkpoint {
        origin: "talos/example".into(),
        head: TreeHead {
            size: t.size(),
            root: t.root(),
        },
        extensions: vec![],
    }
}

#[test]
fn checkpoint_round_trip_and_tamper() {
    let log = key(1);
    let mut t = MemoryTree::new();
    for i in 0..10u8 {
        t.append(leaf_hash(&[i]));
    }
    let cp = checkpoint(&t);
    let note = cp.sign("talos-agent", &log).unwrap().to_text();
    let v = NoteVerifier {
        name: "talos-agent".into(),
        key: log.public(),
    };
    let (back, _) = Checkpoint::verify(&note, &v).unwrap();
    assert_eq!(back, cp);
    assert!(note.starts_with("talos/example\n10\n"));
    let tampered = note.replacen("\n10\n", "\n11\n", 1);
    assert!(Checkpoint::verify(&tampered, &v).is_err());
    // Bodies that are not origin/size/root.
    for body in [
        "\n1\nAAAA\n",
        "o\n01\n",
        "o\n1\n!!\n",
        "o\n1\nAAAA\n",
        "o\n-1\n",
    ] {
        assert!(Checkpoint::parse_text(body).is_err(), "{body:?}");
    }
}

#[test]
fn witness_cosigns_consistent_checkpoints_only() {
    let log = key(1);
    let wkey = key(2);
    let v = NoteVerifier {
        name: "talos-agent".into(),
        key: log.public(),
    };
    let mut w = Witness::new("witness.example", wkey.clone(), v, "talos/example");
    let mut t = MemoryTree::new();
    for i in 0..5u8 {
        t.append(leaf_hash(&[i]));
    }
    let cp5 = checkpoint(&t).sign("talos-agent", &log).unwrap().to_text();
    let cosigned = w.cosign(&cp5, &[], 1000).unwrap();
    assert_eq!(
        verify_cosignature(
            &Note::parse(&cosigned).unwrap(),
            "witness.example",
            &wkey.public()
        ),
        Some(1000)
    );

    for i in 5..12u8 {
        t.append(leaf_hash(&[i]));
    }
    let cp12 = checkpoint(&t).sign("talos-agent", &log).unwrap().to_text();
    let proof = consistency_proof(&t, 5, 12).unwrap();
    // A garbled proof is refused but is not evidence.
    let mut bad = proof.clone();
    bad[0] = leaf_hash(b"garbage");
    assert!(matches!(
        w.cosign(&cp12, &bad, 1001),
        Err(WitnessError::Proof(_))
    ));
    assert!(w.evidence().is_empty());
    w.cosign(&cp12, &proof, 1002).unwrap();

    // Rollback.
    assert!(matches!(
        w.cosign(&cp5, &[], 1003),
        Err(WitnessError::Rollback { old: 12, new: 5 })
    ));

    // A forked log: same size, another root, both signed by the log.
    let mut fork = MemoryTree::new();
    for i in 0..12u8 {
        fork.append(leaf_hash(&[i ^ 0x80]));
    }
    let forked = checkpoint(&fork)
        .sign("talos-agent", &log)
        .unwrap()
        .to_text();
    assert_eq!(w.cosign(&forked, &[], 1004), Err(WitnessError::SplitView));
    assert_eq!(w.evidence().len(), 1);
    assert_eq!(w.evidence()[0].offered, forked);

    // A checkpoint not signed by the log.
    let rogue = checkpoint(&t)
        .sign("talos-agent", &key(9))
        .unwrap()
        .to_text();
    assert!(matches!(
        w.cosign(&rogue, &[], 1005),
        Err(WitnessError::Checkpoint(_))
    ));
}
