//! Writing a group (by the committer thread, or by an appender that found the log idle):
//! takes what appenders queued (never cutting an append that
//! carries writes), extends the tree, and writes leaves, nodes, head and the appends'
//! writes in one synced batch.

use super::*;

pub(super) fn commit_loop(store: &Store, shared: &Shared, max_batch: usize) {
    loop {
        let (group, side) = {
            let Ok(mut p) = shared.pending.lock() else {
                return;
            };
            // An appender committing on its own thread owns the tree until it is done.
            while p.committing || (p.leaves.is_empty() && !p.closed) {
                p = match shared.work.wait(p) {
                    Ok(p) => p,
                    Err(_) => return,
                };
            }
            if p.leaves.is_empty() {
                return; // closed and drained
            }
            p.committing = true;
            take_group(&mut p, max_batch)
        };
        shared.space.notify_all();
        if !commit_group(store, shared, &group, side) {
            return;
        }
    }
}

/// The next group from the front of the queue, with the side records that go with it.
/// The caller holds the queue's lock and has set `committing`.
pub(super) fn take_group(p: &mut Pending, max_batch: usize) -> (Vec<Vec<u8>>, Writes) {
    let first = p.next_index - p.leaves.len() as u64;
    let mut take = p.leaves.len().min(max_batch);
    // An append carrying side records is never cut: its records must be durable
    // exactly with all its leaves (it may take the batch past `max_batch`).
    let cut = first + take as u64;
    if let Some((_, e, _)) = p.side.iter().find(|(s, e, _)| *s < cut && cut < *e) {
        take = usize::try_from(e - first)
            .unwrap_or(take)
            .min(p.leaves.len());
    }
    // The indices this group writes end at `end`: side records of appends that
    // end there or before go with it.
    let end = first + take as u64;
    let mut side = Writes::default();
    while p.side.front().is_some_and(|(_, e, _)| *e <= end) {
        if let Some((_, _, writes)) = p.side.pop_front() {
            side.extend(writes);
        }
    }
    (p.leaves.drain(..take).collect(), side)
}

/// Writes a group taken with [`take_group`], makes it visible to the waiters, and
/// hands the tree back (`committing` off; the committer is woken if more is queued).
/// `false` when the write failed: the log is then closed.
pub(super) fn commit_group(
    store: &Store,
    shared: &Shared,
    group: &[Vec<u8>],
    side: Writes,
) -> bool {
    // A panic inside the write (not expected: RocksDB errors are returned) must not
    // unwind past `committing`, or every later appender and the committer would wait
    // for ever: it fails the write, which closes the log like any failed write.
    let write = std::panic::AssertUnwindSafe(|| match shared.frontier.lock() {
        Ok(mut frontier) => write_group(store, &mut frontier, group, side),
        Err(_) => Err(StoreError::Corrupt("audit log tree lock poisoned".into())),
    });
    let result = std::panic::catch_unwind(write)
        .unwrap_or_else(|_| Err(StoreError::Corrupt("audit log write panicked".into())));
    let ok = result.is_ok();
    if let Ok(mut d) = shared.durable.lock() {
        match result {
            Ok(head) => {
                d.head = head;
                shared.size.store(head.size, Ordering::Release);
            }
            Err(e) => {
                // Nothing of this group is durable, and later indices were promised on
                // top of it: stop here. Reopening recovers the last durable state.
                tracing::error!(error = %e, "audit log group commit failed; log closed");
                d.failed = Some(e.to_string());
            }
        }
    }
    if let Ok(mut p) = shared.pending.lock() {
        p.committing = false;
        if !ok {
            p.closed = true;
            p.leaves.clear();
            p.side.clear();
        }
        if !p.leaves.is_empty() || p.closed {
            shared.work.notify_one();
        }
    }
    shared.done.notify_all();
    if !ok {
        shared.space.notify_all();
    }
    ok
}

fn write_group(
    store: &Store,
    frontier: &mut Frontier,
    group: &[Vec<u8>],
    side: Writes,
) -> Result<TreeHead, StoreError> {
    let leaves_cf = store.cf(CF_LEAVES)?;
    let nodes_cf = store.cf(CF_NODES)?;
    let meta_cf = store.cf(CF_META)?;
    let mut batch = WriteBatch::default();
    for leaf in group {
        let index = frontier.append(leaf_hash(leaf), |level, index, hash| {
            batch.put_cf(nodes_cf, node_key(level, index), hash.as_bytes());
        });
        batch.put_cf(leaves_cf, index.to_be_bytes(), leaf);
    }
    let head = TreeHead {
        size: frontier.size(),
        root: frontier.root(),
    };
    batch.put_cf(meta_cf, META_HEAD, encode_head(&head));
    side.apply(store, &mut batch)?;
    store.write(batch, true)?;
    Ok(head)
}
