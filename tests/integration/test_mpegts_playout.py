#!/usr/bin/python3
"""integration.mpegts_playout: the real retrovue_playout binary airs a plan of
slate, PAD and ffmpeg-file segments (a seam every 2 s) through the mpegts-tcp
sink in real time for 25 s, while real clients watch: two raw socket readers,
`ffmpeg` decoding the live URL, and a reader that joins mid-stream.

Asserts on the captures: ts_check.py (continuity counters per PID, PCR
<= 40 ms, PAT/PMT <= 100 ms, video PTS one frame apart everywhere, audio PTS
continuous), `ffmpeg -v error` silent, the two readers byte-identical from
the moment both joined, the late joiner's first frame a keyframe within one
GOP's bytes.
"""
import os
import re
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rvtest  # noqa: E402

RUN_S = 25
SEG_MS = 2000


class Reader(threading.Thread):
    def __init__(self, port, path):
        super().__init__(daemon=True)
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.path = path
        self.bytes = 0

    def run(self):
        with open(self.path, "wb") as f:
            while True:
                try:
                    data = self.sock.recv(65536)
                except OSError:
                    break
                if not data:
                    break
                f.write(data)
                self.bytes += len(data)
        self.sock.close()


def ts_check(tap, capture, extra=()):
    script = os.path.join(rvtest.env("RV_SOURCE_DIR"), "tests", "unit", "ts_check.py")
    p = subprocess.run(["/usr/bin/python3", script, capture] + list(extra),
                       capture_output=True, text=True)
    result = {}
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            import json
            result = json.loads(line[7:])
        else:
            tap.diag(line)
    return p.returncode, result


def decodes_clean(capture):
    p = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", capture, "-f", "null", "-"],
                       capture_output=True, text=True)
    return p.returncode == 0 and p.stderr.strip() == "", p.stderr.strip()[:500]


def packet_suffix(full, part):
    """offset in full at which part (whole 188-byte packets) begins, or -1."""
    if len(part) < 188 * 4:
        return -1
    for off in range(0, len(full) - len(part) + 1, 188):
        if full[off:off + len(part)] == part:
            return off
    return -1


