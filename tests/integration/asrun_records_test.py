#!/usr/bin/python3
"""As-run and framelog records from hostile ids, through the real binary
(issue 16, item 3): a plan whose block and event ids hold control
characters, bytes that are not UTF-8, overlong forms and 129 bytes of CJK.
Every line of both logs is valid UTF-8 and parses as JSON, no record is
dropped, each id reads back as its bytes decoded with U+FFFD for the
ill-formed parts (cut on a character boundary where a record keeps 127
bytes); a second run appends to both files; a clean stop (SIGTERM, real
clock) writes the record of the segment on air.
"""
import glob
import os
import signal
import subprocess
import time

import records_check as rc
import rvtest
from rvtest import Tap

EPOCH = 1763769600000
BLOCK_ID = "漢".encode() * 43 + b"\x01\xff"
SEG_MS = 400


def segments():
    return [{"duration": SEG_MS, "event": raw} for raw in rc.HOSTILE_IDS]


def run_virtual(cfg, run_ms):
    return rvtest.run_engine(cfg, ["--clock=virtual", "--start-utc-ms=%d" % EPOCH,
                                   "--run-for=%.3f" % (run_ms / 1000.0)])


def check_file(tap, what, data):
    records, bad, torn = rc.check_lines(data)
    tap.ok(records and not bad and torn == b"",
           "%s: %d lines, every one valid UTF-8 JSON, none partial %s" %
           (what, len(records), bad[:3]))
    return records


def hostile_ids(tap, work, mods):
    asrun_dir = os.path.join(work, "asrun")
    ticks = os.path.join(work, "ticks.jsonl")
    summary = os.path.join(work, "summary.jsonl")
    cfg = rc.engine_config(work, mods, [(ticks, "ticks", "close"), (summary, "summary", "close")],
                           asrun_dir)
    segs = segments()
    rvtest.write(os.path.join(work, "plans", "p.conf"), rc.plan_bytes(BLOCK_ID, EPOCH, segs))
    run_ms = SEG_MS * len(segs) - SEG_MS // 2      # stops inside the last segment
    code, _, err = run_virtual(cfg, run_ms)
    if not tap.ok(code == 0, "engine exits 0 on a plan of hostile ids"):
        tap.diag(err[-2000:])
    files = glob.glob(os.path.join(asrun_dir, "*.jsonl"))
    tap.ok(len(files) == 1, "one as-run file: %s" % files)
    asrun_path = files[0] if files else os.path.join(asrun_dir, "missing")
    first = {p: rc.read(p) for p in (asrun_path, ticks, summary)}
    recs = check_file(tap, "as-run", first[asrun_path])
    tick_lines = check_file(tap, "framelog (ticks)", first[ticks])
    sum_lines = check_file(tap, "framelog (summary)", first[summary])

    tap.ok([r.get("segment_index") for r in recs] == list(range(len(segs))),
           "one as-run record per segment, none dropped: %s" %
           [r.get("segment_index") for r in recs])
    want_events = [rc.expected_text(s["event"], 128) for s in segs]
    got_events = [r.get("event_id") for r in recs]
    tap.ok(got_events == want_events,
           "as-run event ids: ill-formed bytes as U+FFFD, cut on a character boundary")
    if got_events != want_events:
        for g, w in zip(got_events, want_events):
            if g != w:
                tap.diag("got %r want %r" % (g, w))
    cjk = [r for r in recs if r.get("event_id", "").startswith("漢")]
    tap.ok(len(cjk) == 1 and cjk[0]["event_id"] == "漢" * 42,
           "43 CJK characters (129 bytes) keep 42 whole characters")
    tap.ok(recs and all(r.get("block_id") == "漢" * 42 for r in recs),
           "a 131-byte block id is cut to 42 whole characters on every record")
    tap.ok(recs and recs[-1].get("status") == "truncated",
           "the segment on air at the end of the run has its record (truncated)")
    want_full = [rc.expected_text(s["event"]) for s in segs]
    seen = []
    for t in tick_lines:
        if not seen or seen[-1] != t.get("event_id"):
            seen.append(t.get("event_id"))
    tap.ok(seen == want_full and all(t.get("block_id") == rc.expected_text(BLOCK_ID)
                                     for t in tick_lines),
           "framelog ticks carry every id whole, ill-formed bytes as U+FFFD")
    segs_sum = [s for s in sum_lines if s.get("type") == "segment"]
    tap.ok([s.get("event_id") for s in segs_sum] == want_full and
           sum_lines and sum_lines[-1].get("type") == "total",
           "framelog summary: one line per segment with its ids, then the total")

    # A write a killed process did not finish: a partial last line in each file.
    torn = b'{"channel":5,"block_id":"\xe6\xbc'
    for p in first:
        with open(p, "ab") as f:
            f.write(torn)
    # A second run cuts those partial lines and appends to all three files.
    code, _, err = run_virtual(cfg, run_ms)
    tap.ok(code == 0, "second run exits 0")
    second = {p: rc.read(p) for p in first}
    tap.ok(all(second[p].startswith(first[p]) and len(second[p]) == 2 * len(first[p])
               for p in first),
           "a restart appends to the as-run and both framelogs; nothing is truncated")
    cuts = [l for l in err.splitlines() if "ended in a partial line (%d bytes" % len(torn) in l]
    tap.ok(len(cuts) == 3, "each partial last line was cut at open, with a warning: %s" %
           [c[-90:] for c in cuts])
    for p in first:
        _, bad, torn = rc.check_lines(second[p])
        if bad or torn:
            tap.diag("%s: %s %r" % (p, bad[:2], torn[:40]))


