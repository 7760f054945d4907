#!/usr/bin/python3
"""Opening real media a few milliseconds in, in every container: a segment
whose fence falls between ticks is joined at a sub-frame offset (5 ms after a
5000 ms segment at 29.97), and a plan may start an asset at a small offset.
Both used to put the Matroska demuxer on its headers (a byte seek to 0): the
segment must play real frames from its first tick, at the exact position.
"""
import os
import subprocess
from fractions import Fraction

import rvtest
from rvtest import Tap

RATE = (30000, 1001)
EPOCH = 1763712000000
FF = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
CONTAINERS = {
    "clip.mkv": ["-c:v", "libx264", "-preset", "ultrafast", "-g", "12", "-c:a", "ac3"],
    "clip.mp4": ["-c:v", "libx264", "-preset", "ultrafast", "-g", "12", "-c:a", "aac"],
    "clip.ts": ["-c:v", "mpeg2video", "-g", "12", "-c:a", "mp2"],
    "clip.avi": ["-c:v", "mpeg4", "-g", "12", "-c:a", "mp3"],
}


def main():
    tap = Tap()
    work = rvtest.scratch("media-offsets")
    mods = rvtest.module_dir_with_tests(work)
    segs = []
    frame_ms = {}
    for name, codecs in sorted(CONTAINERS.items()):
        path = os.path.join(work, name)
        subprocess.run(FF + ["-f", "lavfi", "-i", "testsrc2=s=320x240:r=24000/1001:d=3",
                             "-f", "lavfi", "-i", "sine=f=440:r=48000:d=3", "-shortest"] +
                       codecs + [path], check=True)
        # the oracle: the file's own picture times (a muxer may drop or shift one)
        p = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v",
                            "-show_entries", "frame=best_effort_timestamp_time", "-of", "csv=p=0",
                            path], capture_output=True, text=True, check=True)
        times = [Fraction(x.strip(" ,")) * 1000 for x in p.stdout.split() if x.strip(" ,")]
        # asset position 0 is the first picture
        frame_ms[path] = [t0 - times[0] for t0 in times]
        segs.append({"type": "FILLER", "duration": 5000, "uri": "slate:bars"})
        segs.append({"type": "CONTENT", "duration": 1500, "uri": path, "event": name})
        segs.append({"type": "CONTENT", "duration": 1000, "uri": path, "offset": 40,
                     "event": name + "+40"})
    total = sum(s["duration"] for s in segs)
    blocks = [{"id": "o", "start": EPOCH, "end": EPOCH + total, "segments": segs}]
    framelog = os.path.join(work, "ticks.jsonl")
    cfg = rvtest.engine_config(work, mods, [rvtest.framelog_channel(
        1, framelog, producers=("ffmpeg-file", "slate"), plan="o")])
    rvtest.write(os.path.join(work, "plans", "o.conf"), rvtest.plan_text(blocks))
    rc, out, err = rvtest.run_engine(cfg, ["--clock=virtual", "--start-utc-ms=%d" % EPOCH,
                                           "--run-for=%.3f" % (total / 1000.0)])
    tap.ok(rc == 0 and "level=error" not in err, "engine exits 0 with no error: %s" %
           [l[-120:] for l in err.splitlines() if "level=error" in l][:2])
    lines = rvtest.read_jsonl(framelog)
    spans = rvtest.expected_segments(blocks, EPOCH, RATE, 0, len(lines))
    t = EPOCH
    starts = []
    for s in segs:
        starts.append(t)
        t += s["duration"]
    for (f, e, bid, idx, s, _) in spans:
        if s["type"] != "CONTENT":
            continue
        seg = lines[f:e]
        wrong = []
        for l in seg:
            pos = rvtest.tick_instant_ms(EPOCH, RATE, l["tick"]) - starts[idx] + s.get("offset", 0)
            times = frame_ms[s["uri"]]
            due = max(i for i, t0 in enumerate(times) if t0 <= pos + Fraction(1, 2))
            # the frame shown, from its position (Matroska stores whole ms)
            got = min(range(len(times)),
                      key=lambda i: abs(times[i] - l["asset_offset_ms"]))
            if l["source"] != "real" or got != due:
                wrong.append((l["tick"], l["source"], l["asset_offset_ms"], int(times[due])))
        tap.ok(not wrong, "%s: real from its first tick, the source frame due at every tick %s" %
               (s["event"], wrong[:3]))
    tap.done()


if __name__ == "__main__":
    main()
