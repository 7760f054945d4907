"""Helpers for the control-plane tests (test_control.py, test_playoutctl.py):
start an engine (the real binary, or the stub server) listening on a Unix
socket and a TCP port, and talk to it with Debian's grpcio and the stubs
generated at build time (<build>/python, or $RV_PYTHON_DIR)."""
import os
import signal
import subprocess
import sys
import time

import rvtest

PY_DIR = os.environ.get("RV_PYTHON_DIR") or os.path.join(
    os.environ.get("RV_BUILD_DIR", ""), "python")
sys.path.insert(0, PY_DIR)

import grpc  # noqa: E402
from retrovue import playout_pb2 as pb  # noqa: E402
from retrovue import playout_pb2_grpc as pb_grpc  # noqa: E402

SERVICE = "/retrovue.playout.PlayoutControl/"
# Keep ASan's quarantine small so RSS reflects live memory (harmless without ASan).
ASAN_DEFAULTS = "quarantine_size_mb=8"


free_tcp_port = rvtest.free_tcp_port


def plan(blocks_uri=("slate:bars", "slate:solid")):
    """A looping one-minute plan: CONTENT then PAD, the way the demo runs."""
    return rvtest.plan_text([{
        "id": "b1", "start": 0, "end": 60000,
        "segments": [{"type": "CONTENT", "uri": blocks_uri[0], "duration": 30000, "event": "EV1"},
                     {"type": "PAD", "duration": 30000, "event": "EV2"}]}], loop=True)


def write_plans(folder):
    plans = os.path.join(folder, "plans")
    os.makedirs(plans, exist_ok=True)
    rvtest.write(os.path.join(plans, "demo.conf"), plan(("slate:bars",)))
    rvtest.write(os.path.join(plans, "alt.conf"), plan(("slate:solid",)))
    rvtest.write(os.path.join(plans, "broken.conf"), "loop = true; blocks = ( { id = \"x\"; } );\n")
    # a file asset outside media_roots (issue 16): refused at validation
    rvtest.write(os.path.join(plans, "escape.conf"),
                 plan(("file:../../../../../../../../etc/passwd",)))
    return plans


def real_config(folder, sock, tcp_port, channel_ids, defaults=True, name="engine.conf"):
    """A config for the real binary: slate producer, framelog summary sinks."""
    modules = rvtest.env("RV_MODULE_DIR")
    write_plans(folder)
    chans = [rvtest.framelog_channel(cid, os.path.join(folder, "ch%d.jsonl" % cid),
                                     mode="summary", producers=("slate",))
             for cid in channel_ids]
    listen = 'control_listen = [ "unix:%s", "127.0.0.1:%d" ];' % (sock, tcp_port)
    listen += '\n  media_roots = [ "media" ];'  # resolved against the config's folder
    path = rvtest.engine_config(folder, modules, chans, extra_engine=listen)
    if name != "engine.conf":
        os.rename(path, os.path.join(folder, name))
        path = os.path.join(folder, name)
    if defaults:
        with open(path, "a") as f:
            f.write("""channel_defaults: {
  profile = "test";
  producers = ( { module = "slate"; } );
  sinks = ( { module = "framelog"; options = { mode = "summary"; path = "%s"; }; } );
};
""" % os.path.join(folder, "defaults.jsonl"))
    return path


class Engine:
    """One server process and gRPC channels to it over Unix and TCP."""

    def __init__(self, cmd, sock, tcp_port, log_path):
        self.cmd = cmd
        self.sock = sock
        self.tcp_port = tcp_port
        self.log_path = log_path
        self.proc = None
        self.channels = []

    def launch(self):
        """Start the process only."""
        env = dict(os.environ)
        env["ASAN_OPTIONS"] = ":".join(x for x in (env.get("ASAN_OPTIONS"), ASAN_DEFAULTS) if x)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.cmd, stdout=self.log, stderr=self.log, env=env)

    def exit_status(self, timeout=60):
        """Wait for the process to exit by itself; None if it keeps running."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def start(self, wait_s=120):
        """Start the process and wait until it answers GetVersion."""
        self.launch()
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            if os.path.exists(self.sock):
                try:
                    self.stub("unix").GetVersion(pb.ApiVersionRequest(), timeout=2)
                    return True
                except grpc.RpcError:
                    pass
            time.sleep(0.05)
        return False

    def channel(self, kind):
        target = "unix:" + self.sock if kind == "unix" else "127.0.0.1:%d" % self.tcp_port
        ch = grpc.insecure_channel(target)
        self.channels.append(ch)
        return ch

    def stub(self, kind="unix"):
        return pb_grpc.PlayoutControlStub(self.channel(kind))

    def rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return -1

    def stop(self, timeout=120):
        """SIGTERM; returns the exit status (None if it had to be killed)."""
        for ch in self.channels:
            ch.close()
        self.channels = []
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = None
        self.log.close()
        return rc

    def log_text(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""
