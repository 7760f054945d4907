#!/usr/bin/python3
"""integration.hls_watch: the operator page's "watch" button plays a channel's
HLS stream in headless Chromium through hls.js (the pinned npm package the
engine embeds at /hls.min.js), driven over the DevTools protocol
(tests/integration/cdp.py).

Asserts: /hls.min.js is served; after "watch" the tile's <video> plays (its
currentTime passes 1 s and keeps advancing) with hls.js attached; two
screenshots of the video a couple of seconds apart differ (a moving
picture); the screenshot is kept as <build>/tests/artifacts/hls_watch.png.
A second channel, encode = "on-demand" with nobody watching, shows as idle on
its tile (state, badge, the "nobody is watching" note); its "watch" wakes it:
the video plays and the tile leaves idle.
"""
import os
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rvtest  # noqa: E402
import cdp  # noqa: E402

VIDEO = "document.querySelector('article.tile[data-channel-id=\"1\"] video')"
TILE2 = "document.querySelector('article.tile[data-channel-id=\"2\"]')"
VIDEO2 = "document.querySelector('article.tile[data-channel-id=\"2\"] video')"


def main():
    tap = rvtest.Tap(9)
    work = rvtest.scratch("hls_watch")
    clip = os.path.join(work, "clip.mp4")
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y",
                    "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30000/1001:duration=6",
                    "-f", "lavfi", "-i", "sine=frequency=660:sample_rate=48000:duration=6",
                    "-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-c:a", "aac",
                    "-shortest", clip], check=True)
    block = {"id": "b", "start": 0, "end": 6000,
             "segments": [dict(type="CONTENT", uri=clip, offset=0, duration=6000, event="c")]}
    os.makedirs(os.path.join(work, "plans"), exist_ok=True)
    rvtest.write(os.path.join(work, "plans", "p.conf"), rvtest.plan_text([block], loop=True))
    port = rvtest.free_tcp_port()
    channel = """  { id = 1; name = "Watch"; profile = "test"; autostart_plan = "p";
    producers = ( { module = "ffmpeg-file"; }, { module = "slate"; } );
    slate = { module = "slate"; };
    renderer = { module = "null"; };
    sinks = ( { module = "mpegts-tcp"; options = { port = 0; preset = "ultrafast";
                                                   keyint_max_s = 1.0; }; } ); }"""
    # nobody connects to its listening transport: idle until the page watches it
    on_demand = channel.replace("id = 1; name = \"Watch\"",
                                "id = 2; name = \"On demand\"; encode = \"on-demand\"")
    config = rvtest.engine_config(work, rvtest.env("RV_MODULE_DIR"), [channel, on_demand],
                                  profile=(640, 360, "30000/1001", 48000, 2),
                                  extra_engine='  metrics_listen = "127.0.0.1:%d";' % port)
    proc, log, base = rvtest.start_http_engine(
        config, port, ["--clock=real", "--run-for=240"])
    try:
        js = urllib.request.urlopen(base + "/hls.min.js", timeout=10)
        body = js.read()
        tap.ok(js.status == 200 and len(body) > 100000,
               "/hls.min.js is served (%d bytes)" % len(body))
    except OSError as exc:
        tap.ok(False, "/hls.min.js is served (%s)" % exc)
    browser = cdp.Browser(work, width=1000, height=700)
    try:
        browser.navigate(base + "/")
        idle = browser.wait_for(
            "(t => t && t.dataset.state === 'idle' && t.querySelector('.badge').textContent === "
            "'idle' && t.textContent.includes('nobody is watching'))(%s)" % TILE2, timeout_s=30)
        tap.ok(bool(idle), "the on-demand channel nobody watches shows as idle on its tile "
               "(state, badge, note)")
        btn = browser.wait_for("!!document.querySelector('article.tile[data-channel-id=\"1\"] "
                               "button.watch')", timeout_s=30)
        browser.evaluate("document.querySelector('article.tile[data-channel-id=\"1\"] "
                         "button.watch').click()")
        t1 = browser.wait_for("(v => v && v.currentTime > 1 ? v.currentTime : 0)(%s)" % VIDEO,
                              timeout_s=60)
        tap.ok(bool(btn) and bool(t1), "after 'watch' the tile's video plays (currentTime %s)" % t1)
        tap.ok(bool(browser.evaluate("!!window.Hls && Hls.isSupported()")),
               "hls.js is loaded and supported")
        browser.evaluate("%s.controls = false" % VIDEO) if t1 else None  # only the picture moves
        time.sleep(0.5)
        rect = browser.evaluate("(r => ({x: r.x, y: r.y, width: r.width, height: r.height}))"
                                "(%s.getBoundingClientRect())" % VIDEO) if t1 else None
        shot1 = browser.screenshot(clip=rect) if rect else b""
        time.sleep(2.5)
        t2 = browser.evaluate("%s ? %s.currentTime : 0" % (VIDEO, VIDEO)) or 0
        shot2 = browser.screenshot(clip=rect) if rect else b""
        tap.ok(t1 and t2 > t1 + 1, "playback advances (%s -> %s s)" % (t1, t2))
        tap.ok(shot1 and shot2 and shot1 != shot2,
               "two screenshots of the video 2.5 s apart differ (a moving picture)")
        browser.evaluate("%s.querySelector('button.watch').click()" % TILE2)
        w2 = browser.wait_for("(v => v && v.currentTime > 1 ? v.currentTime : 0)(%s)" % VIDEO2,
                              timeout_s=60)
        tap.ok(bool(w2), "'watch' on the idle channel wakes it: its video plays "
               "(currentTime %s)" % w2)
        awake = browser.wait_for("(t => t && t.dataset.state !== 'idle' ? t.dataset.state : '')"
                                 "(%s)" % TILE2, timeout_s=30)
        tap.ok(bool(awake), "its tile leaves idle (state %r)" % awake)
        art = os.path.join(rvtest.env("RV_BUILD_DIR"), "tests", "artifacts")
        os.makedirs(art, exist_ok=True)
        path = os.path.join(art, "hls_watch.png")
        png = browser.screenshot()
        with open(path, "wb") as f:
            f.write(png)
        tap.ok(len(png) > 1000, "screenshot saved: %s (%d bytes)" % (path, len(png)))
    finally:
        browser.close()
        proc.terminate()
        proc.wait(60)
    if tap.failed:
        tap.diag("\n".join(log[-15:]))
    tap.done()


if __name__ == "__main__":
    main()
