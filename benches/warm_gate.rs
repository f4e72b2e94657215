//! The warm-gate fixture `invoke/gate_warm` and `caveats/gate_warm/*` both run: the
//! node's own decision code ([`talos_node::node::gate::Gate`]) for B, with rate limits out
//! of the way, and a call from A under one root token whose capability carries `cav`
//! (`talos://booking/flights/*`, `book`), asked with a fresh nonce each time.

use std::fmt::Write as _;
use std::num::NonZeroU32;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, json};
use talos_capability::{ActionSet, Capability, Caveats, Claims, ResourcePattern, Token};
use talos_identity::keys::{IdentityKey, IdentitySeed};
use talos_net::invoke::InvokeRequest;
use talos_node::node::InvokeConfig;
use talos_node::node::gate::{Admitted, Gate};
use talos_primitives::{CapabilityId, Did, Ed25519Public};

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// A fixed key: B is 1, A is 2.
pub(crate) fn key(n: u8) -> IdentityKey {
    IdentityKey::from_seed(&IdentitySeed::from_bytes([n; 32])).unwrap()
}

/// B's gate and A's call, ready to be decided again and again.
pub(crate) struct WarmGate {
    gate: Gate,
    req: InvokeRequest,
    caller: Ed25519Public,
    n: u128,
}

/// A gate for B and a call from A for `amount`, under a root whose capability carries
/// `cav`, presenting the credentials `att`.
pub(crate) fn warm_gate(cav: Caveats, amount: u64, att: Vec<String>) -> WarmGate {
    warm_gate_with(cav, amount, att, |_| {})
}

/// [`warm_gate`], with B's sidecar configuration changed by `edit` first.
pub(crate) fn warm_gate_with(
    cav: Caveats,
    amount: u64,
    att: Vec<String>,
    edit: impl FnOnce(&mut InvokeConfig),
) -> WarmGate {
    let (b, a) = (key(1), key(2));
    let now = now_ms() / 1000;
    let token = Token::issue(
        &b,
        Claims {
            iss: b.did(),
            aud: Did::Key(a.public()),
            cap: vec![Capability {
                res: ResourcePattern::parse("talos://booking/flights/*").unwrap(),
                act: ActionSet::new(["book".to_string()]).unwrap(),
                cav,
            }],
            nbf: now,
            exp: now + 3600,
            jti: CapabilityId([7; 16]),
            prf: None,
        },
    )
    .unwrap();
    let unlimited = NonZeroU32::new(u32::MAX).unwrap();
    let mut config = InvokeConfig {
        rate: unlimited,
        burst: unlimited,
        answer_within: Duration::from_secs(20),
        ..InvokeConfig::default()
    };
    edit(&mut config);
    let mut args = Map::new();
    args.insert("amount".into(), json!(amount));
    WarmGate {
        gate: Gate::new(b.public(), &config, std::iter::empty()),
        req: InvokeRequest {
            chain: vec![token.as_str().to_string()],
            txn: Vec::new(),
            nonce: String::with_capacity(32),
            at_ms: 0,
            invocation: None,
            resource: "talos://booking/flights/LH123".into(),
            action: "book".into(),
            args,
            traceparent: None,
            att,
        },
        caller: a.public(),
        n: 0,
    }
}

impl WarmGate {
    /// B's gate, to give it state before the loop (reports, revocations).
    pub(crate) fn gate(&mut self) -> &mut Gate {
        &mut self.gate
    }

    /// A's DID.
    pub(crate) fn caller(&self) -> Did {
        Did::Key(self.caller)
    }

    /// Decides the call once more, with a fresh nonce (hex-formatted here, as the node
    /// parses it) and the clock read.
    pub(crate) fn call(&mut self) -> Admitted {
        self.try_call().unwrap()
    }

    /// A call, refused or not.
    pub(crate) fn try_call(&mut self) -> Result<Admitted, &'static str> {
        self.n += 1;
        self.req.nonce.clear();
        write!(self.req.nonce, "{:032x}", self.n).unwrap();
        let t = now_ms();
        self.req.at_ms = t;
        self.gate.check(&self.caller, &self.req, t)
    }

    /// The call's request as sent (resource, action, arguments, chain).
    pub(crate) fn request(&self) -> &InvokeRequest {
        &self.req
    }
}
