#!/usr/bin/python3
"""The ffmpeg-file failure set through the real binary (issue 3), one segment
each between good clips, on the virtual clock:
  missing file, not media, zero length, no decodable stream (subtitles only),
  corruption in the middle, a truncated file.
For each: the channel keeps emitting every tick; an asset that cannot be
played airs the slate for exactly its segment; the next segment plays on its
exact tick; one error line names the asset and the reason. Corruption in the
middle skips the bad frames and goes on (no slate); a truncated file is
padded to its fence. (Permission denied is covered by the producer's own
test, which drops to an unprivileged user: this suite runs as root.)
"""
import os
import subprocess

import rvtest
from rvtest import Tap

RATE = (30000, 1001)
EPOCH = 1763712000000
FF = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]


def clip(path, seconds, fmt_args):
    subprocess.run(FF + ["-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=%d" % seconds,
                         "-f", "lavfi", "-i", "sine=f=440:r=48000:d=%d" % seconds,
                         "-shortest"] + fmt_args + [path], check=True)


def make_media(d):
    m = {}
    m["good"] = os.path.join(d, "good.mp4")
    clip(m["good"], 3, ["-c:v", "libx264", "-preset", "ultrafast", "-g", "10", "-c:a", "aac"])
    m["missing"] = os.path.join(d, "does-not-exist.mp4")
    m["text"] = os.path.join(d, "notes.mp4")
    with open(m["text"], "w") as f:
        f.write("this is a text file, not media\n" * 50)
    m["empty"] = os.path.join(d, "empty.mkv")
    open(m["empty"], "w").close()
    srt = os.path.join(d, "subs.srt")
    with open(srt, "w") as f:
        f.write("1\n00:00:00,000 --> 00:00:02,000\nhello\n")
    m["subs"] = os.path.join(d, "subs-only.mkv")
    subprocess.run(FF + ["-i", srt, "-c:s", "srt", m["subs"]], check=True)
    m["corrupt"] = os.path.join(d, "corrupt.ts")
    clip(m["corrupt"], 4, ["-c:v", "libx264", "-preset", "ultrafast", "-g", "25",
                           "-c:a", "mp2"])
    size = os.path.getsize(m["corrupt"])
    with open(m["corrupt"], "r+b") as f:
        f.seek(size // 2)
        f.write(bytes((i * 7919) & 0xff for i in range(188 * 40)))
    full = os.path.join(d, "full.mp4")
    clip(full, 4, ["-c:v", "libx264", "-preset", "ultrafast", "-g", "10", "-c:a", "aac",
                   "-movflags", "+faststart"])
    m["truncated"] = os.path.join(d, "truncated.mp4")
    with open(full, "rb") as f:
        data = f.read()
    with open(m["truncated"], "wb") as f:
        f.write(data[: len(data) * 45 // 100])
    return m


def main():
    tap = Tap()
    work = rvtest.scratch("media-failures")
    mods = rvtest.module_dir_with_tests(work)
    m = make_media(work)
    order = ["missing", "text", "empty", "subs", "corrupt", "truncated"]
    segs = []
    for name in order:
        segs.append({"type": "CONTENT", "duration": 1500, "uri": m["good"], "event": "ok-" + name})
        segs.append({"type": "CONTENT", "duration": 3000, "uri": m[name], "event": name})
    segs.append({"type": "CONTENT", "duration": 1500, "uri": m["good"], "event": "ok-end"})
    total = sum(s["duration"] for s in segs)
    blocks = [{"id": "f", "start": EPOCH, "end": EPOCH + total, "segments": segs}]
    framelog = os.path.join(work, "ticks.jsonl")
    cfg = rvtest.engine_config(work, mods, [rvtest.framelog_channel(
        1, framelog, producers=("ffmpeg-file", "slate"), plan="f")])
    rvtest.write(os.path.join(work, "plans", "f.conf"), rvtest.plan_text(blocks))
    rc, out, err = rvtest.run_engine(cfg, ["--clock=virtual", "--start-utc-ms=%d" % EPOCH,
                                           "--run-for=%.3f" % (total / 1000.0)])
    if not tap.ok(rc == 0, "engine exits 0"):
        tap.diag(err[-2000:])
        tap.done()
    lines = rvtest.read_jsonl(framelog)
    n = rvtest.first_tick_at(EPOCH, RATE, EPOCH + total)
    tap.ok([l["tick"] for l in lines] == list(range(n)), "every tick emitted (%d)" % n)
    spans = rvtest.expected_segments(blocks, EPOCH, RATE, 0, n)
    by_index = {idx: (f, e) for (f, e, bid, idx, s, _) in spans}
    errors = [l for l in err.splitlines() if "level=error" in l]
    for k, name in enumerate(order):
        idx = 2 * k + 1
        f, e = by_index[idx]
        seg = lines[f:e]
        src = [l["source"] for l in seg]
        nxt = lines[e]
        named = [l for l in errors if os.path.basename(m[name]) in l]
        if name in ("missing", "text", "empty", "subs"):
            tap.ok(all(s == "slate" for s in src),
                   "%s: the slate covers exactly ticks %d..%d" % (name, f, e - 1))
            tap.ok(len(named) == 1, "%s: one error line names the asset and reason: %s" %
                   (name, [l.split("msg=")[-1][:110] for l in named]))
        elif name == "corrupt":
            real = src.count("real")
            tap.ok("slate" not in src and real >= len(src) * 8 // 10,
                   "corrupt: bad frames skipped, playback goes on (%d/%d real, no slate)" %
                   (real, len(src)))
            tap.ok(all(l["segment_index"] == idx for l in seg), "corrupt: the segment keeps its ticks")
        else:
            tail = src[src.index("pad"):] if "pad" in src else []
            tap.ok(src[0] == "real" and tail and all(s == "pad" for s in tail) and "slate" not in src,
                   "truncated: plays what is there, then black to the fence (%d real, %d pad)" %
                   (src.count("real"), len(tail)))
            tap.ok(len(named) <= 1, "truncated: at most one error line names it")
        tap.ok(nxt["tick"] == e and nxt["segment_index"] == idx + 1 and nxt["source"] == "real",
               "%s: the next segment plays on its exact tick %d" % (name, e))
    tap.done()


if __name__ == "__main__":
    main()
