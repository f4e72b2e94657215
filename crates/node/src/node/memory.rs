//! Handing the system back the heap pages glibc keeps after frees (#23: idle RSS).
//!
//! glibc returns freed memory to the kernel only from the top of each arena. The pages a
//! node's closed connections or a burst of messages used stay resident, though free, under
//! the live allocations above them: in the swarm bench a node of a 100-node swarm kept
//! ~5 MiB of such pages after its idle connections closed (18 → 13 MiB anonymous once
//! trimmed). `malloc_trim(0)` gives back every whole free page of every arena and leaves
//! live allocations alone. No maintained crate wraps it safely, so this file holds the
//! workspace's one `unsafe` block (`scripts/lint.sh` checks it stays the one). Other
//! allocators (musl, macOS) return pages themselves, so the module exists only on glibc.

use std::time::{Duration, Instant};

use tracing::debug;

/// Gives the system back the free pages of every glibc arena; true if any went back.
#[allow(unsafe_code)]
fn release() -> bool {
    // SAFETY: `malloc_trim` takes no pointers and touches only glibc's own free lists,
    // under each arena's lock, like any other allocator call.
    unsafe { libc::malloc_trim(0) == 1 }
}

/// Start-up (opening the databases, the embedded chain's genesis, joining the DHT) frees
/// most of what it allocated within its first seconds; the first trim comes after it.
const FIRST: Duration = Duration::from_secs(10);

/// `FIRST` after the start and then every `period`, gives the system back what the
/// allocator holds free. On the blocking pool: the walk over the arenas takes up to a few
/// milliseconds with a busy heap.
pub(super) async fn upkeep(period: Duration) {
    // A zero period would make `interval_at` panic; the network's own upkeep has the same
    // floor.
    let period = period.max(Duration::from_secs(1));
    let first = tokio::time::Instant::now() + FIRST.min(period);
    let mut tick = tokio::time::interval_at(first, period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let t = Instant::now();
        match tokio::task::spawn_blocking(release).await {
            Ok(released) => debug!(released, took = ?t.elapsed(), "trimmed the heap"),
            // Only if the runtime is shutting down.
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    /// Frees 32 MiB of small blocks under one still-live block, which keeps glibc from
    /// returning them at the top of the heap: they stay resident until the trim. The
    /// figure is the whole process's, so this wants a process of its own (nextest, which
    /// `make test` runs, gives every test one).
    #[test]
    fn freed_pages_under_live_blocks_are_given_back() {
        // The process's resident anonymous memory, KiB.
        let anonymous_kib = || -> u64 {
            let status = std::fs::read_to_string("/proc/self/status").unwrap();
            let line = status.lines().find(|l| l.starts_with("RssAnon:")).unwrap();
            line.split_whitespace().nth(1).unwrap().parse().unwrap()
        };
        let blocks: Vec<Vec<u8>> = (0..32 * 1024).map(|i| vec![i as u8; 1024]).collect();
        let pin = vec![1u8; 1024];
        drop(blocks);
        let freed = anonymous_kib();
        assert!(super::release(), "nothing was given back");
        let trimmed = anonymous_kib();
        assert!(
            trimmed + 16 * 1024 < freed,
            "{freed} KiB resident before the trim, {trimmed} KiB after"
        );
        assert_eq!(pin[0], 1);
    }
}
