//! The suite against a real anvil, and the crash tests: anvil killed mid-submission, and
//! the client dying between broadcast and confirmation.
