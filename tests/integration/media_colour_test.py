#!/usr/bin/python3
"""Colour through the real binary (issue 13): a BT.601 SD clip and a BT.709
HD clip aired on an HD, a 525-line SD and a 625-line SD channel, read back
from the channel's MPEG-TS the way a viewer's player reads it. The TS must be
tagged with the channel's colour space (BT.709 / SMPTE 170M / BT.470BG,
limited range) and every bar must match FFmpeg's decode of the source within
the stated tolerance (the H.264 encode of the channel costs a few levels).
"""
import os
import socket
import subprocess
import time

import rvtest
from rvtest import Tap

FF = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
# Encoder loss on flat bars plus 8-bit roundings: measured worst 2 (of 255).
TOLERANCE = 8
SOURCES = {
    "sd601.mp4": (640, 360, ["-vf", "scale=out_color_matrix=bt601:out_range=tv,format=yuv420p",
                             "-colorspace", "smpte170m", "-color_primaries", "smpte170m",
                             "-color_trc", "smpte170m"]),
    "hd709.mp4": (1280, 720, ["-vf", "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p",
                              "-colorspace", "bt709", "-color_primaries", "bt709",
                              "-color_trc", "bt709"]),
}
CHANNELS = [
    ((1280, 720, "25", 48000, 2), ("bt709", "bt709", "bt709")),
    ((640, 480, "30000/1001", 48000, 2), ("smpte170m", "smpte170m", "smpte170m")),
    ((720, 576, "25", 48000, 2), ("bt470bg", "bt470bg", "smpte170m")),
]
POINTS = [((i + 0.5) / 7, 0.3) for i in range(7)] + [(0.27, 0.9), (0.62, 0.9)]


def rgb_frames(path, w, h):
    """Every 10th picture FFmpeg decodes from path, as rgb24 byte strings."""
    out = path + ".rgb"
    subprocess.run(FF + ["-i", path, "-vf", "select=not(mod(n\\,10))", "-vsync", "0",
                         "-f", "rawvideo", "-pix_fmt", "rgb24", out], check=True)
    data = open(out, "rb").read()
    size = w * h * 3
    return [data[i:i + size] for i in range(0, len(data) - size + 1, size)]


def pixel(data, w, x, y):
    i = (y * w + x) * 3
    return tuple(data[i:i + 3])


def fit(W, H, w, h):
    ow, oh = W, H
    if w * H > h * W:
        oh = (W * h * 2 // w + 1) // 2
    elif w * H < h * W:
        ow = (H * w * 2 // h + 1) // 2
    ow &= ~1
    oh &= ~1
    return ((W - ow) // 2) & ~1, ((H - oh) // 2) & ~1, ow, oh


def channel_conf(port):
    return """  { id = 1; name = "Colour"; profile = "test"; autostart_plan = "p";
    producers = ( { module = "ffmpeg-file"; }, { module = "slate"; } );
    slate = { module = "slate"; options = { show_clock = false; }; };
    renderer = { module = "null"; };
    sinks = ( { module = "mpegts-tcp"; options = { host = "127.0.0.1"; port = %d; }; } ); }""" % port


def capture(port, seconds):
    """Connect (retrying while the engine starts, up to 15 s) and read the TS
    for `seconds` after the first byte."""
    deadline = time.time() + 15
    while True:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            break
        except OSError:
            if time.time() > deadline:
                return b""
            time.sleep(0.1)
    data = bytearray()
    s.settimeout(1.0)
    end = None
    while end is None or time.time() < end:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            if time.time() > deadline + 15:
                break
            continue
        if not chunk:
            break
        if end is None:
            end = time.time() + seconds
        data += chunk
    s.close()
    return bytes(data)


def air(work, mods, profile, src):
    """Run a channel of profile airing src; returns the path of ~3 s of its TS."""
    port = rvtest.free_tcp_port()
    cfg = rvtest.engine_config(work, mods, [channel_conf(port)], profile=profile)
    rvtest.write(os.path.join(work, "plans", "p.conf"), rvtest.plan_text(
        [{"id": "b", "start": 0, "end": 4000,
          "segments": [{"type": "CONTENT", "duration": 4000, "uri": src}]}], loop=True))
    proc = subprocess.Popen([rvtest.env("RV_BIN"), "--config", cfg, "--run-for=60"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        data = capture(port, 3.0)
    finally:
        proc.terminate()
        proc.wait(30)
    ts = os.path.join(work, "out-%dx%d-%s.ts" % (profile[0], profile[1], os.path.basename(src)))
    with open(ts, "wb") as f:
        f.write(data)
    return ts


def main():
    tap = Tap()
    work = rvtest.scratch("media-colour")
    mods = rvtest.module_dir_with_tests(work)
    if not os.path.exists(os.path.join(mods, "mpegts-tcp.so")):
        tap.ok(True, "# SKIP mpegts-tcp not built")
        tap.done()
        return
    refs = {}
    for name, (w, h, args) in SOURCES.items():
        path = os.path.join(work, name)
        subprocess.run(FF + ["-f", "lavfi", "-i", "smptebars=s=%dx%d:r=25:d=4" % (w, h)] + args[:2] +
                       ["-c:v", "libx264", "-preset", "ultrafast", "-qp", "0"] + args[2:] + [path],
                       check=True)
        refs[name] = rgb_frames(path, w, h)[0]
    for profile, tags in CHANNELS:
        W, H = profile[0], profile[1]
        for name, (w, h, _) in SOURCES.items():
            ts = air(work, mods, profile, os.path.join(work, name))
            p = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                                "stream=color_space,color_primaries,color_transfer,color_range",
                                "-of", "default=nw=1", ts], capture_output=True, text=True)
            got = dict(l.split("=", 1) for l in p.stdout.split() if "=" in l)
            want = {"color_space": tags[0], "color_primaries": tags[1],
                    "color_transfer": tags[2], "color_range": "tv"}
            tap.ok(got == want, "%dx%d@%s: the TS is tagged %s (got %s)" %
                   (W, H, profile[2], want, got))
            try:
                frames = rgb_frames(ts, W, H)
            except subprocess.CalledProcessError:
                frames = []
            if not tap.ok(frames, "%dx%d: %s decodes from the TS" % (W, H, name)):
                continue
            # On the real clock a loaded machine may air a freeze or the slate
            # now and then: judge the best of the sampled pictures (a wrong
            # conversion is wrong in every one of them).
            rx, ry, rw, rh = fit(W, H, w, h)
            results = []
            for out in frames:
                worst, bad = 0, []
                for (u, v) in POINTS:
                    a = pixel(refs[name], w, int(u * w), int(v * h))
                    b = pixel(out, W, rx + int(u * rw), ry + int(v * rh))
                    d = max(abs(x - y) for x, y in zip(a, b))
                    worst = max(worst, d)
                    if d > TOLERANCE:
                        bad.append((a, b))
                results.append((worst, bad))
            worst, bad = min(results, key=lambda r: r[0])
            good = sum(1 for r in results if r[0] <= TOLERANCE)
            tap.ok(not bad, "%dx%d@%s: %s airs every bar within %d of FFmpeg's decode "
                   "(best worst %d; %d of %d pictures sampled match) %s" %
                   (W, H, profile[2], name, TOLERANCE, worst, good, len(results), bad[:3]))
    tap.done()


if __name__ == "__main__":
    main()
