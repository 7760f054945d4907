#!/usr/bin/python3
"""integration.media_join: the first seconds after a start or a wake are
clean (issue 13, item 5: "a join can freeze").

An 8 s 1080p H.264 Matroska clip is made at test time at the channel's own
frame rate (29.97), with its frame number burned into every picture as ten
black/white box pairs (a bit and its complement), so a viewer can tell every
picture apart and which frame of the clip it is. Its only keyframe is its
first picture and the channel joins it about 3.3 s in, so the producer must
decode some 100 pictures of 1080p before the join's first picture exists.

(a) start: a channel started on a plan whose block began 3.3 s earlier;
(b) wake: an on-demand channel, idle until its first viewer, woken when its
    looping plan is 3.3 s into the clip.

Each time a real client (an HTTP viewer of /channel/1.ts) captures the stream
and ffmpeg decodes it; from the pictures the test reads back the clip's frame
numbers and asserts what a viewer sees: the first picture is the clip's frame
due at the join instant (exactly: the frame a steady-state tick at that
instant airs), no picture of the first second repeats the one before it or is
not the clip (a freeze, the slate), every picture of the first two seconds is
the frame due at its tick and none is missing; and from the records: the
as-run lines from the join on are neither failed nor carry freeze or slate
ticks, and the log never says 'no frame ready'.

No timing is asserted. A machine too loaded to decode 1080p 1.5 times as fast
as real time with the `ffmpeg` command (checked before and after each run) can
air no 1080p channel cleanly, joined or not: such a run is repeated, and the
case skipped (TAP SKIP, saying so) if no run of three counts. The ASan build
asks for 2.5 times (its own plumbing costs more per frame).
"""
import glob
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
from fractions import Fraction

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rvtest  # noqa: E402

FF = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
RATE = (30000, 1001)
PTS_PER_TICK = 90000 * RATE[1] // RATE[0]  # 3003: the encoder stamps pts = tick
CLIP_MS = 8000           # the clip and the looping block
GOP = 250                # one keyframe, at 0: every join decodes from there
JOIN_MS = 3300           # where the join lands in the clip (~100 pictures after the keyframe)
BITS = 10                # frame numbers 0..1023
W, H = 640, 360          # the channel (steady state stays cheap; the 1080p decode is the point)
FIRST_S = 1.0            # "the first second": no repeated picture
CHECK_S = 2.0            # every picture the frame due
# a run is judged when the machine decodes the clip this fast (the environment
# may lower it to measure how a loaded machine fares: tools, not ctest)
MIN_SPEED = float(os.environ.get("RV_JOIN_MIN_SPEED", "1.5"))
# the sanitizer build's own per-frame plumbing is several times slower: it is
# judged only on a machine with more room (measured: clean at 1.1-1.9x, not
# always at 1.3-1.5x)
MIN_SPEED_ASAN = float(os.environ.get("RV_JOIN_MIN_SPEED", "2.5"))
CAPTURE_S = 5.0          # wall time a viewer watches (the join may lag the request)
ATTEMPTS = 3


def clip_filter():
    """Black band on top; pair j = 2b is white when bit b of the frame
    number is set, pair 2b+1 when it is clear."""
    f = ["drawbox=x=0:y=0:w=1920:h=150:color=black:t=fill"]
    for b in range(BITS):
        for j, expr in ((2 * b, "mod(floor(n/%d),2)" % (1 << b)),
                        (2 * b + 1, "1-mod(floor(n/%d),2)" % (1 << b))):
            f.append("drawbox=x=%d:y=27:w=72:h=96:color=white:t=fill:enable='%s'" %
                     (24 + j * 95, expr))
    return ",".join(f)


def make_clip(path):
    secs = "%.3f" % (CLIP_MS / 1000.0 + 0.1)
    subprocess.run(FF + ["-f", "lavfi", "-i", "testsrc2=s=1920x1080:r=30000/1001:d=" + secs,
                         "-f", "lavfi", "-i", "sine=f=440:r=48000:d=" + secs,
                         "-vf", clip_filter(), "-c:v", "libx264", "-preset", "ultrafast",
                         "-g", str(GOP), "-sc_threshold", "0", "-b:v", "8M",
                         "-c:a", "ac3", path], check=True)


def frame_times_ms(path):
    """The clip's own picture times (ms, exact), position 0 = the first."""
    p = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v",
                        "-show_entries", "frame=best_effort_timestamp_time,key_frame",
                        "-of", "csv=p=0", path], capture_output=True, text=True, check=True)
    times, keys = [], []
    for line in p.stdout.split():
        parts = [x for x in line.split(",") if x]
        if len(parts) < 2:
            continue
        times.append(Fraction(parts[1]) * 1000)
        if parts[0] == "1":
            keys.append(len(times) - 1)
    return [t - times[0] for t in times], keys


