#!/usr/bin/python3
"""--run-for on the virtual clock stops at its instant even when the main
thread is slow to start the thread that waits for it (the race behind
integration.asrun_records' failures under heavy load: an autostarted channel
runs flat out on the virtual clock, and it used to learn its stop only from
that thread). The engine runs with tests/preload/rv_slow_spawn.so preloaded:
every pthread_create of its main thread waits RV_SLOW_SPAWN_MS first, so the
window is there every run. The framelog must hold exactly the ticks due
before the stop, the as-run one record per segment, the last one truncated.
"""
import glob
import os
import subprocess

import rvtest
from rvtest import Tap

RATE = (30000, 1001)
EPOCH = 1763712000000  # 2025-11-21T08:00:00Z
SEG_MS = 400
RUN_MS = 2 * SEG_MS + SEG_MS // 2   # stops inside the third segment of six


def run(tap, work, mods, delay_ms):
    d = os.path.join(work, "delay-%d" % delay_ms)
    framelog = os.path.join(d, "ticks.jsonl")
    asrun_dir = os.path.join(d, "asrun")
    blocks = [{"id": "b", "start": EPOCH, "end": EPOCH + 6 * SEG_MS, "segments": [
        {"type": "CONTENT", "duration": SEG_MS, "uri": "test:", "event": "e%d" % i}
        for i in range(6)]}]
    cfg = rvtest.engine_config(d, mods, [rvtest.framelog_channel(1, framelog, plan="p")],
                               extra_engine='  asrun_dir = "%s";' % asrun_dir)
    rvtest.write(os.path.join(d, "plans", "p.conf"), rvtest.plan_text(blocks))
    env = dict(os.environ)
    env["LD_PRELOAD"] = os.path.join(rvtest.env("RV_BUILD_DIR"), "tests", "preload",
                                     "rv_slow_spawn.so")
    env["RV_SLOW_SPAWN_MS"] = str(delay_ms)
    # the sanitizer build: its runtime need not come first when a library is preloaded
    env["ASAN_OPTIONS"] = ":".join(x for x in (env.get("ASAN_OPTIONS", ""),
                                                "verify_asan_link_order=0") if x)
    p = subprocess.run([rvtest.env("RV_BIN"), "--config", cfg, "--clock=virtual",
                        "--start-utc-ms=%d" % EPOCH, "--run-for=%.3f" % (RUN_MS / 1000.0)],
                       capture_output=True, text=True, timeout=300, env=env)
    if not tap.ok(p.returncode == 0 and "rv_slow_spawn: the main thread's pthread_create "
                  "waits %d ms" % delay_ms in p.stderr,
                  "main thread's thread starts %d ms late (the preload says so): engine exits 0"
                  % delay_ms):
        tap.diag(p.stderr[-2000:])
    ticks = rvtest.read_jsonl(framelog) if os.path.exists(framelog) else []
    want = rvtest.first_tick_at(EPOCH, RATE, EPOCH + RUN_MS)
    tap.ok([t.get("tick") for t in ticks] == list(range(want)),
           "... the framelog holds ticks 0..%d, the ones due before the stop (%d ticks%s)" %
           (want - 1, len(ticks), ", last %s" % ticks[-1].get("tick") if ticks else ""))
    recs = []
    for f in sorted(glob.glob(os.path.join(asrun_dir, "*.jsonl"))):
        recs += rvtest.read_jsonl(f)
    tap.ok([r.get("segment_index") for r in recs] == [0, 1, 2] and
           [r.get("status") for r in recs][-1:] == ["truncated"],
           "... the as-run: segments 0, 1 and the one on air at the stop, truncated: %s" %
           [(r.get("segment_index"), r.get("status")) for r in recs])


def main():
    tap = Tap(6)
    work = rvtest.scratch("run_for_stop")
    mods = rvtest.module_dir_with_tests(work)
    for delay_ms in (0, 300):
        run(tap, work, mods, delay_ms)
    tap.done()


if __name__ == "__main__":
    main()
