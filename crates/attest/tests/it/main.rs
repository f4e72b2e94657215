//! talos-attest's tests: issuing, verifying, what a verifier refuses, and measuring.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod credential;
