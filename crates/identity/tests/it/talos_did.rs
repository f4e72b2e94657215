//! did:talos: versions, rotation (old key signs new), deactivation.

use talos_identity::document::Service;
use talos_identity::talos_did::{self, SignedTalosDocument, TalosDidError, TalosDidState};

fn reparse(d: &SignedTalosDocument) -> SignedTalosDocument {
    SignedTalosDocument::from_json(&d.to_canonical().unwrap()).unwrap()
}

#[test]
fn lifecycle_create_update_rotate_deactivate() {
    let k1 = crate::seeded(20);
    let k2 = crate::seeded(21);
    let v1 = talos_did::create(&k1, vec![]).unwrap();
    let did = v1.document().id;
    assert!(did.to_string().starts_with("did:talos:z"));
    let s1 = TalosDidState::genesis(reparse(&v1)).unwrap();
    assert_eq!(s1.record().version, 1);

    let v2 = s1
        .update(
            &k1,
            vec![Service::libp2p(did, vec!["/ip4/10.0.0.1/tcp/1".into()]).unwrap()],
        )
        .unwrap();
    let s2 = s1.apply(reparse(&v2)).unwrap();
    assert_eq!(s2.record().prev, Some(s1.record().doc_hash));

    let v3 = s2.rotate(&k1, k2.public()).unwrap();
    let s3 = s2.apply(reparse(&v3)).unwrap();
    assert_eq!(s3.record().controller, k2.public());
    // The DID survives rotation.
    assert_eq!(s3.current().document().id, did);
    // The old key may no longer act.
    assert!(matches!(
        s3.update(&k1, vec![]),
        Err(TalosDidError::WrongSigner)
    ));

    let v4 = s3.deactivate(&k2).unwrap();
    let s4 = s3.apply(reparse(&v4)).unwrap();
    assert!(s4.record().deactivated);
    assert!(s4.did_document().unwrap().verification_method.is_empty());
    assert!(matches!(
        s4.update(&k2, vec![]),
        Err(TalosDidError::Deactivated)
    ));

    let replayed = TalosDidState::from_history([v1, v2, v3, v4].iter().map(reparse)).unwrap();
    assert_eq!(replayed.record(), s4.record());
}

#[test]
fn forged_and_out_of_order_versions_are_rejected() {
    let k1 = crate::seeded(22);
    let k2 = crate::seeded(23);
    let mallory = crate::seeded(24);
    let v1 = talos_did::create(&k1, vec![]).unwrap();
    let s1 = TalosDidState::genesis(v1.clone()).unwrap();

    // A rotation signed by someone other than the current controller.
    let forged_state =
        TalosDidState::genesis(talos_did::create(&mallory, vec![]).unwrap()).unwrap();
    let forged = forged_state.rotate(&mallory, k2.public()).unwrap();
    assert!(matches!(s1.apply(forged), Err(TalosDidError::IdMismatch)));

    // Tamper with the body of a correctly signed rotation.
    let v2 = s1.rotate(&k1, k2.public()).unwrap();
    let mut json: serde_json::Value = serde_json::from_slice(&v2.to_canonical().unwrap()).unwrap();
    json["controllerKey"] = mallory.public().to_multikey().into();
    let tampered = SignedTalosDocument::from_json(&serde_json::to_vec(&json).unwrap()).unwrap();
    assert!(matches!(s1.apply(tampered), Err(TalosDidError::Jcs(_))));

    // Skip a version.
    let s2 = s1.apply(v2.clone()).unwrap();
    let v3 = s2.update(&k2, vec![]).unwrap();
    assert!(matches!(
        s1.apply(v3),
        Err(TalosDidError::VersionGap {
            expected: 2,
            got: 3
        })
    ));

    // Version 1 whose DID is not its inception hash.
    let mut json: serde_json::Value = serde_json::from_slice(&v1.to_canonical().unwrap()).unwrap();
    json["controllerKey"] = k2.public().to_multikey().into();
    let wrong = SignedTalosDocument::from_json(&serde_json::to_vec(&json).unwrap()).unwrap();
    assert!(matches!(
        TalosDidState::genesis(wrong),
        Err(TalosDidError::WrongInceptionId)
    ));

    assert!(matches!(
        TalosDidState::from_history([]),
        Err(TalosDidError::EmptyHistory)
    ));
}
