"""Shared helpers for RetroVue Playout's integration tests (TAP output).

Every test is a /usr/bin/python3 script that drives the real binary. The
environment (set by tests/integration/CMakeLists.txt) gives RV_BIN,
RV_MODULE_DIR, RV_TEST_MODULE_DIR, RV_SOURCE_DIR, RV_BUILD_DIR and RV_TMP.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from fractions import Fraction


class Tap:
    """A TAP producer: ok(), diag(), done() (exit status)."""

    def __init__(self, planned=None):
        self.n = 0
        self.failed = 0
        self.planned = planned
        if planned is not None:
            print("1..%d" % planned, flush=True)

    def ok(self, cond, what):
        self.n += 1
        if not cond:
            self.failed += 1
        print("%sok %d - %s" % ("" if cond else "not ", self.n, what), flush=True)
        return cond

    def diag(self, text):
        for line in str(text).splitlines():
            print("# " + line, flush=True)

    def done(self):
        if self.planned is None:
            print("1..%d" % self.n, flush=True)
        elif self.n != self.planned:
            print("# planned %d tests but ran %d" % (self.planned, self.n), flush=True)
            self.failed += 1
        sys.exit(0 if self.failed == 0 else 1)


def env(name):
    value = os.environ.get(name)
    if not value:
        sys.stdout.write("Bail out! %s is not set (run through ctest)\n" % name)
        sys.exit(1)
    return value


def scratch(name):
    """A fresh scratch folder for one test."""
    base = os.environ.get("RV_TMP") or tempfile.gettempdir()
    os.makedirs(base, exist_ok=True)
    return tempfile.mkdtemp(prefix=name + ".", dir=base)


def module_dir_with_tests(folder):
    """A module folder holding every built module plus the test modules."""
    mods = os.path.join(folder, "modules")
    os.makedirs(mods, exist_ok=True)
    for src in (env("RV_MODULE_DIR"), os.environ.get("RV_TEST_MODULE_DIR", "")):
        if not src or not os.path.isdir(src):
            continue
        for name in os.listdir(src):
            if name.endswith(".so"):
                target = os.path.join(mods, name)
                if not os.path.exists(target):
                    os.symlink(os.path.join(src, name), target)
    return mods


def write(path, text):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    return path


def run_engine(config, args, timeout=600):
    """Run the binary; returns (returncode, stdout, stderr)."""
    cmd = [env("RV_BIN"), "--config", config] + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


# ---- the fence rules, computed independently with exact fractions ----

def tick_instant_ms(epoch_ms, rate, n):
    """Instant (exact Fraction, ms) of tick n."""
    num, den = rate
    return Fraction(epoch_ms) + Fraction(n * den * 1000, num)


def first_tick_at(epoch_ms, rate, t_ms):
    """ceil((t - epoch) * num / (den * 1000))."""
    num, den = rate
    x = Fraction((t_ms - epoch_ms) * num, den * 1000)
    return -((-x.numerator) // x.denominator)


def samples_in_tick(rate, audio_rate, n):
    num, den = rate
    return (n + 1) * audio_rate * den // num - n * audio_rate * den // num


def expected_segments(blocks, epoch_ms, rate, first, end):
    """[(first_tick, end_tick, block_id, index, segment)] for ticks in [first, end)
    for a non-looping plan given as [{id, start, end, segments:[{duration...}]}]."""
    out = []
    for b in blocks:
        t = b["start"]
        for i, s in enumerate(b["segments"]):
            f = first_tick_at(epoch_ms, rate, t)
            e = first_tick_at(epoch_ms, rate, t + s["duration"])
            t += s["duration"]
            f2, e2 = max(f, first), min(e, end)
            if f2 < e2:
                out.append((f2, e2, b["id"], i, s, f))
    return out


def plan_text(blocks, loop=False):
    """libconfig text for a plan given as Python dicts."""
    lines = ["loop = %s;" % ("true" if loop else "false"), "blocks = ("]
    for bi, b in enumerate(blocks):
        lines.append('  { id = "%s"; start_utc_ms = %dL; end_utc_ms = %dL; segments = (' %
                     (b["id"], b["start"], b["end"]))
        segs = []
        for s in b["segments"]:
            fields = ['type = "%s"' % s["type"], "duration_ms = %d" % s["duration"]]
            if s.get("uri"):
                fields.append('asset_uri = "%s"' % s["uri"])
            if s.get("offset"):
                fields.append("asset_start_offset_ms = %d" % s["offset"])
            if s.get("event"):
                fields.append('event_id = "%s"' % s["event"])
            if s.get("fade_in"):
                fields.append('transition_in = "FADE"; transition_in_ms = %d' % s["fade_in"])
            if s.get("fade_out"):
                fields.append('transition_out = "FADE"; transition_out_ms = %d' % s["fade_out"])
            segs.append("    { %s; }" % "; ".join(fields))
        lines.append(",\n".join(segs))
        lines.append("  ) }%s" % ("," if bi + 1 < len(blocks) else ""))
    lines.append(");")
    return "\n".join(lines) + "\n"


def engine_config(folder, modules, channels, profile=(320, 180, "30000/1001", 48000, 2),
                  extra_engine=""):
    """Write an engine config; channels are libconfig channel groups (text).
    A TCP control listener in extra_engine with no token file and no word on
    control_insecure_tcp gets `control_insecure_tcp = true;` (the tests talk
    to loopback without credentials; the engine refuses that unless told)."""
    w, h, fr, ar, ac = profile
    if (re.search(r'control_listen[^;]*"(?!unix)[^"]*:[0-9]+"', extra_engine)
            and "control_token_file" not in extra_engine
            and "control_insecure_tcp" not in extra_engine):
        extra_engine += "\n  control_insecure_tcp = true;"
    os.makedirs(os.path.join(folder, "plans"), exist_ok=True)
    text = """engine: {
  module_dir = "%s";
  plans_dir = "plans";
  log_level = "info";
%s
};
profiles: {
  test: { width = %d; height = %d; frame_rate = "%s"; audio_rate = %d; audio_channels = %d; };
};
channels: (
%s
);
""" % (modules, extra_engine, w, h, fr, ar, ac, ",\n".join(channels))
    return write(os.path.join(folder, "engine.conf"), text)


def framelog_channel(cid, framelog_path, mode="ticks", producers=("testsrc", "slate"),
                     plan=None):
    prods = ", ".join('{ module = "%s"; }' % p for p in producers)
    auto = ('autostart_plan = "%s";' % plan) if plan else ""
    return """  { id = %d; name = "Test %d"; profile = "test"; %s
    producers = ( %s );
    slate = { module = "slate"; options = { show_clock = false; }; };
    renderer = { module = "null"; };
    sinks = ( { module = "framelog"; options = { mode = "%s"; path = "%s"; }; } ); }""" % (
        cid, cid, auto, prods, mode, framelog_path)


def free_tcp_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def tcp_capture(port, out, stop):
    """Read a TCP stream until `stop` (a threading.Event) is set or the peer
    closes; append the bytes to the list `out` (run in a thread)."""
    data = bytearray()
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.settimeout(0.3)
        while not stop.is_set():
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                break
            data += chunk
        s.close()
    except OSError:
        pass
    out.append(bytes(data))


def http_capture(port, path, seconds, out_path, stop=None, timeout=5):
    """GET http://127.0.0.1:PORT/PATH and keep what arrives for SECONDS (or
    until STOP, a threading.Event, is set) in OUT_PATH, cut to whole 188-byte
    TS packets. An HTTP or socket error ends the capture quietly. Returns the
    bytes kept."""
    import http.client
    data = bytearray()
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        c.request("GET", path)
        r = c.getresponse()
        end = time.monotonic() + seconds
        while time.monotonic() < end and not (stop and stop.is_set()):
            chunk = r.read1(65536)
            if not chunk:
                break
            data += chunk
        c.close()
    except (OSError, http.client.HTTPException):
        pass
    data = data[:len(data) - len(data) % 188]
    with open(out_path, "wb") as f:
        f.write(data)
    return len(data)


def start_http_engine(config, http_port, args, tries=200):
    """Run the real binary on `config` with extra `args`, its stderr lines
    collected in a list, and wait (up to tries x 50 ms) for /healthz on
    127.0.0.1:`http_port`. Returns (process, log lines, base URL)."""
    import threading
    import urllib.request
    proc = subprocess.Popen([env("RV_BIN"), "--config", config] + list(args),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    log = []
    threading.Thread(target=lambda: [log.append(l.rstrip()) for l in proc.stderr],
                     daemon=True).start()
    base = "http://127.0.0.1:%d" % http_port
    for _ in range(tries):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1).read()
            break
        except OSError:
            time.sleep(0.05)
    return proc, log, base
