//! Maps the pallets' dispatch errors to the trait's [`Revert`] (the same meaning as the
//! EVM contract's custom errors), and subxt's other failures to [`AnchorError`].

use talos_primitives::Hash32;

use crate::error::{AnchorError, Revert};

/// What a write was about, to fill the revert's fields.
pub(crate) struct WriteCtx {
    /// The DID's chain key ([`crate::did_key`]).
    pub(crate) did: Hash32,
    /// The signing account, 0x-hex.
    pub(crate) sender: String,
    /// For anchors: the size given.
    pub(crate) size: Option<u64>,
}

/// A module error named `Pallet.Variant`, as the trait's revert.
pub(crate) fn module_revert(pallet: &str, variant: &str, ctx: &WriteCtx) -> Revert {
    let did = ctx.did;
    match (pallet, variant) {
        ("TalosDid", "AlreadyRegistered") => Revert::DidExists { did },
        ("TalosDid" | "TalosAnchor", "UnknownDid") => Revert::UnknownDid { did },
        ("TalosDid" | "TalosAnchor", "NotController") => Revert::NotOwner {
            did,
            sender: ctx.sender.clone(),
        },
        ("TalosDid" | "TalosAnchor", "Deactivated") => Revert::Deactivated { did },
        ("TalosAnchor", "EmptyBatch") => Revert::EmptyBatch,
        ("TalosAnchor", "TreeSizeShrinks") => Revert::TreeSizeShrinks {
            did,
            // The pallet's error carries no fields; the caller knows what it sent.
            current: 0,
            given: ctx.size.unwrap_or(0),
        },
        ("TalosAnchor", "RootConflict") => Revert::ConflictingRoot {
            did,
            tree_size: ctx.size.unwrap_or(0),
        },
        ("TalosAnchor", "InvalidRoot") => Revert::InvalidRoot,
        _ => Revert::Unrecognized {
            selector: format!("{pallet}.{variant}"),
        },
    }
}

/// A failed dispatch, as an error.
pub(crate) fn dispatch_error(err: subxt::error::DispatchError, ctx: &WriteCtx) -> AnchorError {
    use subxt::error::DispatchError as D;
    match err {
        D::Module(m) => match m.details() {
            Ok(d) => AnchorError::Revert(module_revert(d.pallet.name(), &d.variant.name, ctx)),
            Err(_) => AnchorError::Revert(Revert::Unrecognized {
                selector: m.details_string(),
            }),
        },
        // Not a member: the pallets' origin check (`EnsureMember`), for a signer the pool
        // let through (the sudo key or a validator that is no member).
        D::BadOrigin => AnchorError::Revert(Revert::NotWriter {
            sender: ctx.sender.clone(),
        }),
        other => AnchorError::Rpc(format!("dispatch failed: {other}")),
    }
}

/// A submission the node refused (when submitted, or later in the watched status), as
/// an error. The talos runtime's pool refuses signers
/// that may not sign (`InvalidTransaction::Custom(1)`, "Custom error: 1"), and an account
/// that does not exist (no member, no balance) fails the nonce check first with
/// "Inability to pay some fees" (fees are zero, so it means nothing else there): both
/// are a writer who is not a member.
pub(crate) fn submit_error(message: &str, ctx: &WriteCtx) -> AnchorError {
    // The RPC error says "Custom error: 1", the watched status "custom error: 1".
    let lower = message.to_ascii_lowercase();
    if lower.contains("custom error: 1") || lower.contains("inability to pay some fees") {
        return AnchorError::Revert(Revert::NotWriter {
            sender: ctx.sender.clone(),
        });
    }
    super::rpc_err(message)
}
