//! talos-net over real loopback sockets: TCP and QUIC, the DHT, a relay.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::type_complexity
)]

mod budget;
mod directory;
mod invoke;
mod net;
