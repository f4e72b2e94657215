//! # pallet-talos-did
//!
//! The talos DID registry on a permissioned chain. A DID is named by the Ed25519 key it
//! was created with, and that key is a chain account (`MultiSigner`), so an agent signs
//! its own extrinsics: no relayer, no separate chain key. The chain stores what a
//! resolver needs to check an off-chain document: the SHA-256 of its canonical (JCS)
//! bytes, the version, the previous version's hash, and a bounded list of service
//! endpoints. The controller key can be rotated (signed by the current one) and the DID
//! deactivated for good.
//!
//! Who may register is configurable (`RegisterOrigin`: any signed account, or only a
//! consortium's members).
#![cfg_attr(not(feature = "std"), no_std)]

pub use pallet::*;

#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
pub mod weights;
pub use weights::WeightInfo;

// The FRAME macros generate items (calls, events, storage getters) whose docs come from
// the annotated source; what they add on their own is undocumented, and their generated
// metadata and integrity code uses expect/unwrap. The hand-written code in this module
// uses none of those (checked by review; the lints still apply outside it).
#[allow(
    missing_docs,
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#[frame_support::pallet]
pub mod pallet {
    use super::WeightInfo;
    use frame_support::pallet_prelude::*;
    use frame_system::pallet_prelude::*;
    use sp_core::H256;

    /// A service endpoint: its bytes (a URL or multiaddr), bounded.
    pub type Endpoint<T> = BoundedVec<u8, <T as Config>::MaxEndpointLen>;
    /// The DID's service endpoints, bounded.
    pub type Endpoints<T> = BoundedVec<Endpoint<T>, <T as Config>::MaxEndpoints>;

