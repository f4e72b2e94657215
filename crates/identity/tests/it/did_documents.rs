//! did:key documents and services.

use talos_identity::did_key::{self, KeyFormat};
use talos_identity::document::{DidDocument, SERVICE_LIBP2P, SERVICE_MAILBOX, Service};

#[test]
fn multikey_document_shape() {
    let key = crate::seeded(9);
    let mut doc = did_key::document(&key.public(), KeyFormat::Multikey).unwrap();
    doc.service
        .push(Service::libp2p(key.did(), vec!["/ip4/127.0.0.1/tcp/4001".into()]).unwrap());
    doc.service
        .push(Service::mailbox(key.did(), vec![crate::seeded(10).did().to_string()]).unwrap());
    let json = serde_json::to_value(&doc).unwrap();
    assert_eq!(json["@context"][1], "https://w3id.org/security/multikey/v1");
    assert_eq!(json["verificationMethod"][0]["type"], "Multikey");
    assert_eq!(
        json["verificationMethod"][0]["publicKeyMultibase"],
        key.public().to_multikey()
    );
    assert!(
        json["verificationMethod"][1]["publicKeyMultibase"]
            .as_str()
            .unwrap()
            .starts_with("z6LS")
    );
    assert_eq!(json["keyAgreement"][0], json["verificationMethod"][1]["id"]);
    assert_eq!(json["service"][0]["type"], SERVICE_LIBP2P);
    let back = DidDocument::from_json(&serde_json::to_vec(&json).unwrap()).unwrap();
    assert_eq!(
        back.endpoints(SERVICE_LIBP2P),
        vec!["/ip4/127.0.0.1/tcp/4001"]
    );
    assert_eq!(back.endpoints(SERVICE_MAILBOX).len(), 1);
}
