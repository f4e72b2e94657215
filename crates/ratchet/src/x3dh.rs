//! The X3DH handshake (Signal, rev. 1) and its post-quantum extension PQXDH (rev. 3):
//! four Diffie-Hellmans (three when no one-time prekey is left) and, with PQXDH, an
//! ML-KEM-768 encapsulation, fed to HKDF-SHA256. `AD = IK_A ‖ IK_B`.
//!
//! Identity keys are Ed25519; their X25519 form (the birational map, as did:key derives
//! key agreement) is used for the identity DHs, so one key both signs prekeys and agrees.

use rand::CryptoRng;
use talos_identity::IdentityKey;
use talos_identity::keys::{verify, x25519_public_of};
use talos_primitives::Ed25519Public;
use zeroize::Zeroizing;

use crate::kdf::hkdf_sha256;
use crate::keys::{DhPublic, DhSecret, NonContributory};
use crate::message::InitialMessage;
use crate::pq::InvalidKemKey;
use crate::prekey::{OneTimeLookup, PreKeyBundle, PreKeyStore, kem_signed_bytes, spk_signed_bytes};
use crate::session::{DecryptError, Pending, Session};

const X3DH_INFO: &[u8] = b"talos-x3dh-v1 X25519 SHA-256";
const PQXDH_INFO: &[u8] = b"talos-pqxdh-v1 X25519 SHA-256 ML-KEM-768";

/// Whether the initiator uses the bundle's ML-KEM prekey.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PqPolicy {
    /// PQXDH when the bundle offers a KEM prekey, X3DH otherwise (the default).
    #[default]
    Prefer,
    /// Refuse bundles without a KEM prekey.
    Require,
    /// Plain X3DH.
    Off,
}

/// Options fixed when a session starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SessionConfig {
    /// Encrypt ratchet headers (Double Ratchet §4). The initiator chooses; the initial
    /// message tells the responder.
    pub header_encryption: bool,
    /// Initiator: when to use PQXDH.
    pub pq: PqPolicy,
    /// Responder: refuse initial messages without a KEM encapsulation. A node sets this
    /// when both peers' bundles advertise ML-KEM, so the default cannot be downgraded.
    pub require_pq: bool,
}

