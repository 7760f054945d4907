#!/usr/bin/python3
"""The operator page (issue 7) in headless Chromium, driven over the
DevTools protocol (tests/integration/cdp.py, standard library only):

* the page lists a demo-like set of channels: two running (`preview`
  renderer, slate with the running clock), one configured but not running;
* every running tile's <img> src answers 200 image/jpeg, the images load in
  the page, and the previews change over time (the fetched JPEGs and a
  screenshot of the tile's picture differ seconds apart);
* a configured channel that is not running shows "stopped" from the start;
  a channel started over gRPC and then stopped (so /channels no longer lists
  it) stays on the page as "stopped";
* the state colour of a tile follows its state;
* a screenshot is saved as <build>/tests/artifacts/operator.png.
"""
import json
import os
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rvtest  # noqa: E402
import telemetry_helpers as th  # noqa: E402
import cdp  # noqa: E402

tap = rvtest.Tap()


def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.headers.get("Content-Type"), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read()


TILES_JS = """(() => [...document.querySelectorAll('article.tile')].map(t => ({
  id: Number(t.dataset.channelId), state: t.dataset.state || '',
  name: t.querySelector('h2').textContent,
  color: getComputedStyle(t).borderTopColor,
  src: (t.querySelector('img.preview') || {}).src || '',
  loaded: !!(t.querySelector('img.preview') || {}).naturalWidth,
  now: t.querySelector('dd.now').textContent, next: t.querySelector('dd.next').textContent,
  sinks: t.querySelector('dd.sinks').textContent,
  rect: (r => ({x: r.x, y: r.y, width: r.width, height: r.height}))(
        t.querySelector('.pic').getBoundingClientRect())})))()"""


def tiles(browser):
    return {t["id"]: t for t in (browser.evaluate(TILES_JS) or [])}


def grpc_stub(sock):
    import control_harness as ch  # grpc + the generated stubs of this build
    import grpc
    return ch.pb, ch.pb_grpc.PlayoutControlStub(grpc.insecure_channel("unix:" + sock))


