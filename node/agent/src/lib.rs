//! The talos agent node. For now: identity management and the demo; the libp2p node,
//! sessions, authorization and anchoring land here with their issues.

pub mod cli;
pub mod demo;
pub mod home;
