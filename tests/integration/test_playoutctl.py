#!/usr/bin/python3
"""tools/playoutctl against the control plane (stub engine by default, or the
real $RV_BIN without --stub): every command over the Unix socket and TCP,
human and --json output, exit status 0 / 1 (success=false) / 2 (RPC error);
with --stub also a second engine whose TCP listener needs a bearer token
(--token-file and $RETROVUE_PLAYOUT_TOKEN_FILE). Prints TAP."""
import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rvtest  # noqa: E402
from control_harness import Engine, free_tcp_port, real_config, write_plans  # noqa: E402

CTL = os.path.join(rvtest.env("RV_SOURCE_DIR"), "tools", "playoutctl")


TOKEN = "playoutctl-test-token-0123456789abcdef"


def ctl(*args, env_extra=None):
    env = dict(os.environ)
    env.pop("RETROVUE_PLAYOUT_TOKEN_FILE", None)
    env.update(env_extra or {})
    env.setdefault("RV_PYTHON_DIR", os.path.join(rvtest.env("RV_BUILD_DIR"), "python"))
    p = subprocess.run([CTL] + list(args), capture_output=True, text=True, timeout=300, env=env)
    return p.returncode, p.stdout, p.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stub")
    a = ap.parse_args()
    t = rvtest.Tap()
    d = rvtest.scratch("playoutctl")
    sock = os.path.join(d, "ctl.sock")
    port = free_tcp_port()
    if a.stub:
        cmd = [a.stub, write_plans(d), "unix:" + sock, "127.0.0.1:%d" % port]
    else:
        cmd = [rvtest.env("RV_BIN"), "--config", real_config(d, sock, port, [1, 2])]
    e = Engine(cmd, sock, port, os.path.join(d, "engine.log"))
    if not t.ok(e.start(), "the engine starts"):
        t.diag(e.log_text()[-2000:])
        e.stop()
        return t.done()
    S = ["--socket", sock]
    T = ["--target", "127.0.0.1:%d" % port]
    try:
        rc, out, err = ctl(*S, "version")
        t.ok(rc == 0 and out.strip() == "1.0.0", "version over the socket: %r" % out.strip())
        rc, out, err = ctl(*T, "--json", "version")
        t.ok(rc == 0 and json.loads(out) == {"version": "1.0.0"}, "version --json over TCP")
        rc, out, err = ctl(*S, "start", "1", "demo")
        t.ok(rc == 0 and "started" in out, "start 1 demo: exit 0: %s" % out.strip())
        rc, out, err = ctl(*T, "start", "1", "alt")
        t.ok(rc == 1 and "UpdatePlan" in err, "start 1 alt while running: exit 1: %s" % err.strip())
        rc, out, err = ctl(*S, "status", "1")
        t.ok(rc == 0 and "channel 1" in out and "ready" in out and "plan demo" in out,
             "status 1, human: %s" % out.splitlines()[0] if out else err)
        rc, out, err = ctl(*S, "--json", "status", "1")
        j = json.loads(out) if rc == 0 else {}
        t.ok(j.get("success") is True and j["channel"]["plan_handle"] == "demo" and
             j["channel"]["state"] == "ready" and "sinks" in j["channel"],
             "status 1 --json has the channel, its plan and its sinks")
        rc, out, err = ctl(*S, "start", "2", "demo", "--format-json",
                           '{"video":{"width":640,"height":360,"frame_rate":"30000/1001"}}')
        t.ok(rc == 0, "start 2 demo --format-json: exit 0")
        rc, out, err = ctl(*S, "--json", "status", "2")
        f = json.loads(out)["channel"]["format"] if rc == 0 else {}
        t.ok(f.get("width") == 640 and f.get("frame_rate_den") == 1001,
             "the format took effect: %s" % f)
        rc, out, err = ctl(*S, "start", "3", "demo", "--format-json", "{nope")
        t.ok(rc == 1 and "not valid JSON" in err, "an invalid --format-json: exit 1: %s" % err.strip())
        rc, out, err = ctl(*S, "list")
        rows = out.strip().splitlines()
        t.ok(rc == 0 and len(rows) == 3 and rows[1].split()[0] == "1" and rows[2].split()[0] == "2",
             "list shows a header and channels 1 and 2")
        rc, out, err = ctl(*S, "--json", "list")
        t.ok(rc == 0 and [c["channel_id"] for c in json.loads(out)["channels"]] == [1, 2],
             "list --json")
        rc, out, err = ctl(*S, "update", "1", "alt")
        t.ok(rc == 0, "update 1 alt: exit 0: %s" % out.strip())
        rc, out, err = ctl(*S, "update", "1", "nosuch")
        t.ok(rc == 1, "update 1 nosuch: exit 1: %s" % err.strip())
        rc, out, err = ctl(*S, "stop", "1")
        t.ok(rc == 0 and "stopped" in out, "stop 1: exit 0")
        rc, out, err = ctl(*S, "stop", "2")
        rc, out, err = ctl(*S, "stop", "1")
        t.ok(rc == 0 and "not running" in out, "stop 1 again: exit 0, not running")
        rc, out, err = ctl(*S, "status", "1")
        t.ok(rc == 1 and "not running" in err, "status of a stopped channel: exit 1")
        rc, out, err = ctl(*S, "start", "0", "demo")
        t.ok(rc == 1 and "channel_id" in err, "start 0: exit 1 with the reason")
        rc, out, err = ctl("--socket", os.path.join(d, "nobody.sock"), "--timeout", "5", "version")
        t.ok(rc == 2 and "UNAVAILABLE" in err, "no engine there: exit 2: %s" % err.strip()[:80])
        rc, out, err = ctl(*S, "frobnicate")
        t.ok(rc == 2, "an unknown command: exit 2")
        if a.stub:
            session_commands(t, d, S)
    finally:
        rc = e.stop()
        t.ok(rc == 0, "the engine stops cleanly")
    if a.stub:
        token_commands(t, d, a.stub)
    return t.done()