def read_codes(path, width, height, scale=""):
    """Decode `path` (every picture, no frame-rate conversion; `scale`: a
    scale filter first) and read each picture's burned-in number: a list of
    (pts, number or None)."""
    band = height * 50 // 360
    p = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0",
                        "-show_entries", "frame=pts", "-of", "csv=p=0", path],
                       capture_output=True, text=True)
    pts = [int(x.strip(",")) for x in p.stdout.split() if x.strip(",").lstrip("-").isdigit()]
    p = subprocess.run(FF + ["-i", path, "-map", "0:v:0", "-fps_mode", "passthrough",
                             "-vf", scale + "crop=%d:%d:0:0,format=gray" % (width, band),
                             "-f", "rawvideo", "-"], capture_output=True)
    size = width * band
    pics = [p.stdout[i:i + size] for i in range(0, len(p.stdout) - size + 1, size)]
    out = []
    for i, pic in enumerate(pics):
        out.append((pts[i] if i < len(pts) else None, read_number(pic, width, band)))
    return out


def read_number(pic, width, band):
    sx = width / 1920.0
    sy = band / 150.0
    bits = []
    for j in range(2 * BITS):
        cx, cy = int((24 + 36 + 95 * j) * sx), int(75 * sy)
        r = max(2, int(10 * sx))
        vals = [pic[y * width + x] for y in range(cy - r, cy + r) for x in range(cx - r, cx + r)]
        m = sum(vals) / len(vals)
        bits.append(1 if m > 160 else 0 if m < 96 else None)
    n = 0
    for b in range(BITS):
        one, zero = bits[2 * b], bits[2 * b + 1]
        if one is None or zero is None or one == zero:
            return None  # not a picture of the clip (the slate, black, a smear)
        n |= one << b
    return n


def due_frame(times, pos_ms):
    """The clip frame a tick at clip position pos_ms airs: the newest picture
    not after it (Matroska stores whole milliseconds: half of one is slack)."""
    best = 0
    for i, t in enumerate(times):
        if t <= pos_ms + Fraction(1, 2):
            best = i
    return best


def channel_text(cid, on_demand):
    return """  { id = %d; name = "Join %d"; profile = "test"; autostart_plan = "join"; %s
    producers = ( { module = "ffmpeg-file"; }, { module = "slate"; } );
    slate = { module = "slate"; };
    renderer = { module = "null"; };
    sinks = ( { module = "mpegts-tcp"; options = { port = 0; preset = "ultrafast";
                keyint_max_s = 10.0; bitrate_kbps = 1500; }; } ); }""" % (
        cid, cid, 'encode = "on-demand";' if on_demand else "")


def wait_for(pred, seconds, step=0.05):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def status(port, cid):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        c.request("GET", "/channels/%d" % cid)
        return json.loads(c.getresponse().read())
    except (OSError, ValueError, http.client.HTTPException):
        return {}


def asrun_lines(asrun_dir):
    lines = []
    for f in sorted(glob.glob(os.path.join(asrun_dir, "*.jsonl"))):
        lines += [json.loads(l) for l in open(f) if l.strip()]
    return lines


def rows_of(pics, first_tick, epoch_ms, block_ms, times):
    """[(tick, number read, number due)] for the decoded pictures."""
    tick_ms = Fraction(RATE[1] * 1000, RATE[0])
    rows = []
    pts0 = pics[0][0] if pics else None
    for pts, num in pics:
        if pts is None or pts0 is None:
            rows.append((None, num, None))
            continue
        tick = first_tick + (pts - pts0) // PTS_PER_TICK
        pos = Fraction(epoch_ms - block_ms) + tick * tick_ms
        rows.append((tick, num, due_frame(times, pos % CLIP_MS)))
    return rows


def window(rows, first_tick, from_s, to_s):
    lo, hi = first_tick + int(from_s * 30), first_tick + int(to_s * 30)
    return [r for r in rows if r[0] is not None and lo <= r[0] < hi], hi - lo


