#!/usr/bin/python3
"""integration.telemetry_prometheus: the real Prometheus server (Debian's
`prometheus`, a temporary config and TSDB, loopback only) scrapes a
real-clock engine every second for more than 20 s; its HTTP API then returns
the three seed metrics of the running channel with sensible values (state 2
"ready", |frame gap| < 1 s, buffer depth > 0), the target is up, and every
scrape in the window was ingested. `promtool check metrics` accepts a scrape.
"""
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rvtest  # noqa: E402
import telemetry_helpers as th  # noqa: E402
from rvtest import Tap  # noqa: E402

RUN_S = 22            # scraping time before the queries (>= 20 s)
WINDOW = "20s"


def prometheus_config(folder, metrics_port):
    return rvtest.write(os.path.join(folder, "prometheus.yml"), """global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: retrovue
    static_configs:
      - targets: ["127.0.0.1:%d"]
""" % metrics_port)


class Prometheus:
    def __init__(self, folder, config):
        self.port = th.free_port()
        self.log = open(os.path.join(folder, "prometheus.log"), "w")
        self.proc = subprocess.Popen(
            [shutil.which("prometheus"), "--config.file=" + config,
             "--storage.tsdb.path=" + os.path.join(folder, "tsdb"),
             "--web.listen-address=127.0.0.1:%d" % self.port, "--log.level=warn"],
            stdout=self.log, stderr=self.log)

    def query(self, expr):
        url = "http://127.0.0.1:%d/api/v1/query?%s" % (self.port,
                                                      urllib.parse.urlencode({"query": expr}))
        try:
            status, _, body = th.http(url)
        except OSError:
            return None
        doc = json.loads(body) if status == 200 else {}
        return doc.get("data", {}).get("result") if doc.get("status") == "success" else None

    def ready(self, timeout_s=60):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                status, _, _ = th.http("http://127.0.0.1:%d/-/ready" % self.port, timeout_s=2)
                if status == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.2)
        return False

    def stop(self, timeout_s=20):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def one_value(result):
    """(labels, float value) of a single-sample vector, or (None, None)."""
    if not result or len(result) != 1:
        return None, None
    return result[0]["metric"], float(result[0]["value"][1])


def main():
    tap = Tap()
    for tool in ("prometheus", "promtool"):
        if not shutil.which(tool):
            tap.ok(False, "%s is installed (Debian package prometheus, tools/debian-packages.txt)"
                   % tool)
            tap.done()
    work = rvtest.scratch("telemetry_prometheus")
    mods = rvtest.module_dir_with_tests(work)
    th.long_plan(work, "steady", "test:", th.now_ms())
    cfg = rvtest.engine_config(work, mods, [th.channel_block(1, plan="steady")],
                               extra_engine='  metrics_listen = "127.0.0.1:0";')
    eng = th.Engine(cfg)
    prom = None
    try:
        if not tap.ok(eng.wait_port() is not None, "the engine logs its telemetry port"):
            tap.diag(eng.stderr()[-2000:])
            return tap.done()
        prom = Prometheus(work, prometheus_config(work, eng.port))
        if not tap.ok(prom.ready(), "prometheus is ready on 127.0.0.1:%d" % prom.port):
            return tap.done()
        time.sleep(RUN_S)
        _, up = one_value(prom.query('up{job="retrovue"}'))
        tap.ok(up == 1, "the scrape target is up (%s)" % up)
        labels, state = one_value(prom.query('retrovue_playout_channel_state{channel="1"}'))
        tap.ok(state == 2 and labels and labels.get("state") == "ready",
               "channel_state of channel 1: %s %s" % (labels, state))
        _, gap = one_value(prom.query('retrovue_playout_frame_gap_seconds{channel="1"}'))
        tap.ok(gap is not None and abs(gap) < 1.0, "|frame_gap_seconds| < 1 s: %s" % gap)
        _, depth = one_value(prom.query('retrovue_playout_buffer_depth_frames{channel="1"}'))
        tap.ok(depth is not None and depth > 0, "buffer_depth_frames > 0: %s" % depth)
        _, scrapes = one_value(prom.query(
            'count_over_time(retrovue_playout_frame_gap_seconds{channel="1"}[%s])' % WINDOW))
        tap.ok(scrapes is not None and scrapes >= 10,
               "samples over the last %s: %s (scrape every 1 s)" % (WINDOW, scrapes))
        _, ticks = one_value(prom.query('delta(retrovue_playout_tick{channel="1"}[%s])' % WINDOW))
        tap.ok(ticks is not None and ticks > 0, "the channel's tick advanced: %s" % ticks)
        _, real = one_value(prom.query(
            'increase(retrovue_playout_frames_total{channel="1",source="real"}[%s])' % WINDOW))
        tap.ok(real is not None and real > 0, "real frames are counted: %s" % real)
        labels, _ = one_value(prom.query("retrovue_playout_build_info"))
        tap.ok(labels and labels.get("version") and labels.get("api_version"),
               "build_info: %s" % labels)
        _, _, body = th.http(eng.url("/metrics"))
        p = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True,
                           text=True)
        tap.ok(p.returncode == 0, "promtool check metrics passes %s" % (p.stdout + p.stderr)[:300])
    finally:
        if prom:
            prom.stop()
        rc = eng.stop()
    tap.ok(rc == 0, "engine exits 0 on SIGTERM (%s)" % rc)
    if tap.failed:
        tap.diag(eng.stderr()[-2000:])
    tap.done()


if __name__ == "__main__":
    main()
