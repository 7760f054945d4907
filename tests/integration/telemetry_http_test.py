#!/usr/bin/python3
"""integration.telemetry_http: the HTTP endpoint of the real binary (real
clock). /metrics is Prometheus text format 0.0.4 that `promtool check
metrics` accepts, with the channel's families; /healthz is 200 while the
channel is ready, flips to 503 naming the channel, its state and why when
its producer fails (test:fail_at airs the slate), and back to 200 when the
recovery (1 s backoff) brings real frames back. Unknown paths are 404, POST
is 405, HEAD answers without a body, and a metrics port already in use is a
clear start-up error with exit status 1.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rvtest  # noqa: E402
import telemetry_helpers as th  # noqa: E402
from rvtest import Tap  # noqa: E402

FAIL_AT = 90          # source frame that fails once: ~3 s into the asset
POLL_S = 0.05


def check_routes(tap, eng):
    status, headers, body = th.http(eng.url("/metrics"))
    tap.ok(status == 200 and headers.get("content-type") ==
           "text/plain; version=0.0.4; charset=utf-8",
           "/metrics: 200, %s" % headers.get("content-type"))
    for fam in ("retrovue_playout_channel_state", "retrovue_playout_frame_gap_seconds",
                "retrovue_playout_buffer_depth_frames", "retrovue_playout_frames_total",
                "retrovue_playout_segments_total", "retrovue_playout_sink_bytes_total",
                "retrovue_playout_build_info"):
        if not ("# HELP %s " % fam in body and "# TYPE %s " % fam in body):
            tap.ok(False, "/metrics has HELP and TYPE for %s" % fam)
            break
    else:
        tap.ok(True, "/metrics has HELP and TYPE for every family checked")
    tap.ok('retrovue_playout_frames_total{channel="1",source="real"}' in body and
           'retrovue_playout_sink_bytes_total{channel="1",sink="0-framelog"}' in body,
           "channel and sink labels (channel id, <index>-<module>)")
    if shutil.which("promtool"):
        p = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True,
                           text=True)
        tap.ok(p.returncode == 0 and not p.stdout.strip() and not p.stderr.strip(),
               "promtool check metrics passes %s" % (p.stdout + p.stderr).strip()[:300])
    else:
        tap.ok(False, "promtool is installed (Debian package prometheus)")
    status, headers, body = th.http(eng.url("/healthz"), method="HEAD")
    tap.ok(status in (200, 503) and body == "" and int(headers.get("content-length", "0")) > 0,
           "HEAD /healthz: status %d, Content-Length %s, no body" %
           (status, headers.get("content-length")))
    status, _, _ = th.http(eng.url("/nope"))
    tap.ok(status == 404, "unknown path: %d" % status)
    status, _, _ = th.http(eng.url("/metrics/"))
    tap.ok(status == 404, "/metrics/ is not /metrics: %d" % status)
    status, headers, _ = th.http(eng.url("/healthz"), method="POST", data=b"x=1")
    tap.ok(status == 405 and "GET" in headers.get("allow", ""),
           "POST /healthz: %d, Allow: %s" % (status, headers.get("allow")))


def poll_health(eng, want_status, timeout_s):
    """Poll /healthz every 50 ms until it answers want_status; (status, doc)."""
    deadline = time.monotonic() + timeout_s
    status, doc = None, None
    while time.monotonic() < deadline:
        status, headers, body = th.http(eng.url("/healthz"))
        doc = json.loads(body) if headers.get("content-type") == "application/json" else None
        if status == want_status:
            return status, doc
        time.sleep(POLL_S)
    return status, doc


def check_health_flip(tap, eng):
    status, doc = poll_health(eng, 200, 15)
    tap.ok(status == 200 and doc and doc.get("status") == "ok" and
           [c["id"] for c in doc.get("channels", [])] == [1] and
           doc["channels"][0]["state"] == "ready",
           "/healthz 200 while channel 1 is ready: %s" % doc)
    status, doc = poll_health(eng, 503, 20)
    nr = (doc or {}).get("not_ready") or [{}]
    tap.ok(status == 503 and doc.get("status") != "ok" and nr[0].get("id") == 1 and
           nr[0].get("state") == "error" and "asset unavailable" in nr[0].get("reason", "") and
           "fail_at" not in nr[0].get("reason", ""),
           "/healthz 503 naming channel 1, state error and why, without the asset (issue 16): %s"
           % doc)
    status, doc = poll_health(eng, 200, 20)
    tap.ok(status == 200 and doc.get("status") == "ok",
           "/healthz back to 200 after the recovery: %s" % doc)
    _, _, body = th.http(eng.url("/metrics"))
    errors = [l for l in body.splitlines()
              if l.startswith('retrovue_playout_producer_errors_total{channel="1"}')]
    restarts = [l for l in body.splitlines()
                if l.startswith('retrovue_playout_producer_restarts_total{channel="1"}')]
    tap.ok(errors and int(errors[0].split()[-1]) >= 1 and restarts and
           int(restarts[0].split()[-1]) >= 1,
           "the failure is counted: %s %s" % (errors, restarts))


def thread_nice(pid):
    """{thread name: set of nice values} of process @pid (/proc, Linux)."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                stat = f.read()
        except OSError:
            continue                      # the thread ended meanwhile
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        nice = int(stat[stat.rindex(")") + 2:].split()[16])
        out.setdefault(name, set()).add(nice)
    return out