def token_commands(t, d, stub):
    """A TCP listener that requires a bearer token (the stub's
    RV_STUB_TOKEN_FILE is the engine's control_token_file)."""
    tok = os.path.join(d, "control.token")
    rvtest.write(tok, TOKEN + "\n")
    os.chmod(tok, 0o600)
    wrong = os.path.join(d, "wrong.token")
    rvtest.write(wrong, "not-the-token-0123456789\n")
    bad = os.path.join(d, "bad.token")
    rvtest.write(bad, "short\n")
    sock = os.path.join(d, "tok.sock")
    port = free_tcp_port()
    os.environ["RV_STUB_TOKEN_FILE"] = tok
    try:
        e = Engine([stub, write_plans(d), "unix:" + sock, "127.0.0.1:%d" % port], sock, port,
                   os.path.join(d, "engine-token.log"))
        started = e.start()
    finally:
        del os.environ["RV_STUB_TOKEN_FILE"]
    if not t.ok(started, "an engine whose TCP listener needs a token starts"):
        t.diag(e.log_text()[-2000:])
        e.stop()
        return
    T = ["--target", "127.0.0.1:%d" % port, "--timeout", "20"]
    try:
        rc, out, err = ctl(*T, "version")
        t.ok(rc == 2 and "UNAUTHENTICATED" in err and "--token-file" in err,
             "TCP without a token: exit 2, UNAUTHENTICATED and how to send one: %s" %
             err.strip()[:160])
        rc, out, err = ctl(*T, "--token-file", tok, "version")
        t.ok(rc == 0 and out.strip() == "1.0.0", "--token-file: version works: %r %s" %
             (out.strip(), err.strip()[:120]))
        rc, out, err = ctl(*T, "--token-file", tok, "start", "1", "demo")
        t.ok(rc == 0 and "started" in out, "--token-file: start 1 demo works: %s" %
             (out.strip() or err.strip()[:120]))
        rc, out, err = ctl(*T, "--json", "list", env_extra={"RETROVUE_PLAYOUT_TOKEN_FILE": tok})
        t.ok(rc == 0 and [c["channel_id"] for c in json.loads(out)["channels"]] == [1],
             "$RETROVUE_PLAYOUT_TOKEN_FILE: list works")
        rc, out, err = ctl(*T, "--token-file", wrong, "stop", "1")
        t.ok(rc == 2 and "UNAUTHENTICATED" in err and "refused" in err,
             "a wrong token: exit 2, UNAUTHENTICATED: %s" % err.strip()[:160])
        rc, out, err = ctl(*T, "--token-file", bad, "version")
        t.ok(rc == 2 and "not a token" in err, "a file that holds no token: exit 2, says so: %s"
             % err.strip()[:160])
        rc, out, err = ctl(*T, "--token-file", os.path.join(d, "nosuch.token"), "version")
        t.ok(rc == 2 and "nosuch.token" in err, "a missing token file: exit 2, names it")
        rc, out, err = ctl("--socket", sock, "stop", "1")
        t.ok(rc == 0 and "stopped" in out, "the Unix socket needs no token: stop 1 works")
    finally:
        t.ok(e.stop() == 0, "the token engine stops cleanly")


