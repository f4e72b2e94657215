//! CPU use of a node process's threads, per thread id, from `/proc` (the node bench's
//! per-message accounting).

use std::time::Duration;

/// CPU use summed over a process's threads (see [`Threads::since`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct ThreadsUsage {
    /// Time on a CPU.
    pub on_cpu: Duration,
    /// Time runnable but waiting for a CPU.
    pub runnable: Duration,
    /// Switches away because the thread waited (a futex, `epoll_wait`, the disk).
    pub voluntary: u64,
    /// Switches away because another thread took the CPU.
    pub involuntary: u64,
    /// Threads of the earlier snapshot that have exited since: what they used after it
    /// is not counted, so the figures are a lower bound when this is not 0.
    pub exited: usize,
}

/// One snapshot of a process's live threads, by thread id (see [`super::NodeProc::threads`]).
#[derive(Clone, Debug, Default)]
pub struct Threads(std::collections::HashMap<String, ThreadsUsage>);

impl Threads {
    /// What the threads used since `before`: each thread's growth, and threads started
    /// since in full.
    pub fn since(&self, before: &Threads) -> ThreadsUsage {
        let mut u = ThreadsUsage::default();
        for (tid, now) in &self.0 {
            let was = before.0.get(tid).copied().unwrap_or_default();
            u.on_cpu += now.on_cpu.saturating_sub(was.on_cpu);
            u.runnable += now.runnable.saturating_sub(was.runnable);
            u.voluntary += now.voluntary.saturating_sub(was.voluntary);
            u.involuntary += now.involuntary.saturating_sub(was.involuntary);
        }
        u.exited = before.0.keys().filter(|t| !self.0.contains_key(*t)).count();
        u
    }

    /// A snapshot of process `pid`'s live threads, from `/proc/<pid>/task/*/schedstat`
    /// and `status`.
    pub fn of(pid: u32) -> Threads {
        let mut all = Threads::default();
        let dir = format!("/proc/{pid}/task");
        for task in std::fs::read_dir(dir).unwrap().flatten() {
            let path = task.path();
            // A thread may exit between the listing and the read.
            let (Ok(sched), Ok(status)) = (
                std::fs::read_to_string(path.join("schedstat")),
                std::fs::read_to_string(path.join("status")),
            ) else {
                continue;
            };
            let f: Vec<u64> = sched
                .split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect();
            let (Some(&cpu), Some(&wait)) = (f.first(), f.get(1)) else {
                panic!(
                    "{}: schedstat is not `cpu wait slices`: {sched:?}",
                    path.display()
                );
            };
            let field = |name: &str| -> u64 {
                status
                    .lines()
                    .find_map(|l| l.strip_prefix(name))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0)
            };
            let usage = ThreadsUsage {
                on_cpu: Duration::from_nanos(cpu),
                runnable: Duration::from_nanos(wait),
                voluntary: field("voluntary_ctxt_switches:"),
                involuntary: field("nonvoluntary_ctxt_switches:"),
                exited: 0,
            };
            all.0
                .insert(task.file_name().to_string_lossy().into_owned(), usage);
        }
        all
    }
}