def check_http_priority(tap, eng):
    """The HTTP server's threads (libmicrohttpd names them MHD-*; the viewers'
    sender, rv-http-tx, writes every /channel/N.ts body) run 10 nicer than
    the engine's own, so a burst of them yields to the channels and the
    control plane; the engine's other threads keep their priority."""
    held = socket.create_connection(("127.0.0.1", eng.port), timeout=5)   # one connection thread
    try:
        time.sleep(0.3)
        nice = thread_nice(eng.proc.pid)
    finally:
        held.close()
    own = nice.get("retrovue_playou", set())
    mhd = {k: v for k, v in nice.items() if k.startswith("MHD-") or k == "rv-http-tx"}
    base = min(own) if own else None
    tap.ok(base is not None and "MHD-connection" in mhd and "rv-http-tx" in mhd and
           all(n == min(base + 10, 19) for v in mhd.values() for n in v),
           "HTTP threads run 10 nicer than the engine's: %s" % sorted((k, sorted(v))
                                                                       for k, v in nice.items()))


def check_port_in_use(tap, work, mods):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    folder = os.path.join(work, "busy")
    os.makedirs(folder)
    cfg = rvtest.engine_config(folder, mods, [th.channel_block(1)],
                               extra_engine='  metrics_listen = "127.0.0.1:%d";' % port)
    rc, _, err = rvtest.run_engine(cfg, [], timeout=60)
    busy.close()
    tap.ok(rc == 1 and "metrics_listen" in err and "127.0.0.1:%d" % port in err and
           "in use" in err, "port in use: exit %d, %s" % (rc, err.strip()[-300:]))


def main():
    tap = Tap()
    work = rvtest.scratch("telemetry_http")
    mods = rvtest.module_dir_with_tests(work)
    th.long_plan(work, "failing", "test:fail_at=%d" % FAIL_AT, th.now_ms())
    cfg = rvtest.engine_config(work, mods, [th.channel_block(1, plan="failing")],
                               extra_engine='  metrics_listen = "127.0.0.1:0";')
    eng = th.Engine(cfg)
    try:
        if not tap.ok(eng.wait_port() is not None, "the engine logs its telemetry port"):
            tap.diag(eng.stderr()[-2000:])
            return tap.done()
        check_health_flip(tap, eng)
        check_routes(tap, eng)
        check_http_priority(tap, eng)
    finally:
        rc = eng.stop()
    tap.ok(rc == 0, "engine exits 0 on SIGTERM (%s)" % rc)
    if tap.failed:
        tap.diag(eng.stderr()[-3000:])
    check_port_in_use(tap, work, mods)
    tap.done()


if __name__ == "__main__":
    main()
