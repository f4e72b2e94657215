//! Capability tokens, transaction tokens, invocations, revocation notices and scope patterns from untrusted
//! bytes: every path returns a typed verdict, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use talos_capability::invocation::Request;
use talos_capability::txn::TxnToken;
use talos_capability::{Authorizer, MemoryRevocations, Possession, ResourcePattern, Token, VerifierConfig};
use talos_identity::{IdentityKey, IdentitySeed};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(t) = Token::parse(s) {
        // What parses re-parses identically.
        assert_eq!(Token::parse(t.as_str()).map(|u| u.claims().clone()), Ok(t.claims().clone()));
        let _ = t.verify_signature();
    }
    let _ = TxnToken::parse(s);
    if let Ok(n) = talos_capability::notice::RevocationNotice::verify(s) {
        // Only a signature by its own issuer verifies.
        assert!(n.iss.as_key().is_some());
    }
    if let Ok(p) = ResourcePattern::parse(s) {
        assert!(p.contains(&p));
    }
    // A chain is newline-separated tokens; the last line doubles as an invocation.
    let me = IdentityKey::from_seed(&IdentitySeed::from_bytes([1; 32])).unwrap().did();
    let chain: Vec<&str> = s.lines().collect();
    let args = serde_json::Map::new();
    let req = Request { callee: &me, resource: "talos://a/b", action: "read", args: &args, now: 1_700_000_000 };
    let mut authz = Authorizer::new(VerifierConfig::new(me), 4, 4, 300);
    let revs = MemoryRevocations::new();
    let inv = chain.last().copied().unwrap_or_default();
    let _ = authz.authorize(&chain, &req, Possession::Invocation(inv), &revs);
    let _ = authz.authorize(&chain, &req, Possession::Channel(&me), &revs);
});