def clean_stop(tap, work, mods):
    """Real clock: SIGTERM inside a segment writes that segment's record."""
    asrun_dir = os.path.join(work, "asrun")
    ticks = os.path.join(work, "ticks.jsonl")
    cfg = rc.engine_config(work, mods, [(ticks, "ticks", "line")], asrun_dir)
    start = int(time.time() * 1000) - 5000
    segs = [{"duration": 700, "event": b"seg%d\x01" % i} for i in range(200)]
    rvtest.write(os.path.join(work, "plans", "p.conf"), rc.plan_bytes(b"live", start, segs))
    proc = subprocess.Popen([rvtest.env("RV_BIN"), "--config", cfg], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while time.time() < deadline and rc.read(ticks).count(b"\n") < 75:
        time.sleep(0.05)
    # land inside a segment: past its first few ticks, well before its fence
    lines, _, _ = rc.check_lines(rc.read(ticks))
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    tap.ok(proc.returncode == 0 and len(lines) >= 75,
           "real clock: SIGTERM after %d ticks, exit %s" % (len(lines), proc.returncode))
    ticks_all, bad, torn = rc.check_lines(rc.read(ticks))
    files = glob.glob(os.path.join(asrun_dir, "*.jsonl"))
    recs = []
    for f in files:
        got, b2, t2 = rc.check_lines(rc.read(f))
        recs += got
        bad += b2
    tap.ok(ticks_all and recs and not bad and torn == b"", "every line valid after SIGTERM")
    last_tick = ticks_all[-1] if ticks_all else {}
    on_air = [t for t in ticks_all if t.get("segment_index") == last_tick.get("segment_index")]
    last = recs[-1] if recs else {}
    aired = sum(last.get(k, 0) for k in ("frames_aired", "frames_padded", "frames_slate",
                                          "frames_freeze"))
    tap.ok(last.get("segment_index") == last_tick.get("segment_index") and
           last.get("event_id") == last_tick.get("event_id") and aired == len(on_air),
           "the segment on air at the stop has its record (segment %s, %s, %d of %d ticks "
           "aired as the framelog saw)" % (last.get("segment_index"), last.get("status"), aired,
                                          len(on_air)))
    indices = [r.get("segment_index") for r in recs]
    tap.ok(indices == list(range(indices[0], indices[0] + len(indices))) if indices else False,
           "one record per segment from the one joined to the one on air: %s..%s" %
           (indices[:1], indices[-1:]))
    if proc.returncode != 0:
        tap.diag(err.decode(errors="replace")[-1500:])


def main():
    tap = Tap(19)
    work = rvtest.scratch("asrun_records")
    mods = rvtest.module_dir_with_tests(work)
    hostile_ids(tap, os.path.join(work, "hostile"), mods)
    clean_stop(tap, os.path.join(work, "stop"), mods)
    tap.done()


if __name__ == "__main__":
    main()
