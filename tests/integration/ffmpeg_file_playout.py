#!/usr/bin/python3
"""The ffmpeg-file producer inside the real binary (issue 3), on the virtual
clock, checked from the framelog sink:
  * real clips generated with the `ffmpeg` command (25 fps MP4, 23.976 MP4,
    29.97 MPEG-TS, an audio-only M4A), a PAD and a missing file, in one plan;
  * one line per tick, no tick missing or repeated;
  * every segment starts on exactly its computed tick;
  * sources: `real` where media exists, `pad` for PAD, `slate` for exactly the
    ticks of the segment whose file is missing, and one asset error naming it;
  * asset_offset_ms on every real tick is the source frame due at that tick
    (the frame-rate cadence, after every seek);
  * audio samples follow the exact 1601/1602 pattern.
"""
import os
import subprocess
from fractions import Fraction

import rvtest
from rvtest import Tap

RATE = (30000, 1001)
AUDIO = 48000
EPOCH = 1763712000000  # 2025-11-21T08:00:00Z
FF = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]


def make_clips(folder):
    """{name: (path, fps Fraction or None for audio-only)}"""
    clips = {
        "a25.mp4": ("25", ["-c:v", "libx264", "-preset", "ultrafast", "-g", "10",
                           "-c:a", "aac"]),
        "film.mp4": ("24000/1001", ["-c:v", "libx264", "-preset", "ultrafast", "-bf", "2",
                                    "-g", "12", "-c:a", "aac"]),
        "ntsc.ts": ("30000/1001", ["-c:v", "libx264", "-preset", "ultrafast", "-g", "15",
                                   "-c:a", "mp2"]),
    }
    out = {}
    for name, (fps, codecs) in clips.items():
        path = os.path.join(folder, name)
        subprocess.run(FF + ["-f", "lavfi", "-i", "testsrc2=s=320x240:r=%s:d=4" % fps,
                             "-f", "lavfi", "-i", "sine=f=440:r=48000:d=4",
                             "-shortest"] + codecs + [path], check=True)
        out[name] = (path, Fraction(fps))
    path = os.path.join(folder, "radio.m4a")
    subprocess.run(FF + ["-f", "lavfi", "-i", "sine=f=300:r=44100:d=4", "-c:a", "aac", path],
                   check=True)
    out["radio.m4a"] = (path, None)
    return out


def expected_offset_ms(fps, pos_ms):
    """asset_offset_ms of the source frame due at pos_ms (exact Fraction):
    the last frame n with n / fps <= pos (1 us slack), its time floored to ms."""
    if fps is None:
        return pos_ms.numerator // pos_ms.denominator
    n = int((pos_ms + Fraction(1, 1000)) * fps / 1000)
    t_ms = Fraction(n * 1000) / fps
    return t_ms.numerator // t_ms.denominator


