//! Finding 4 of issue 17: DID squatting on the EVM contract. Anyone can register any DID's
//! hash, and the contract cannot check Ed25519; so each account's registration is its own
//! claim, and verifiers trust only a claim whose owner binding (signed by the DID's key)
//! verifies. Also: a malformed `Revoked` log is a skipped, typed notice in the revocation
//! stream, not the end of it.

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{Address, B256, Bytes, keccak256};
use async_trait::async_trait;
use talos_anchor::binding::{self, BindingError};
use talos_anchor::contract::{ChainLog, Executor, LogQuery};
use talos_anchor::embedded::{Clock, EmbeddedAnchor, EmbeddedChain, EmbeddedExecutor};
use talos_anchor::meta::Domain;
use talos_anchor::verify::{VerifyError, verify_inclusion};
use talos_anchor::{
    Anchor, AnchorError, Call, ContractAnchor, Inclusion, RevocationEvent, Skipped, did_key,
};
use talos_primitives::{CapabilityId, Hash32, TreeHead};
use talos_store::Store;

use crate::common::{Log, account, did, h, identity};

fn embedded(dir: &std::path::Path) -> (EmbeddedChain, EmbeddedAnchor, EmbeddedAnchor) {
    let store = Arc::new(Store::open(dir).unwrap());
    let chain = EmbeddedChain::open(store, Clock::System, account(0).address()).unwrap();
    let squatter = EmbeddedAnchor::embedded(chain.clone(), account(0).address());
    let owner = EmbeddedAnchor::embedded(chain.clone(), account(1).address());
    (chain, squatter, owner)
}

async fn next(s: &mut talos_anchor::RevocationStream) -> Result<RevocationEvent, AnchorError> {
    tokio::time::timeout(Duration::from_secs(20), s.next())
        .await
        .expect("a stream item in time")
        .expect("the stream is open")
}