def main():
    tap = rvtest.Tap(9)
    work = rvtest.scratch("mpegts_playout")
    clip = os.path.join(work, "clip.mp4")
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y",
                    "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30000/1001:duration=6",
                    "-f", "lavfi", "-i", "sine=frequency=660:sample_rate=48000:duration=6",
                    "-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-c:a", "aac",
                    "-shortest", clip], check=True)
    segs = [("CONTENT", "slate:bars", 0), ("PAD", None, 0), ("CONTENT", clip, 0),
            ("FILLER", "slate:solid", 0), ("CONTENT", clip, 1500), ("PAD", None, 0),
            ("CONTENT", "slate:", 0), ("CONTENT", clip, 3000), ("CONTENT", "slate:bars", 0),
            ("PAD", None, 0), ("FILLER", "slate:solid", 0), ("CONTENT", clip, 500)]
    block = {"id": "seams", "start": 0, "end": SEG_MS * len(segs),
             "segments": [dict(type=t, uri=u, offset=o, duration=SEG_MS, event="S%d" % i)
                          for i, (t, u, o) in enumerate(segs)]}
    os.makedirs(os.path.join(work, "plans"), exist_ok=True)
    rvtest.write(os.path.join(work, "plans", "seams.conf"), rvtest.plan_text([block], loop=True))
    channel = """  { id = 1; name = "Seams"; profile = "test"; autostart_plan = "seams";
    producers = ( { module = "ffmpeg-file"; }, { module = "slate"; } );
    slate = { module = "slate"; };
    renderer = { module = "null"; };
    sinks = ( { module = "mpegts-tcp"; options = { port = 0; }; } ); }"""
    config = rvtest.engine_config(work, rvtest.env("RV_MODULE_DIR"), [channel],
                                  profile=(640, 360, "30000/1001", 48000, 2))

    proc = subprocess.Popen([rvtest.env("RV_BIN"), "--config", config, "--clock=real",
                             "--run-for=%d" % RUN_S], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    log = []
    port_found = threading.Event()
    port = [0]

    def drain():
        for line in proc.stderr:
            log.append(line.rstrip())
            m = re.search(r"streaming MPEG-TS on tcp://127\.0\.0\.1:(\d+)", line)
            if m and not port[0]:
                port[0] = int(m.group(1))
                port_found.set()

    threading.Thread(target=drain, daemon=True).start()
    if not tap.ok(port_found.wait(20), "the engine starts the mpegts-tcp sink and logs its URL"):
        proc.kill()
        tap.diag("\n".join(log[-30:]))
        tap.done()
    url = "tcp://127.0.0.1:%d" % port[0]
    caps = [os.path.join(work, n) for n in ("r1.ts", "r2.ts", "late.ts")]
    r1 = Reader(port[0], caps[0])
    r2 = Reader(port[0], caps[1])
    r1.start()
    r2.start()
    ff = subprocess.Popen(["ffmpeg", "-nostdin", "-v", "error", "-i", url, "-f", "null", "-"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(RUN_S / 2)
    r3 = Reader(port[0], caps[2])
    r3.start()
    rc = proc.wait(timeout=RUN_S + 60)
    for r in (r1, r2, r3):
        r.join(timeout=10)
    try:
        ff_err = ff.communicate(timeout=20)[1].strip()
    except subprocess.TimeoutExpired:
        ff.kill()
        ff_err = "ffmpeg client did not finish"
    tap.ok(rc == 0, "retrovue_playout --clock=real --run-for=%d exits 0 (got %d)" % (RUN_S, rc))
    if rc != 0:
        tap.diag("\n".join(log[-30:]))

    code, res = ts_check(tap, caps[0], ["--first-pat"])
    tap.ok(code == 0, "reader 1: CC continuous, PCR <= 40 ms, PAT/PMT <= 100 ms, "
                      "video PTS one frame apart, audio continuous")
    frames = res.get("video_frames", 0)
    tap.ok(frames >= (RUN_S - 3) * 30000 // 1001,
           "reader 1 holds %d frames: >= %d s of channel time across >= %d seams"
           % (frames, RUN_S - 3, (RUN_S - 3) * 1000 // SEG_MS - 1))
    ok, err = decodes_clean(caps[0])
    tap.ok(ok, "ffmpeg -v error decodes reader 1's capture silently %s" % err)
    d1, d2 = open(caps[0], "rb").read(), open(caps[1], "rb").read()
    longer, shorter = (d1, d2) if len(d1) >= len(d2) else (d2, d1)
    off = packet_suffix(longer, shorter)
    tap.ok(off >= 0 and len(shorter) > 1000000,
           "two readers: byte-identical from the moment both were joined (offset %d, %d bytes)"
           % (off, len(shorter)))
    late = open(caps[2], "rb").read()
    tap.ok(packet_suffix(d1, late) >= 0, "the late joiner received the same bytes as reader 1")
    _, lres = ts_check(tap, caps[2], ["--first-pat"])
    p = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-read_intervals",
                        "%+#1", "-show_entries", "frame=key_frame,pkt_pos", "-of", "csv=p=0",
                        caps[2]], capture_output=True, text=True)
    first = (p.stdout.strip().splitlines() or ["-1,-1"])[0].split(",")
    gop = res.get("max_gop_bytes", 0)
    tap.ok(lres.get("first_video_is_key") and first[0] == "1" and 0 <= int(first[1]) < gop,
           "the late joiner starts with PAT/PMT and decodes a keyframe at byte %s (< one GOP, %d)"
           % (first[1], gop))
    tap.ok(ff.returncode == 0 and ff_err == "",
           "ffmpeg reading %s live decoded without a message %s" % (url, ff_err[:300]))
    tap.done()


if __name__ == "__main__":
    main()
