//! `talos demo`: the end-to-end story, run in a throwaway home.
//!
//! Part one, in one process, with the libraries: identity (keystores, did:key and PeerId,
//! DID documents, a did:talos rotation history, canonical signatures), an end-to-end
//! PQXDH + Double Ratchet session, capabilities (issue, delegate, decide, revoke), the
//! audit log and anchoring. Part two ([`network`]): three real nodes on loopback,
//! planner → booking → payment, with sessions, calls under capabilities and transaction
//! tokens, a revocation, caveats the callee decides with state ([`trust`]: attestation,
//! budgets), and an anchored audit log an auditor checks.

use anyhow::{Context, ensure};
use serde_json::json;
use talos_identity::did_key::{self, KeyFormat};
use talos_identity::document::Service;
use talos_identity::jcs;
use talos_identity::keystore::{KdfParams, Passphrase};
use talos_identity::peer_id;
use talos_identity::talos_did::{self, SignedTalosDocument, TalosDidState};

use talos_capability::invocation::Request;
use talos_capability::{
    ActionSet, Authorizer, CapError, Capability, Caveats, Claims, MemoryRevocations, Possession,
    ResourcePattern, Token, VerifierConfig,
};
use talos_identity::IdentityKey;
use talos_primitives::CapabilityId;

use talos_node::home::Home;

mod audit;
mod chain;
mod network;
mod trust;

pub use chain::DemoChain;

fn step(n: u32, title: &str) {
    println!("\n[{n}] {title}");
}

/// Runs the demo.
pub fn run(on: DemoChain) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir().context("creating a scratch directory")?;
    println!(
        "talos demo: identities for two agents, planner and booking (scratch dir {})",
        tmp.path().display()
    );

    step(
        1,
        "Each agent creates an identity in an encrypted keystore (argon2id + ChaCha20-Poly1305)",
    );
    let planner_home = Home::resolve(Some(tmp.path().join("planner")))?;
    let booking_home = Home::resolve(Some(tmp.path().join("booking")))?;
    let pass = || Passphrase::new("demo passphrase".into());
    let planner = planner_home.create_identity(&pass(), KdfParams::DEFAULT, false)?;
    let booking = booking_home.create_identity(&pass(), KdfParams::DEFAULT, false)?;
    let reopened = planner_home.load_identity(&pass())?;
    ensure!(
        reopened.public() == planner.public(),
        "keystore round trip changed the key"
    );
    let wrong = planner_home.load_identity(&Passphrase::new("guess".into()));
    println!("    planner  {}", planner.did());
    println!("    booking  {}", booking.did());
    println!(
        "    reopened with the passphrase: same key. With a wrong one: {}",
        match wrong {
            Ok(_) => "ACCEPTED (bug)".to_string(),
            Err(e) => format!("refused ({})", anyhow::Error::from(e).root_cause()),
        }
    );

    step(
        2,
        "The did:key and the libp2p PeerId name the same Ed25519 key, both ways",
    );
    let pid = peer_id::peer_id_of(&planner.public())?;
    let back = peer_id::did_of(&pid)?;
    ensure!(
        back == planner.did(),
        "PeerId did not map back to the did:key"
    );
    println!("    PeerId {pid} -> {back}");

    step(
        3,
        "Anyone resolves a did:key to its DID document from the key alone",
    );
    let mut doc = did_key::document(&booking.public(), KeyFormat::Multikey)?;
    doc.service.push(Service::libp2p(
        booking.did(),
        vec!["/ip4/127.0.0.1/tcp/4001".into()],
    )?);
    println!(
        "    {} verification methods, keyAgreement {}",
        doc.verification_method.len(),
        doc.key_agreement
            .first()
            .map(|k| k.fragment().to_string())
            .unwrap_or_default()
    );

    step(
        4,
        "Planner signs a statement as RFC 8785 canonical JSON; booking verifies it",
    );
    let statement = json!({"from": planner.did().to_string(), "to": booking.did().to_string(), "intent": "book a flight", "maxPrice": 450});
    let (bytes, sig) = jcs::sign(&planner, &statement)?;
    jcs::verify_canonical::<serde_json::Value>(&planner.public(), &bytes, &sig)?;
    println!(
        "    signed {} canonical bytes, digest {}",
        bytes.len(),
        jcs::digest(&statement)?
    );
    let tampered = json!({"from": planner.did().to_string(), "to": booking.did().to_string(), "intent": "book a flight", "maxPrice": 4500});
    let tampered_bytes = jcs::canonicalize(&tampered)?;
    let refused =
        jcs::verify_canonical::<serde_json::Value>(&planner.public(), &tampered_bytes, &sig)
            .is_err();
    ensure!(refused, "a tampered statement verified");
    println!("    the same signature over maxPrice 4500: refused");

    step(
        5,
        "Planner registers a did:talos DID, then rotates its key (the old key signs the new)",
    );
    let v1 = talos_did::create(&planner, vec![])?;
    let s1 = TalosDidState::genesis(v1.clone())?;
    let new_key = talos_identity::IdentityKey::generate()?;
    let v2 = s1.rotate(&planner, new_key.public())?;
    let history: Vec<SignedTalosDocument> = [v1, v2]
        .iter()
        .map(|d| {
            d.to_canonical()
                .and_then(|b| SignedTalosDocument::from_json(&b))
        })
        .collect::<Result<_, _>>()?;
    let state = TalosDidState::from_history(history)?;
    let record = state.record();
    println!(
        "    {} is at version {}, controller {}",
        state.current().document().id,
        record.version,
        record.controller
    );
    println!(
        "    document hash {} (what a chain anchors)",
        record.doc_hash
    );
    let forged = state.update(&planner, vec![]).is_err();
    ensure!(forged, "the rotated-out key could still update the DID");
    println!("    the old key can no longer update it: refused");

    session(&planner, &booking)?;
    let decisions = capabilities(&planner, &booking)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    audit::audit(&booking, &booking_home, decisions, &rt, &on)?;
    rt.block_on(network::run(tmp.path(), &on))?;

    println!("\nEvery check above is a signature or hash a third party can redo from public data.");
    Ok(())
}

