//! ML-KEM-768 (FIPS 203, the `ml-kem` crate) for PQXDH's post-quantum prekey.

use core::fmt;

use ml_kem::array::Array;
use ml_kem::{Decapsulate, DecapsulationKey, Encapsulate, EncapsulationKey, KeyExport, MlKem768};
use rand::CryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::keys::SharedSecret;

/// An encoded ML-KEM-768 encapsulation key.
pub const KEM_PUBLIC_LEN: usize = 1184;
/// An ML-KEM-768 ciphertext.
pub const KEM_CIPHERTEXT_LEN: usize = 1088;
/// The FIPS 203 seed `d ‖ z` from which the decapsulation key is expanded.
pub const KEM_SEED_LEN: usize = 64;

/// The bytes are not a valid ML-KEM-768 encapsulation key (FIPS 203 modulus check).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid ML-KEM-768 encapsulation key")]
pub struct InvalidKemKey;

/// An ML-KEM-768 decapsulation key, held as its 64-byte seed.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct KemSecret([u8; KEM_SEED_LEN]);

impl KemSecret {
    /// A fresh key from `rng`.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut seed = [0u8; KEM_SEED_LEN];
        rng.fill_bytes(&mut seed);
        Self(seed)
    }

    /// Wraps a seed (state loading, known-answer tests).
    pub const fn from_seed(seed: [u8; KEM_SEED_LEN]) -> Self {
        Self(seed)
    }

    pub(crate) const fn seed(&self) -> &[u8; KEM_SEED_LEN] {
        &self.0
    }

    /// Expands the seed into the decapsulation key (FIPS 203 key generation). The prekey
    /// store keeps the expanded key so that each handshake does not redo it.
    pub(crate) fn expand(&self) -> KemDecapsulator {
        KemDecapsulator(DecapsulationKey::<MlKem768>::from_seed(Array::from(self.0)))
    }

    /// The encapsulation key to publish.
    pub fn public(&self) -> KemPublic {
        self.expand().public()
    }
}

/// An expanded ML-KEM-768 decapsulation key (zeroized on drop by `ml-kem`).
#[derive(Clone)]
pub(crate) struct KemDecapsulator(DecapsulationKey<MlKem768>);

impl KemDecapsulator {
    pub(crate) fn public(&self) -> KemPublic {
        let ek = self.0.encapsulation_key().to_bytes();
        let mut out = Box::new([0u8; KEM_PUBLIC_LEN]);
        out.copy_from_slice(ek.as_slice());
        KemPublic(out)
    }

    /// Recovers the shared secret. ML-KEM decapsulation never fails: a forged ciphertext
    /// yields an unrelated (implicitly rejected) secret, which the first message's AEAD
    /// then refuses.
    pub(crate) fn decapsulate(&self, ct: &[u8; KEM_CIPHERTEXT_LEN]) -> SharedSecret {
        let ss = self.0.decapsulate(&Array::from(*ct));
        let mut out = [0u8; 32];
        out.copy_from_slice(ss.as_slice());
        SharedSecret(out)
    }
}

impl fmt::Debug for KemDecapsulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KemDecapsulator(..)")
    }
}

impl fmt::Debug for KemSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KemSecret(..)")
    }
}

/// An ML-KEM-768 encapsulation key.
#[derive(Clone, PartialEq, Eq)]
pub struct KemPublic(pub(crate) Box<[u8; KEM_PUBLIC_LEN]>);

impl KemPublic {
    /// The encoded key.
    pub fn as_bytes(&self) -> &[u8; KEM_PUBLIC_LEN] {
        &self.0
    }

    /// Encapsulates a fresh secret to this key.
    pub(crate) fn encapsulate<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
    ) -> Result<(Box<[u8; KEM_CIPHERTEXT_LEN]>, SharedSecret), InvalidKemKey> {
        let ek =
            EncapsulationKey::<MlKem768>::new(&Array::from(*self.0)).map_err(|_| InvalidKemKey)?;
        let (ct, ss) = ek.encapsulate_with_rng(rng);
        let mut ct_out = Box::new([0u8; KEM_CIPHERTEXT_LEN]);
        ct_out.copy_from_slice(ct.as_slice());
        let mut ss_out = [0u8; 32];
        ss_out.copy_from_slice(ss.as_slice());
        Ok((ct_out, SharedSecret(ss_out)))
    }
}

impl fmt::Debug for KemPublic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KemPublic({})", crate::keys::hex_prefix(&self.0[..]))
    }
}
