//! [`Anchor`] for [`ContractAnchor`]: each trait method as calls to the contract and
//! reads of its history, through the executor.

// The parent's imports and private items (the executor, the claim cache, the decoders).
use super::*;

#[async_trait]
impl<E: Executor> Anchor for ContractAnchor<E> {
    fn kind(&self) -> &'static str {
        self.exec.kind()
    }

    fn account(&self) -> Account {
        Account::Evm(self.exec.sender().into_array())
    }

    async fn register_did(
        &self,
        key: &IdentityKey,
        doc_hash: Hash32,
    ) -> Result<Inclusion, AnchorError> {
        self.send(Call::register(
            key,
            doc_hash,
            self.meta_domain(),
            self.exec.sender(),
        ))
        .await
    }

    async fn rotate_did(
        &self,
        did: &Did,
        new_doc_hash: Hash32,
        new_owner: Option<Account>,
    ) -> Result<Inclusion, AnchorError> {
        match new_owner {
            None => {}
            Some(Account::Evm(a)) if Address::from(a) == self.exec.sender() => {}
            Some(Account::Evm(_)) => {
                // A claim is keyed by its account, and the contract cannot check that the
                // DID's key wants the new one: that account registers its own claim.
                return Err(AnchorError::Config(
                    "an EVM claim keeps its account: the new account registers the DID \
                     itself (with an owner binding the DID's key signs for it), then this \
                     one deactivates"
                        .into(),
                ));
            }
            Some(Account::Substrate(_)) => {
                return Err(AnchorError::Config(
                    "an EVM DID's owner must be an EVM account".into(),
                ));
            }
        }
        self.send(Call::Rotate {
            did: *did,
            doc_hash: new_doc_hash,
        })
        .await
    }

    async fn deactivate_did(&self, did: &Did) -> Result<Inclusion, AnchorError> {
        self.send(Call::Deactivate { did: *did }).await
    }

    async fn resolve_did(&self, did: &Did) -> Result<Option<ChainDid>, AnchorError> {
        Ok(self.owner(did).await?.map(|(owner, s)| ChainDid {
            owner: Account::Evm(owner.into_array()),
            version: s.version,
            doc_hash: s.doc_hash,
            prev_hash: s.prev_hash,
            deactivated: s.deactivated,
        }))
    }

    async fn unbound_claims(&self, did: &Did) -> Result<Vec<Account>, AnchorError> {
        Ok(self
            .claims(did)
            .await?
            .into_iter()
            .filter(|c| !c.is_bound())
            .map(|c| Account::Evm(c.owner.into_array()))
            .collect())
    }

    async fn commit(
        &self,
        did: &Did,
        commitments: &[Commitment],
    ) -> Result<Inclusion, AnchorError> {
        self.send(Call::Commit {
            did: *did,
            commitments: commitments.to_vec(),
        })
        .await
    }

    async fn committed_by(&self, commitment: &Commitment) -> Result<Option<Hash32>, AnchorError> {
        // Commitments are stored per claim, so "who committed it" is in the events: the
        // first bound claim's.
        let word = abi::word(&commitment.0);
        self.first_bound(
            TalosAnchor::Committed::SIGNATURE_HASH,
            |log| {
                let ev = TalosAnchor::Committed::decode_log_data(&log.log_data()).ok()?;
                Some((ev.did, ev.owner, ev.commitments))
            },
            |c| *c == word,
        )
        .await
    }

    async fn revoke(&self, did: &Did, ids: &[CapabilityId]) -> Result<Inclusion, AnchorError> {
        self.send(Call::Revoke {
            did: *did,
            ids: ids.to_vec(),
        })
        .await
    }

    async fn revoked_by(&self, id: &CapabilityId) -> Result<Option<Hash32>, AnchorError> {
        // As for commitments: the first revocation of `id` by a bound claim.
        let word = abi::id_word(id);
        self.first_bound(
            TalosAnchor::Revoked::SIGNATURE_HASH,
            |log| {
                let ev = TalosAnchor::Revoked::decode_log_data(&log.log_data()).ok()?;
                Some((ev.did, ev.owner, ev.ids))
            },
            |w| *w == word,
        )
        .await
    }

    async fn anchor_root(&self, did: &Did, head: TreeHead) -> Result<Inclusion, AnchorError> {
        self.send(Call::AnchorRoot { did: *did, head }).await
    }

    async fn latest_root(&self, did: &Did) -> Result<Option<TreeHead>, AnchorError> {
        let Some((owner, _)) = self.owner(did).await? else {
            return Ok(None);
        };
        let data = TalosAnchor::latestRootCall {
            did: abi::word(&did_key(did)),
            owner,
        }
        .abi_encode();
        let out = self.exec.call(data.into()).await?;
        let r = TalosAnchor::latestRootCall::abi_decode_returns(&out)
            .map_err(malformed("latestRoot"))?;
        if r.root == B256::ZERO {
            return Ok(None);
        }
        Ok(Some(TreeHead {
            size: u64::try_from(r.treeSize)
                .map_err(|_| AnchorError::Malformed("tree size over 2^64".into()))?,
            root: abi::hash(&r.root),
        }))
    }

    /// The root anchored at `size` by any claim the DID's key bound (the oldest, should
    /// two bound accounts of the DID disagree: the first anchored is the one it committed
    /// to). Roots of unbound claims are never returned.
    async fn root_at(&self, did: &Did, size: u64) -> Result<Option<AnchoredRoot>, AnchorError> {
        let bound = self.bound_owners(did).await?;
        if bound.is_empty() {
            return Ok(None);
        }
        let logs = self
            .exec
            .logs(LogQuery {
                topic0: TalosAnchor::RootAnchored::SIGNATURE_HASH,
                topic1: Some(abi::word(&did_key(did))),
                from: 0,
                to: None,
            })
            .await?;
        for log in &logs {
            let ev = TalosAnchor::RootAnchored::decode_log_data(&log.log_data())
                .map_err(malformed("RootAnchored"))?;
            if ev.treeSize == U256::from(size) && bound.contains(&ev.owner) {
                return Ok(Some(AnchoredRoot {
                    head: TreeHead {
                        size,
                        root: abi::hash(&ev.root),
                    },
                    at: log.at(),
                }));
            }
        }
        Ok(None)
    }

    async fn revocations(&self, from_block: u64) -> Result<RevocationStream, AnchorError> {
        let (tx, rx) = mpsc::channel(REVOCATION_STREAM_CAPACITY);
        let exec = Arc::clone(&self.exec);
        tokio::spawn(async move {
            if let Err(e) = watch_revocations(&*exec, from_block, &tx).await {
                let _ = tx.send(Err(e)).await;
            }
        });
        Ok(RevocationStream { rx })
    }

    async fn resume(&self) -> Result<usize, AnchorError> {
        self.exec.resume().await
    }
}

