//! talos-card's tests: signing, verifying, and what a verifier refuses.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod card;
