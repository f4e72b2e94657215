//! Crash-test child: appends until killed, printing `index leaf` for every append that
//! was acknowledged (durable), so the parent knows exactly what must survive. It prints
//! `opening` before it opens (and recovers) the log, so the parent can kill it there too.
//! Each append carries a write to another family (the leaf again, under its index in
//! `inbox`), as the node's delivery state goes with its events: the parent checks the
//! two are durable together.

use std::io::Write;
use std::sync::Arc;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(run)) = (args.next(), args.next()) else {
        eprintln!("usage: talos-store-crash-child DIR RUN_ID");
        std::process::exit(2);
    };
    {
        let mut o = std::io::stdout();
        let _ = writeln!(o, "opening");
        let _ = o.flush();
    }
    let log = match talos_store::AuditLog::open(
        std::path::Path::new(&dir),
        talos_store::LogConfig::default(),
    ) {
        Ok(l) => Arc::new(l),
        Err(e) => {
            eprintln!("open: {e}");
            std::process::exit(3);
        }
    };
    let out = Arc::new(std::sync::Mutex::new(std::io::stdout()));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let log = log.clone();
            let out = out.clone();
            let run = run.clone();
            std::thread::spawn(move || {
                for i in 0u64.. {
                    let leaf = format!("run {run} thread {t} item {i}").into_bytes();
                    let copy = leaf.clone();
                    let built = log.append_built(
                        1,
                        |_| Ok::<_, talos_store::StoreError>(vec![leaf.clone()]),
                        {
                            let mut w = talos_store::Writes::default();
                            // The index is only known inside `build`: the key is the leaf.
                            w.put(talos_store::db::CF_INBOX, &copy, copy.clone());
                            w
                        },
                    );
                    match built.map(|r| r.start) {
                        Ok(index) => {
                            if let Ok(mut o) = out.lock() {
                                let _ = writeln!(o, "{index} {}", String::from_utf8_lossy(&leaf));
                                let _ = o.flush();
                            }
                        }
                        Err(e) => {
                            eprintln!("append: {e}");
                            std::process::exit(4);
                        }
                    }
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
}
