#!/usr/bin/python3
"""FADE transitions, applied by the host on the producer thread: a segment with
transition_in FADE rises from black over its first transition_in_ms, one with
transition_out FADE falls to black over its last transition_out_ms, frame by
frame (checked from the framelog's CRC-32 of the Y plane against the exact
picture expected: the test producer paints flat grey levels), and the frames
in between are untouched.
"""
import os
import zlib

import rvtest
from rvtest import Tap

RATE = (30000, 1001)
EPOCH = 1763712000000
W, H = 320, 180


def main():
    tap = Tap()
    work = rvtest.scratch("fade")
    mods = rvtest.module_dir_with_tests(work)
    framelog = os.path.join(work, "ticks.jsonl")
    cfg = rvtest.engine_config(work, mods, [rvtest.framelog_channel(1, framelog, plan="fade")])
    segs = [{"type": "CONTENT", "duration": 3000, "uri": "test:", "fade_in": 1000,
             "fade_out": 500, "event": "faded"},
            {"type": "CONTENT", "duration": 1000, "uri": "test:", "event": "plain"}]
    blocks = [{"id": "f", "start": EPOCH, "end": EPOCH + 4000, "segments": segs}]
    rvtest.write(os.path.join(work, "plans", "fade.conf"), rvtest.plan_text(blocks))
    rc, out, err = rvtest.run_engine(cfg, ["--clock=virtual", "--start-utc-ms=%d" % EPOCH,
                                           "--run-for=4"])
    tap.ok(rc == 0, "engine exits 0")
    lines = rvtest.read_jsonl(framelog)
    wrong = []
    gains = []
    starts = [EPOCH, EPOCH + 3000]
    for l in lines:
        idx = l["segment_index"]
        inst = rvtest.tick_instant_ms(EPOCH, RATE, l["tick"])
        pos_ms = int(inst - starts[idx])
        frame = -((-pos_ms * 30000) // 1001000)
        level = 16 + frame % 200
        gain = 256
        if idx == 0:
            off = int(inst) - starts[0]
            g_in = 256 if off >= 1000 else max(0, off * 256 // 1000)
            rest = 3000 - off
            g_out = 256 if rest >= 500 else max(0, rest * 256 // 500)
            gain = min(g_in, g_out)
        y = 16 + (level - 16) * gain // 256
        want = zlib.crc32(bytes([y]) * (W * H))
        gains.append(gain)
        if l["y_crc32"] != want:
            wrong.append((l["tick"], gain, y))
    tap.ok(not wrong, "every picture is exactly the expected fade step %s" % wrong[:4])
    tap.ok(gains[0] == 0 and 0 < gains[15] < 256 and gains[40] == 256,
           "the first segment rises from black over its first second")
    first_plain = next(i for i, l in enumerate(lines) if l["segment_index"] == 1)
    tap.ok(gains[first_plain - 1] < 30 and gains[first_plain - 10] < 256 and
           all(g == 256 for g in gains[first_plain:]),
           "falls to black over its last half second; the next segment is untouched")
    tap.done()


if __name__ == "__main__":
    main()
