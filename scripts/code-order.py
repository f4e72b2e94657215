#!/usr/bin/env python3
"""The code an idle talos node runs, as a linker symbol-ordering file (#23: idle RSS).

A node's code pages are mapped from the executable 64 KiB at a time (the kernel's
fault-around), and the functions a node runs are spread over the whole 36 MB `.text`, so
an idle node mapped ~21 MiB of code to run ~9 MiB of pages. Placing the functions it
runs next to each other (`bin/talos/code-order.txt`, passed to LLD by
`bin/talos/build.rs`) puts them in fewer such windows.

Two steps, on a machine where you are root:

    # 1. the pages nodes touch: no read-ahead on the binary's disk, an empty page cache,
    #    then the swarm bench with the production binary, sampled every 2 s
    echo 0 > /sys/block/<disk>/queue/read_ahead_kb; sync; echo 3 > /proc/sys/vm/drop_caches
    scripts/code-order.py collect BINARY pages.txt &   # stops when the swarm is gone
    TALOS_BIN=BINARY SWARM_N=10 cargo bench -p talos-benches --bench swarm
    echo <old value> > /sys/block/<disk>/queue/read_ahead_kb
    # 2. the functions on those pages, in address order
    scripts/code-order.py order BINARY pages.txt bin/talos/code-order.txt

With read-ahead off, a page is in the page cache only once some node ran code on it, so
the pages mapped are the pages run (plus neighbours another node ran). Names are
mangled symbols; the ones a later build no longer has are skipped by the linker, so the
file ages gracefully and is regenerated when the figures in benches/RESULTS.md drift.
Needs `nm` (binutils). No library reads /proc/PID/pagemap for us, hence this script.
"""
import bisect
import os
import struct
import subprocess
import sys
import time

PAGE = 4096


def exec_pages(pid, binary):
    """Resident pages of the executable mappings of `pid`, as link-time addresses."""
    maps = []
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            parts = line.split(maxsplit=5)
            if len(parts) == 6 and os.path.realpath(parts[5].strip()) == binary:
                lo, hi = (int(x, 16) for x in parts[0].split("-"))
                maps.append((lo, hi, parts[1], int(parts[2], 16)))
    bias = [lo for lo, _, _, off in maps if off == 0]
    if not bias:
        return set()
    pages = set()
    with open(f"/proc/{pid}/pagemap", "rb") as pm:
        for lo, hi, perms, _ in maps:
            if "x" not in perms:
                continue
            n = (hi - lo) // PAGE
            pm.seek(lo // PAGE * 8)
            data = pm.read(n * 8)
            for i in range(len(data) // 8):
                (entry,) = struct.unpack_from("<Q", data, i * 8)
                if entry >> 63:
                    pages.add(lo - bias[0] + i * PAGE)
    return pages


def pids_of(binary):
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if os.path.realpath(f"/proc/{pid}/exe") == binary:
                    yield pid
            except OSError:
                pass


def collect(binary, out):
    """Samples every process of `binary` every 2 s until none has run for 60 s."""
    seen, last = set(), time.monotonic()
    while time.monotonic() - last < 60:
        for pid in pids_of(binary):
            try:
                seen |= exec_pages(pid, binary)
                last = time.monotonic()
            except OSError:
                pass  # it ended while we read it
        with open(out, "w") as f:
            f.write("".join(f"{p:x}\n" for p in sorted(seen)))
        time.sleep(2)
    print(f"{len(seen)} pages ({len(seen) * PAGE / 2**20:.1f} MiB) in {out}")


def order(binary, pages_file, out):
    """The functions on the pages, in address order, one mangled name a line."""
    pages = sorted(int(line, 16) for line in open(pages_file) if line.strip())
    listing = subprocess.run(
        ["nm", "--defined-only", "-S", binary], capture_output=True, text=True, check=True
    ).stdout
    symbols = []
    for line in listing.splitlines():
        parts = line.split(" ", 3)
        if len(parts) == 4 and parts[2] in "tTwW":
            symbols.append((int(parts[0], 16), int(parts[1], 16), parts[3]))
    symbols.sort()
    starts = [s[0] for s in symbols]
    names, size = {}, 0
    for page in pages:
        i = max(bisect.bisect_right(starts, page) - 1, 0)
        while i < len(symbols) and symbols[i][0] < page + PAGE:
            addr, length, name = symbols[i]
            if addr + length > page and name not in names:
                names[name] = addr
                size += length
            i += 1
    with open(out, "w") as f:
        f.write("".join(f"{n}\n" for n, _ in sorted(names.items(), key=lambda kv: kv[1])))
    print(f"{len(names)} functions, {size / 2**20:.1f} MiB, on {len(pages)} pages, in {out}")


def main(argv):
    if len(argv) == 4 and argv[1] == "collect":
        collect(os.path.realpath(argv[2]), argv[3])
    elif len(argv) == 5 and argv[1] == "order":
        order(argv[2], argv[3], argv[4])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
