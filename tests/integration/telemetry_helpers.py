"""Helpers for the telemetry tests (/metrics, /healthz): start the real
binary with metrics_listen on port 0, learn the port from its log line
`telemetry: listening on http://HOST:PORT`, make HTTP requests, stop it.
"""
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import rvtest

LISTEN_RE = re.compile(r"telemetry: listening on http://([0-9.]+|\[[0-9a-f:]+\]):(\d+)")


def now_ms():
    return int(time.time() * 1000)


def free_port():
    """A TCP port that was free a moment ago on 127.0.0.1."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def long_plan(folder, handle, uri, start_ms, duration_ms=3600 * 1000):
    """A one-segment plan starting at start_ms (UTC ms)."""
    blocks = [{"id": "b1", "start": start_ms, "end": start_ms + duration_ms,
               "segments": [{"type": "CONTENT", "duration": duration_ms, "uri": uri,
                             "event": "EV1"}]}]
    os.makedirs(os.path.join(folder, "plans"), exist_ok=True)
    rvtest.write(os.path.join(folder, "plans", handle + ".conf"), rvtest.plan_text(blocks))


class Engine:
    """The binary running in the background with its stderr in a file."""

    def __init__(self, config, args=(), log_path=None):
        self.log_path = log_path or config + ".stderr"
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([rvtest.env("RV_BIN"), "--config", config] + list(args),
                                     stdout=subprocess.DEVNULL, stderr=self.log)
        self.port = None

    def stderr(self):
        with open(self.log_path) as f:
            return f.read()

    def wait_port(self, timeout_s=30):
        """The telemetry port from the log, or None if the engine exited or
        never said it."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            m = LISTEN_RE.search(self.stderr())
            if m:
                self.port = int(m.group(2))
                return self.port
            if self.proc.poll() is not None:
                return None
            time.sleep(0.05)
        return None

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def stop(self, timeout_s=30):
        """SIGTERM, bounded wait, SIGKILL on timeout; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


def http(url, method="GET", data=None, timeout_s=10):
    """(status, headers dict with lower-case names, body text)."""
    req = urllib.request.Request(url, method=method, data=data)
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, \
                r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read().decode("utf-8")


def channel_block(cid, producers=("testsrc", "slate"), plan=None, sink=None):
    """A libconfig channel group with a framelog (summary) sink by default."""
    prods = ", ".join('{ module = "%s"; }' % p for p in producers)
    auto = ('autostart_plan = "%s";' % plan) if plan else ""
    sink = sink or '{ module = "framelog"; options = { mode = "summary"; path = "/dev/null"; }; }'
    return """  { id = %d; name = "Test %d"; profile = "test"; %s
    producers = ( %s );
    slate = { module = "slate"; options = { show_clock = false; }; };
    renderer = { module = "null"; };
    sinks = ( %s ); }""" % (cid, cid, auto, prods, sink)
