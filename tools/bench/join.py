#!/usr/bin/python3
"""tools/bench/join.py: how clean the first second after a start is (issue 13).

Starts a real-clock channel in the middle of a 1080p Matroska clip (a looping
plan whose block began long before now, so the start joins in progress) and
counts, from the framelog, the ticks of the first second that were not real
pictures (freeze = a repeated picture, slate = nothing ready). Repeats; with
--load, N busy ffmpeg decodes run beside it (the "under load" case).

usage: tools/bench/join.py [--build DIR] [--runs N] [--load N] [--threads N]
Prints one line per run and a summary; exit status 0.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
FF = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]


def make_clip(path):
    if os.path.exists(path):
        return
    subprocess.run(FF + ["-f", "lavfi", "-i", "testsrc2=s=1920x1080:r=30000/1001:d=60",
                         "-f", "lavfi", "-i", "sine=f=440:r=48000:d=60",
                         "-c:v", "libx264", "-preset", "veryfast", "-g", "120", "-b:v", "8M",
                         "-c:a", "ac3", path], check=True)


def config(work, build, clip, framelog, threads):
    mods = os.path.join(build, "modules")
    os.makedirs(os.path.join(work, "plans"), exist_ok=True)
    # a 60 s block that started at the epoch of 1970, looping: any start joins mid-clip
    with open(os.path.join(work, "plans", "join.conf"), "w") as f:
        f.write('loop = true;\nblocks = ( { id = "b"; start_utc_ms = 0L; end_utc_ms = 60000L; '
                'segments = ( { type = "CONTENT"; duration_ms = 60000; asset_uri = "%s"; } ); } );\n'
                % clip)
    cfg = os.path.join(work, "engine.conf")
    with open(cfg, "w") as f:
        f.write("""engine: { module_dir = "%s"; plans_dir = "plans"; log_level = "warn"; };
profiles: { hd: { width = 1280; height = 720; frame_rate = "30000/1001"; }; };
channels: ( { id = 1; profile = "hd"; autostart_plan = "join";
  producers = ( { module = "ffmpeg-file"; options = { threads = %d; }; }, { module = "slate"; } );
  renderer = { module = "null"; };
  sinks = ( { module = "framelog"; options = { mode = "ticks"; path = "%s"; flush = "line"; }; } ); } );
""" % (mods, threads, framelog))
    return cfg


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--load", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="rv-join.")
    clip = os.path.join(tempfile.gettempdir(), "rv-join-1080p.mkv")
    make_clip(clip)
    binary = os.path.join(args.build, "bin", "retrovue_playout")
    load = [subprocess.Popen(FF + ["-stream_loop", "-1", "-i", clip, "-f", "null", "-"])
            for _ in range(args.load)]
    bad_runs = 0
    totals = {"freeze": 0, "slate": 0}
    try:
        time.sleep(1 if load else 0)
        for run in range(args.runs):
            framelog = os.path.join(work, "ticks-%d.jsonl" % run)
            cfg = config(work, args.build, clip, framelog, args.threads)
            t0 = time.time()
            p = subprocess.run([binary, "--config", cfg, "--run-for=3"], capture_output=True,
                               text=True, timeout=60)
            wall = time.time() - t0
            lines = [json.loads(l) for l in open(framelog) if l.strip()]
            first = lines[:30]
            counts = {}
            for l in first:
                counts[l["source"]] = counts.get(l["source"], 0) + 1
            gaps = [l.get("frame_gap_ms", 0) for l in first]
            bad = counts.get("freeze", 0) + counts.get("slate", 0)
            bad_runs += bad > 0
            for k in totals:
                totals[k] += counts.get(k, 0)
            print("run %d: first 30 ticks %s; engine wall %.2f s; rc %d%s" %
                  (run, counts, wall, p.returncode,
                   "; " + p.stderr.strip().splitlines()[-1][-100:] if p.stderr.strip() else ""))
    finally:
        for q in load:
            q.kill()
            q.wait()
    print("summary: %d of %d runs had a freeze or slate in the first second "
          "(freeze %d, slate %d ticks in all; load %d decoders, threads %d)" %
          (bad_runs, args.runs, totals["freeze"], totals["slate"], args.load, args.threads))
    return 0


if __name__ == "__main__":
    sys.exit(main())