def main():
    tap = Tap()
    work = rvtest.scratch("ffmpeg_file")
    mods = rvtest.module_dir_with_tests(work)
    clips = make_clips(work)
    missing = os.path.join(work, "no-such-file.mp4")
    segs = [
        {"type": "CONTENT", "duration": 2000, "uri": "file:" + clips["a25.mp4"][0], "clip": "a25.mp4"},
        {"type": "CONTENT", "duration": 1500, "uri": clips["film.mp4"][0], "offset": 500,
         "clip": "film.mp4"},
        {"type": "PAD", "duration": 500},
        {"type": "CONTENT", "duration": 1000, "uri": "file:" + missing, "clip": None},
        {"type": "CONTENT", "duration": 2002, "uri": "file://" + clips["ntsc.ts"][0], "offset": 1000,
         "clip": "ntsc.ts"},
        {"type": "CONTENT", "duration": 1234, "uri": clips["a25.mp4"][0], "offset": 700,
         "clip": "a25.mp4"},
        {"type": "CONTENT", "duration": 1000, "uri": clips["radio.m4a"][0], "offset": 250,
         "clip": "radio.m4a"},
        {"type": "CONTENT", "duration": 767, "uri": clips["film.mp4"][0], "offset": 3003,
         "clip": "film.mp4"},
    ]
    end = EPOCH + sum(s["duration"] for s in segs)
    blocks = [{"id": "real", "start": EPOCH, "end": end, "segments": segs}]
    framelog = os.path.join(work, "real.jsonl")
    cfg = rvtest.engine_config(work, mods, [rvtest.framelog_channel(
        1, framelog, producers=("ffmpeg-file", "slate"), plan="real")])
    rvtest.write(os.path.join(work, "plans", "real.conf"), rvtest.plan_text(blocks))
    run_for = (end - EPOCH) / 1000.0
    rc, out, err = rvtest.run_engine(cfg, ["--clock=virtual", "--start-utc-ms=%d" % EPOCH,
                                           "--run-for=%.3f" % run_for])
    if not tap.ok(rc == 0, "engine exits 0 after --run-for=%.3f (rc=%d)" % (run_for, rc)):
        tap.diag(err[-3000:])
        return tap.done()
    lines = rvtest.read_jsonl(framelog)
    n_all = rvtest.first_tick_at(EPOCH, RATE, end)
    tap.ok([l["tick"] for l in lines] == list(range(n_all)),
           "exactly one line per tick 0..%d (got %d lines)" % (n_all - 1, len(lines)))
    by_tick = {l["tick"]: l for l in lines}

    t = EPOCH
    for i, s in enumerate(segs):
        f = rvtest.first_tick_at(EPOCH, RATE, t)
        e = rvtest.first_tick_at(EPOCH, RATE, t + s["duration"])
        mine = [by_tick.get(n) for n in range(f, e)]
        label = "segment %d (%s %s)" % (i, s["type"], s.get("clip") or s.get("uri", ""))
        tap.ok(all(l and l["segment_index"] == i for l in mine) and
               (i == 0 or by_tick[f - 1]["segment_index"] == i - 1),
               "%s starts on exactly its computed tick %d and owns %d..%d" % (label, f, f, e - 1))
        if s["type"] == "PAD":
            tap.ok(all(l["source"] == "pad" for l in mine), "%s: every tick pad" % label)
        elif s["clip"] is None:
            tap.ok(all(l["source"] == "slate" for l in mine),
                   "%s: the missing file airs the slate for exactly its ticks" % label)
        else:
            path, fps = clips[s["clip"]]
            bad_src = [l["tick"] for l in mine if l["source"] != "real"]
            tap.ok(not bad_src, "%s: every tick real %s" % (label, bad_src[:5]))
            bad = []
            for n in range(f, e):
                pos = rvtest.tick_instant_ms(EPOCH, RATE, n) - t + s.get("offset", 0)
                want = expected_offset_ms(fps, pos)
                if by_tick[n]["asset_offset_ms"] != want:
                    bad.append((n, by_tick[n]["asset_offset_ms"], want))
            tap.ok(not bad, "%s: asset_offset_ms is the source frame due on every tick %s" %
                   (label, bad[:4]))
        t += s["duration"]

    bad_audio = [l["tick"] for l in lines
                 if l["audio_samples"] != rvtest.samples_in_tick(RATE, AUDIO, l["tick"])]
    tap.ok(not bad_audio, "audio samples follow the exact 1601/1602 pattern %s" % bad_audio[:5])
    errors = [line for line in err.splitlines() if "asset_error" in line and missing in line]
    tap.ok(len(errors) >= 1 and all("no such file" in line for line in errors),
           "the missing file is reported as an asset error naming it (%d lines)" % len(errors))
    others = [line for line in err.splitlines()
              if "asset_error" in line and missing not in line]
    tap.ok(not others, "no other asset errors %s" % others[:2])
    return tap.done()


if __name__ == "__main__":
    main()
