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
    # how many of the file's names a production binary has; `refresh` renames the
    # ones whose hash alone changed (a dependency or rustc bump) to the binary's names
    scripts/code-order.py check BINARY bin/talos/code-order.txt
    scripts/code-order.py refresh BINARY bin/talos/code-order.txt

With read-ahead off, a page is in the page cache only once some node ran code on it, so
the pages mapped are the pages run (plus neighbours another node ran). Names are
mangled symbols whose hashes depend on the profile, the dependencies and rustc: the
linker skips names a build lacks, so check the share after such a change.
Needs `nm` (binutils). No library reads /proc/PID/pagemap for us, hence this script.
"""
import os
import re
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
            if len(parts) == 6 and same_file(parts[5].strip(), binary):
                lo, hi = (int(x, 16) for x in parts[0].split("-"))
                maps.append((lo, hi, parts[1], int(parts[2], 16)))
    # A PIE: its first PT_LOAD (file offset 0) has link-time address 0.
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


def same_file(path, binary):
    try:
        a, b = os.stat(path), os.stat(binary)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def pids_of(binary):
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if same_file(f"/proc/{pid}/exe", binary):
                    yield pid
            except OSError:
                pass


def collect(binary, out):
    """Samples every process of `binary` every 2 s until none has run for 60 s (waiting
    as long as it takes for the first)."""
    seen, last = set(), None
    while last is None or time.monotonic() - last < 60:
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


def text_symbols(binary):
    """(address, size, mangled name) of every function in `binary`."""
    listing = subprocess.run(
        ["nm", "--defined-only", "-S", binary], capture_output=True, text=True, check=True
    ).stdout
    symbols = []
    for line in listing.splitlines():
        parts = line.split(" ", 3)
        if len(parts) == 4 and parts[2] in "tTwW":
            symbols.append((int(parts[0], 16), int(parts[1], 16), parts[3]))
    if not symbols:
        sys.exit(f"{binary} has no symbols (stripped?)")
    return symbols


def order(binary, pages_file, out):
    """The functions on the pages, in address order, one mangled name a line."""
    pages = {int(line, 16) for line in open(pages_file) if line.strip()}
    names, sizes = {}, {}
    for addr, length, name in sorted(text_symbols(binary)):
        first, last = addr // PAGE, (addr + max(length, 1) - 1) // PAGE
        if any(p * PAGE in pages for p in range(first, last + 1)):
            names.setdefault(name, addr)
            sizes[addr] = max(sizes.get(addr, 0), length)
    with open(out, "w") as f:
        f.write("".join(f"{n}\n" for n, _ in sorted(names.items(), key=lambda kv: kv[1])))
    size = sum(sizes.values()) / 2**20
    print(f"{len(names)} functions, {size:.1f} MiB, on {len(pages)} pages, in {out}")


def unhashed(name):
    """A mangled name without its hashes (legacy `17h…E`, v0 crate ids, LLVM suffixes)."""
    name = re.sub(r"17h[0-9a-f]{16}E", "E", name)
    name = re.sub(r"Cs[0-9A-Za-z]+_", "Cs_", name)
    return re.sub(r"\.llvm\.\d+$", "", name)


def check(binary, file, rename=False):
    """How many of `file`'s names `binary` has; with `rename`, rewrites the others whose
    hash alone differs to the binary's name (when exactly one name matches)."""
    have = {name for _, _, name in text_symbols(binary)}
    by_form = {}
    for name in have:
        by_form.setdefault(unhashed(name), []).append(name)
    listed = [line.rstrip("\n") for line in open(file) if line.strip()]
    found = sum(name in have for name in listed)
    print(f"{found} of {len(listed)} names ({100 * found / len(listed):.1f} %) in {binary}")
    if rename:
        renamed = [
            n if n in have or len(by_form.get(unhashed(n), [])) != 1 else by_form[unhashed(n)][0]
            for n in listed
        ]
        with open(file, "w") as f:
            f.write("".join(f"{n}\n" for n in renamed))
        found = sum(name in have for name in renamed)
        print(f"after renaming: {found} of {len(listed)} ({100 * found / len(listed):.1f} %)")


def main(argv):
    if len(argv) == 4 and argv[1] == "collect":
        collect(os.path.realpath(argv[2]), argv[3])
    elif len(argv) == 5 and argv[1] == "order":
        order(argv[2], argv[3], argv[4])
    elif len(argv) == 4 and argv[1] in ("check", "refresh"):
        check(argv[2], argv[3], rename=argv[1] == "refresh")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