def judge(tap, name, res, times):
    """The assertions of one join, from a run whose steady state was clean."""
    rows, first_tick = res["rows"], res["first_tick"]
    first = rows[0]
    join_pos = Fraction(res["epoch"] - res["block_ms"]) + first_tick * Fraction(RATE[1] * 1000,
                                                                                 RATE[0])
    tap.diag("%s: joined %.1f ms into the clip (tick %d), %d pictures after its keyframe" %
             (name, float(join_pos % CLIP_MS), first_tick, first[2] if first[2] else -1))
    tap.ok(first[1] is not None and first[1] == first[2],
           "%s: the first picture is the clip's frame due at the join instant "
           "(frame %s, want %s; tolerance 0: the frame a tick at that instant airs)"
           % (name, first[1], first[2]))
    in_first, _ = window(rows, first_tick, 0, FIRST_S)
    # a picture equal to the one before where the frame due changed (a 29.97
    # Matroska source stores whole milliseconds: at some join phases the frame
    # due itself repeats now and then, and that is not the join's doing)
    repeats = [(b[0], b[1]) for a, b in zip(in_first, in_first[1:])
               if a[1] is None or b[1] is None or (a[1] == b[1] and a[2] != b[2])]
    tap.ok(len(in_first) >= int(FIRST_S * 30) and not repeats and in_first[0][1] is not None,
           "%s: no picture of the first second repeats the one before it or is not the clip "
           "(%d pictures; (tick, frame) repeated: %s)" % (name, len(in_first), repeats[:6]))
    check, count = window(rows, first_tick, 0, CHECK_S)
    ticks = [r[0] for r in check]
    tap.ok(ticks == list(range(first_tick, first_tick + count)),
           "%s: one picture per tick of the first %.0f s, none missing (%d of %d)"
           % (name, CHECK_S, len(ticks), count))
    wrong = [(t, n, w) for (t, n, w) in check if n != w]
    tap.ok(not wrong, "%s: every picture of the first %.0f s is the clip's frame due at its tick "
           "(wrong (tick, got, want): %s)" % (name, CHECK_S, wrong[:6]))
    seg = [r for r in res["records"] if r.get("event_id") == "clip" and
           r.get("actual_start_utc_ms", 0) >= res["join_utc_ms"] - 100]
    bad = [(r.get("status"), r.get("frames_freeze"), r.get("frames_slate"), r.get("notes"))
           for r in seg if r.get("status") == "failed" or r.get("frames_freeze") or
           r.get("frames_slate")]
    tap.ok(seg and not bad, "%s: the as-run lines from the join on are not failed and aired no "
           "freeze or slate (%d lines; bad: %s)" % (name, len(seg), bad))
    nfr = [l for l in res["log"] if "no frame ready" in l]
    tap.ok(not nfr, "%s: the log never says 'no frame ready' (%s)" % (name, nfr[:2]))


JUDGED = 6  # assertions judge() makes


