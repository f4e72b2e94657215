//! The agent's Ed25519 identity key signing its own extrinsics (its chain account is
//! the key itself: `MultiSigner::Ed25519`, account id = the 32-byte public key).
//!
//! subxt-signer has no Ed25519 keypair, so this wraps ed25519-dalek (already the
//! identity crate's signer) in subxt's `Signer` trait.

use ed25519_dalek::{Signer as _, SigningKey};
use subxt::SubstrateConfig;
use subxt::utils::{AccountId32, MultiSignature};

/// Signs extrinsics with an Ed25519 seed. The key zeroizes on drop (ed25519-dalek's
/// `zeroize` feature); `Debug` prints the account only.
pub struct Ed25519Signer {
    key: SigningKey,
    account: AccountId32,
}

impl Ed25519Signer {
    /// The signer for a 32-byte Ed25519 seed.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        let key = SigningKey::from_bytes(seed);
        let account = AccountId32(key.verifying_key().to_bytes());
        Self { key, account }
    }

    /// The account (= public key) bytes.
    pub fn public(&self) -> [u8; 32] {
        self.account.0
    }
}

impl std::fmt::Debug for Ed25519Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Ed25519Signer(0x{})", hex::encode(self.account.0))
    }
}

impl subxt::tx::Signer<SubstrateConfig> for Ed25519Signer {
    fn account_id(&self) -> AccountId32 {
        self.account
    }

    // subxt hands over the final payload (already hashed when over 256 bytes).
    fn sign(&self, payload: &[u8]) -> MultiSignature {
        MultiSignature::Ed25519(self.key.sign(payload).to_bytes())
    }
}
