#!/usr/bin/python3
"""The as-run log against the plan, exactly, for a virtual-clock run of more
than 200 segments that starts inside a segment (join in progress), contains
assets that end early (padded), cannot open (failed), segments shorter than a
frame (skipped), and ends mid-segment (truncated). One JSON line per segment
that ended, in one file per channel per UTC day under asrun_dir.
"""
import glob
import json
import os

import rvtest
from rvtest import Tap

RATE = (30000, 1001)
EPOCH = 1763769600000 - 40000  # 40 s before a UTC midnight: the log spans two days


def build_plan():
    segs = []
    kinds = ["aired", "padded", "failed", "pad", "skipped", "aired"]
    for i in range(216):
        kind = kinds[i % len(kinds)]
        d = [400, 700, 533, 1001][i % 4]
        if kind == "aired":
            segs.append({"type": "CONTENT", "duration": d, "uri": "test:", "event": "EV%03d" % i})
        elif kind == "padded":
            segs.append({"type": "CONTENT", "duration": d, "uri": "test:frames=5",
                         "event": "EV%03d" % i})
        elif kind == "failed":
            segs.append({"type": "FILLER", "duration": d, "uri": "test:open_fail=1",
                         "event": "EV%03d" % i})
        elif kind == "pad":
            segs.append({"type": "PAD", "duration": d, "event": "EV%03d" % i})
        else:
            segs.append({"type": "CONTENT", "duration": 10, "uri": "test:", "event": "EV%03d" % i})
    end = EPOCH + sum(s["duration"] for s in segs)
    return [{"id": "night", "start": EPOCH, "end": end, "segments": segs}]


def expected_records(blocks, epoch, stop_ms):
    """What the as-run must say for a channel started at `epoch` and stopped
    (run-for) at `stop_ms`."""
    b = blocks[0]
    out = []
    stop_tick = rvtest.first_tick_at(epoch, RATE, stop_ms)
    t = b["start"]
    for i, s in enumerate(b["segments"]):
        start, end = t, t + s["duration"]
        t = end
        f = rvtest.first_tick_at(epoch, RATE, start)
        e = rvtest.first_tick_at(epoch, RATE, end)
        if e <= 0 and f < e:
            continue            # ended before the channel started
        if f >= stop_tick:
            break               # never reached
        if f == e:
            if f > 0:
                out.append({"segment_index": i, "status": "skipped", "scheduled_frames": 0,
                            "frames_aired": 0, "frames_padded": 0, "frames_slate": 0,
                            "event_id": s["event"], "join_in_progress": False})
            continue
        first = max(f, 0)
        last = min(e, stop_tick)
        ticks = last - first
        real = pad = slate = 0
        uri = s.get("uri", "")
        if s["type"] == "PAD":
            pad = ticks
        elif "open_fail" in uri:
            slate = ticks
        elif "frames=" in uri:
            frames = int(uri.split("=")[1])
            for n in range(first, last):
                pos = rvtest.tick_instant_ms(epoch, RATE, n) - start
                pos_ms = pos.numerator // pos.denominator
                if -((-pos_ms * 30000) // 1001000) < frames:
                    real += 1
                else:
                    pad += 1
        else:
            real = ticks
        if last < e:
            status = "truncated"
        elif slate:
            status = "failed"
        elif pad and s["type"] != "PAD":
            status = "padded"
        else:
            status = "aired"
        out.append({"segment_index": i, "status": status, "scheduled_frames": e - f,
                    "frames_aired": real, "frames_padded": pad, "frames_slate": slate,
                    "event_id": s["event"], "join_in_progress": f < 0,
                    "scheduled_start_utc_ms": start,
                    "actual_start_utc_ms": int(rvtest.tick_instant_ms(epoch, RATE, first))})
    return out


def main():
    tap = Tap()
    work = rvtest.scratch("asrun")
    mods = rvtest.module_dir_with_tests(work)
    blocks = build_plan()
    tap.ok(len(blocks[0]["segments"]) >= 200, "plan has %d segments" % len(blocks[0]["segments"]))
    asrun_dir = os.path.join(work, "asrun")
    framelog = os.path.join(work, "f.jsonl")
    cfg = rvtest.engine_config(work, mods, [rvtest.framelog_channel(7, framelog, mode="summary",
                                                                    plan="night")],
                               extra_engine='  asrun_dir = "%s";' % asrun_dir)
    rvtest.write(os.path.join(work, "plans", "night.conf"), rvtest.plan_text(blocks))
    join = EPOCH + 1234           # inside segment 2 (400 + 700 + 533)
    last = blocks[0]["segments"][-1]["duration"]
    run_ms = blocks[0]["end"] - join - last // 3   # ends inside the last segment
    rc, out, err = rvtest.run_engine(cfg, ["--clock=virtual", "--start-utc-ms=%d" % join,
                                           "--run-for=%.3f" % (run_ms / 1000.0)])
    if not tap.ok(rc == 0, "engine exits 0"):
        tap.diag(err[-2000:])
        tap.done()
    files = sorted(glob.glob(os.path.join(asrun_dir, "*.jsonl")))
    names = [os.path.basename(f) for f in files]
    tap.ok(names == ["channel-7-2025-11-21.jsonl", "channel-7-2025-11-22.jsonl"],
           "one file per channel per UTC day: %s" % names)
    got = []
    for f in files:
        with open(f) as fh:
            got += [json.loads(l) for l in fh if l.strip()]
    want = expected_records(blocks, join, join + run_ms)
    tap.ok(len(got) == len(want) and len(got) >= 200,
           "one line per segment that ended (%d, want %d)" % (len(got), len(want)))
    mism = []
    for g, w in zip(got, want):
        for k, v in w.items():
            if g.get(k) != v:
                mism.append((w["segment_index"], k, g.get(k), v))
    tap.ok(not mism, "every line matches the plan exactly %s" % mism[:4])
    statuses = set(r["status"] for r in got)
    tap.ok({"aired", "padded", "failed", "skipped", "truncated"} <= statuses,
           "the run covers aired, padded, failed, skipped and truncated: %s" % sorted(statuses))
    tap.ok(got and got[0]["join_in_progress"] is True and
           all(r["join_in_progress"] is False for r in got[1:]),
           "join_in_progress marks only the segment the channel started in")
    tap.ok(all(r["channel"] == 7 and r["block_id"] == "night" for r in got),
           "channel and block_id on every line")
    keys = ["channel", "block_id", "event_id", "segment_index", "asset_uri",
            "scheduled_start_utc_ms", "actual_start_utc_ms", "scheduled_frames", "frames_aired",
            "frames_padded", "frames_slate", "frames_freeze", "status", "join_in_progress"]
    tap.ok(all(all(k in r for k in keys) for r in got), "every line has every field")
    tap.done()


if __name__ == "__main__":
    main()