/// The scenario on any EVM: `squatter` registers the victim's DID first, with the
/// owner's own binding copied (it names the owner's account, so it does not bind the
/// squatter), anchors a fake root and revokes; verifiers ignore all of it, the owner
/// registers anyway and everything of the owner's verifies.
pub(crate) async fn squatting<E: Executor>(
    squatter: &ContractAnchor<E>,
    owner: &ContractAnchor<E>,
) {
    let (victim_key, victim) = (identity(40), did(40));
    let log = Log::new(8);
    let domain = squatter.meta_domain();
    let owner_addr = owner.executor().sender();
    let copied = binding::sign(&victim_key, domain, owner_addr);
    squatter
        .executor()
        .send(
            Call::Register {
                did: victim,
                doc_hash: h(66),
                binding: Bytes::copy_from_slice(&copied),
            }
            .encode()
            .unwrap(),
        )
        .await
        .unwrap();
    // A fake root at the size the owner will anchor, and a revocation of the owner's id.
    let fake = TreeHead {
        size: 8,
        root: h(66),
    };
    squatter.anchor_root(&victim, fake).await.unwrap();
    let stolen = CapabilityId([66; 16]);
    let from = squatter.executor().head().await.unwrap();
    squatter.revoke(&victim, &[stolen]).await.unwrap();

    // Verifiers: not registered, nothing anchored, nothing revoked; the refusal names the
    // squatter's account and why it is ignored.
    assert_eq!(owner.resolve_did(&victim).await.unwrap(), None);
    assert_eq!(owner.latest_root(&victim).await.unwrap(), None);
    assert_eq!(owner.root_at(&victim, 8).await.unwrap(), None);
    assert_eq!(owner.revoked_by(&stolen).await.unwrap(), None);
    assert_eq!(
        owner.unbound_claims(&victim).await.unwrap(),
        vec![squatter.account()]
    );
    let claims = owner.claims(&victim).await.unwrap();
    assert_eq!(claims.len(), 1);
    assert_eq!(claims[0].binding, Err(BindingError::Signature));
    let proof_of_fake = {
        let mut p = log.inclusion(3, 8);
        p.root = talos_audit::wire::B64(h(66));
        p
    };
    let refused = verify_inclusion(owner, &victim, &proof_of_fake).await;
    match &refused {
        Err(e @ VerifyError::NotRegistered { ignored, .. }) => {
            assert_eq!(ignored, &vec![squatter.account().to_string()]);
            let text = e.to_string();
            assert!(text.contains("without a valid owner binding"), "{text}");
        }
        other => panic!("expected NotRegistered, got {other:?}"),
    }
    // The stream says what it went past, and goes on.
    let mut stream = owner.revocations(from).await.unwrap();
    match next(&mut stream).await {
        Err(AnchorError::Skipped(Skipped::Unbound { did, account, .. })) => {
            assert_eq!((did, account), (did_key(&victim), squatter.account()));
        }
        other => panic!("expected an unbound-claim notice, got {other:?}"),
    }

    // The squatter blocked nothing: the owner registers with its binding and anchors.
    owner.register_did(&victim_key, h(1)).await.unwrap();
    let rec = owner.resolve_did(&victim).await.unwrap().unwrap();
    assert_eq!((rec.owner, rec.doc_hash), (owner.account(), h(1)));
    let at = owner.anchor_root(&victim, log.head(8)).await.unwrap();
    let got = verify_inclusion(owner, &victim, &log.inclusion(3, 8))
        .await
        .unwrap();
    assert_eq!((got.head, got.at), (log.head(8), at));
    // The squatter's root at that size, anchored earlier, is not the DID's.
    assert!(matches!(
        verify_inclusion(owner, &victim, &proof_of_fake).await,
        Err(VerifyError::RootMismatch { size: 8, .. })
    ));
    assert_eq!(owner.latest_root(&victim).await.unwrap(), Some(log.head(8)));
    // The owner's revocation is the DID's, on the stream too.
    let mine = CapabilityId([1; 16]);
    let at = owner.revoke(&victim, &[mine]).await.unwrap();
    assert_eq!(
        owner.revoked_by(&mine).await.unwrap(),
        Some(did_key(&victim))
    );
    assert_eq!(owner.revoked_by(&stolen).await.unwrap(), None);
    let ev = next(&mut stream).await.unwrap();
    assert_eq!((ev.did, ev.ids, ev.at), (did_key(&victim), vec![mine], at));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn did_squatting_on_evm_is_refused_by_verifiers() {
    let dir = tempfile::tempdir().unwrap();
    let (_chain, squatter, owner) = embedded(dir.path());
    squatting(&squatter, &owner).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn did_squatting_on_anvil_is_refused_by_verifiers() {
    use talos_anchor::evm::{EvmAnchor, EvmConfig, deploy};
    let anvil = talos_testkit::anvil::Anvil::start(None);
    let url = anvil.http();
    let contract = deploy(&url, account(0)).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let mut cfg = EvmConfig::new(&url, contract);
    cfg.poll_interval = Duration::from_millis(50);
    let squatter = EvmAnchor::connect(cfg.clone(), account(0), store.clone())
        .await
        .unwrap();
    let owner = EvmAnchor::connect(cfg, account(1), store).await.unwrap();
    squatting(&squatter, &owner).await;
}

/// What a binding must get right: the key is the DID's, the signature covers this chain,
/// contract, DID and account, and the length is exact.
#[test]
fn owner_bindings_verify_only_for_their_did_account_and_deployment() {
    let (key, d) = (identity(50), did(50));
    let domain = Domain {
        chain_id: 7,
        contract: Address::repeat_byte(0xC0),
    };
    let owner = Address::repeat_byte(0x0A);
    let b = binding::sign(&key, domain, owner);
    assert_eq!(binding::verify(&b, domain, &did_key(&d), owner), Ok(d));
    let other_owner = Address::repeat_byte(0x0B);
    assert_eq!(
        binding::verify(&b, domain, &did_key(&d), other_owner),
        Err(BindingError::Signature)
    );
    for other in [
        Domain {
            chain_id: 8,
            ..domain
        },
        Domain {
            contract: Address::repeat_byte(0xC1),
            ..domain
        },
    ] {
        assert_eq!(
            binding::verify(&b, other, &did_key(&d), owner),
            Err(BindingError::Signature)
        );
    }
    // Another key's binding for this DID, a weak key (the curve's neutral element, of
    // small order), wrong lengths.
    let theirs = binding::sign(&identity(51), domain, owner);
    assert_eq!(
        binding::verify(&theirs, domain, &did_key(&d), owner),
        Err(BindingError::OtherDid)
    );
    let mut bad_key = b;
    bad_key[..32].copy_from_slice(&[0; 32]);
    bad_key[0] = 1;
    assert_eq!(
        binding::verify(&bad_key, domain, &did_key(&d), owner),
        Err(BindingError::Key)
    );
    assert_eq!(
        binding::verify(&b[..95], domain, &did_key(&d), owner),
        Err(BindingError::Length(95))
    );
    assert_eq!(
        binding::verify(&[], domain, &did_key(&d), owner),
        Err(BindingError::Length(0))
    );
    let mut flipped = b;
    flipped[40] ^= 1;
    assert_eq!(
        binding::verify(&flipped, domain, &did_key(&d), owner),
        Err(BindingError::Signature)
    );
}

alloy::sol! {
    function ownerStatement(bytes32 did, address owner) external view returns (bytes memory);
}

/// The statement bindings sign is byte for byte the contract's `ownerStatement`; and the
/// contract refuses a binding of the wrong length before any verifier sees it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owner_statement_matches_the_contract_and_lengths_are_checked_on_chain() {
    use alloy::sol_types::SolCall;
    let dir = tempfile::tempdir().unwrap();
    let (_chain, a, _) = embedded(dir.path());
    let d = did(52);
    let owner = account(1).address();
    let out = a
        .executor()
        .call(
            ownerStatementCall {
                did: B256::from(did_key(&d).0),
                owner,
            }
            .abi_encode()
            .into(),
        )
        .await
        .unwrap();
    let on_chain = ownerStatementCall::abi_decode_returns(&out).unwrap();
    assert_eq!(
        on_chain.to_vec(),
        binding::owner_statement(a.meta_domain(), &did_key(&d), owner)
    );
    for len in [0usize, 64, 95, 97] {
        let r = a
            .executor()
            .send(
                Call::Register {
                    did: d,
                    doc_hash: h(1),
                    binding: Bytes::from(vec![1u8; len]),
                }
                .encode()
                .unwrap(),
            )
            .await;
        assert!(
            matches!(
                r,
                Err(AnchorError::Revert(talos_anchor::Revert::BadBinding { len: l })) if l == len as u64
            ),
            "{len}: {r:?}"
        );
    }
}

/// The embedded executor, with a malformed `Revoked` log (as a broken or hostile RPC
/// endpoint could return) placed before the real ones of every revocation query.
struct MalformedFirst {
    inner: EmbeddedExecutor,
    revoked: B256,
}

#[async_trait]
impl Executor for MalformedFirst {
    fn kind(&self) -> &'static str {
        "embedded"
    }
    fn sender(&self) -> Address {
        self.inner.sender()
    }
    fn chain_id(&self) -> u64 {
        self.inner.chain_id()
    }
    fn contract(&self) -> Address {
        self.inner.contract()
    }
    async fn call(&self, data: Bytes) -> Result<Bytes, AnchorError> {
        self.inner.call(data).await
    }
    async fn send(&self, data: Bytes) -> Result<Inclusion, AnchorError> {
        self.inner.send(data).await
    }
    async fn logs(&self, query: LogQuery) -> Result<Vec<ChainLog>, AnchorError> {
        let real = self.inner.logs(query.clone()).await?;
        if query.topic0 != self.revoked || real.is_empty() {
            return Ok(real);
        }
        let junk = ChainLog {
            block: query.from,
            tx: B256::repeat_byte(0xEE),
            topics: vec![self.revoked],
            data: Bytes::from_static(b"not an ABI-encoded id array"),
        };
        Ok(std::iter::once(junk).chain(real).collect())
    }
    async fn head(&self) -> Result<u64, AnchorError> {
        self.inner.head().await
    }
    async fn next_head(&self, after: u64) -> Result<u64, AnchorError> {
        self.inner.next_head(after).await
    }
    async fn resume(&self) -> Result<usize, AnchorError> {
        self.inner.resume().await
    }
}

