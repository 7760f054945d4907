#!/usr/bin/python3
"""integration.production_config: conf/production.conf, with its system
paths (/usr/lib/..., /var/lib/..., /var/log/..., /run/retrovue)
rewritten to scratch folders and its modules to this build's, passes
--check-config, so the shipped example stays valid as modules change. With
its ports also rewritten to 0 it starts, answers /healthz 200 (no channel
started) and /metrics, and stops cleanly on SIGTERM. The systemd unit
names the same directories the config uses; the example Prometheus config
and alert rules (conf/prometheus/) pass `promtool check config`.
"""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rvtest  # noqa: E402
import telemetry_helpers as th  # noqa: E402
from rvtest import Tap  # noqa: E402


def rewrite(text, work, ports_zero):
    subs = [("/usr/lib/retrovue-playout/modules", rvtest.env("RV_MODULE_DIR")),
            ("/var/lib/retrovue-playout", os.path.join(work, "state")),
            ("/var/log/retrovue-playout", os.path.join(work, "logs")),
            ("/run/retrovue", os.path.join(work, "run"))]
    for old, new in subs:
        text = text.replace(old, new)
    if ports_zero:
        text = re.sub(r'"127\.0\.0\.1:\d+"', '"127.0.0.1:0"', text)
    return text


def main():
    tap = Tap()
    src = os.path.join(rvtest.env("RV_SOURCE_DIR"), "conf")
    with open(os.path.join(src, "production.conf")) as f:
        text = f.read()
    with open(os.path.join(src, "retrovue-playout.service")) as f:
        unit = f.read()
    active = re.sub(r"#.*", "", text)
    tap.ok('metrics_listen = "127.0.0.1:9308";' in active and
           'control_listen = [ "unix:/run/retrovue/playout.sock" ];' in active and
           "50051" not in active and "control_insecure_tcp" not in active,
           "production.conf: metrics on 127.0.0.1:9308, control on the Unix socket only "
           "(no unauthenticated TCP listener)")
    tap.ok("RuntimeDirectory=retrovue" in unit and "StateDirectory=retrovue-playout" in unit and
           "LogsDirectory=retrovue-playout" in unit and
           "--config /etc/retrovue-playout/production.conf" in unit,
           "the unit creates /run/retrovue, the state and logs folders, runs production.conf")
    work = rvtest.scratch("production_config")
    for d in ("state/plans", "logs/asrun", "run"):
        os.makedirs(os.path.join(work, d))
    checked = rvtest.write(os.path.join(work, "production.conf"), rewrite(text, work, False))
    leftover = [p for p in ("/usr/", "/var/", "/run/retrovue") if p in
                re.sub(r"#.*", "", open(checked).read())]
    tap.ok(not leftover, "every system path rewritten %s" % leftover)
    rc, _, err = rvtest.run_engine(checked, ["--check-config"], timeout=120)
    tap.ok(rc == 0 and "OK (2 channels" in err, "--check-config: exit %d %s" % (rc, err.strip()))
    prom = os.path.join(src, "prometheus", "prometheus.yml")
    p = subprocess.run([shutil.which("promtool") or "promtool", "check", "config", prom],
                       capture_output=True, text=True) if shutil.which("promtool") else None
    tap.ok(p is not None and p.returncode == 0 and "1 rule files found" in p.stdout,
           "promtool check config: the example scrape config and alert rules are valid %s" %
           ((p.stdout + p.stderr).strip()[-300:] if p else "(promtool missing)"))

    analyze = shutil.which("systemd-analyze")
    if analyze:
        # verify checks that ExecStart exists: point it at this build's binary;
        # and that man pages in Documentation= exist: the build's is not
        # installed (package.deb verifies the installed unit as it is).
        unit_copy = rvtest.write(os.path.join(work, "retrovue-playout.service"),
                                 unit.replace("/usr/bin/retrovue_playout",
                                              rvtest.env("RV_BIN"))
                                 .replace("man:retrovue_playout(8) ", ""))
        p = subprocess.run([analyze, "verify", unit_copy], capture_output=True, text=True)
        tap.ok(p.returncode == 0 and not p.stderr.strip(),
               "systemd-analyze verify accepts the unit %s" % p.stderr.strip()[-300:])
    else:
        tap.ok(True, "systemd-analyze verify # SKIP systemd-analyze is not installed")
    running = rvtest.write(os.path.join(work, "running.conf"), rewrite(text, work, True))
    eng = th.Engine(running)
    try:
        if tap.ok(eng.wait_port() is not None, "it starts and serves telemetry"):
            status, _, body = th.http(eng.url("/healthz"))
            tap.ok(status == 200 and '"channels":[]' in body,
                   "/healthz with no channel started: %d %s" % (status, body.strip()))
            status, _, body = th.http(eng.url("/metrics"))
            tap.ok(status == 200 and "retrovue_playout_channels 0" in body and
                   "retrovue_playout_build_info{" in body, "/metrics answers: %d" % status)
            tap.ok(os.path.exists(os.path.join(work, "run", "playout.sock")),
                   "the control socket is in the runtime folder")
    finally:
        rc = eng.stop()
    tap.ok(rc == 0, "SIGTERM: exit %s" % rc)
    if tap.failed:
        tap.diag(eng.stderr()[-2000:])
    tap.done()


if __name__ == "__main__":
    main()
