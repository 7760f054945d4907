#!/usr/bin/python3
"""The evidence client (host/evidence) against a stand-in for Core's evidence
server (evidence_server.py), through the real client in evidence_driver.

  1. Core is killed (SIGKILL) mid-run and restarted on the same port: Core's
     store holds every record exactly once, in sequence order, with the
     payload of its sequence, the same UUID on every replay, Hello on every
     stream; the spool and the .ack file agree.
  2. Core is down when the client starts and comes up later: everything
     arrives, once.
  3. Stop with Core down leaves the spool intact (every record, no ack); a
     restarted client on the same session resumes and delivers all of it
     with the UUIDs it spooled.
  3b. A client of a new session (an engine restart) also delivers what an
     earlier session of the channel left unacked, on its own stream.
  4. (plain build) valgrind: no errors, nothing definitely lost, with Core
     down and with Core up.

    evidence_test.py DRIVER [--valgrind | --valgrind-only]

--valgrind-only runs 4 alone (ctest's integration.evidence_valgrind, which
runs alone on the machine: valgrind's run is bound by a grace period).
"""
import json
import os
import re
import select
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rvtest import Tap, env, free_tcp_port, scratch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "evidence_server.py")
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
ISOZ = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
KINDS = ["block_start", "segment_start", "segment_end", "block_fence", "channel_terminated"]

T = Tap()
DRIVER = sys.argv[1]
VALGRIND_ONLY = "--valgrind-only" in sys.argv
VALGRIND = "--valgrind" in sys.argv or VALGRIND_ONLY
env("RV_BUILD_DIR")
FOLDER = scratch("evidence")
SERVERS = []


def start_server(port, store, extra=()):
    p = subprocess.Popen(["/usr/bin/python3", SERVER, "--port", str(port), "--store", store] +
                         list(extra),
                         stdout=subprocess.PIPE, text=True)
    SERVERS.append(p)
    ready, _, _ = select.select([p.stdout], [], [], 30)
    line = p.stdout.readline() if ready else ""
    if not line.startswith("listening"):
        T.diag("server did not start: %r" % line)
    return p


def stop_server(p):
    if p.poll() is None:
        p.kill()
    p.wait()
    p.stdout.close()


