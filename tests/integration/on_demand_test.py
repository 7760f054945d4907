#!/usr/bin/python3
"""integration.on_demand: channels with encode = "on-demand" (issue 12).

The real binary runs three on-demand channels on the real clock: 1 and 2
with a listening mpegts-tcp transport (pull: their clients are the demand),
3 with an mpegts-udp transport (push: always on). Asserts:
 * 1 and 2 start idle: state "idle" in status, metrics and the operator
   page's JSON, /healthz healthy, no tick emitted while nobody watches;
   3 is never idle and the log says why;
 * an HTTP viewer of /channel/1.ts wakes channel 1: a clean stream from a
   PAT and a keyframe, H.264 + AAC, at the schedule's position then due;
 * with the viewer gone the channel goes idle again, and a second viewer
   later gets a stream whose timestamps moved on with the wall clock (the
   channel kept its place in time while idle);
 * a TCP client of channel 2's listening transport wakes it too;
 * an HLS request wakes an idle channel and gets segments.
"""
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rvtest  # noqa: E402

RUN_S = 120
CLIP_MS = 20000
RATE = 30000 / 1001


def ts_check(tap, capture):
    script = os.path.join(rvtest.env("RV_SOURCE_DIR"), "tests", "unit", "ts_check.py")
    p = subprocess.run(["/usr/bin/python3", script, capture, "--first-pat", "--video-gaps-ok",
                        "--pcr-max-ms", "5000", "--pat-max-ms", "5000"],
                       capture_output=True, text=True)
    if p.returncode != 0:
        tap.diag(p.stdout[-800:])
    return p.returncode


def status(base, cid):
    return json.load(urllib.request.urlopen("%s/channels/%d" % (base, cid), timeout=10))


def wait_state(base, cid, want, seconds):
    end = time.monotonic() + seconds
    st = {}
    while time.monotonic() < end:
        try:
            st = status(base, cid)
            if st.get("state") == want:
                return st
        except (OSError, ValueError):
            pass
        time.sleep(0.1)
    return st


def http_capture(base_port, path, seconds, out_path):
    """GET `path` for `seconds`; returns (UTC ms of the request, bytes)."""
    t_req = int(time.time() * 1000)
    return t_req, rvtest.http_capture(base_port, path, seconds, out_path, timeout=10)


def first_video_pts(path):
    p = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                        "packet=pts", "-read_intervals", "%+#1", "-of", "json", path],
                       capture_output=True, text=True)
    try:
        return int(json.loads(p.stdout)["packets"][0]["pts"])
    except (ValueError, KeyError, IndexError):
        return None


def codecs(path):
    p = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name",
                        "-of", "json", path], capture_output=True, text=True)
    try:
        return sorted(s["codec_name"] for s in json.loads(p.stdout)["streams"])
    except (ValueError, KeyError):
        return []


