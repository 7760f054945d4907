#!/usr/bin/python3
"""The preview renderer and its HTTP routes (issue 7), against the real
binary:

* channel 1 airs `testsrc` (flat grey pictures whose level encodes the frame
  number) with a framelog of every tick's Y CRC: each preview JPEG, decoded
  with the ffmpeg command, shows the level of the tick the renderer sampled
  (the first tick of an interval_ms window of tick time, next to the tick
  the host reports in X-RetroVue-Tick);
* channel 2 alternates a light slate:solid card and slate:black every 2 s:
  the preview follows the plan (light while the card airs, black after);
* ETag / If-None-Match / Cache-Control, 404s, and the /channels JSON
  (now / next / position / remaining / sinks / a configured channel that is
  not running).
"""
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rvtest  # noqa: E402
import telemetry_helpers as th  # noqa: E402

W, H, FPS = 320, 180, 10
INTERVAL_MS = 500
PREVIEW_W = 160
LIGHT = "#C0C0C0"      # limited-range Y 181 -> full-range JPEG luma 192
LIGHT_JPEG = 192
BLACK_JPEG = 0         # slate:black is Y 16 -> JPEG luma 0

tap = rvtest.Tap()


def get(url, headers=None):
    """(status, headers dict (lower-case names), body bytes)."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def jpeg_gray(data, folder):
    """Decoded luma bytes and (width, height) of a JPEG, via the ffmpeg command."""
    path = os.path.join(folder, "sample.jpg")
    with open(path, "wb") as f:
        f.write(data)
    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                            "stream=width,height", "-of", "csv=p=0", path],
                           capture_output=True, text=True)
    w, h = (int(x) for x in probe.stdout.strip().split(","))
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt",
                          "gray", "-"], capture_output=True).stdout
    return raw, (w, h)


def median(values):
    s = sorted(values)
    return s[len(s) // 2]


def channel_conf(cid, name, producers, plan, framelog, preview_opts, slate_opts=""):
    auto = 'autostart_plan = "%s";' % plan if plan else ""
    sinks = ('sinks = ( { module = "framelog"; options = { mode = "ticks"; crc = true; '
             'path = "%s"; }; } );' % framelog) if framelog else "sinks = ();"
    return """  { id = %d; name = "%s"; profile = "test"; %s
    producers = ( %s );
    slate = { module = "slate"; options = { show_clock = false; %s }; };
    renderer = { module = "preview"; options = { %s }; };
    %s }""" % (cid, name, auto, producers, slate_opts, preview_opts, sinks)


def main():
    folder = rvtest.scratch("preview_image")
    mods = rvtest.module_dir_with_tests(folder)
    start = th.now_ms() - 1000
    th.long_plan(folder, "grey", "test:", start)
    blocks = [{"id": "flip", "start": 0, "end": 4000, "segments": [
        {"type": "CONTENT", "duration": 2000, "uri": "slate:solid", "event": "LIGHT"},
        {"type": "CONTENT", "duration": 2000, "uri": "slate:black", "event": "DARK"}]}]
    rvtest.write(os.path.join(folder, "plans", "flip.conf"), rvtest.plan_text(blocks, loop=True))
    log1 = os.path.join(folder, "ch1.jsonl")
    log2 = os.path.join(folder, "ch2.jsonl")
    popts = "interval_ms = %d; width = %d; quality = 100;" % (INTERVAL_MS, PREVIEW_W)
    channels = [
        channel_conf(1, "Grey", '{ module = "testsrc"; }, { module = "slate"; }', "grey", log1,
                     popts),
        channel_conf(2, "Flip", '{ module = "slate"; options = { pattern = "solid"; '
                     'color = "%s"; show_clock = false; text = " "; }; }' % LIGHT, "flip", log2,
                     popts),
        channel_conf(3, "Spare", '{ module = "slate"; }', None, None, ""),
    ]
    config = rvtest.engine_config(folder, mods, channels, profile=(W, H, "%d/1" % FPS, 48000, 2),
                                  extra_engine='  metrics_listen = "127.0.0.1:0";')
    eng = th.Engine(config)
    try:
        port = eng.wait_port()
        if not tap.ok(port is not None, "the engine serves HTTP"):
            tap.diag(eng.stderr())
            return
        run(eng, folder)
    finally:
        code = eng.stop()
        tap.ok(code == 0, "the engine exits cleanly (%s)" % code)
    check_framelog(folder, log1)


samples1 = []   # (reported tick, decoded level) for channel 1
samples2 = []   # (reported tick, median JPEG luma) for channel 2
status_cache = {}


def run(eng, folder):
    # First preview of each running channel.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if get(eng.url("/channels/1/preview.jpg"))[0] == 200 and \
                get(eng.url("/channels/2/preview.jpg"))[0] == 200:
            break
        time.sleep(0.1)
    st, hdr, body = get(eng.url("/channels/1/preview.jpg"))
    tap.ok(st == 200 and hdr.get("content-type") == "image/jpeg",
           "GET /channels/1/preview.jpg: 200 image/jpeg (%s %s)" % (st, hdr.get("content-type")))
    etag = hdr.get("etag", "")
    tap.ok(re.fullmatch(r'"[0-9]+"', etag) is not None, "it has an ETag \"<version>\": %s" % etag)
    tap.ok(hdr.get("cache-control") == "no-cache",
           "Cache-Control: no-cache (%s)" % hdr.get("cache-control"))
    gray, (w, h) = jpeg_gray(body, folder)
    tap.ok((w, h) == (PREVIEW_W, PREVIEW_W * H // W) and len(gray) == w * h,
           "the JPEG decodes at the configured width, aspect kept: %dx%d" % (w, h))
    # The same image again answers 304 (retried: a new image may land between
    # the two requests); a later image gets a new ETag and a 200.
    got_304 = False
    for _ in range(10):
        cur = get(eng.url("/channels/1/preview.jpg"))[1].get("etag")
        s304, hh, b304 = get(eng.url("/channels/1/preview.jpg"), {"If-None-Match": cur})
        if s304 == 304:
            got_304 = hh.get("etag") == cur and b304 == b""
            break
    got_new = False
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not got_new:
        s, hh, _ = get(eng.url("/channels/1/preview.jpg"), {"If-None-Match": etag})
        if s == 200 and hh.get("etag") != etag:
            got_new = int(hh["etag"].strip('"')) > int(etag.strip('"'))
        time.sleep(0.05)
    tap.ok(got_304, "If-None-Match with the current ETag: 304 Not Modified")
    tap.ok(got_new, "a new image (every interval_ms) gets a new, larger ETag and a 200")
    tap.ok(get(eng.url("/channels/3/preview.jpg"))[0] == 404,
           "a configured channel that is not running has no preview: 404")
    tap.ok(get(eng.url("/channels/99/preview.jpg"))[0] == 404, "an unknown channel: 404")
    tap.ok(get(eng.url("/channels/99"))[0] == 404, "GET /channels/99 (unknown): 404")
    tap.ok(get(eng.url("/channels/x1"))[0] == 404, "GET /channels/x1 (not an id): 404")

    check_json(eng)

    # Collect previews: 12 JPEGs per channel (one every interval_ms), with a
    # generous deadline, since decoding each one under a loaded machine is slow.
    seen1, seen2 = set(), set()
    start = time.monotonic()
    while time.monotonic() < start + 60 and (time.monotonic() < start + 8 or
                                              min(len(samples1), len(samples2)) < 12):
        for cid, seen, out in ((1, seen1, samples1), (2, seen2, samples2)):
            s, hh, b = get(eng.url("/channels/%d/preview.jpg" % cid))
            if s != 200 or hh.get("etag") in seen:
                continue
            seen.add(hh.get("etag"))
            g, _ = jpeg_gray(b, folder)
            out.append((int(hh["x-retrovue-tick"]), median(g)))
        time.sleep(0.1)
    st, _, body = get(eng.url("/channels/1"))
    status_cache[1] = json.loads(body) if st == 200 else {}
    st, _, body = get(eng.url("/channels/2"))
    status_cache[2] = json.loads(body) if st == 200 else {}


def check_json(eng):
    st, hdr, body = get(eng.url("/channels"))
    doc = json.loads(body) if st == 200 else {}
    tap.ok(st == 200 and hdr.get("content-type", "").startswith("application/json"),
           "GET /channels: 200 JSON")
    chans = {c["id"]: c for c in doc.get("channels", [])}
    tap.ok(sorted(chans) == [1, 2, 3], "it lists the running and the configured channels: %s"
           % sorted(chans))
    c1 = chans.get(1, {})
    tap.ok(c1.get("state") == "ready" and c1.get("running") is True and
           c1.get("plan_handle") == "grey", "channel 1: ready, running plan 'grey'")
    now = c1.get("now") or {}
    tap.ok(now.get("asset_uri") == "test:" and now.get("event_id") == "EV1" and
           now.get("block_id") == "b1" and now.get("segment_index") == 0,
           "channel 1 now: block, event, asset, segment index: %s" % now)
    tap.ok(isinstance(now.get("position_ms"), int) and now["position_ms"] > 0 and
           isinstance(now.get("remaining_ms"), int) and
           0 < now["remaining_ms"] <= now["end_utc_ms"] - now["start_utc_ms"],
           "channel 1 now: position %s ms, remaining %s ms" % (now.get("position_ms"),
                                                                now.get("remaining_ms")))
    tick_ms = c1.get("tick_utc_ms")
    tap.ok(isinstance(tick_ms, int) and now.get("end_utc_ms", 0) - tick_ms == now.get("remaining_ms"),
           "remaining = the segment's end - the last tick's instant")
    sinks = c1.get("sinks") or []
    tap.ok(len(sinks) == 1 and sinks[0].get("module") == "framelog" and "clients" in sinks[0],
           "channel 1 sinks: module, address, clients, counters: %s" % sinks)
    c2 = chans.get(2, {})
    nxt = c2.get("next") or {}
    tap.ok(nxt.get("asset_uri") in ("slate:solid", "slate:black") and
           nxt.get("start_utc_ms") == (c2.get("now") or {}).get("end_utc_ms"),
           "channel 2 next: the segment after the one on air, starting at its end: %s" % nxt)
    c3 = chans.get(3, {})
    tap.ok(c3.get("state") == "stopped" and c3.get("running") is False and c3.get("name") == "Spare",
           "channel 3 (configured, not running): stopped")
    st, _, body = get(eng.url("/channels/2"))
    one = json.loads(body) if st == 200 else {}
    tap.ok(st == 200 and one.get("id") == 2 and one.get("name") == "Flip",
           "GET /channels/2: that channel")
    st, _, body = get(eng.url("/channels/3"))
    tap.ok(st == 200 and json.loads(body).get("state") == "stopped",
           "GET /channels/3: configured and stopped")


def sampled(epoch_ms, n):
    """True when tick n is the first of an interval_ms window of tick time."""
    if n == 0:
        return True
    at = lambda k: epoch_ms + k * 1000 // FPS  # noqa: E731 (exact at 10 fps)
    return at(n) // INTERVAL_MS > at(n - 1) // INTERVAL_MS


def check_framelog(folder, log1):
    lines = rvtest.read_jsonl(log1)
    by_tick = {l["tick"]: l for l in lines if "tick" in l}
    crc_level = {zlib.crc32(bytes([v]) * (W * H)): v for v in range(16, 216)}
    epoch1 = status_cache.get(1, {}).get("epoch_utc_ms")
    tap.ok(len(samples1) >= 8, "channel 1: %d preview images collected" % len(samples1))
    good = 0
    bad = []
    for t, luma in samples1:
        if t < 5:
            continue   # the first tick is always sampled: two windows may start there
        level = round(luma * 219 / 255 + 16)
        cands = [n for n in range(t - 3, t + 2) if n >= 0 and sampled(epoch1, n)]
        if len(cands) != 1 or cands[0] not in by_tick:
            bad.append((t, level, cands, "no single sampled tick"))
            continue
        s = cands[0]
        aired = crc_level.get(by_tick[s].get("y_crc32"))
        if aired is not None and abs(aired - level) <= 1:
            good += 1
        else:
            bad.append((t, level, s, aired))
    tap.ok(good >= 8 and not bad,
           "channel 1: every preview shows the level of the sampled tick (%d of %d)"
           % (good, len(samples1)))
    for b in bad[:5]:
        tap.diag("reported tick, decoded level, sampled tick, aired level: %s" % (b,))

    light = [l for _, l in samples2 if abs(l - LIGHT_JPEG) <= 8]
    dark = [l for _, l in samples2 if abs(l - BLACK_JPEG) <= 8]
    tap.ok(len(light) >= 2 and len(dark) >= 2 and len(light) + len(dark) == len(samples2),
           "channel 2: previews follow the plan, light card %d and black %d of %d: %s"
           % (len(light), len(dark), len(samples2), [l for _, l in samples2]))
    lines2 = rvtest.read_jsonl(os.path.join(folder, "ch2.jsonl"))
    by_tick2 = {l["tick"]: l for l in lines2 if "tick" in l}
    epoch2 = status_cache.get(2, {}).get("epoch_utc_ms")
    wrong = []
    for t, luma in samples2:
        if t < 5:
            continue
        cands = [n for n in range(t - 3, t + 2) if n >= 0 and sampled(epoch2, n)]
        if len(cands) != 1 or cands[0] not in by_tick2:
            wrong.append((t, luma, cands))
            continue
        uri = by_tick2[cands[0]].get("asset_uri")
        want = LIGHT_JPEG if uri == "slate:solid" else BLACK_JPEG
        if abs(luma - want) > 8:
            wrong.append((t, luma, uri))
    tap.ok(samples2 and not wrong,
           "channel 2: each preview's colour is the asset on air at its sampled tick")
    for w in wrong[:5]:
        tap.diag("mismatch: %s" % (w,))


if __name__ == "__main__":
    try:
        main()
    finally:
        tap.done()