def run_once(work, attempt, clip, times, on_demand):
    """One engine run: start (or wake) and capture. Returns what judge() needs."""
    name = "wake" if on_demand else "start"
    folder = os.path.join(work, "%s-%d" % (name, attempt))
    asrun_dir = os.path.join(folder, "asrun")
    http_port = rvtest.free_tcp_port()
    now = int(time.time() * 1000)
    # (a) the block began JOIN_MS ago: the start joins there. (b) the loop
    # is JOIN_MS into the clip about 2.5 s from now (and every CLIP_MS on)
    block_ms = now - JOIN_MS if not on_demand else now + 2500 - JOIN_MS - 10 * CLIP_MS
    block = {"id": "j", "start": block_ms, "end": block_ms + CLIP_MS,
             "segments": [dict(type="CONTENT", uri=clip, duration=CLIP_MS, event="clip")]}
    rvtest.write(os.path.join(folder, "plans", "join.conf"), rvtest.plan_text([block], loop=True))
    cfg = rvtest.engine_config(folder, rvtest.env("RV_MODULE_DIR"), [channel_text(1, on_demand)],
                               profile=(W, H, "30000/1001", 48000, 2),
                               extra_engine='  metrics_listen = "127.0.0.1:%d";\n'
                                            '  asrun_dir = "%s";' % (http_port, asrun_dir))
    t0 = time.monotonic()
    proc, log, _ = rvtest.start_http_engine(cfg, http_port, ["--clock=real", "--run-for=120"],
                                            tries=400)
    t_up = time.monotonic()
    cap = os.path.join(folder, "view.ts")
    res = {"name": name, "block_ms": block_ms, "log": log, "idle": None}
    try:
        if on_demand:
            res["idle"] = bool(wait_for(lambda: status(http_port, 1).get("state") == "idle", 20))
            # wake when the loop is JOIN_MS into the clip (at least 0.2 s from now)
            k = -(-(int(time.time() * 1000) + 200 - block_ms - JOIN_MS) // CLIP_MS)
            time.sleep(max(0.0, (block_ms + JOIN_MS + k * CLIP_MS) / 1000.0 - time.time()))
        res["join_utc_ms"] = int(time.time() * 1000)
        t_cap = time.monotonic()
        n = rvtest.http_capture(http_port, "/channel/1.ts", CAPTURE_S, cap)
    finally:
        t_stop = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    time.sleep(0.2)  # the log reader drains
    rvtest.write(os.path.join(folder, "engine.log"), "\n".join(log) + "\n")
    res["phases"] = "up %.1f s, wait %.1f s, capture %.1f s, stop %.1f s" % (
        t_up - t0, t_cap - t_up, t_stop - t_cap, time.monotonic() - t_stop)
    epoch, first_tick = None, 0
    for l in log:
        m = re.search(r"epoch (\d+) ms", l)
        if m and epoch is None:
            epoch = int(m.group(1))
        m = re.search(r"awake at tick (\d+)", l)
        if m and on_demand:
            first_tick = int(m.group(1))
    if not on_demand:
        res["join_utc_ms"] = epoch or 0
    res.update(epoch=epoch or 0, first_tick=first_tick, bytes=n,
               records=asrun_lines(asrun_dir))
    pics = read_codes(cap, W, H) if n else []
    res["rows"] = rows_of(pics, first_tick, epoch or 0, block_ms, times)
    return res


def decode_speed(clip):
    """How many times real time this machine decodes (and scales to the
    channel's size) the join's 100 pictures of 1080p right now, with the
    `ffmpeg` command: a yardstick independent of the code under test."""
    t0 = time.monotonic()
    subprocess.run(FF + ["-threads", "2", "-i", clip, "-frames:v", "100", "-vf",
                         "scale=%d:%d" % (W, H), "-f", "null", "-"], check=True)
    return (100 * RATE[1] / RATE[0]) / max(time.monotonic() - t0, 1e-3)


def sanitized():
    """True when the binary under test is the ASan/UBSan build."""
    try:
        with open(os.path.join(rvtest.env("RV_BUILD_DIR"), "CMakeCache.txt")) as f:
            return any(l.startswith("RV_SANITIZE:BOOL=ON") for l in f)
    except OSError:
        return False


def run_case(tap, work, clip, times, on_demand):
    """Up to ATTEMPTS runs. A run counts when the machine could decode the
    clip at least MIN_SPEED times faster than real time both just before and
    just after it (the `ffmpeg` command, not the engine): on a machine so
    loaded that even that fails, no engine can air 1080p cleanly, joined or
    not, so the run is repeated and, if none counts, the case is skipped
    saying so. A run that counts is judged; it is never repeated because its
    join was dirty."""
    name = "wake" if on_demand else "start"
    min_speed = MIN_SPEED_ASAN if sanitized() else MIN_SPEED
    for attempt in range(ATTEMPTS):
        before = decode_speed(clip)
        if before < min_speed:
            tap.diag("%s run %d: not run: the machine decodes the clip at %.2fx real time "
                     "(load %.1f)" % (name, attempt, before, os.getloadavg()[0]))
            time.sleep(2)
            continue
        res = run_once(work, attempt, clip, times, on_demand)
        after = decode_speed(clip)
        tap.diag("%s run %d: %d bytes, epoch %s, first tick %d, %d pictures; decode speed "
                 "%.2fx before, %.2fx after; load %.1f; %s" %
                 (name, attempt, res["bytes"], res["epoch"], res["first_tick"],
                  len(res["rows"]), before, after, os.getloadavg()[0], res["phases"]))
        if after < min_speed:
            tap.diag("%s run %d: not judged: the load rose during the run" % (name, attempt))
            continue
        if on_demand:
            tap.ok(res["idle"], "wake: the on-demand channel is idle before its first viewer")
        judge(tap, name, res, times)
        if tap.failed:
            tap.diag("\n".join(l[-160:] for l in res["log"]
                                if "level=warn" in l or "level=error" in l)[:3000])
        return
    for _ in range(JUDGED + (1 if on_demand else 0)):
        tap.ok(True, "# SKIP %s: in %d tries the machine never decoded the clip at %.1fx real "
                     "time (load %.1f): too loaded to tell a clean join from a dirty one" %
               (name, ATTEMPTS, min_speed, os.getloadavg()[0]))


def main():
    tap = rvtest.Tap()
    work = rvtest.scratch("media_join")
    clip = os.path.join(work, "join.mkv")
    make_clip(clip)
    times, keys = frame_times_ms(clip)
    tap.diag("clip: %d pictures, keyframes at %s" % (len(times), keys))
    # the reader, checked on the clip itself scaled to the channel's size
    nums = [n for _, n in read_codes(clip, W, H, scale="scale=%d:%d," % (W, H))]
    tap.ok(nums == list(range(len(times))),
           "every picture of the clip reads back as its own frame number (%d pictures)"
           % len(nums))
    run_case(tap, work, clip, times, on_demand=False)
    run_case(tap, work, clip, times, on_demand=True)
    tap.done()


if __name__ == "__main__":
    main()