/// Step 6: an end-to-end session (PQXDH, then the Double Ratchet), as the nodes run it.
fn session(planner: &IdentityKey, booking: &IdentityKey) -> anyhow::Result<()> {
    use talos_ratchet::{Envelope, Message, PreKeyStore, SessionConfig, x3dh};
    step(
        6,
        "Planner opens an end-to-end session to booking: PQXDH (X3DH + ML-KEM-768), then the Double Ratchet",
    );
    let rng = &mut rand::rng();
    let mut store = PreKeyStore::new(rng, booking, true)?;
    store.generate_one_time_prekeys(rng, 10)?;
    let bundle = store
        .bundle(booking, store.next_one_time_id())
        .context("booking has no signed prekey")?;
    let cfg = SessionConfig::default();
    let mut p = x3dh::initiate(rng, planner, &bundle, cfg)?;
    let Envelope::Initial(first) = p.encrypt(b"book LHR-JFK, max 450")? else {
        anyhow::bail!("a new session must start with an initial message");
    };
    println!(
        "    booking's bundle: signed prekey, one-time prekey, ML-KEM-768 key ({} bytes); PQXDH used: {}",
        bundle.encode().len(),
        first.kem.is_some()
    );
    let (mut b, text) = x3dh::respond(booking, &mut store, &first, cfg)?;
    println!(
        "    booking decrypts the first message ({} bytes of plaintext); session {}",
        text.len(),
        hex::encode(&b.handshake_id()[..8])
    );
    let as_msg = |e: Envelope| match e {
        Envelope::Message(m) => m,
        Envelope::Initial(i) => i.message,
    };
    let reply: Message = as_msg(b.encrypt(b"booked, ref TK-42")?);
    ensure!(
        p.decrypt(&reply)? == b"booked, ref TK-42",
        "reply did not decrypt"
    );
    let mut forged = reply.as_bytes().to_vec();
    if let Some(last) = forged.last_mut() {
        *last ^= 1;
    }
    let refused = Message::parse(&forged).map(|m| p.decrypt(&m));
    ensure!(
        matches!(refused, Ok(Err(_)) | Err(_)),
        "a tampered frame decrypted"
    );
    let replay = p.decrypt(&reply);
    ensure!(replay.is_err(), "a replayed frame decrypted twice");
    println!("    reply decrypts; a one-bit-flipped copy and a replay are both refused");
    let again = x3dh::respond(booking, &mut store, &first, cfg);
    println!(
        "    the one-time prekey cannot be used twice: {}",
        match again {
            Ok(_) => "ACCEPTED (bug)".to_string(),
            Err(e) => format!("refused ({e})"),
        }
    );
    Ok(())
}

