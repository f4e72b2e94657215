//! The agent's signed A2A card (`card.toml`): served by the API and the public log, and
//! carried in the directory record; and peers' cards, read from theirs.

use talos_card::{Card, CardConfig, CardError};
use talos_identity::keys::IdentityKey;
use talos_primitives::{Did, Ed25519Public};

use super::{Node, directory};
use crate::error::NodeError;

/// The card's JCS bytes, as the directory record carries them.
pub(super) fn signed_bytes(
    identity: &IdentityKey,
    config: &CardConfig,
) -> Result<Vec<u8>, CardError> {
    let card = talos_card::signed(config, identity)?;
    talos_identity::jcs::canonicalize(&card).map_err(|e| CardError::Malformed(e.to_string()))
}

impl Node {
    /// The agent's A2A card, signed by its identity; `None` without a `card.toml`.
    pub fn agent_card(&self) -> Option<Result<Card, CardError>> {
        let config = self.config.card.as_ref()?;
        Some(talos_card::signed(config, &self.identity))
    }

    /// `peer`'s signed A2A card from its directory record, verified: signed by `peer`
    /// (the card's DID is the record's identity). `None` when its record has no card.
    pub async fn peer_card(&self, peer: &Ed25519Public) -> Result<Option<Card>, NodeError> {
        // This agent's own card: no lookup (the DHT may not answer for a lone node).
        if *peer == self.identity.public() {
            return self
                .agent_card()
                .transpose()
                .map_err(|e| NodeError::Internal(e.to_string()));
        }
        let record = directory::lookup(&self.client, peer).await?;
        let Some(bytes) = record.card else {
            return Ok(None);
        };
        let bad = |detail: String| NodeError::PeerFailed {
            kind: "bad_card".into(),
            detail: Some(detail),
        };
        let v = talos_card::verify(&bytes).map_err(|e| bad(e.to_string()))?;
        if v.did != Did::Key(*peer) {
            return Err(bad(format!("the record's card is {}'s", v.did)));
        }
        Ok(Some(v.card))
    }
}
