#!/usr/bin/python3
"""kill -9 at random moments, then restart, N times (issue 16, item 3): the
as-run log and two framelogs (ticks and summary, flush = "close") of one
channel whose plan loops over hostile ids. After every kill:

* every line of every file is valid UTF-8 JSON; a partial last line (only
  possible if the kernel cut a write short) is counted, and must be gone
  once the next run opens the file;
* files only grow: what was there before the run (less any partial line) is
  still there, byte for byte (append, never truncate);
* each run's as-run records are the plan's segments in order from the first
  one aired, with no hole and no repeat; its framelog ticks are 0, 1, 2, ...
  with no hole, its summary lines contiguous segments;
* records lost: the segment on air at the kill never has a record (it has
  not ended). A record the output thread had queued but the writer had not
  yet appended at the kill is in the as-run journal, and the next run writes
  it before its own (asrun_journal.h): so a run's records are counted
  wherever they land, by their time (a run's records start at or after its
  start: on the virtual clock each run starts on its own UTC day). A segment
  the framelog shows ended but that no run wrote a record for is lost:
  counted and reported, and the command fails if --max-lost is exceeded.

A last run ends cleanly and must write the record of the segment on air.

  kill9_records.py [--kills N] [--clock virtual|real] [--seed S]
                   [--max-delay-ms MS] [--max-in-flight K]

ctest runs 30 kills on the virtual clock; tools/kill9-records runs 1000
(docs/reliability.md).
"""
import argparse
import glob
import os
import random
import re
import signal
import subprocess
import time

import records_check as rc
import rvtest
from rvtest import Tap

EPOCH = 1763769600000                     # a UTC midnight: one as-run file per run day
DAY_MS = 86400000
DURATIONS = [100, 233, 400, 67, 1001, 300, 150, 500]   # ms, each at least two frames
ROTATE_EVERY = 50                         # kills between the test's own log rotations


def plan_segments():
    segs = []
    for i, raw in enumerate(rc.HOSTILE_IDS):
        segs.append({"duration": DURATIONS[i % len(DURATIONS)], "event": raw + b"#%d" % i})
    return segs


class Files:
    """The logs under watch, with what each held after the last run."""

    def __init__(self, asrun_dir, framelogs):
        self.asrun_dir = asrun_dir
        self.framelogs = framelogs
        self.before = {}

    def paths(self):
        return sorted(glob.glob(os.path.join(self.asrun_dir, "*.jsonl"))) + self.framelogs

    def snapshot_sizes(self):
        """Per file: the size it must keep (up to its last '\\n') and the tail
        bytes before that point, to compare after the run."""
        out = {}
        for p in self.paths():
            data = rc.read(p)
            keep = data.rfind(b"\n") + 1
            out[p] = (keep, data[max(0, keep - 4096):keep], len(data) - keep)
        self.before = out
        return out


def new_bytes(path, before):
    keep, tail, _ = before.get(path, (0, b"", 0))
    if not os.path.exists(path):
        return keep == 0, b""
    with open(path, "rb") as f:
        f.seek(max(0, keep - len(tail)))
        old = f.read(len(tail))
        rest = f.read()
    return old == tail, rest


