//! Governance glue: who validates, and who may sign.
//!
//! - [`ValidatorsFromMembership`] is the session manager: at each session change the
//!   `Validators` list (those of them with session keys set) becomes the next aura and
//!   grandpa authority set.
//! - [`SignersOnly`] is who may sign at all: members, validators (to set their session
//!   keys) and the sudo key. Fees are zero, so without it any endowed account could fill
//!   blocks for free; the pool refuses everyone else before a transaction is gossiped.
//!
//! Members' accounts are kept alive by `pallet-talos-members` itself (a provider
//! reference while they are members).

use alloc::vec::Vec;
use core::marker::PhantomData;

use pallet_transaction_payment::{OnChargeTransaction, TxCreditHold};
use sp_runtime::traits::{DispatchInfoOf, PostDispatchInfoOf};
use sp_runtime::transaction_validity::{InvalidTransaction, TransactionValidityError};

use crate::{AccountId, Runtime, RuntimeCall};

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

/// `InvalidTransaction::Custom(NOT_A_SIGNER)`: the signer is not a member, a validator
/// or the sudo key. Clients see "Invalid Transaction: Custom error: 1" (RPC error 1010).
pub const NOT_A_SIGNER: u8 = 1;

/// Whether `who` may sign transactions: a member (one map read, the common case), a
/// validator (at most 32), or the sudo key.
pub fn may_sign(who: &AccountId) -> bool {
    pallet_talos_members::Pallet::<Runtime>::is_member(who)
        || pallet_membership::Members::<Runtime, pallet_membership::Instance2>::get()
            .binary_search(who)
            .is_ok()
        || pallet_sudo::Key::<Runtime>::get().as_ref() == Some(who)
}

fn refuse_strangers(who: &AccountId) -> Result<(), TransactionValidityError> {
    if may_sign(who) {
        Ok(())
    } else {
        Err(InvalidTransaction::Custom(NOT_A_SIGNER).into())
    }
}

/// Fee handling that refuses strangers: a transaction whose signer may not sign
/// ([`may_sign`]) is invalid, so the pool drops it on arrival and a block author never
/// includes it; everyone else is charged by `Inner` (zero on this chain).
///
/// The check sits in fee payment because that is where FRAME asks "may this signer pay
/// for this?" during validation; a separate transaction extension would change every
/// client's extrinsic format for the same answer.
pub struct SignersOnly<Inner>(PhantomData<Inner>);

impl<Inner: TxCreditHold<Runtime>> TxCreditHold<Runtime> for SignersOnly<Inner> {
    type Credit = Inner::Credit;
}

impl<Inner: OnChargeTransaction<Runtime>> OnChargeTransaction<Runtime> for SignersOnly<Inner> {
    type Balance = Inner::Balance;
    type LiquidityInfo = Inner::LiquidityInfo;

    fn withdraw_fee(
        who: &AccountId,
        call: &RuntimeCall,
        info: &DispatchInfoOf<RuntimeCall>,
        fee_with_tip: Self::Balance,
        tip: Self::Balance,
    ) -> Result<Self::LiquidityInfo, TransactionValidityError> {
        refuse_strangers(who)?;
        Inner::withdraw_fee(who, call, info, fee_with_tip, tip)
    }

    fn can_withdraw_fee(
        who: &AccountId,
        call: &RuntimeCall,
        info: &DispatchInfoOf<RuntimeCall>,
        fee_with_tip: Self::Balance,
        tip: Self::Balance,
    ) -> Result<(), TransactionValidityError> {
        refuse_strangers(who)?;
        Inner::can_withdraw_fee(who, call, info, fee_with_tip, tip)
    }

    fn correct_and_deposit_fee(
        who: &AccountId,
        info: &DispatchInfoOf<RuntimeCall>,
        post_info: &PostDispatchInfoOf<RuntimeCall>,
        corrected_fee_with_tip: Self::Balance,
        tip: Self::Balance,
        liquidity_info: Self::LiquidityInfo,
    ) -> Result<(), TransactionValidityError> {
        Inner::correct_and_deposit_fee(
            who,
            info,
            post_info,
            corrected_fee_with_tip,
            tip,
            liquidity_info,
        )
    }

    #[cfg(feature = "runtime-benchmarks")]
    fn endow_account(who: &AccountId, amount: Self::Balance) {
        Inner::endow_account(who, amount)
    }

    #[cfg(feature = "runtime-benchmarks")]
    fn minimum_balance() -> Self::Balance {
        Inner::minimum_balance()
    }
}
