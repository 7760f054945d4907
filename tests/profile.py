#!/usr/bin/python3
"""tests/profile.py: measure each ctest test's wall time and CPU time (user +
sys of the test and every child it waited for, from wait4), to set the
scheduling properties in tests/schedule.cmake (docs/testing.md, "Test-time
budget"). Not part of the suite: a tool for whoever tunes it.

usage: tests/profile.py BUILD_DIR [-j N] [-R REGEX] [--out FILE.json]

Runs the tests ctest would run (its --show-only=json-v1 listing: command,
environment, working directory), N at a time, honouring DEPENDS,
FIXTURES_REQUIRED/SETUP, RESOURCE_LOCK and RUN_SERIAL. Prints one line per
test (wall s, CPU s, CPU/wall) sorted by wall time, and writes the figures as
JSON. Exit 1 if any test failed. CPU of a daemon the test did not wait for is
not counted.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time


def props(t):
    return {p["name"]: p["value"] for p in t.get("properties", [])}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("-j", type=int, default=2)
    ap.add_argument("-R", default="")
    ap.add_argument("--out")
    args = ap.parse_args()
    listing = json.loads(subprocess.check_output(
        ["ctest", "--show-only=json-v1"] + (["-R", args.R] if args.R else []), cwd=args.build))
    tests = [t for t in listing["tests"] if "command" in t]
    names = {t["name"] for t in tests}
    setups = {}
    for t in tests:
        for fx in props(t).get("FIXTURES_SETUP", []):
            setups.setdefault(fx, []).append(t["name"])
    pending = []
    for t in tests:
        p = props(t)
        deps = set(p.get("DEPENDS", [])) & names
        for fx in p.get("FIXTURES_REQUIRED", []):
            deps |= set(setups.get(fx, [])) - {t["name"]}
        pending.append((t, p, deps))
    running = {}   # pid -> (name, props, t0, locks)
    done, results, held = set(), {}, set()
    while pending or running:
        started = True
        while started and len(running) < args.j:
            started = False
            for i, (t, p, deps) in enumerate(pending):
                locks = set(p.get("RESOURCE_LOCK", []))
                serial = p.get("RUN_SERIAL", False)
                if not deps <= done or locks & held or (serial and running):
                    continue
                if any(r[1].get("RUN_SERIAL") for r in running.values()):
                    break
                env = dict(os.environ)
                for kv in p.get("ENVIRONMENT", []):
                    k, _, v = kv.partition("=")
                    env[k] = v
                out = open(os.path.join(args.build, "Testing", "profile-%s.log" % t["name"]), "w")
                proc = subprocess.Popen(t["command"], cwd=p.get("WORKING_DIRECTORY", args.build),
                                        env=env, stdout=out, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
                out.close()
                running[proc.pid] = (t["name"], p, time.monotonic(), locks)
                held |= locks
                del pending[i]
                started = True
                break
        if not running:
            if pending:
                sys.exit("stuck: %s" % [t["name"] for t, _, _ in pending])
            break
        pid, status, ru = os.wait4(-1, 0)
        if pid not in running:
            continue
        name, p, t0, locks = running.pop(pid)
        held -= locks
        done.add(name)
        wall = time.monotonic() - t0
        cpu = ru.ru_utime + ru.ru_stime
        rc = os.waitstatus_to_exitcode(status)
        results[name] = {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "rc": rc,
                         "load": round(os.getloadavg()[0], 2)}
        print("%-45s %6.1f s wall %6.1f s cpu %4.2f%s" % (name, wall, cpu, cpu / max(wall, 0.01),
              "" if rc == 0 else "  FAILED rc=%d" % rc), flush=True)
    print("\nby wall time:")
    for n, r in sorted(results.items(), key=lambda kv: -kv[1]["wall_s"]):
        print("%-45s %6.1f %6.1f %4.2f" % (n, r["wall_s"], r["cpu_s"], r["cpu_s"] / max(r["wall_s"], 0.01)))
    print("sum wall %.0f s, sum cpu %.0f s" % (sum(r["wall_s"] for r in results.values()),
                                             sum(r["cpu_s"] for r in results.values())))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=1)
    return 1 if any(r["rc"] for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
