#!/usr/bin/python3
"""integration.renditions: encode once per rendition, deliver everywhere.

One channel (a noisy clip, so the bit rates bite) binds four transports: mpegts-tcp, mpegts-uds and ts-file with
the default encoder settings, and a second ts-file with bitrate_kbps = 600
(an "SD" rendition). The real binary airs it for 8 s of real time while a
TCP and a Unix-socket client read. Asserts: exactly two encoders run (the
log names two renditions), the TCP and Unix-socket captures are byte for byte
a run of the first file's packets (one encode, shared), both files are clean
MPEG-TS (ts_check.py: continuity, PCR, PAT/PMT, PTS) that ffmpeg decodes
without a word, and the SD file is the smaller one.
"""
import os
import re
import socket
import subprocess
import sys
import json
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rvtest  # noqa: E402

RUN_S = 8


def ts_check(tap, capture, extra=()):
    script = os.path.join(rvtest.env("RV_SOURCE_DIR"), "tests", "unit", "ts_check.py")
    p = subprocess.run(["/usr/bin/python3", script, capture] + list(extra),
                       capture_output=True, text=True)
    if p.returncode != 0:
        tap.diag(p.stdout[-1500:])
    return p.returncode


def decodes_clean(capture):
    p = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", capture, "-f", "null", "-"],
                       capture_output=True, text=True)
    return p.returncode == 0 and p.stderr.strip() == "", p.stderr.strip()[:300]


def packet_run(full, part):
    """offset in full at which part (whole 188-byte packets) begins, or -1."""
    if len(part) < 188 * 100:
        return -1
    return full.find(part) if full.find(part) % 188 == 0 else -1


def read_socket(family, address, out, stop):
    data = bytearray()
    s = socket.socket(family, socket.SOCK_STREAM)
    for _ in range(100):
        try:
            s.connect(address)
            break
        except OSError:
            time.sleep(0.05)
    s.settimeout(0.3)
    while True:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            if stop.is_set():
                break
            continue
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    s.close()
    out.append(bytes(data))


def main():
    tap = rvtest.Tap(8)
    work = rvtest.scratch("renditions")
    hd = os.path.join(work, "hd.ts")
    sd = os.path.join(work, "sd.ts")
    sock = os.path.join(work, "ch1.sock")
    clip = os.path.join(work, "noise.mp4")
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc2=size=640x360:rate=30000/1001:duration=4,noise=alls=40:allf=t",
                    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=4",
                    "-c:v", "libx264", "-preset", "ultrafast", "-crf", "10", "-c:a", "aac",
                    "-shortest", clip], check=True)
    block = {"id": "b", "start": 0, "end": 4000,
             "segments": [dict(type="CONTENT", uri=clip, offset=0, duration=2000, event="a"),
                          dict(type="CONTENT", uri="slate:bars", offset=0, duration=2000,
                               event="b")]}
    os.makedirs(os.path.join(work, "plans"), exist_ok=True)
    rvtest.write(os.path.join(work, "plans", "p.conf"), rvtest.plan_text([block], loop=True))
    channel = """  { id = 1; name = "Renditions"; profile = "test"; autostart_plan = "p";
    producers = ( { module = "ffmpeg-file"; }, { module = "slate"; } );
    slate = { module = "slate"; };
    renderer = { module = "null"; };
    sinks = (
      { module = "mpegts-tcp"; options = { port = 0; preset = "ultrafast"; }; },
      { module = "mpegts-uds"; options = { path = "%s"; preset = "ultrafast"; }; },
      { module = "ts-file"; options = { path = "%s"; preset = "ultrafast"; }; },
      { module = "ts-file"; encoder = "mpegts";
        options = { path = "%s"; preset = "ultrafast"; bitrate_kbps = 600; }; }
    ); }""" % (sock, hd, sd)
    http = rvtest.free_tcp_port()
    config = rvtest.engine_config(work, rvtest.env("RV_MODULE_DIR"), [channel],
                                  profile=(640, 360, "30000/1001", 48000, 2),
                                  extra_engine='  metrics_listen = "127.0.0.1:%d";' % http)
    proc = subprocess.Popen([rvtest.env("RV_BIN"), "--config", config, "--clock=real",
                             "--run-for=%d" % RUN_S], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    log = []
    port = [0]
    found = threading.Event()

    def drain():
        for line in proc.stderr:
            log.append(line.rstrip())
            m = re.search(r"streaming MPEG-TS on tcp://127\.0\.0\.1:(\d+)", line)
            if m and not port[0]:
                port[0] = int(m.group(1))
                found.set()

    threading.Thread(target=drain, daemon=True).start()
    found.wait(20)
    stop = threading.Event()
    tcp_out, uds_out = [], []
    readers = [threading.Thread(target=read_socket,
                                args=(socket.AF_INET, ("127.0.0.1", port[0]), tcp_out, stop)),
               threading.Thread(target=read_socket,
                                args=(socket.AF_UNIX, sock, uds_out, stop))]
    for r in readers:
        r.start()
    lost = [0]

    def watch_drops():
        # ticks a rendition dropped before encoding (a machine too loaded for
        # real time, e.g. a sanitizer build): their PTS/PCR gaps are correct
        while proc.poll() is None:
            try:
                st = json.load(urllib.request.urlopen("http://127.0.0.1:%d/channels/1" % http,
                                                      timeout=2))
                lost[0] = max(lost[0], sum(x.get("queue_dropped", 0) for x in st["sinks"]))
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.5)

    threading.Thread(target=watch_drops, daemon=True).start()
    rc = proc.wait(timeout=120)
    stop.set()
    for r in readers:
        r.join(10)
    tap.ok(rc == 0, "the engine ran %d s and exited 0 (rc %s)" % (RUN_S, rc))
    rend = [l for l in log if "rendition " in l]
    for line in rend:
        tap.diag(line)
    tap.ok(len(rend) == 2, "four transports, two encoder settings: two encoders ran (%d)"
           % len(rend))
    full = open(hd, "rb").read() if os.path.exists(hd) else b""
    small = open(sd, "rb").read() if os.path.exists(sd) else b""
    tcp = tcp_out[0] if tcp_out else b""
    uds = uds_out[0] if uds_out else b""
    tap.ok(packet_run(full, tcp) >= 0,
           "the TCP client's %d bytes are a run of the file's packets (one shared encode)"
           % len(tcp))
    tap.ok(packet_run(full, uds) >= 0,
           "the Unix-socket client's %d bytes are a run of the file's packets" % len(uds))
    flags = ["--first-pat"]
    if lost[0]:
        tap.diag("the engine dropped %d ticks before encoding (load): PTS/PCR gaps allowed"
                 % lost[0])
        flags += ["--video-gaps-ok", "--pcr-max-ms", "5000", "--pat-max-ms", "5000"]
    tap.ok(ts_check(tap, hd, flags) == 0, "the HD file is clean MPEG-TS from a PAT")
    tap.ok(ts_check(tap, sd, flags) == 0, "the SD file is clean MPEG-TS from a PAT")
    ok_hd, err_hd = decodes_clean(hd)
    ok_sd, err_sd = decodes_clean(sd)
    tap.ok(ok_hd and ok_sd, "ffmpeg decodes both files without a word %s %s" % (err_hd, err_sd))
    tap.ok(0 < len(small) < len(full),
           "the 600 kb/s rendition is smaller (%d < %d bytes)" % (len(small), len(full)))
    if tap.failed:
        tap.diag("\n".join(log[-20:]))
    tap.done()


if __name__ == "__main__":
    main()
