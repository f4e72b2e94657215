//! The origin check the consortium's other pallets use: signed by a member.

use core::marker::PhantomData;

use frame_support::traits::EnsureOrigin;
use frame_system::RawOrigin;

use crate::{Config, Members};

/// Succeeds for an origin signed by a member, with the member's account: one map read
/// (`pallet-membership`'s `EnsureSignedBy` reads the whole member list).
pub struct EnsureMember<T>(PhantomData<T>);

impl<T: Config> EnsureOrigin<T::RuntimeOrigin> for EnsureMember<T> {
    type Success = T::AccountId;

    fn try_origin(o: T::RuntimeOrigin) -> Result<Self::Success, T::RuntimeOrigin> {
        match o.clone().into() {
            Ok(RawOrigin::Signed(who)) if Members::<T>::contains_key(&who) => Ok(who),
            _ => Err(o),
        }
    }

    /// A member made for the benchmark: the all-zero account, joined at block 0.
    #[cfg(feature = "runtime-benchmarks")]
    fn try_successful_origin() -> Result<T::RuntimeOrigin, ()> {
        use codec::Decode;
        use sp_runtime::traits::TrailingZeroInput;
        let who = T::AccountId::decode(&mut TrailingZeroInput::zeroes()).map_err(|_| ())?;
        if !Members::<T>::contains_key(&who) {
            crate::Pallet::<T>::admit(&who, Default::default()).map_err(|_| ())?;
        }
        Ok(RawOrigin::Signed(who).into())
    }
}