def session_commands(t, d, S):
    """attach, session-start, feed, events, session-stop, detach (stub engine)."""
    def blk(i):
        return {"block_id": "B%d" % i, "start_utc_ms": i * 1000, "end_utc_ms": (i + 1) * 1000,
                "segments": [{"segment_index": 0, "asset_uri": "/m/%d.mp4" % i,
                              "segment_duration_ms": 1000}]}
    start = os.path.join(d, "start.json")
    rvtest.write(start, json.dumps({"block_a": blk(0), "block_b": blk(1), "max_queue_depth": 3,
                                    "channel_id_str": "pace=100000"}))
    feed = os.path.join(d, "feed.json")
    rvtest.write(feed, json.dumps(blk(2)))
    rc, out, err = ctl(*S, "session-start", "50", start)
    t.ok(rc == 1 and "STREAM_NOT_ATTACHED" in err, "session-start before attach: exit 1: %s" %
         err.strip())
    rc, out, err = ctl(*S, "attach", "50", "/tmp/core.sock")
    t.ok(rc == 0 and out.strip() == "Attached", "attach 50 PATH: exit 0: %s" % out.strip())
    rc, out, err = ctl(*S, "session-start", "50", start)
    t.ok(rc == 0 and "BLOCKPLAN_RESULT_OK" in out, "session-start 50 FILE: exit 0: %s" % out.strip())
    rc, out, err = ctl(*S, "feed", "50", feed)
    t.ok(rc == 0 and "Block fed" in out, "feed 50 FILE: exit 0: %s" % out.strip())
    rc, out, err = ctl(*S, "feed", "50", feed)
    t.ok(rc == 1 and "NOT_CONTIGUOUS" in err, "the same block again: exit 1: %s" % err.strip())
    rc, out, err = ctl(*S, "events", "50", "--count", "1")
    ev = json.loads(out.splitlines()[0]) if rc == 0 and out.strip() else {}
    t.ok(ev.get("block_started", {}).get("block_id") == "B0",
         "events 50 --count 1: the live block's BlockStarted as JSON: %s" % out.strip())
    rc, out, err = ctl(*S, "session-stop", "50")
    t.ok(rc == 0 and "Session stopped" in out, "session-stop 50: exit 0: %s" % out.strip())
    rc, out, err = ctl(*S, "events", "50")
    t.ok(rc == 2 and "NOT_FOUND" in err, "events without a session: exit 2, NOT_FOUND")
    rc, out, err = ctl(*S, "feed", "50", os.path.join(d, "nosuch.json"))
    t.ok(rc == 2 and "nosuch.json" in err, "feed with a missing file: exit 2")
    rc, out, err = ctl(*S, "detach", "50")
    t.ok(rc == 0, "detach 50: exit 0: %s" % out.strip())


if __name__ == "__main__":
    main()