/// A sidecar decision, kept for the audit log.
struct Decision {
    caller: talos_primitives::Did,
    leaf: talos_primitives::Commitment,
    request: talos_primitives::Hash32,
    outcome: Result<(), CapError>,
}

/// Steps 7-9: a capability is issued, delegated, used, refused when over-scoped, revoked.
fn capabilities(planner: &IdentityKey, booking: &IdentityKey) -> anyhow::Result<Vec<Decision>> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let assistant = IdentityKey::generate()?;
    let grant = |res: &str, acts: &[&str], max: u64| -> anyhow::Result<Capability> {
        let mut cav = Caveats::default();
        cav.max.insert("amount".into(), max);
        Ok(Capability {
            res: ResourcePattern::parse(res)?,
            act: ActionSet::new(acts.iter().copied())?,
            cav,
        })
    };

    step(
        7,
        "Booking grants planner a capability; planner delegates a narrower one to its assistant",
    );
    let root = Token::issue(
        booking,
        Claims {
            iss: booking.did(),
            aud: planner.did(),
            cap: vec![grant(
                "talos://booking/flights/**",
                &["book", "read"],
                1000,
            )?],
            nbf: now,
            exp: now + 3600,
            jti: CapabilityId([1; 16]),
            prf: None,
        },
    )?;
    let child = root.delegate(
        planner,
        assistant.did(),
        vec![grant("talos://booking/flights/LHR-JFK", &["book"], 500)?],
        now,
        now + 600,
        CapabilityId([2; 16]),
    )?;
    println!(
        "    root  {} (booking -> planner: book/read any flight, amount <= 1000, 1 h)",
        root.commitment()
    );
    println!(
        "    child {} (planner -> assistant: book LHR-JFK, amount <= 500, 10 min)",
        child.commitment()
    );
    let wider = root.delegate(
        planner,
        assistant.did(),
        vec![grant("talos://booking/**", &["book"], 1000)?],
        now,
        now + 600,
        CapabilityId([3; 16]),
    );
    println!(
        "    planner trying to delegate all of booking: {}",
        verdict(wider.map(|_| ()))
    );

    step(
        8,
        "Booking's sidecar decides requests from the assistant (authenticated channel, no bearer tokens)",
    );
    let mut authz = Authorizer::new(VerifierConfig::new(booking.did()), 64, 64, 300);
    let mut revoked = MemoryRevocations::new();
    let chain = [root.as_str(), child.as_str()];
    let me = booking.did();
    let holder = assistant.did();
    let mut decisions = Vec::new();
    let mut ask =
        |authz: &mut Authorizer, revoked: &MemoryRevocations, action: &str, amount: u64| {
            let args = serde_json::json!({"amount": amount});
            let args = args.as_object().cloned().unwrap_or_default();
            let req = Request {
                callee: &me,
                resource: "talos://booking/flights/LHR-JFK",
                action,
                args: &args,
                now,
            };
            let outcome = authz
                .authorize(&chain, &req, Possession::Channel(&holder), revoked)
                .map(|_| ());
            let request =
                jcs::digest(&serde_json::json!({"res": req.resource, "act": action, "args": args}))
                    .unwrap_or_default();
            let shown = verdict(outcome.clone());
            decisions.push(Decision {
                caller: holder,
                leaf: child.commitment(),
                request,
                outcome,
            });
            shown
        };
    println!(
        "    book LHR-JFK for 450: {}",
        ask(&mut authz, &revoked, "book", 450)
    );
    println!(
        "    book LHR-JFK for 900: {}",
        ask(&mut authz, &revoked, "book", 900)
    );
    println!(
        "    cancel LHR-JFK:       {}",
        ask(&mut authz, &revoked, "cancel", 10)
    );

    step(
        9,
        "Booking revokes the root; everything delegated below it falls at once",
    );
    revoked.revoke(root.claims().jti);
    let after = ask(&mut authz, &revoked, "book", 450);
    ensure!(
        after.starts_with("refused"),
        "a revoked chain was still accepted"
    );
    println!("    book LHR-JFK for 450: {after}");
    Ok(decisions)
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

fn verdict(r: Result<(), CapError>) -> String {
    match r {
        Ok(()) => "allowed".into(),
        Err(e) => format!("refused ({})", e.kind()),
    }
}
