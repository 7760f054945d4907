#!/usr/bin/python3
"""Zero copy (issue 14): the ffmpeg-file producer decodes straight into the
channel's pool pictures and airs a picture that needs no scaling without
copying it. Through the real binary on the virtual clock, a 320x180 H.264 clip
(3 reference pictures, B-frames) on a 320x180 channel, with a FADE in and out
on the first segment and a renderer that inverts the first luma row of every
picture (both write into pictures the decoder still references), airs exactly
the pictures it aired with `zero_copy = false` (the copy of before): the
framelog's CRC-32 of every tick's Y plane is equal tick for tick. A writer that
painted over a shared picture would change the pictures decoded from it after
the fade. The debug log says the pictures went on air without a copy.
"""
import os
import re
import subprocess

import rvtest
from rvtest import Tap

EPOCH = 1763712000000
FF = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]


def channel(framelog, zero_copy):
    return """  { id = 1; name = "Zero copy"; profile = "test"; autostart_plan = "zc";
    producers = ( { module = "ffmpeg-file"; options = { zero_copy = %s; }; }, { module = "slate"; } );
    slate = { module = "slate"; options = { show_clock = false; }; };
    renderer = { module = "test-renderer"; options = { invert = true; }; };
    sinks = ( { module = "framelog"; options = { mode = "ticks"; crc = true; path = "%s"; }; } ); }""" % (
        "true" if zero_copy else "false", framelog)


def run(work, mods, clip, zero_copy):
    sub = os.path.join(work, "on" if zero_copy else "off")
    framelog = os.path.join(sub, "ticks.jsonl")
    cfg = rvtest.engine_config(sub, mods, [channel(framelog, zero_copy)])
    with open(cfg) as f:
        text = f.read()
    with open(cfg, "w") as f:
        f.write(text.replace('log_level = "info"', 'log_level = "debug"'))
    segs = [{"type": "CONTENT", "duration": 2500, "uri": clip, "fade_in": 500, "fade_out": 500,
             "event": "faded"},
            {"type": "CONTENT", "duration": 1500, "uri": clip, "offset": 2500, "event": "plain"}]
    blocks = [{"id": "z", "start": EPOCH, "end": EPOCH + 4000, "segments": segs}]
    rvtest.write(os.path.join(sub, "plans", "zc.conf"), rvtest.plan_text(blocks))
    rc, out, err = rvtest.run_engine(cfg, ["--clock=virtual", "--start-utc-ms=%d" % EPOCH,
                                           "--run-for=4"])
    return rc, rvtest.read_jsonl(framelog), out + err


def main():
    tap = Tap()
    work = rvtest.scratch("zerocopy")
    mods = rvtest.module_dir_with_tests(work)
    # the test renderer (tests/modules/good_renderer.c): inverts the first
    # luma row after video_make_writable
    renderer = os.path.join(rvtest.env("RV_BUILD_DIR"), "tests", "test-modules",
                            "good_renderer.so")
    os.symlink(renderer, os.path.join(mods, "good_renderer.so"))
    clip = os.path.join(work, "clip.mp4")
    subprocess.run(FF + ["-f", "lavfi", "-i", "testsrc2=s=320x180:r=30000/1001:d=5",
                         "-c:v", "libx264", "-preset", "veryfast", "-refs", "3", "-bf", "2",
                         "-g", "150", "-pix_fmt", "yuv420p", clip], check=True)
    rc_on, on, log_on = run(work, mods, clip, True)
    rc_off, off, log_off = run(work, mods, clip, False)
    tap.ok(rc_on == 0 and rc_off == 0, "both runs exit 0 (%d, %d)" % (rc_on, rc_off))
    ticks = 120  # ceil(4 s * 30000/1001)
    tap.ok(len(on) == ticks and len(off) == ticks and
           all(l["source"] == "real" for l in on + off),
           "every tick of both runs airs a real picture (%d, %d lines)" % (len(on), len(off)))
    differ = [l["tick"] for l, m in zip(on, off) if l["y_crc32"] != m["y_crc32"]]
    tap.ok(on and not differ,
           "zero copy airs the same picture as the copy on every tick, fades and renderer "
           "included (differing ticks: %s)" % differ[:8])
    distinct = len(set(l["y_crc32"] for l in on))
    tap.ok(distinct > ticks * 0.9, "the pictures change tick to tick (%d distinct of %d): a "
           "corrupted reference would show" % (distinct, ticks))
    shared = [int(n) for n in re.findall(r"(\d+) pictures aired without a copy", log_on)]
    tap.ok(len(shared) == 2 and all(n > 0 for n in shared),
           "with zero_copy every segment aired pictures without a copy %s" % shared)
    tap.ok("aired without a copy" not in log_off, "with zero_copy = false none did")
    tap.done()


if __name__ == "__main__":
    main()