def main():
    if not cdp.chromium_binary():
        tap.ok(True, "# SKIP chromium is not installed (tools/debian-packages.txt lists it)")
        return
    folder = rvtest.scratch("preview_page")
    mods = rvtest.env("RV_MODULE_DIR")
    sock = os.path.join(folder, "ctl.sock")
    plan = rvtest.plan_text([{"id": "demo-hour", "start": 0, "end": 60000, "segments": [
        {"type": "CONTENT", "uri": "slate:bars", "duration": 40000, "event": "DEMO-BARS"},
        {"type": "FILLER", "uri": "slate:solid", "duration": 20000, "event": "DEMO-ID"}]}],
        loop=True)
    rvtest.write(os.path.join(folder, "plans", "demo.conf"), plan)

    def chan(cid, name, auto):
        return """  { id = %d; name = "%s"; profile = "test"; %s
    producers = ( { module = "slate"; } );
    slate = { module = "slate"; options = { pattern = "bars"; }; };
    renderer = { module = "preview"; };
    sinks = ( { module = "mpegts-tcp"; options = { host = "127.0.0.1"; port = 0; }; } ); }""" % (
            cid, name, 'autostart_plan = "demo";' if auto else "")
    config = rvtest.engine_config(
        folder, mods, [chan(1, "RetroVue Demo", True), chan(2, "RetroVue Two", True),
                       chan(3, "Spare", False)],
        profile=(640, 360, "30000/1001", 48000, 2),
        extra_engine='  metrics_listen = "127.0.0.1:0";\n  control_listen = [ "unix:%s" ];' % sock)
    with open(config, "a") as f:
        f.write("""channel_defaults: {
  profile = "test";
  producers = ( { module = "slate"; } );
  renderer = { module = "preview"; };
  sinks = ();
};
""")
    eng = th.Engine(config)
    browser = None
    try:
        if not tap.ok(eng.wait_port() is not None, "the engine serves HTTP"):
            tap.diag(eng.stderr())
            return
        pb, stub = grpc_stub(sock)
        r = stub.StartChannel(pb.StartChannelRequest(channel_id=7, plan_handle="demo"),
                              timeout=60)
        tap.ok(r.success, "StartChannel(7) over gRPC (a channel not in the config): %s"
               % r.message)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(
                fetch(eng.url("/channels/%d/preview.jpg" % c))[0] != 200 for c in (1, 2, 7)):
            time.sleep(0.1)
        browser = cdp.Browser(folder, width=1280, height=860)
        browser.navigate(eng.url("/"))
        ok = browser.wait_for("(() => { const t = [...document.querySelectorAll('article.tile')];"
                              " return t.length >= 4 && t.filter(x => x.dataset.state === 'ready')"
                              ".every(x => x.querySelector('img.preview').naturalWidth > 0); })()",
                              timeout_s=30)
        tap.ok(ok, "the page shows a tile per channel with its preview loaded")
        first = tiles(browser)
        tap.ok(sorted(first) == [1, 2, 3, 7], "tiles for channels 1, 2, 3 and 7: %s" % sorted(first))
        tap.ok("RetroVue Demo" in first.get(1, {}).get("name", ""), "tile 1 is named")
        tap.ok([first.get(c, {}).get("state") for c in (1, 2, 3, 7)] ==
               ["ready", "ready", "stopped", "ready"],
               "states: 1, 2, 7 ready; 3 (configured, not running) stopped: %s"
               % [first.get(c, {}).get("state") for c in (1, 2, 3, 7)])
        tap.ok(first.get(1, {}).get("color") != first.get(3, {}).get("color"),
               "ready and stopped tiles have different state colours (%s, %s)"
               % (first.get(1, {}).get("color"), first.get(3, {}).get("color")))
        t1 = first.get(1, {})
        tap.ok("DEMO-" in t1.get("now", "") and "slate:" in t1.get("now", "") and
               ("DEMO-" in t1.get("next", "")), "tile 1 shows now / next: %r / %r"
               % (t1.get("now"), t1.get("next")))
        tap.ok("mpegts-tcp" in t1.get("sinks", "") and "tcp://127.0.0.1:" in t1.get("sinks", ""),
               "tile 1 shows its sink address: %r" % t1.get("sinks"))
        jpegs = {}
        for c in (1, 2, 7):
            st, ctype, body = fetch(first[c]["src"])
            jpegs[c] = body
            tap.ok(st == 200 and ctype == "image/jpeg" and body[:2] == b"\xff\xd8",
                   "tile %d's img src answers 200 image/jpeg (%s)" % (c, first[c]["src"]))
        tap.ok(not first[3]["src"], "the stopped tile requests no preview")
        shot1 = browser.screenshot(clip=first[1]["rect"])
        time.sleep(2.5)
        second = tiles(browser)
        tap.ok(second[1]["src"] != first[1]["src"] and second[1]["loaded"],
               "tile 1's preview reloads (src %s -> %s)" % (first[1]["src"], second[1]["src"]))
        st, _, body = fetch(second[1]["src"])
        tap.ok(st == 200 and body != jpegs[1], "the preview changed over 2.5 s (the slate's clock)")
        shot2 = browser.screenshot(clip=second[1]["rect"])
        tap.ok(shot1 != shot2, "a screenshot of tile 1's picture differs 2.5 s later")

        r = stub.StopChannel(pb.StopChannelRequest(channel_id=7), timeout=60)
        tap.ok(r.success, "StopChannel(7): %s" % r.message)
        gone = json.loads(fetch(eng.url("/channels"))[2])["channels"]
        tap.ok(7 not in [c["id"] for c in gone], "/channels no longer lists channel 7")
        ok = browser.wait_for("(() => { const t = document.querySelector("
                              "'article.tile[data-channel-id=\"7\"]');"
                              " return t && t.dataset.state === 'stopped'; })()", timeout_s=15)
        tap.ok(ok, "the page keeps channel 7's tile and shows it stopped")
        third = tiles(browser)
        tap.ok(third.get(7, {}).get("color") == third.get(3, {}).get("color"),
               "the stopped tiles share the stopped colour")
        png = browser.screenshot()
        art = os.path.join(rvtest.env("RV_BUILD_DIR"), "tests", "artifacts")
        os.makedirs(art, exist_ok=True)
        path = os.path.join(art, "operator.png")
        with open(path, "wb") as f:
            f.write(png)
        tap.ok(png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10000,
               "screenshot saved: %s (%d bytes)" % (path, len(png)))
    finally:
        if browser:
            browser.close()
        code = eng.stop()
        tap.ok(code == 0, "the engine exits cleanly (%s)" % code)


if __name__ == "__main__":
    try:
        main()
    finally:
        tap.done()
