#!/usr/bin/python3
"""The binary's command line and life cycle, as an operator meets them:
--version, --help, --check-config (0/1, errors with file:line on stderr),
--list-modules (every module and its options), a module folder holding
deliberately broken modules (each refused with a message naming the failed
check, the host keeps running), and SIGTERM / SIGINT stopping cleanly with
exit 0 and every sink flushed.
"""
import os
import signal
import subprocess
import threading
import time

import rvtest
from rvtest import Tap

BROKEN_CHECKS = {
    "no_entry.so": "entry symbol",
    "abi_major.so": "ABI major",
    "abi_minor.so": "ABI minor",
    "signature.so": "signature",
    "no_write.so": "callback",
    "dup_null.so": "duplicate",
}


def check_media(tap, binary, work, mods):
    """--check-config opens the autostart plan: missing media, a folder
    where a file should be and a scheme no producer serves are warnings
    (exit 0); --strict turns them into a failure (exit 1)."""
    folder = os.path.join(work, "media-check")
    os.makedirs(os.path.join(folder, "plans"), exist_ok=True)
    present = rvtest.write(os.path.join(folder, "present.mp4"), "not really a video")
    missing = os.path.join(folder, "gone.mp4")
    segments = [{"type": "CONTENT", "duration": 1000, "uri": present},
                {"type": "CONTENT", "duration": 1000, "uri": missing},
                {"type": "CONTENT", "duration": 1000, "uri": "file://" + folder},
                {"type": "CONTENT", "duration": 1000, "uri": "rtmp://example/live"},
                {"type": "CONTENT", "duration": 1000, "uri": "slate:bars"},
                {"type": "CONTENT", "duration": 1000, "uri": missing}]
    rvtest.write(os.path.join(folder, "plans", "media.conf"), rvtest.plan_text(
        [{"id": "m", "start": 0, "end": 6000, "segments": segments}], loop=True))
    cfg = rvtest.engine_config(folder, mods, [rvtest.framelog_channel(
        4, os.path.join(folder, "f.jsonl"), producers=("ffmpeg-file", "slate"), plan="media")])
    p = subprocess.run([binary, "--config", cfg, "--check-config"], capture_output=True, text=True)
    warnings = [l for l in p.stderr.splitlines() if "warning:" in l]
    tap.ok(p.returncode == 0 and len(warnings) == 3 and "3 warnings" in p.stderr,
           "--check-config warns about media and still exits 0 (rc=%d, %d warnings)" %
           (p.returncode, len(warnings)))
    tap.ok(any(missing in l and "missing" in l and "segment 1" in l and "engine.conf:" in l
               for l in warnings), "a missing file is named with its block and segment")
    tap.ok(any("not a regular file" in l for l in warnings), "a folder is not a media file")
    tap.ok(any("rtmp://example/live" in l and "no producer" in l for l in warnings),
           "a scheme no bound producer serves is a warning")
    tap.ok(not any(present in l or "slate:" in l for l in warnings),
           "a readable file and slate: raise nothing")
    p = subprocess.run([binary, "--config", cfg, "--check-config", "--strict"],
                       capture_output=True, text=True)
    tap.ok(p.returncode == 1 and "--strict" in p.stderr,
           "--check-config --strict exits 1 on warnings (rc=%d)" % p.returncode)
    p = subprocess.run([binary, "--config", cfg, "--strict"], capture_output=True, text=True)
    tap.ok(p.returncode == 2, "--strict without --check-config is bad usage")