    /// A DID's registry record.
    #[derive(
        Clone, Encode, Decode, DecodeWithMemTracking, Eq, PartialEq, Debug, TypeInfo, MaxEncodedLen,
    )]
    #[scale_info(skip_type_params(T))]
    pub struct DidRecord<T: Config> {
        /// The key that may update the DID now (its creation key until a rotation).
        pub controller: T::AccountId,
        /// SHA-256 of the current document's canonical (JCS) bytes.
        pub doc_hash: H256,
        /// Version, 1 at registration, +1 per update or rotation.
        pub version: u32,
        /// The previous version's document hash; `None` only at version 1.
        pub prev: Option<H256>,
        /// Service endpoints.
        pub endpoints: Endpoints<T>,
        /// Once true, never false again: the DID takes no further writes.
        pub deactivated: bool,
    }

    #[pallet::pallet]
    pub struct Pallet<T>(_);

    /// Configuration.
    #[pallet::config]
    pub trait Config: frame_system::Config {
        /// The overarching event type.
        #[allow(deprecated)]
        type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;
        /// Who may register a DID (the DID is the account that signs): any signed
        /// account, or only a consortium's members.
        type RegisterOrigin: EnsureOrigin<Self::RuntimeOrigin, Success = Self::AccountId>;
        /// Most service endpoints per DID.
        #[pallet::constant]
        type MaxEndpoints: Get<u32>;
        /// Longest service endpoint, bytes.
        #[pallet::constant]
        type MaxEndpointLen: Get<u32>;
        /// Weights of the calls.
        type WeightInfo: WeightInfo;
    }

    /// DID (its creation key, as an account) → its record.
    #[pallet::storage]
    pub type Dids<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, DidRecord<T>>;

    /// Events.
    #[pallet::event]
    #[pallet::generate_deposit(pub(super) fn deposit_event)]
    pub enum Event<T: Config> {
        /// A DID was registered at version 1.
        Registered { did: T::AccountId, doc_hash: H256 },
        /// A DID's document changed.
        Updated {
            did: T::AccountId,
            version: u32,
            doc_hash: H256,
        },
        /// A DID's controller key changed (signed by the previous one).
        Rotated {
            did: T::AccountId,
            controller: T::AccountId,
            version: u32,
        },
        /// A DID was deactivated for good.
        Deactivated { did: T::AccountId },
    }

    /// Errors.
    #[pallet::error]
    pub enum Error<T> {
        /// This DID is registered already.
        AlreadyRegistered,
        /// No such DID.
        UnknownDid,
        /// The signer is not the DID's controller.
        NotController,
        /// The DID is deactivated and takes no further writes.
        Deactivated,
        /// The version counter would overflow.
        VersionOverflow,
    }

    #[pallet::hooks]
    impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
        #[cfg(feature = "try-runtime")]
        fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
            Self::do_try_state()
        }
    }

    #[pallet::call]
    impl<T: Config> Pallet<T> {
        /// Registers the signer's DID at version 1 with its document's hash.
        #[pallet::call_index(0)]
        #[pallet::weight(T::WeightInfo::register(endpoints.len() as u32))]
        pub fn register(
            origin: OriginFor<T>,
            doc_hash: H256,
            endpoints: Endpoints<T>,
        ) -> DispatchResult {
            let did = T::RegisterOrigin::ensure_origin(origin)?;
            ensure!(
                !Dids::<T>::contains_key(&did),
                Error::<T>::AlreadyRegistered
            );
            Dids::<T>::insert(
                &did,
                DidRecord {
                    controller: did.clone(),
                    doc_hash,
                    version: 1,
                    prev: None,
                    endpoints,
                    deactivated: false,
                },
            );
            Self::deposit_event(Event::Registered { did, doc_hash });
            Ok(())
        }

        /// Records a new document version (and endpoints); signed by the controller.
        #[pallet::call_index(1)]
        #[pallet::weight(T::WeightInfo::update(endpoints.len() as u32))]
        pub fn update(
            origin: OriginFor<T>,
            did: T::AccountId,
            doc_hash: H256,
            endpoints: Endpoints<T>,
        ) -> DispatchResult {
            let who = ensure_signed(origin)?;
            let version = Self::mutate_as_controller(&who, &did, |r| {
                r.prev = Some(r.doc_hash);
                r.doc_hash = doc_hash;
                r.endpoints = endpoints;
            })?;
            Self::deposit_event(Event::Updated {
                did,
                version,
                doc_hash,
            });
            Ok(())
        }

        /// Hands the DID to a new controller key, with the document that names it;
        /// signed by the current controller (the old key signs the new).
        #[pallet::call_index(2)]
        #[pallet::weight(T::WeightInfo::rotate())]
        pub fn rotate(
            origin: OriginFor<T>,
            did: T::AccountId,
            controller: T::AccountId,
            doc_hash: H256,
        ) -> DispatchResult {
            let who = ensure_signed(origin)?;
            let new = controller.clone();
            let version = Self::mutate_as_controller(&who, &did, |r| {
                r.prev = Some(r.doc_hash);
                r.doc_hash = doc_hash;
                r.controller = new;
            })?;
            Self::deposit_event(Event::Rotated {
                did,
                controller,
                version,
            });
            Ok(())
        }

        /// Deactivates the DID for good; signed by the controller.
        #[pallet::call_index(3)]
        #[pallet::weight(T::WeightInfo::deactivate())]
        pub fn deactivate(origin: OriginFor<T>, did: T::AccountId) -> DispatchResult {
            let who = ensure_signed(origin)?;
            Dids::<T>::try_mutate(&did, |slot| -> DispatchResult {
                let r = slot.as_mut().ok_or(Error::<T>::UnknownDid)?;
                ensure!(r.controller == who, Error::<T>::NotController);
                ensure!(!r.deactivated, Error::<T>::Deactivated);
                r.deactivated = true;
                Ok(())
            })?;
            Self::deposit_event(Event::Deactivated { did });
            Ok(())
        }
    }

    impl<T: Config> Pallet<T> {
        /// Applies `change` to an active DID whose controller is `who`, bumping the
        /// version (checked); returns the new version.
        fn mutate_as_controller(
            who: &T::AccountId,
            did: &T::AccountId,
            change: impl FnOnce(&mut DidRecord<T>),
        ) -> Result<u32, DispatchError> {
            Dids::<T>::try_mutate(did, |slot| {
                let r = slot.as_mut().ok_or(Error::<T>::UnknownDid)?;
                ensure!(&r.controller == who, Error::<T>::NotController);
                ensure!(!r.deactivated, Error::<T>::Deactivated);
                let version = r
                    .version
                    .checked_add(1)
                    .ok_or(Error::<T>::VersionOverflow)?;
                change(r);
                r.version = version;
                Ok(version)
            })
        }

        /// The invariants: every record's version is at least 1, and it has a previous
        /// hash exactly when its version is above 1.
        #[cfg(any(feature = "try-runtime", test))]
        pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
            for (_, r) in Dids::<T>::iter() {
                ensure!(r.version >= 1, "a DID at version 0");
                ensure!(
                    r.prev.is_some() == (r.version > 1),
                    "a DID's previous hash does not match its version"
                );
            }
            Ok(())
        }
    }
}
