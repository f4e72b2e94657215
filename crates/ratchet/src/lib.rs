//! talos-ratchet: wip
#![allow(missing_docs)]
pub mod aead;
pub mod at_rest;
pub mod codec;
pub mod header;
pub mod kdf;
pub mod keys;
pub mod message;
pub mod pq;
pub mod prekey;
pub mod session;
pub mod state;
pub mod x3dh;
