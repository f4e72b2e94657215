//! Governance glue: validators and members are membership lists that sudo edits.
//!
//! - [`ValidatorsFromMembership`] is the session manager: at each session change the
//!   `Validators` list (those of them with session keys set) becomes the next aura and
//!   grandpa authority set.
//! - [`MemberAccounts`] gives each member a provider reference, so an agent's key is a
//!   usable account (it can sign, nonce kept) without a balance, and takes it back when
//!   the member leaves.

use alloc::vec::Vec;

use crate::{AccountId, Runtime};

/// The validator set for the next session: the `Validators` membership list.
pub struct ValidatorsFromMembership;

impl pallet_session::SessionManager<AccountId> for ValidatorsFromMembership {
    fn new_session(_index: u32) -> Option<Vec<AccountId>> {
        let set = pallet_membership::Members::<Runtime, pallet_membership::Instance2>::get();
        // An empty set would halt the chain; keep the current one instead.
        if set.is_empty() {
            None
        } else {
            Some(set.into_inner())
        }
    }
    fn end_session(_index: u32) {}
    fn start_session(_index: u32) {}
}

/// Keeps members' accounts alive while they are members.
pub struct MemberAccounts;

impl frame_support::traits::InitializeMembers<AccountId> for MemberAccounts {
    fn initialize_members(members: &[AccountId]) {
        for who in members {
            frame_system::Pallet::<Runtime>::inc_providers(who);
        }
    }
}

impl frame_support::traits::ChangeMembers<AccountId> for MemberAccounts {
    fn change_members_sorted(incoming: &[AccountId], outgoing: &[AccountId], _new: &[AccountId]) {
        for who in incoming {
            frame_system::Pallet::<Runtime>::inc_providers(who);
        }
        for who in outgoing {
            // Fails only while the account has consumers (it holds something that needs
            // it alive); then it stays until those are gone, which loses nothing.
            let _ = frame_system::Pallet::<Runtime>::dec_providers(who);
        }
    }
}
