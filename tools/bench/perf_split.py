#!/usr/bin/python3
"""tools/bench/perf_split.py: where a process's CPU went, by the kind of work,
from a `perf record --call-graph dwarf` file (docs/PERFORMANCE.md, "Where the
time goes when the engine is above the ffmpeg command").

usage: tools/bench/perf_split.py PERF.DATA

Each sample is put in one bucket by its leaf and its call chain: the shared
library it ran in (libavcodec, libx264, ...), libc's memcpy / memset split by
who called them (the producer's picture copy, the decoder's buffer pool),
kernel time split by what entered the kernel (page faults and the copy that
took them, futex, sleeping, TCP, file reads, mmap). Prints samples and % per
bucket, largest first. Only /usr/bin/python3's standard library and `perf`.
"""
import collections
import re
import subprocess
import sys

FAULT_CALLERS = ("ff_video_draw", "av_buffer_allocz", "x264", "frame_pool", "mpegts", "ts_",
                 "sws_", "swr_", "_dl_", "dlopen")


def bucket(frames):
    """frames: [(symbol, dso)], leaf first; inlined frames carry dso 'inlined'."""
    real = [f for f in frames if f[1] != "inlined"] or frames
    leaf_sym, leaf_dso = frames[0][0], real[0][1]
    chain = " ".join(s for s, _ in frames)
    if "kallsyms" in leaf_dso:
        if "exc_page_fault" in chain:
            for k in FAULT_CALLERS:
                if k in chain:
                    return "kernel: page faults (in %s)" % k
            return "kernel: page faults (other)"
        if "futex" in chain:
            return "kernel: futex (thread wake/wait)"
        if any(k in chain for k in ("tcp_", "sock_", "sendto", "sendmsg", "recvfrom")):
            return "kernel: TCP"
        if "munmap" in chain or "mmap" in chain:
            return "kernel: mmap/munmap"
        if any(k in chain for k in ("nanosleep", "schedule")):
            return "kernel: sleep/schedule"
        if any(k in chain for k in ("ksys_read", "pread", "filemap")):
            return "kernel: file read"
        return "kernel: other"
    if "memmove" in leaf_sym or "memcpy" in leaf_sym:
        if "ff_video_draw" in chain:
            return "libc memcpy: ff_video_draw (decoded picture -> pool picture)"
        return "libc memcpy: other"
    if "memset" in leaf_sym:
        if "av_buffer_allocz" in chain:
            return "libc memset: decoder buffer pool (av_buffer_allocz)"
        return "libc memset: other"
    lib = leaf_dso.split("/")[-1]
    if "libc.so" in lib:
        if any(k in leaf_sym for k in ("malloc", "free", "chunk")):
            return "libc: malloc/free"
        if any(k in leaf_sym for k in ("futex", "pthread", "lll_")):
            return "libc: futex/pthread"
        return "libc: other"
    if "ld-linux" in lib:
        return "ld.so (start-up: loading, relocation)"
    m = re.match(r"(lib[a-z0-9_]+)", lib)
    return m.group(1) if m else lib


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    p = subprocess.Popen(["perf", "script", "-i", sys.argv[1], "-F", "comm,ip,sym,dso"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    counts = collections.Counter()
    frames = []
    for line in p.stdout:
        if not line.strip():
            if frames:
                counts[bucket(frames)] += 1
            frames = []
            continue
        if not line.startswith((" ", "\t")):
            continue  # the sample's header (comm)
        m = re.match(r"\s*[0-9a-f]+\s+(.*)\s+\((.*)\)$", line.rstrip("\n"))
        if m:
            frames.append((m.group(1), m.group(2)))
    if frames:
        counts[bucket(frames)] += 1
    p.wait()
    total = sum(counts.values())
    print("%d samples" % total)
    for k, v in counts.most_common():
        print("%6d %5.1f%%  %s" % (v, 100.0 * v / max(total, 1), k))


if __name__ == "__main__":
    main()