def wait_for_growth(proc, path, size, timeout=60):
    """Until @path grows past @size (the run's first segment ended), the
    process ends, or @timeout seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        if os.path.exists(path) and os.path.getsize(path) > size:
            return
        time.sleep(0.005)


def asrun_holes(records, segs, first_start=None):
    """Records that do not follow the one before in plan order."""
    holes = []
    for i, r in enumerate(records):
        if i == 0:
            if first_start is not None and (r.get("scheduled_start_utc_ms") != first_start or
                                            r.get("segment_index") != 0):
                holes.append((i, "first record is not the first segment"))
            continue
        p = records[i - 1]
        idx = (p["segment_index"] + 1) % len(segs)
        start = p["scheduled_start_utc_ms"] + segs[p["segment_index"]]["duration"]
        if r.get("segment_index") != idx or r.get("scheduled_start_utc_ms") != start:
            holes.append((i, p.get("segment_index"), r.get("segment_index")))
    return holes


def ticks_segments_ended(ticks):
    """Segment instances in the framelog's ticks. With flush = "close" the
    sink writes a segment's lines when the next segment's first tick reaches
    it, so every one there has ended, and the output thread had queued its
    as-run record before it passed that tick on."""
    return sum(1 for i, t in enumerate(ticks)
               if i == 0 or (t.get("segment_index"), t.get("block_id")) !=
               (ticks[i - 1].get("segment_index"), ticks[i - 1].get("block_id")))


def summary_holes(lines):
    segs = [s for s in lines if s.get("type") == "segment"]
    return [i for i in range(1, len(segs))
            if segs[i].get("expected_first_tick") != segs[i - 1].get("expected_end_tick")]


def journal_counts(log, replayed, found_written):
    """Add what a run's log says it wrote from the journal."""
    for m in re.finditer(rb"stopped without draining its journal: (\d+) written now, "
                         rb"(\d+) found written already", log):
        replayed += int(m.group(1))
        found_written += int(m.group(2))
    return replayed, found_written


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kills", type=int, default=30)
    ap.add_argument("--clock", choices=("virtual", "real"), default="virtual")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--max-delay-ms", type=int, default=None)
    ap.add_argument("--max-lost", "--max-in-flight", type=int, default=-1, dest="max_lost",
                    help="fail when more records than this were lost beyond the segment on air")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else int(time.time())
    rnd = random.Random(seed)
    max_delay = args.max_delay_ms or (100 if args.clock == "virtual" else 3000)

    tap = Tap(8)
    tap.diag("seed %d, %d kills, %s clock, kill within %d ms of start" %
             (seed, args.kills, args.clock, max_delay))
    work = rvtest.scratch("kill9_records")
    mods = rc.minimal_modules(work)
    asrun_dir = os.path.join(work, "asrun")
    ticks = os.path.join(work, "ticks.jsonl")
    summary = os.path.join(work, "summary.jsonl")
    cfg = rc.engine_config(work, mods, [(ticks, "ticks", "close"), (summary, "summary", "close")],
                           asrun_dir, log_level="warn")
    segs = plan_segments()
    files = Files(asrun_dir, [ticks, summary])

    def start_run(k):
        """The command of run @k and the UTC ms its records start at or after.
        Virtual clock: run k starts its plan at EPOCH + k days."""
        if args.clock == "virtual":
            start = EPOCH + k * DAY_MS
            plan_start = start
        else:
            start = int(time.time() * 1000)
            plan_start = real_plan_start
        rvtest.write(os.path.join(work, "plans", "p.conf"),
                     rc.plan_bytes(b"loop\x01" + "漢".encode() * 43, plan_start, segs, loop=True))
        cmd = [rvtest.env("RV_BIN"), "--config", cfg]
        if args.clock == "virtual":
            cmd += ["--clock=virtual", "--start-utc-ms=%d" % start]
        return cmd, start

    real_plan_start = int(time.time() * 1000) - 3600 * 1000
    run_starts = []          # per run: the UTC ms its records start at or after
    ended = []               # per run: segments its framelog shows ended
    records = []             # every as-run record, in the order the runs wrote them

    killed = bad_runs = 0
    invalid = []
    not_appended = []
    torn_seen = 0
    asrun_holes_seen = []
    tick_holes = []
    sum_holes = []
    in_flight = 0
    replayed = found_written = 0    # records the next run wrote from the journal, or found there
    lines = 0
    for k in range(args.kills):
        if k and k % ROTATE_EVERY == 0:      # bound the files: the operator's rotation
            for p in files.paths():
                os.remove(p)
        before = files.snapshot_sizes()
        size_before = os.path.getsize(ticks) if os.path.exists(ticks) else 0
        cmd, start = start_run(k)
        run_starts.append(start)
        t0 = time.time()
        errlog = open(os.path.join(work, "stderr.txt"), "w+b")
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=errlog)
        if rnd.random() < 0.2:
            # during start-up (loading modules, opening the logs, the first ticks)
            time.sleep(rnd.uniform(0, 2.0))
        else:
            # once the channel airs: a random moment of production
            wait_for_growth(proc, ticks, size_before)
            time.sleep(rnd.uniform(0, max_delay / 1000.0))
        proc.send_signal(signal.SIGKILL)
        killed_after = time.time() - t0
        proc.wait()
        killed += proc.returncode == -signal.SIGKILL
        if proc.returncode != -signal.SIGKILL:
            bad_runs += 1
            errlog.seek(0)
            tap.diag("run %d ended by itself (%s) after %.3f s: %s" %
                     (k, proc.returncode, killed_after,
                      errlog.read()[-1500:].decode(errors="replace")))
        errlog.seek(0)
        replayed, found_written = journal_counts(errlog.read(), replayed, found_written)
        errlog.close()
        run = {}
        for p in files.paths():
            kept, rest = new_bytes(p, before)
            if not kept:
                not_appended.append((k, p))
            got, bad, torn = rc.check_lines(rest)
            invalid += [(k, os.path.basename(p), b) for b in bad]
            if torn:
                torn_seen += 1
            run[p] = got
            lines += len(got)
        records.extend(r for p in files.paths() if p.startswith(asrun_dir)
                       for r in run.get(p, []))
        tk = run.get(ticks, [])
        if [t.get("tick") for t in tk] != list(range(len(tk))):
            tick_holes.append(k)
            got_ticks = [t.get("tick") for t in tk]
            gaps = [(a, b) for a, b in zip([-1] + got_ticks, got_ticks) if b != a + 1]
            tap.diag("kill %d: framelog ticks not contiguous (the sink's queue dropped, or "
                     "a write was lost): gaps after/before %s" % (k, gaps[:3]))
        if summary_holes(run.get(summary, [])):
            sum_holes.append(k)
        ended.append(ticks_segments_ended(tk))

    tap.ok(killed == args.kills, "%d runs killed with SIGKILL at random moments (%d ended "
                                 "otherwise)" % (killed, bad_runs))
    # (a partial line left by one run and not cut by the next would make the
    # next run's first line invalid: this check covers the repair too)
    tap.ok(not invalid, "every line written before each kill is valid UTF-8 JSON "
                        "(%d lines; %d partial last lines, each cut at the next open) %s" %
           (lines, torn_seen, invalid[:3]))
    tap.ok(not not_appended, "files only grew: earlier lines intact after every restart %s" %
           not_appended[:3])
    tap.ok(not tick_holes and not sum_holes,
           "each run's framelog ticks start at 0 with no hole, summary segments contiguous "
           "%s %s" % (tick_holes[:3], sum_holes[:3]))

    # A clean stop at the end: the segment on air gets its record.
    files.snapshot_sizes()
    before = dict(files.before)
    cmd, start = start_run(args.kills)
    run_starts.append(start)
    if args.clock == "virtual":
        p = subprocess.run(cmd + ["--run-for=%.3f" % 7.777], stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE)
        code = p.returncode
        replayed, found_written = journal_counts(p.stderr, replayed, found_written)
    else:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(3.3)
        proc.send_signal(signal.SIGTERM)
        replayed, found_written = journal_counts(proc.communicate()[1], replayed, found_written)
        code = proc.returncode
    final = {p: rc.check_lines(new_bytes(p, before)[1]) for p in files.paths()}
    records.extend(r for p, (got, _, _) in final.items() if p.startswith(asrun_dir) for r in got)

    # Each killed run's records, wherever they were written (by it, or by a
    # later run from the journal), against what its framelog shows ended.
    by_run = [[] for _ in run_starts]
    for r in records:
        t = r.get("actual_start_utc_ms", 0)
        i = max([i for i, s in enumerate(run_starts) if s <= t], default=0)
        by_run[i].append(r)
    for k in range(args.kills):
        h = asrun_holes(by_run[k], segs, run_starts[k] if args.clock == "virtual" else None)
        if h:
            asrun_holes_seen.append((k, h[:2]))
        lost = max(0, ended[k] - len(by_run[k]))
        if lost:
            tap.diag("kill %d: %d records lost (framelog: %d segments ended, as-run: %d records)"
                     % (k, lost, ended[k], len(by_run[k])))
        in_flight += lost
    asr = by_run[-1]
    tk = final.get(ticks, ([], [], b""))[0]
    last_seg = tk[-1].get("segment_index") if tk else None
    tap.ok(code == 0 and asr and asr[-1].get("status") == "truncated" and
           asr[-1].get("segment_index") == last_seg,
           "a clean stop writes the record of the segment on air (segment %s, %s)" %
           (asr[-1].get("segment_index") if asr else None,
            asr[-1].get("status") if asr else None))
    tap.ok(not asrun_holes_seen, "each run's as-run records (its own and those the next run "
                                 "wrote from the journal) follow the plan with no hole or "
                                 "repeat %s" % asrun_holes_seen[:3])
    whole = [(p, rc.check_lines(rc.read(p))) for p in files.paths()]
    tap.ok(all(not bad and torn == b"" for _, (_, bad, torn) in whole),
           "after the clean stop every file is whole lines of valid JSON")
    tap.diag("records a killed run had queued and the next run wrote from the journal: %d "
             "(and %d it found already written)" % (replayed, found_written))
    tap.diag("records lost beyond the segment on air: %d in %d kills" % (in_flight, args.kills))
    if args.max_lost >= 0:
        tap.ok(in_flight <= args.max_lost,
               "records lost beyond the segment on air: %d (at most %d)" %
               (in_flight, args.max_lost))
    else:
        tap.ok(lines > 0, "the runs wrote %d lines in all" % lines)
    print("kill9: kills=%d lines=%d torn=%d lost_beyond_on_air=%d replayed=%d clock=%s seed=%d" %
          (args.kills, lines, torn_seen, in_flight, replayed, args.clock, seed))
    tap.done()


if __name__ == "__main__":
    main()