/// What the stream yields for one `Revoked` log: the event if a bound claim made it; a
/// [`Skipped`] notice if the log does not decode or its claim is not bound.
async fn revocation_item<E: Executor>(
    exec: &E,
    bound: &mut BindingCache,
    log: &ChainLog,
) -> Result<Result<RevocationEvent, AnchorError>, AnchorError> {
    let (event, owner) = match decode_revocation_claim(log) {
        Ok(x) => x,
        Err(e) => {
            return Ok(Err(Skipped::Malformed {
                at: log.at(),
                reason: e.to_string(),
            }
            .into()));
        }
    };
    if bound.is_bound(exec, abi::word(&event.did), owner).await? {
        Ok(Ok(event))
    } else {
        Ok(Err(Skipped::Unbound {
            did: event.did,
            account: Account::Evm(owner.into_array()),
            at: event.at,
        }
        .into()))
    }
}

/// Feeds `tx` with every confirmed `Revoked` event from `from` on, until the receiver is
/// dropped. Sending waits when the receiver lags, so nothing is skipped silently: a log
/// that cannot be used is sent as an [`AnchorError::Skipped`] notice and the watch goes
/// on (one bad log must not stop every later revocation from arriving); only a chain
/// that cannot be read ends it.
async fn watch_revocations<E: Executor>(
    exec: &E,
    mut from: u64,
    tx: &mpsc::Sender<Result<RevocationEvent, AnchorError>>,
) -> Result<(), AnchorError> {
    let mut bound = BindingCache::default();
    let mut head = exec.head().await?;
    loop {
        if head >= from {
            let logs = exec
                .logs(LogQuery {
                    topic0: TalosAnchor::Revoked::SIGNATURE_HASH,
                    topic1: None,
                    from,
                    to: Some(head),
                })
                .await?;
            for log in &logs {
                let item = revocation_item(exec, &mut bound, log).await?;
                if tx.send(item).await.is_err() {
                    return Ok(());
                }
            }
            from = head.saturating_add(1);
        }
        tokio::select! {
            () = tx.closed() => return Ok(()),
            next = exec.next_head(head) => head = next?,
        }
    }
}