def main():
    tap = Tap()
    work = rvtest.scratch("cli")
    binary = rvtest.env("RV_BIN")
    p = subprocess.run([binary, "--version"], capture_output=True, text=True)
    tap.ok(p.returncode == 0 and "retrovue_playout" in p.stdout, "--version exits 0")
    p = subprocess.run([binary, "--help"], capture_output=True, text=True)
    tap.ok(p.returncode == 0 and "--config" in p.stdout and "--run-for" in p.stdout,
           "--help lists the options")
    tap.ok(all(s in p.stdout for s in ("SIGTERM", "SIGINT", "SIGHUP", "SIGUSR1", "--strict")),
           "--help lists every signal the engine handles and --strict")
    p = subprocess.run([binary, "--clock=fast", "--config", "x"], capture_output=True, text=True)
    tap.ok(p.returncode != 0 and "clock" in p.stderr, "a bad option is refused with a reason")

    mods = rvtest.module_dir_with_tests(work)
    framelog = os.path.join(work, "sig.jsonl")
    plan = rvtest.plan_text([{"id": "b", "start": 0, "end": 10000, "segments": [
        {"type": "CONTENT", "duration": 6000, "uri": "slate:bars"},
        {"type": "PAD", "duration": 4000}]}], loop=True)
    cfg = rvtest.engine_config(work, mods, [rvtest.framelog_channel(1, framelog, mode="summary",
                                                                    plan="loop")])
    rvtest.write(os.path.join(work, "plans", "loop.conf"), plan)
    p = subprocess.run([binary, "--config", cfg, "--check-config"], capture_output=True, text=True)
    tap.ok(p.returncode == 0, "--check-config on a good config exits 0 (%s)" % p.stderr.strip()[-200:])

    bad = rvtest.write(os.path.join(work, "bad.conf"),
                       open(cfg).read().replace('mode = "summary"', 'mode = "sometimes"'))
    p = subprocess.run([binary, "--config", bad, "--check-config"], capture_output=True, text=True)
    tap.ok(p.returncode == 1 and "bad.conf:" in p.stderr and "mode" in p.stderr,
           "--check-config on a bad option exits 1 naming file:line and key: %s" %
           p.stderr.strip().splitlines()[-1:] )
    badplan = rvtest.write(os.path.join(work, "badplan.conf"),
                           open(cfg).read().replace('autostart_plan = "loop"',
                                                    'autostart_plan = "nope"'))
    p = subprocess.run([binary, "--config", badplan, "--check-config"], capture_output=True,
                       text=True)
    tap.ok(p.returncode == 1 and "nope" in p.stderr,
           "--check-config refuses a missing autostart plan")

    check_media(tap, binary, work, mods)

    p = subprocess.run([binary, "--config", cfg, "--list-modules"], capture_output=True, text=True)
    out = p.stdout
    tap.ok(p.returncode == 0 and all(m in out for m in ("slate", "null", "framelog")),
           "--list-modules lists slate, null and framelog")
    tap.ok("tone_hz" in out and "mode" in out and "ticks" in out and "summary" in out,
           "--list-modules shows options with their choices")

    broken = os.environ.get("RV_BROKEN_MODULE_DIR", "")
    if os.path.isdir(broken):
        for name in os.listdir(broken):
            if name.endswith(".so"):
                dst = os.path.join(mods, name)
                if not os.path.exists(dst):
                    os.symlink(os.path.join(broken, name), dst)
    p = subprocess.run([binary, "--config", cfg, "--list-modules"], capture_output=True, text=True)
    for so, check in sorted(BROKEN_CHECKS.items()):
        lines = [l for l in p.stderr.splitlines() if so in l]
        tap.ok(len(lines) >= 1 and check.lower() in lines[0].lower(),
               "broken module %s refused naming the check '%s': %s" %
               (so, check, lines[0][-160:] if lines else "(no line)"))
    tap.ok(p.returncode == 0 and "framelog" in p.stdout,
           "the host keeps running and lists the good modules")

    # A run with broken modules in the folder still plays; SIGTERM exits 0.
    for sig in (signal.SIGTERM, signal.SIGINT):
        if os.path.exists(framelog):
            os.unlink(framelog)
        proc = subprocess.Popen([binary, "--config", cfg], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        log = []
        reader = threading.Thread(target=lambda: [log.append(l) for l in proc.stderr],
                                  daemon=True)
        reader.start()
        # signal once the channel airs (a loaded machine starts slowly), plus a few ticks
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None and \
                not any("started on plan" in l for l in list(log)):
            time.sleep(0.05)
        time.sleep(0.5)
        proc.send_signal(sig)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        reader.join(timeout=5)
        tap.ok(proc.returncode == 0, "%s stops the engine with exit 0 (rc=%s)" %
               (signal.Signals(sig).name, proc.returncode))
        lines = rvtest.read_jsonl(framelog) if os.path.exists(framelog) else []
        total = lines[-1] if lines else {}
        tap.ok(total.get("type") == "total" and total.get("ticks", 0) > 0 and
               total.get("missing") == 0,
               "%s: the framelog was flushed with its total line (%s ticks)" %
               (signal.Signals(sig).name, total.get("ticks")))
    tap.done()


if __name__ == "__main__":
    main()
