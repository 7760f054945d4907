#!/usr/bin/python3
"""The channel executor, frame-exact, checked from the framelog of the real
binary running on the virtual clock:
  * a plan of more than 100 segments (content shorter and longer than its
    segment, PAD, FILLER, slate, sub-frame segments): one line per tick, no tick
    missing or repeated, every segment on exactly its computed tick, PAD ticks
    `pad`, content that ends early padded, content that runs long cut at the
    fence, source positions exact, audio samples in the exact pattern;
  * a join-in-progress start inside a segment;
  * failures: an asset that cannot open airs the slate for exactly its segment,
    an asset failing mid-segment airs the slate and is retried.
"""
import os
import random

import rvtest
from rvtest import Tap

RATE = (30000, 1001)
AUDIO = 48000
EPOCH = 1763712000000  # 2025-11-21T08:00:00Z


def build_plan():
    rnd = random.Random(7)
    blocks = []
    t = EPOCH
    durations = [733, 1000, 1500, 2002, 333, 67, 1234, 900, 4004, 16, 2500]
    for b in range(4):
        segs = []
        start = t
        for i in range(30):
            d = durations[(b * 30 + i) % len(durations)]
            kind = (b * 30 + i) % 6
            if kind == 0:
                segs.append({"type": "PAD", "duration": d, "event": "pad-%d-%d" % (b, i)})
            elif kind == 1:  # content shorter than its segment: padded to the fence
                frames = max(1, d * 30 // 1000 // 2)
                segs.append({"type": "CONTENT", "duration": d, "uri": "test:frames=%d" % frames,
                             "event": "short-%d-%d" % (b, i), "frames": frames})
            elif kind == 2:  # content longer than its segment: cut at the fence
                segs.append({"type": "CONTENT", "duration": d, "uri": "test:frames=100000",
                             "offset": rnd.randrange(0, 5000), "event": "long-%d-%d" % (b, i)})
            elif kind == 3:
                segs.append({"type": "FILLER", "duration": d, "uri": "slate:solid",
                             "event": "slate-%d-%d" % (b, i)})
            elif kind == 4:
                segs.append({"type": "CONTENT", "duration": d, "uri": "test:",
                             "offset": 1000, "event": "open-%d-%d" % (b, i)})
            else:
                segs.append({"type": "FILLER", "duration": d, "uri": "slate:bars",
                             "event": "bars-%d-%d" % (b, i)})
            t += d
        blocks.append({"id": "block-%d" % b, "start": start, "end": t, "segments": segs})
    return blocks


def check_ticks(tap, lines, blocks, epoch, end_ms, label):
    n_expected = rvtest.first_tick_at(epoch, RATE, end_ms)
    ticks = [l["tick"] for l in lines]
    tap.ok(ticks == list(range(n_expected)),
           "%s: exactly one line per tick 0..%d (got %d lines)" % (label, n_expected - 1, len(ticks)))
    by_tick = {l["tick"]: l for l in lines}
    segs = rvtest.expected_segments(blocks, epoch, RATE, 0, n_expected)
    wrong_owner = []
    wrong_start = []
    wrong_source = []
    wrong_offset = []
    for (f, e, bid, idx, s, seg_first) in segs:
        first_line = by_tick.get(f)
        if not first_line or first_line["block_id"] != bid or first_line["segment_index"] != idx:
            wrong_start.append((bid, idx, f))
        seg_start_ms = rvtest.Fraction(0)
        for n in range(f, e):
            l = by_tick.get(n)
            if not l:
                continue
            if l["block_id"] != bid or l["segment_index"] != idx:
                wrong_owner.append(n)
                continue
            if s["type"] == "PAD":
                if l["source"] != "pad":
                    wrong_source.append((n, l["source"], "pad"))
                continue
            uri = s.get("uri", "")
            # position in the asset of tick n
            seg_start = None
            t = 0
            for b in blocks:
                if b["id"] == bid:
                    t = b["start"] + sum(x["duration"] for x in b["segments"][:idx])
            seg_start = t
            pos = rvtest.tick_instant_ms(epoch, RATE, n) - seg_start + s.get("offset", 0)
            if uri.startswith("test:frames="):
                frames = int(uri.split("=")[1])
                # the test producer's frame index: ceil(pos_ms * 30000 / 1001000)
                pos_ms = pos.numerator // pos.denominator
                idx_frame = -((-pos_ms * 30000) // 1001000)
                want = "real" if idx_frame < frames else "pad"
                if l["source"] != want:
                    wrong_source.append((n, l["source"], want))
                if want == "real" and l["asset_offset_ms"] != pos_ms:
                    wrong_offset.append((n, l["asset_offset_ms"], pos_ms))
            elif uri.startswith("test:"):
                if l["source"] != "real":
                    wrong_source.append((n, l["source"], "real"))
                pos_ms = pos.numerator // pos.denominator
                if l["asset_offset_ms"] != pos_ms:
                    wrong_offset.append((n, l["asset_offset_ms"], pos_ms))
            elif l["source"] != "real":
                wrong_source.append((n, l["source"], "real"))
    tap.ok(not wrong_start, "%s: all %d segments start on exactly their computed tick %s" %
           (label, len(segs), wrong_start[:3]))
    tap.ok(not wrong_owner, "%s: every tick owned by the segment whose instants contain it %s" %
           (label, wrong_owner[:5]))
    tap.ok(not wrong_source, "%s: sources right (pad for PAD and after early ends, real otherwise) %s" %
           (label, wrong_source[:5]))
    tap.ok(not wrong_offset, "%s: asset_offset_ms exact at every content tick %s" %
           (label, wrong_offset[:5]))
    bad_audio = [l["tick"] for l in lines
                 if l["audio_samples"] != rvtest.samples_in_tick(RATE, AUDIO, l["tick"])]
    tap.ok(not bad_audio, "%s: audio samples follow the exact 1601/1602 pattern %s" %
           (label, bad_audio[:5]))
    return by_tick


def main():
    tap = Tap()
    work = rvtest.scratch("executor")
    mods = rvtest.module_dir_with_tests(work)
    blocks = build_plan()
    nseg = sum(len(b["segments"]) for b in blocks)
    tap.ok(nseg >= 100, "plan has %d segments" % nseg)
    framelog = os.path.join(work, "big.jsonl")
    cfg = rvtest.engine_config(work, mods, [rvtest.framelog_channel(1, framelog, plan="big")])
    rvtest.write(os.path.join(work, "plans", "big.conf"), rvtest.plan_text(blocks))
    end_ms = blocks[-1]["end"]
    run_for = (end_ms - EPOCH) / 1000.0
    rc, out, err = rvtest.run_engine(cfg, ["--clock=virtual", "--start-utc-ms=%d" % EPOCH,
                                           "--run-for=%.3f" % run_for])
    if not tap.ok(rc == 0, "engine exits 0 after --run-for=%.3f (rc=%d)" % (run_for, rc)):
        tap.diag(err[-3000:])
        tap.done()
    lines = rvtest.read_jsonl(framelog)
    check_ticks(tap, lines, blocks, EPOCH, end_ms, "120 segments")

    # Join in progress: start 12.345 s into the plan, inside a segment.
    join = EPOCH + 12345
    framelog2 = os.path.join(work, "join.jsonl")
    cfg2 = rvtest.engine_config(work, mods, [rvtest.framelog_channel(1, framelog2, plan="big")])
    rc, out, err = rvtest.run_engine(cfg2, ["--clock=virtual", "--start-utc-ms=%d" % join,
                                            "--run-for=10"])
    tap.ok(rc == 0, "join-in-progress run exits 0")
    lines2 = rvtest.read_jsonl(framelog2)
    tap.ok(len(lines2) == rvtest.first_tick_at(join, RATE, join + 10000),
           "join run: %d ticks for 10 s" % len(lines2))
    # owner of the join instant
    t = EPOCH
    owner = None
    for b in blocks:
        for i, s in enumerate(b["segments"]):
            if t <= join < t + s["duration"]:
                owner = (b["id"], i, s, t)
            t += s["duration"]
    first = lines2[0]
    tap.ok((first["block_id"], first["segment_index"]) == owner[:2],
           "join: tick 0 airs the segment on air at the join instant %s" % (owner[:2],))
    s = owner[2]
    if s.get("uri", "").startswith("test:") and first["source"] == "real":
        want = join - owner[3] + s.get("offset", 0)
        tap.ok(first["asset_offset_ms"] == want,
               "join: the first frame is the one due at the join instant (%d ms, got %d)" %
               (want, first["asset_offset_ms"]))
    else:
        tap.ok(first["source"] in ("real", "pad"), "join: first tick source %s" % first["source"])
    check_ticks(tap, [dict(l, tick=l["tick"]) for l in lines2], blocks, join, join + 10000,
                "join")

    # Failures: cannot open -> slate for exactly that segment; fails mid-way -> slate, retry.
    fb = [{"id": "fail", "start": EPOCH, "end": EPOCH + 12000, "segments": [
        {"type": "CONTENT", "duration": 2000, "uri": "test:", "event": "ok-1"},
        {"type": "CONTENT", "duration": 3000, "uri": "test:open_fail=1", "event": "missing"},
        {"type": "CONTENT", "duration": 1000, "uri": "test:", "event": "ok-2"},
        {"type": "CONTENT", "duration": 6000, "uri": "test:fail_at=30", "event": "midway"},
    ]}]
    rvtest.write(os.path.join(work, "plans", "fail.conf"), rvtest.plan_text(fb))
    framelog3 = os.path.join(work, "fail.jsonl")
    cfg3 = rvtest.engine_config(work, mods, [rvtest.framelog_channel(1, framelog3, plan="fail")])
    rc, out, err = rvtest.run_engine(cfg3, ["--clock=virtual", "--start-utc-ms=%d" % EPOCH,
                                            "--run-for=12"])
    tap.ok(rc == 0, "failure run exits 0")
    lines3 = rvtest.read_jsonl(framelog3)
    n_all = rvtest.first_tick_at(EPOCH, RATE, EPOCH + 12000)
    tap.ok([l["tick"] for l in lines3] == list(range(n_all)), "failure run: every tick emitted")
    f1, e1 = rvtest.first_tick_at(EPOCH, RATE, EPOCH + 2000), rvtest.first_tick_at(EPOCH, RATE, EPOCH + 5000)
    missing = [l for l in lines3 if l["segment_index"] == 1]
    tap.ok([l["tick"] for l in missing] == list(range(f1, e1)) and
           all(l["source"] == "slate" for l in missing),
           "a segment whose asset cannot open airs the slate for exactly its ticks %d..%d" % (f1, e1 - 1))
    tap.ok(lines3[e1]["source"] == "real" and lines3[e1]["segment_index"] == 2,
           "the next segment plays on its exact tick %d" % e1)
    tap.ok(err.count("test asset refuses to open") == 1,
           "one error line names the asset and reason for the failed open")
    mid = [l for l in lines3 if l["segment_index"] == 3]
    srcs = [l["source"] for l in mid]
    first_slate = srcs.index("slate") if "slate" in srcs else -1
    want_k = None
    for k, l in enumerate(mid):
        pos_ms = int(rvtest.tick_instant_ms(EPOCH, RATE, l["tick"]) - (EPOCH + 6000))
        if -((-pos_ms * 30000) // 1001000) == 30:
            want_k = k
            break
    tap.ok(first_slate == want_k,
           "mid-segment failure: slate from the tick showing source frame 30 (index %s, got %d)" %
           (want_k, first_slate))
    back = srcs.index("real", first_slate) if first_slate >= 0 and "real" in srcs[first_slate:] else -1
    tap.ok(back > first_slate and back - first_slate <= 31 + 1,
           "recovery: the asset is retried after ~1 s of slate and real frames return (at index %d)" % back)
    if back > 0:
        l = mid[back]
        seg_start = EPOCH + 6000
        want = int(rvtest.tick_instant_ms(EPOCH, RATE, l["tick"]) - seg_start)
        tap.ok(l["asset_offset_ms"] == want,
               "recovery rejoins at the position then due (%d ms, got %d)" % (want, l["asset_offset_ms"]))
    else:
        tap.ok(False, "recovery rejoins at the position then due")
    tap.ok(all(s == "real" for s in srcs[back:]) if back > 0 else False,
           "after recovery the rest of the segment is real")
    tap.done()


if __name__ == "__main__":
    main()