def driver(port, spool, channel, session, count, interval_ms, grace_ms, prefix=()):
    return subprocess.Popen(list(prefix) + [DRIVER, "127.0.0.1:%d" % port, spool, channel,
                            session, str(count), str(interval_ms), str(grace_ms)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.endswith("\n")]


def records(store, session):
    return [r for r in jsonl(os.path.join(store, "records.jsonl"))
            if r["playout_session_id"] == session]


def events(store):
    return jsonl(os.path.join(store, "events.jsonl"))


def acked(spool, channel, session):
    path = os.path.join(spool, channel, session + ".ack")
    if not os.path.exists(path):
        return 0
    with open(path) as f:
        m = re.match(r"acked_sequence=(\d+)\n", f.read())
    return int(m.group(1)) if m else -1


def spooled(spool, channel, session):
    return jsonl(os.path.join(spool, channel, session + ".spool.jsonl"))


def exactly_once(recs, n):
    seqs = [r["sequence"] for r in recs]
    if seqs != list(range(1, n + 1)):
        missing = sorted(set(range(1, n + 1)) - set(seqs))
        T.diag("got %d records; missing %s; first out of order at %s" % (
            len(seqs), missing[:10],
            next((i for i, s in enumerate(seqs) if s != i + 1), None)))
        return False
    return True


def payloads_match(recs):
    for r in recs:
        s = r["sequence"]
        if r["block_id"] != ("B-%d" % s if r["payload_type"] != "channel_terminated" else "") \
                or r["payload_type"] != KINDS[(s - 1) % 5] or r["schema_version"] != 1 \
                or not UUID4.match(r["event_uuid"]) or not ISOZ.match(r["emitted_utc"]):
            T.diag("record %s does not match its sequence" % r)
            return False
        if r["payload_type"] == "segment_end" and (r["computed_duration_frames"] != 30 or
                                                   r["event_id_ref"] != "EV-%d" % s):
            T.diag("segment_end %s wrong" % r)
            return False
    return len({r["event_uuid"] for r in recs}) == len(recs)


def wait_for(cond, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return False


def finish(p, timeout=180):
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        T.diag("driver timed out")
    return p.returncode, out, err


def test_restart_mid_run():
    port = free_tcp_port()
    store = os.path.join(FOLDER, "core1")
    spool = os.path.join(FOLDER, "spool1")
    n = 400
    # The first Core lags: it commits everything but acks no further than 30,
    # so after the restart the client must replay from 31 and Core dedup.
    srv = start_server(port, store, ["--ack-limit", "30"])
    drv = driver(port, spool, "chan-a", "PS-chan-a-1", n, 10, 120000)
    wait_for(lambda: len(records(store, "PS-chan-a-1")) >= 60, 60)
    stop_server(srv)  # SIGKILL: no goodbye, acks in flight lost
    before = len(records(store, "PS-chan-a-1"))
    time.sleep(0.5)   # the client keeps spooling while Core is gone
    srv = start_server(port, store)
    rc, out, err = finish(drv)
    recs = records(store, "PS-chan-a-1")
    T.ok(rc == 0 and out.strip() == "emitted=%d dropped=0" % n,
         "driver emitted %d, dropped none (%r rc %d)" % (n, out.strip(), rc))
    T.ok(exactly_once(recs, n), "Core restarted mid-run: every record 1..%d exactly once, in order"
         % n)
    pids = {r["pid"] for r in recs}
    T.ok(0 < before < n and len(pids) == 2,
         "the restart fell mid-run (%d records before it, %d after)" % (before, n - before))
    ev = events(store)
    T.ok(not [e for e in ev if "conflict" in e], "replays kept each record's UUID (no conflicts)")
    dups = len([e for e in ev if "dup" in e])
    T.ok(dups >= before - 30,
         "the client replayed from its ack mark (31) and Core dropped %d duplicates" % dups)
    T.ok(payloads_match(recs), "each record carries its own payload, UUIDv4, ISO-8601 Z, schema 1")
    hellos = [e for e in ev if e.get("hello")]
    T.ok(len(hellos) >= 2 and all(h["sequence"] == 0 and h["event_uuid"] == "hello" and
                                  h["first"] == 1 for h in hellos) and
         any(h["last"] >= before for h in hellos[1:]),
         "a Hello opens every stream (%d streams): first 1, last_sequence_emitted" % len(hellos))
    sp = spooled(spool, "chan-a", "PS-chan-a-1")
    T.ok([r["sequence"] for r in sp] == list(range(1, n + 1)) and
         [r["event_uuid"] for r in sp] == [r["event_uuid"] for r in recs],
         "the spool holds the same %d records with the same UUIDs" % n)
    T.ok(acked(spool, "chan-a", "PS-chan-a-1") == n, "the .ack file says %d" % n)
    stop_server(srv)


def test_core_down_at_start():
    port = free_tcp_port()
    store = os.path.join(FOLDER, "core2")
    spool = os.path.join(FOLDER, "spool2")
    n = 50
    drv = driver(port, spool, "chan-b", "PS-chan-b-1", n, 20, 120000)
    time.sleep(1.5)
    srv = start_server(port, store)
    rc, out, err = finish(drv)
    recs = records(store, "PS-chan-b-1")
    T.ok(rc == 0 and exactly_once(recs, n) and payloads_match(recs),
         "Core down at start, up later: all %d records arrive exactly once, in order" % n)
    T.ok("unreachable" in err and "level=warn" in err,
         "the client logged that Core was unreachable")
    T.ok(acked(spool, "chan-b", "PS-chan-b-1") == n, "the .ack file says %d" % n)
    stop_server(srv)


def test_stop_with_core_down():
    port = free_tcp_port()
    store = os.path.join(FOLDER, "core3")
    spool = os.path.join(FOLDER, "spool3")
    rc, out, err = finish(driver(port, spool, "chan-c", "PS-chan-c-1", 40, 0, 300))
    sp = spooled(spool, "chan-c", "PS-chan-c-1")
    T.ok(rc == 0 and out.strip() == "emitted=40 dropped=0",
         "stop with Core down returns (%r rc %d)" % (out.strip(), rc))
    T.ok([r["sequence"] for r in sp] == list(range(1, 41)) and
         all(UUID4.match(r["event_uuid"]) for r in sp) and
         acked(spool, "chan-c", "PS-chan-c-1") == 0,
         "the spool is intact: 40 records, none acked")
    uuids = [r["event_uuid"] for r in sp]
    srv = start_server(port, store)
    rc, out, err = finish(driver(port, spool, "chan-c", "PS-chan-c-1", 10, 0, 120000))
    recs = records(store, "PS-chan-c-1")
    T.ok(rc == 0 and out.strip() == "emitted=50 dropped=0" and exactly_once(recs, 50) and
         payloads_match(recs),
         "a restarted client resumes the session: 1..50 delivered exactly once")
    T.ok([r["event_uuid"] for r in recs[:40]] == uuids,
         "the 40 spooled while Core was down went out with the UUIDs they were spooled with")
    hellos = [e for e in events(store) if e.get("hello")]
    T.ok(hellos and hellos[0]["first"] == 1 and hellos[0]["last"] >= 40,
         "the resumed stream's Hello offers 1..%d" % (hellos[0]["last"] if hellos else -1))
    stop_server(srv)


def test_earlier_session_delivered():
    port = free_tcp_port()
    store = os.path.join(FOLDER, "core5")
    spool = os.path.join(FOLDER, "spool5")
    rc, out, err = finish(driver(port, spool, "chan-e", "PS-chan-e-1", 30, 0, 200))
    T.ok(rc == 0 and len(spooled(spool, "chan-e", "PS-chan-e-1")) == 30 and
         acked(spool, "chan-e", "PS-chan-e-1") == 0,
         "session 1 ends with Core down: 30 records spooled, none acked")
    srv = start_server(port, store)
    rc, out, err = finish(driver(port, spool, "chan-e", "PS-chan-e-2", 10, 20, 120000))
    old = records(store, "PS-chan-e-1")
    new = records(store, "PS-chan-e-2")
    T.ok(rc == 0 and exactly_once(new, 10) and payloads_match(new),
         "session 2 (a restarted engine) delivers its own 10 records exactly once")
    T.ok(exactly_once(old, 30) and payloads_match(old) and
         [r["event_uuid"] for r in old] ==
         [r["event_uuid"] for r in spooled(spool, "chan-e", "PS-chan-e-1")] and
         acked(spool, "chan-e", "PS-chan-e-1") == 30,
         "and the earlier session's 30 unacked records, exactly once, on its own stream")
    hellos = [e for e in events(store) if e.get("hello")]
    T.ok({h["session"] for h in hellos} == {"PS-chan-e-1", "PS-chan-e-2"},
         "each session opened its own stream with its own Hello")
    rc, out, err = finish(driver(port, spool, "chan-e", "PS-chan-e-3", 1, 0, 120000))
    T.ok(rc == 0 and len(records(store, "PS-chan-e-1")) == 30 and
         "earlier session PS-chan-e-1" not in err,
         "a fully acked earlier session is not sent again")
    stop_server(srv)


def test_burst_overflows_queue():
    port = free_tcp_port()
    store = os.path.join(FOLDER, "core6")
    spool = os.path.join(FOLDER, "spool6")
    srv = start_server(port, store)
    rc, out, err = finish(driver(port, spool, "chan-f", "PS-chan-f-1", 2000, 0, 120000))
    m = re.match(r"emitted=(\d+) dropped=(\d+)", out)
    emitted, dropped = (int(m.group(1)), int(m.group(2))) if m else (0, -1)
    T.diag("a burst of 2000 emits with no pause: %d queued, %d dropped" % (emitted, dropped))
    recs = records(store, "PS-chan-f-1")
    T.ok(rc == 0 and emitted + dropped == 2000 and emitted >= 256 and
         exactly_once(recs, emitted) and payloads_match(recs),
         "a burst past the queue: every event is either delivered or counted as dropped, "
         "and drops leave no sequence gap")
    T.ok(dropped == 0 or "events dropped" in err, "drops are logged")
    stop_server(srv)


def test_valgrind():
    vg = shutil.which("valgrind")
    if not vg:
        T.ok(False, "valgrind is installed")
        return
    prefix = [vg, "--leak-check=full", "--errors-for-leak-kinds=definite,indirect",
              "--error-exitcode=9", "--quiet"]
    port = free_tcp_port()
    spool = os.path.join(FOLDER, "spool4")
    rc, out, err = finish(driver(port, spool, "chan-d", "PS-chan-d-1", 20, 0, 500, prefix), 600)
    T.ok(rc == 0, "valgrind, Core down: no errors, no leaks (rc %d)" % rc)
    if rc:
        T.diag(err[-3000:])
    store = os.path.join(FOLDER, "core4")
    srv = start_server(port, store)
    rc, out, err = finish(driver(port, spool, "chan-d", "PS-chan-d-1", 20, 5, 60000, prefix), 600)
    T.ok(rc == 0 and exactly_once(records(store, "PS-chan-d-1"), 40),
         "valgrind, Core up: 40 records delivered, no errors, no leaks (rc %d)" % rc)
    if rc:
        T.diag(err[-3000:])
    stop_server(srv)


try:
    if not VALGRIND_ONLY:
        test_restart_mid_run()
        test_core_down_at_start()
        test_stop_with_core_down()
        test_earlier_session_delivered()
        test_burst_overflows_queue()
    if VALGRIND:
        test_valgrind()
finally:
    for p in SERVERS:
        if p.poll() is None:
            p.kill()
            p.wait()
T.done()