/// Issue 17's earlier note: one malformed log ended the EVM revocation stream (the
/// follower then re-subscribed at the same block and hit it again, forever). Now it is a
/// typed [`Skipped::Malformed`] notice and the revocations after it still arrive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_revocation_log_is_skipped_not_the_end_of_the_stream() {
    let dir = tempfile::tempdir().unwrap();
    let (chain, _, _) = embedded(dir.path());
    let a = ContractAnchor::new(MalformedFirst {
        inner: EmbeddedExecutor::new(chain, account(0).address()),
        revoked: keccak256("Revoked(bytes32,address,bytes32[])"),
    });
    let d = did(53);
    a.register_did(&identity(53), h(1)).await.unwrap();
    let ids = [CapabilityId([5; 16]), CapabilityId([6; 16])];
    let first = a.revoke(&d, &ids[..1]).await.unwrap();
    let mut stream = a.revocations(0).await.unwrap();
    match next(&mut stream).await {
        Err(AnchorError::Skipped(Skipped::Malformed { at, .. })) => {
            assert_eq!(at.tx, Hash32([0xEE; 32]));
        }
        other => panic!("expected a malformed-log notice, got {other:?}"),
    }
    let ev = next(&mut stream).await.unwrap();
    assert_eq!((ev.ids.as_slice(), ev.at), (&ids[..1], first));
    // Live: the next query's junk is skipped too, and the revocation behind it arrives.
    let second = a.revoke(&d, &ids[1..]).await.unwrap();
    assert!(matches!(
        next(&mut stream).await,
        Err(AnchorError::Skipped(Skipped::Malformed { .. }))
    ));
    let ev = next(&mut stream).await.unwrap();
    assert_eq!((ev.ids.as_slice(), ev.at), (&ids[1..], second));
}
