#!/usr/bin/python3
"""What aired with a substitution says so in the as-run (issue 13), through the
real binary on the virtual clock:
  * a clip whose audio (6 s) outlasts its video (2 s) airs 6 s of real frames,
    the last picture held, and its as-run line says the audio set the length;
  * an HDR10 clip airs tone-mapped and its line says so;
  * a plain clip's line carries no notes at all.
"""
import glob
import json
import os
import subprocess

import rvtest
from rvtest import Tap

RATE = (30000, 1001)
EPOCH = 1763712000000
FF = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]


def main():
    tap = Tap()
    work = rvtest.scratch("media-asrun")
    mods = rvtest.module_dir_with_tests(work)
    long_audio = os.path.join(work, "long-audio.mp4")
    subprocess.run(FF + ["-f", "lavfi", "-i", "testsrc2=s=320x240:r=30000/1001:d=2",
                         "-f", "lavfi", "-i", "sine=f=440:r=48000:d=6",
                         "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", long_audio],
                   check=True)
    hdr = os.path.join(work, "hdr10.mkv")
    subprocess.run(FF + ["-f", "lavfi", "-i", "smptebars=s=640x360:r=30000/1001:d=2", "-vf",
                         "format=gbrp,zscale=tin=709:pin=709:t=smpte2084:p=2020:m=2020_ncl:r=tv,"
                         "format=yuv420p10le", "-c:v", "libx264", "-preset", "ultrafast",
                         "-color_trc", "smpte2084", "-color_primaries", "bt2020",
                         "-colorspace", "bt2020nc", hdr], check=True)
    plain = os.path.join(work, "plain.mp4")
    subprocess.run(FF + ["-f", "lavfi", "-i", "testsrc2=s=320x240:r=30000/1001:d=2",
                         "-f", "lavfi", "-i", "sine=f=440:r=48000:d=2",
                         "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", plain],
                   check=True)
    segs = [{"type": "CONTENT", "duration": 8000, "uri": long_audio, "event": "long-audio"},
            {"type": "CONTENT", "duration": 2000, "uri": hdr, "event": "hdr"},
            {"type": "CONTENT", "duration": 2000, "uri": plain, "event": "plain"}]
    total = sum(s["duration"] for s in segs)
    blocks = [{"id": "a", "start": EPOCH, "end": EPOCH + total, "segments": segs}]
    asrun_dir = os.path.join(work, "asrun")
    framelog = os.path.join(work, "ticks.jsonl")
    cfg = rvtest.engine_config(work, mods, [rvtest.framelog_channel(
        1, framelog, producers=("ffmpeg-file", "slate"), plan="a")],
        extra_engine='  asrun_dir = "%s";' % asrun_dir)
    rvtest.write(os.path.join(work, "plans", "a.conf"), rvtest.plan_text(blocks))
    rc, _, err = rvtest.run_engine(cfg, ["--clock=virtual", "--start-utc-ms=%d" % EPOCH,
                                         "--run-for=%.3f" % (total / 1000.0)])
    tap.ok(rc == 0, "engine exits 0 (%s)" % err.strip().splitlines()[-1:] if err.strip() else rc)
    lines = []
    for f in sorted(glob.glob(os.path.join(asrun_dir, "*.jsonl"))):
        lines += [json.loads(l) for l in open(f) if l.strip()]
    by_event = {l["event_id"]: l for l in lines}
    la = by_event.get("long-audio", {})
    # 6 s of the asset at 29.97: 180 ticks (one either way for the last audio packet)
    tap.ok(abs(la.get("frames_aired", 0) - 180) <= 1,
           "2 s video + 6 s audio airs 6 s of real frames, not 2 s (%s aired, %s padded)" %
           (la.get("frames_aired"), la.get("frames_padded")))
    tap.ok("the audio sets the length" in la.get("notes", "") and
           "last picture is held" in la.get("notes", ""),
           "its as-run line says the audio set the length and the picture was held: %r" %
           la.get("notes"))
    h = by_event.get("hdr", {})
    tap.ok(h.get("status") == "aired" and "tone-mapped" in h.get("notes", ""),
           "the HDR10 clip airs and its as-run line says it was tone-mapped: %r" % h.get("notes"))
    p = by_event.get("plain", {})
    tap.ok(p.get("status") == "aired" and "notes" not in p,
           "a plain clip's as-run line has no notes: %r" % p)
    tap.done()


if __name__ == "__main__":
    main()
