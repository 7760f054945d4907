#!/usr/bin/python3
"""A producer that stops delivering without an error (a read that hangs, as on
a dead network mount), on a real-clock channel: the output never stops (every
tick aired), the last picture is held for at most 250 ms, then the slate airs
and the channel reports `error`; the watchdog gives up on the hung read, the
asset is retried at the position then due, and real frames return.
"""
import os
import time

import rvtest
from rvtest import Tap

RATE = (30000, 1001)


def main():
    tap = Tap()
    work = rvtest.scratch("watchdog")
    mods = rvtest.module_dir_with_tests(work)
    framelog = os.path.join(work, "ticks.jsonl")
    cfg = rvtest.engine_config(work, mods, [rvtest.framelog_channel(1, framelog, plan="hang")])
    start = int(time.time() * 1000)   # the channel joins the segment near its start
    rvtest.write(os.path.join(work, "plans", "hang.conf"), rvtest.plan_text(
        [{"id": "h", "start": start, "end": start + 60000, "segments": [
            {"type": "CONTENT", "duration": 60000, "uri": "test:hang_after=40&hang_ms=2500",
             "event": "HANG"}]}]))
    rc, out, err = rvtest.run_engine(cfg, ["--run-for=8"], timeout=120)
    tap.ok(rc == 0, "the engine exits 0 (rc=%d)" % rc)
    lines = rvtest.read_jsonl(framelog)
    ticks = [l["tick"] for l in lines]
    tap.ok(ticks == list(range(len(ticks))) and len(ticks) == rvtest.first_tick_at(0, RATE, 8000),
           "every tick aired while the producer hung (%d)" % len(ticks))
    src = [l["source"] for l in lines]
    # runs of equal sources, in order
    runs = []
    for s in src:
        if runs and runs[-1][0] == s:
            runs[-1][1] += 1
        else:
            runs.append([s, 1])
    tap.diag("sources: %s" % " ".join("%s*%d" % (s, n) for s, n in runs))
    # the hang: the first slate run, and the hold just before it
    k = next((i for i, r in enumerate(runs) if r[0] == "slate"), None)
    tap.ok(k is not None and k > 0 and runs[k - 1][0] == "freeze",
           "when no frame is ready the last picture is held first")
    freeze_run = runs[k - 1][1] if k else 0
    tap.ok(0 < freeze_run <= 8, "held for at most 250 ms (%d ticks)" % freeze_run)
    tap.ok(k is not None and runs[k][1] > 8, "then the slate airs")
    first_bad = sum(n for _, n in runs[:k]) if k is not None else None
    back = next((i for i in range(first_bad, len(src)) if src[i] == "real"), None) \
        if first_bad is not None else None
    tap.ok(back is not None, "real frames return after the hang (tick %s)" % back)
    tap.ok(back is not None and "slate" not in src[back:],
           "and no slate airs after the recovery")
    if back is not None:
        l = lines[back]
        pos = l["utc_ms"] - start
        tap.ok(abs(l["asset_offset_ms"] - pos) <= 1,
               "the asset rejoined at the position then due (%d ms, want ~%d)" %
               (l["asset_offset_ms"], pos))
    else:
        tap.ok(False, "the asset rejoined at the position then due")
    tap.ok("watchdog" in err, "the watchdog logged what it did")
    tap.done()


if __name__ == "__main__":
    main()