/// Why a handshake was refused. Each failure has its own variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    /// The signed prekey's signature does not verify under the bundle's identity key.
    #[error("bad signed-prekey signature")]
    BadSignedPreKeySignature,
    /// The ML-KEM prekey's signature does not verify.
    #[error("bad ML-KEM prekey signature")]
    BadKemPreKeySignature,
    /// The ML-KEM prekey is not a valid encapsulation key.
    #[error(transparent)]
    InvalidKemKey(#[from] InvalidKemKey),
    /// The initial message names a signed prekey this store does not hold.
    #[error("unknown signed prekey {0}")]
    UnknownSignedPreKey(u32),
    /// The initial message names a one-time prekey this store never issued.
    #[error("unknown one-time prekey {0}")]
    UnknownOneTimePreKey(u32),
    /// The one-time prekey was already consumed by an earlier handshake.
    #[error("one-time prekey {0} was already used")]
    OneTimePreKeyAlreadyUsed(u32),
    /// The initial message names an ML-KEM prekey this store does not hold.
    #[error("unknown ML-KEM prekey {0}")]
    UnknownKemPreKey(u32),
    /// PQXDH was required, and the bundle or the initial message has no KEM part.
    #[error("post-quantum key agreement required but not offered")]
    PostQuantumRequired,
    /// A DH gave the all-zero output: a low-order key.
    #[error(transparent)]
    NonContributory(#[from] NonContributory),
    /// The initial message's first ratchet message did not decrypt.
    #[error("first message: {0}")]
    FirstMessage(#[from] DecryptError),
}

/// `SK` and `AD` of a completed key agreement.
pub(crate) struct Agreement {
    pub(crate) sk: Zeroizing<[u8; 32]>,
    pub(crate) initiator: Ed25519Public,
    pub(crate) responder: Ed25519Public,
}

impl Agreement {
    pub(crate) fn ad(&self) -> [u8; 64] {
        ad_of(&self.initiator, &self.responder)
    }
}

fn derive_sk(dhs: &[&[u8; 32]], ss: Option<&[u8; 32]>) -> Zeroizing<[u8; 32]> {
    // IKM = F ‖ DH1 ‖ DH2 ‖ DH3 [‖ DH4] [‖ SS], F = 32 × 0xFF (X3DH §2.2), salt = zeros.
    let mut ikm = Zeroizing::new(Vec::with_capacity(32 * 6));
    ikm.extend_from_slice(&[0xFF; 32]);
    for dh in dhs {
        ikm.extend_from_slice(&dh[..]);
    }
    let info = if let Some(ss) = ss {
        ikm.extend_from_slice(ss);
        PQXDH_INFO
    } else {
        X3DH_INFO
    };
    let mut sk = Zeroizing::new([0u8; 32]);
    let _ = hkdf_sha256(&[0u8; 32], &ikm, info, &mut sk[..]);
    sk
}

pub(crate) fn ad_of(initiator: &Ed25519Public, responder: &Ed25519Public) -> [u8; 64] {
    let mut ad = [0u8; 64];
    let (a, b) = ad.split_at_mut(32);
    a.copy_from_slice(initiator.as_bytes());
    b.copy_from_slice(responder.as_bytes());
    ad
}

/// Starts a session from a peer's bundle (the initiator, "Alice"). The session wraps its
/// messages as [`InitialMessage`]s until the peer's first reply arrives.
pub fn initiate<R: CryptoRng + ?Sized>(
    rng: &mut R,
    identity: &IdentityKey,
    bundle: &PreKeyBundle,
    config: SessionConfig,
) -> Result<Session, HandshakeError> {
    verify(
        &bundle.identity,
        &spk_signed_bytes(bundle.signed_prekey_id, &bundle.signed_prekey),
        &bundle.signed_prekey_signature,
    )
    .map_err(|_| HandshakeError::BadSignedPreKeySignature)?;
    let kem = match (&bundle.kem_prekey, config.pq) {
        (_, PqPolicy::Off) => None,
        (None, PqPolicy::Require) => return Err(HandshakeError::PostQuantumRequired),
        (None, PqPolicy::Prefer) => None,
        (Some((id, public, sig)), _) => {
            verify(&bundle.identity, &kem_signed_bytes(*id, public), sig)
                .map_err(|_| HandshakeError::BadKemPreKeySignature)?;
            Some((*id, public))
        }
    };
    let ik_a = DhSecret::from_bytes(*identity.key_agreement().dangerous_as_bytes());
    let ik_b = DhPublic(x25519_public_of(&bundle.identity));
    let ek = DhSecret::generate(rng);
    let dh1 = ik_a.diffie_hellman(&bundle.signed_prekey)?;
    let dh2 = ek.diffie_hellman(&ik_b)?;
    let dh3 = ek.diffie_hellman(&bundle.signed_prekey)?;
    let dh4 = match &bundle.one_time_prekey {
        Some((_, opk)) => Some(ek.diffie_hellman(opk)?),
        None => None,
    };
    let encapsulated = match kem {
        Some((id, public)) => Some((id, public.encapsulate(rng)?)),
        None => None,
    };
    let mut dhs = vec![&dh1.0, &dh2.0, &dh3.0];
    if let Some(dh4) = &dh4 {
        dhs.push(&dh4.0);
    }
    let sk = derive_sk(&dhs, encapsulated.as_ref().map(|(_, (_, ss))| &ss.0));
    let agreement = Agreement {
        sk,
        initiator: identity.public(),
        responder: bundle.identity,
    };
    let pending = Pending {
        ephemeral: ek.public(),
        signed_prekey_id: bundle.signed_prekey_id,
        one_time_prekey_id: bundle.one_time_prekey.as_ref().map(|(id, _)| *id),
        kem: encapsulated.map(|(id, (ct, _))| (id, ct)),
    };
    Ok(Session::new_initiator(
        rng,
        &agreement,
        bundle.signed_prekey,
        pending,
        config.header_encryption,
    )?)
}

/// Completes a handshake from an initial message (the responder, "Bob") and decrypts its
/// first message. Transactional: on any error the store is unchanged, so a forged initial
/// message cannot burn a one-time prekey.
pub fn respond(
    identity: &IdentityKey,
    store: &mut PreKeyStore,
    initial: &InitialMessage,
    config: SessionConfig,
) -> Result<(Session, Vec<u8>), HandshakeError> {
    if config.require_pq && initial.kem.is_none() {
        return Err(HandshakeError::PostQuantumRequired);
    }
    let spk = store.signed_prekey(initial.signed_prekey_id).ok_or(
        HandshakeError::UnknownSignedPreKey(initial.signed_prekey_id),
    )?;
    let opk = match initial.one_time_prekey_id {
        Some(id) => Some(store.one_time_prekey(id).map_err(|e| match e {
            OneTimeLookup::Unknown => HandshakeError::UnknownOneTimePreKey(id),
            OneTimeLookup::AlreadyUsed => HandshakeError::OneTimePreKeyAlreadyUsed(id),
        })?),
        None => None,
    };
    let ss = match &initial.kem {
        Some((id, ct)) => Some(
            store
                .kem_prekey(*id)
                .ok_or(HandshakeError::UnknownKemPreKey(*id))?
                .expanded
                .decapsulate(ct),
        ),
        None => None,
    };
    let ik_b = DhSecret::from_bytes(*identity.key_agreement().dangerous_as_bytes());
    let ik_a = DhPublic(x25519_public_of(&initial.identity));
    let dh1 = spk.secret.diffie_hellman(&ik_a)?;
    let dh2 = ik_b.diffie_hellman(&initial.ephemeral)?;
    let dh3 = spk.secret.diffie_hellman(&initial.ephemeral)?;
    let dh4 = match opk {
        Some(opk) => Some(opk.diffie_hellman(&initial.ephemeral)?),
        None => None,
    };
    let mut dhs = vec![&dh1.0, &dh2.0, &dh3.0];
    if let Some(dh4) = &dh4 {
        dhs.push(&dh4.0);
    }
    let sk = derive_sk(&dhs, ss.as_ref().map(|s| &s.0));
    let agreement = Agreement {
        sk,
        initiator: initial.identity,
        responder: identity.public(),
    };
    let mut session = Session::new_responder(
        &agreement,
        spk.secret.clone(),
        spk.public,
        initial.handshake_id(),
        initial.header_encryption,
    );
    let plaintext = session.decrypt(&initial.message)?;
    if let Some(id) = initial.one_time_prekey_id {
        store.consume_one_time(id);
    }
    Ok((session, plaintext))
}