def main():
    tap = rvtest.Tap(23)
    work = rvtest.scratch("on_demand")
    clip = os.path.join(work, "clip.mp4")
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y",
                    "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30000/1001:duration=20",
                    "-f", "lavfi", "-i", "sine=frequency=660:sample_rate=48000:duration=20",
                    "-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-c:a", "aac",
                    "-shortest", clip], check=True)
    block = {"id": "b", "start": 0, "end": CLIP_MS,
             "segments": [dict(type="CONTENT", uri=clip, duration=CLIP_MS, event="clip")]}
    rvtest.write(os.path.join(work, "plans", "p.conf"), rvtest.plan_text([block], loop=True))
    http_port = rvtest.free_tcp_port()
    tcp_port = rvtest.free_tcp_port()
    udp_port = rvtest.free_tcp_port()

    def chan(cid, sink):
        return """  { id = %d; name = "On demand %d"; profile = "test"; autostart_plan = "p";
    encode = "on-demand";
    producers = ( { module = "ffmpeg-file"; }, { module = "slate"; } );
    slate = { module = "slate"; };
    renderer = { module = "null"; };
    sinks = ( %s ); }""" % (cid, cid, sink)
    enc = 'preset = "ultrafast"; keyint_max_s = 1.0;'
    config = rvtest.engine_config(work, rvtest.env("RV_MODULE_DIR"), [
        chan(1, '{ module = "mpegts-tcp"; options = { port = 0; %s }; }' % enc),
        chan(2, '{ module = "mpegts-tcp"; options = { port = %d; %s }; }' % (tcp_port, enc)),
        chan(3, '{ module = "mpegts-udp"; options = { port = %d; %s }; }' % (udp_port, enc)),
    ], extra_engine='  metrics_listen = "127.0.0.1:%d";' % http_port)
    proc, log, base = rvtest.start_http_engine(
        config, http_port, ["--clock=real", "--run-for=%d" % RUN_S], tries=300)

    try:
        # 1. idle from the start, and healthy
        s1, s2 = wait_state(base, 1, "idle", 30), wait_state(base, 2, "idle", 30)
        s3 = wait_state(base, 3, "ready", 30)
        tap.ok(s1.get("state") == "idle" and s2.get("state") == "idle",
               "on-demand channels nobody watches start idle (%s, %s)"
               % (s1.get("state"), s2.get("state")))
        tap.ok(s3.get("state") in ("ready", "buffering"),
               "a channel with a push output (UDP) is always on (%s)" % s3.get("state"))
        tap.ok(any("mpegts-udp" in l and "always on" in l for l in log),
               "the log says why the push channel never idles")
        metrics = urllib.request.urlopen(base + "/metrics", timeout=10).read().decode()
        tap.ok(re.search(r'retrovue_playout_channel_state\{[^}]*channel="1"[^}]*state="idle"\} 4',
                         metrics) is not None, "metrics show channel 1's state as idle")
        hz = urllib.request.urlopen(base + "/healthz", timeout=10)
        tap.ok(hz.status == 200, "an idle channel is healthy (/healthz %d)" % hz.status)
        t0 = status(base, 1).get("tick")
        time.sleep(2.0)
        t1 = status(base, 1).get("tick")
        tap.ok(t0 == t1 == -1, "no tick is produced while idle (tick %s then %s)" % (t0, t1))

        # 2. an HTTP viewer wakes channel 1 at the position due
        cap1 = os.path.join(work, "view1.ts")
        res = {}
        th = threading.Thread(target=lambda: res.update(
            r=http_capture(http_port, "/channel/1.ts", 4.0, cap1)))
        th.start()
        st = wait_state(base, 1, "ready", 10)
        tap.ok(st.get("state") == "ready", "a viewer wakes the channel (%s)" % st.get("state"))
        time.sleep(1.0)
        st = status(base, 1)
        pos = (st.get("now") or {}).get("position_ms")
        when = st.get("tick_utc_ms")
        want = when % CLIP_MS if when else None
        diff = None if pos is None or want is None else \
            min(abs(pos - want), CLIP_MS - abs(pos - want))
        tap.ok(diff is not None and diff <= 1000,
               "it joins the schedule in progress at the position due (%s ms, want %s)"
               % (pos, want))
        th.join()
        t_req1, n1 = res["r"]
        tap.ok(n1 > 188 * 100 and ts_check(tap, cap1) == 0,
               "the viewer's stream is clean MPEG-TS from a PAT (%d bytes)" % n1)
        tap.ok(codecs(cap1) == ["aac", "h264"], "ffprobe reads H.264 + AAC (%s)" % codecs(cap1))
        awake = [l for l in log if "awake at tick" in l]
        tap.ok(len(awake) >= 1, "the log records the wake")

        # 3. the viewer left: idle again after the grace
        st = wait_state(base, 1, "idle", 20)
        tap.ok(st.get("state") == "idle", "with nobody watching it goes idle again (%s)"
               % st.get("state"))
        tap.ok(any("idle from tick" in l for l in log), "the log records the idle spell")
        metrics = urllib.request.urlopen(base + "/metrics", timeout=10).read().decode()
        spells = re.search(r'retrovue_playout_idle_spells_total\{[^}]*channel="1"[^}]*\} (\d+)',
                           metrics)
        tap.ok(spells and int(spells.group(1)) >= 1,
               "metrics count the idle spell (%s)" % (spells.group(1) if spells else None))
        time.sleep(3.0)

        # 4. a second viewer: the timestamps moved on with the clock
        cap2 = os.path.join(work, "view2.ts")
        t_req2, n2 = http_capture(http_port, "/channel/1.ts", 3.0, cap2)
        p1, p2 = first_video_pts(cap1), first_video_pts(cap2)
        moved = None if p1 is None or p2 is None else (p2 - p1) / 90.0
        tap.ok(moved is not None and abs(moved - (t_req2 - t_req1)) <= 1500,
               "a later viewer's stream time moved on with the wall clock (%s ms, requests "
               "%d ms apart)" % (None if moved is None else int(moved), t_req2 - t_req1))
        tap.ok(n2 > 188 * 100 and ts_check(tap, cap2) == 0,
               "the second viewer's stream is clean from a PAT (%d bytes)" % n2)

        # 5. a TCP client of a listening transport wakes channel 2
        def tcp_capture(path):
            got = bytearray()
            t_req = int(time.time() * 1000)
            with socket.create_connection(("127.0.0.1", tcp_port), timeout=10) as sock:
                sock.settimeout(5)
                end = time.monotonic() + 4.0
                try:
                    while time.monotonic() < end:
                        b = sock.recv(65536)
                        if not b:
                            break
                        got += b
                except OSError:
                    pass
            with open(path, "wb") as f:
                f.write(got[:len(got) - len(got) % 188])
            return t_req, len(got)
        cap3 = os.path.join(work, "tcp.ts")
        _, n3 = tcp_capture(cap3)
        tap.ok(n3 > 188 * 100 and ts_check(tap, cap3) == 0,
               "a TCP client of the listening transport wakes channel 2 (%d bytes)" % n3)
        tap.ok(status(base, 2).get("frames", {}).get("real", 0) > 0,
               "channel 2 aired real frames for it")

        # 6. HLS wakes an idle channel
        st = wait_state(base, 1, "idle", 20)
        pl = ""
        try:
            pl = urllib.request.urlopen(base + "/channel/1.m3u8", timeout=20).read().decode()
        except OSError as exc:
            tap.diag("m3u8: %s" % exc)
        segs = re.findall(r"^/channel/1/\d+\.ts$|^\d+\.ts$|^[^#\s]+\.ts$", pl, re.M)
        tap.ok(st.get("state") == "idle" and segs,
               "an HLS request wakes an idle channel and gets segments (%d)" % len(segs))
        tap.ok(status(base, 1).get("state") in ("ready", "buffering"),
               "the channel is on while HLS is watched")

        # 7. a later TCP client of the idle channel gets the new stream, not the
        #    picture its transport cached before the idle spell
        st = wait_state(base, 2, "idle", 20)
        time.sleep(1.5)   # past the transport's 1 s staleness bound on its GOP cache
        cap4 = os.path.join(work, "tcp2.ts")
        _, n4 = tcp_capture(cap4)
        # the cached GOP from before the idle spell followed by the new stream would
        # break continuity (counters restart with the new stream)
        tap.ok(st.get("state") == "idle" and n4 > 188 * 100 and ts_check(tap, cap4) == 0,
               "a later TCP client gets the new stream alone, clean from a PAT (%d bytes)" % n4)

        # 8. a reload that turns channel 2 "always" wakes it with nobody watching
        st = wait_state(base, 2, "idle", 20)
        with open(config) as f:
            text = f.read()
        head, sep, tail = text.partition("id = 2;")
        rvtest.write(config, head + sep + tail.replace('encode = "on-demand";',
                                                       'encode = "always";', 1))
        proc.send_signal(signal.SIGHUP)
        st2 = wait_state(base, 2, "ready", 20)
        tap.ok(st.get("state") == "idle" and st2.get("state") == "ready",
               "a reload to encode = \"always\" wakes an idle channel (%s -> %s)"
               % (st.get("state"), st2.get("state")))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    rvtest.write(os.path.join(work, "engine.log"), "\n".join(log) + "\n")
    tap.ok(proc.returncode == 0, "the engine stops cleanly (rc=%s)" % proc.returncode)
    tap.done()


if __name__ == "__main__":
    main()
