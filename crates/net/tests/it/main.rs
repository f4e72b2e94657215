//! talos-net over real loopback sockets: TCP and QUIC, the DHT, a relay.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::type_complexity,
    clippy::indexing_slicing
)]

mod approval;
mod budget;
mod directory;
mod gossip;
mod invoke;
mod net;
mod ping;
mod prune;
mod raw;
mod streams;
