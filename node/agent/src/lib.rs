//! The talos agent node: the running node ([`node`]: network + durable delivery), its
//! CLI and the demo. Authorization, the local API and anchoring schedules land here with
//! their issues.

pub mod cli;
pub mod demo;
pub mod home;
pub mod node;
