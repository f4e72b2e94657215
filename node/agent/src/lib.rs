//! The talos agent node: the running node ([`node`]: network + durable delivery), its
//! configuration ([`config`]), the local agent API ([`api`]), the CLI (`talos init`,
//! `talos up`, ...) and the demo. Authorization and anchoring schedules land here with
//! their issues.

pub mod api;
pub mod cli;
pub mod config;
pub mod demo;
pub mod home;
pub mod node;
pub mod records;
