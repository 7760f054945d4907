#!/usr/bin/python3
"""RetroVue Core's process model (issue 11 item 7), as Core meets it:
`retrovue_playout --port P` with no config file starts on built-in defaults
(modules from the build tree, said in the start line), answers GetVersion
and an empty ListChannels on 127.0.0.1:P, refuses plan handles (no plans
folder) without failing, and exits 0 within 5 s of SIGTERM (Core's
terminate-then-kill deadline). `retrovue_air --port P` (the link beside the
binary) does the same. Bad --port values exit 2 with a reason; a busy port
fails with one. With --config, --port replaces the config's TCP control
address and SIGTERM still exits 0 within 5 s while a channel plays and gRPC
calls are left open, and config-less retrovue_air with a BlockPlan session on
air and its event stream open. --metrics-listen turns telemetry on.
`cmake --install` under a scratch prefix installs the link, and the
installed binary finds the installed modules.
"""
import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.request

import rvtest
from control_harness import SERVICE, grpc, pb, pb_grpc
from rvtest import Tap

# Core sends SIGTERM, waits 5 s, then SIGKILL (playout_session.py _cleanup).
CORE_TERM_DEADLINE_S = 5.0


def air_path(binary):
    return os.path.join(os.path.dirname(binary), "retrovue_air")


def launch(cmd, log_path):
    log = open(log_path, "ab")
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = ":".join(x for x in (env.get("ASAN_OPTIONS"),
                                                 "quarantine_size_mb=8") if x)
    return subprocess.Popen(cmd, stdout=log, stderr=log, env=env), log


def wait_version(proc, target, wait_s=120):
    """GetVersion on target (polled like Core's _wait_for_grpc); the version
    string, or None if the process died or never answered."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return None
        ch = grpc.insecure_channel(target)
        try:
            return pb_grpc.PlayoutControlStub(ch).GetVersion(pb.ApiVersionRequest(),
                                                             timeout=2).version
        except grpc.RpcError:
            time.sleep(0.2)
        finally:
            ch.close()
    return None


def term_and_time(proc):
    """SIGTERM; (exit status or None if still running after 30 s, seconds)."""
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        rc = None
    return rc, time.monotonic() - t0


def read(path):
    with open(path, errors="replace") as f:
        return f.read()


def configless_run(tap, name, binary, work):
    """One config-less start: version, empty list, plan refused, SIGTERM."""
    port = rvtest.free_tcp_port()
    log_path = os.path.join(work, name + ".log")
    proc, log = launch([binary, "--port", str(port)], log_path)
    version = wait_version(proc, "127.0.0.1:%d" % port)
    tap.ok(version is not None, "%s --port %d answers GetVersion on 127.0.0.1 (%s)" %
           (name, port, version))
    ch = grpc.insecure_channel("127.0.0.1:%d" % port)
    stub = pb_grpc.PlayoutControlStub(ch)
    try:
        listed = stub.ListChannels(pb.ChannelListQuery(), timeout=10)
        tap.ok(len(listed.channels) == 0, "%s: ListChannels is empty" % name)
        r = stub.StartChannel(pb.StartChannelRequest(channel_id=1, plan_handle="demo"),
                              timeout=30)
        tap.ok(not r.success and "plans_dir" in r.message,
               "%s: a plan handle is refused (no plans folder): %s" % (name, r.message))
        tap.ok(stub.GetVersion(pb.ApiVersionRequest(), timeout=5).version == version,
               "%s: and the engine keeps answering" % name)
    except grpc.RpcError as e:
        tap.ok(False, "%s: RPCs answered (%s)" % (name, e.code()))
        tap.ok(False, "%s: plan handle refusal" % name)
        tap.ok(False, "%s: keeps answering" % name)
    finally:
        ch.close()
    rc, took = term_and_time(proc)
    log.close()
    tap.ok(rc == 0 and took <= CORE_TERM_DEADLINE_S,
           "%s: SIGTERM exits %s in %.2f s (Core kills after %.0f s)" %
           (name, rc, took, CORE_TERM_DEADLINE_S))
    text = read(log_path)
    modules = os.path.realpath(rvtest.env("RV_MODULE_DIR"))
    tap.ok("config-less mode" in text and "modules from %s (build tree)" % modules in text and
           "gRPC on 127.0.0.1:%d" % port in text and "telemetry off" in text and
           "as-run off" in text,
           "%s: the start line says config-less, the module folder and where it came from" %
           name)
    if not tap.ok(rc == 0, "%s: clean exit" % name):
        tap.diag(text[-3000:])


def bad_ports(tap, binary):
    for value in ("0", "65536", "http", "-5", "", "5e3"):
        p = subprocess.run([binary, "--port", value], capture_output=True, text=True, timeout=60)
        tap.ok(p.returncode == 2 and "--port: '%s' is not a TCP port (1..65535)" % value in
               p.stderr and "see --help" in p.stderr,
               "--port %r exits 2 with a reason: %s" % (value, p.stderr.strip()))
    p = subprocess.run([binary, "--port"], capture_output=True, text=True, timeout=60)
    tap.ok(p.returncode == 2 and "--port" in p.stderr, "--port without a value exits 2")
    p = subprocess.run([binary, "--port", "5000", "--address", "not an address"],
                       capture_output=True, text=True, timeout=60)
    tap.ok(p.returncode == 2 and "--address" in p.stderr, "a bad --address exits 2: %s" %
           p.stderr.strip())
    p = subprocess.run([binary], capture_output=True, text=True, timeout=60)
    tap.ok(p.returncode == 2 and "--config FILE or --port PORT" in p.stderr,
           "no --config and no --port exits 2: %s" % p.stderr.strip())


def busy_port(tap, binary, work):
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0)
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    port = holder.getsockname()[1]
    try:
        p = subprocess.run([binary, "--port", str(port)], capture_output=True, text=True,
                           timeout=120)
        tap.ok(p.returncode == 1 and "control_listen" in p.stderr and str(port) in p.stderr,
               "a busy --port fails with exit 1 naming it: %s" %
               p.stderr.strip().splitlines()[-1:])
    finally:
        holder.close()


def open_call(channel):
    """A GetVersion call whose request never completes: an HTTP/2 stream the
    server holds open until it shuts down. Returns (future, release)."""
    release = threading.Event()

    def requests():
        release.wait(60)
        return
        yield  # a generator that sends nothing until released

    call = channel.stream_unary(SERVICE + "GetVersion",
                                request_serializer=pb.ApiVersionRequest.SerializeToString,
                                response_deserializer=pb.ApiVersion.FromString)
    return call.future(requests(), timeout=120), release


def config_with_port(tap, binary, work):
    """--config + --port: the port replaces the config's TCP address; SIGTERM
    with a channel playing and calls left open."""
    mods = rvtest.module_dir_with_tests(work)
    framelog = os.path.join(work, "cfg.jsonl")
    rvtest.write(os.path.join(work, "plans", "loop.conf"), rvtest.plan_text(
        [{"id": "b", "start": 0, "end": 10000,
          "segments": [{"type": "CONTENT", "duration": 10000, "uri": "slate:bars"}]}], loop=True))
    config_port = rvtest.free_tcp_port()
    sock = os.path.join(work, "ctl.sock")
    cfg = rvtest.engine_config(
        work, mods, [rvtest.framelog_channel(1, framelog, mode="summary", plan="loop",
                                             producers=("slate",))],
        extra_engine='control_listen = [ "127.0.0.1:%d", "unix:%s" ];' % (config_port, sock))
    port = rvtest.free_tcp_port()
    metrics = rvtest.free_tcp_port()
    log_path = os.path.join(work, "cfg.log")
    proc, log = launch([binary, "--config", cfg, "--port", str(port), "--metrics-listen",
                        "127.0.0.1:%d" % metrics], log_path)
    version = wait_version(proc, "127.0.0.1:%d" % port)
    tap.ok(version is not None, "--config with --port answers on the --port")
    tap.ok(wait_version(proc, "unix:" + sock, wait_s=10) is not None,
           "the config's unix: address stays")
    tap.ok(wait_version(proc, "127.0.0.1:%d" % config_port, wait_s=3) is None,
           "the config's TCP address is replaced")
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % metrics, timeout=10) as r:
            healthz = r.status
    except OSError as e:
        healthz = str(e)
    tap.ok(healthz == 200, "--metrics-listen serves /healthz (%s)" % healthz)

    playing = False
    ch = grpc.insecure_channel("127.0.0.1:%d" % port)
    stub = pb_grpc.PlayoutControlStub(ch)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not playing:
        try:
            listed = stub.ListChannels(pb.ChannelListQuery(), timeout=5)
            playing = any(c.channel_id == 1 for c in listed.channels)
        except grpc.RpcError:
            pass
        if not playing:
            time.sleep(0.2)
    tap.ok(playing, "the autostart channel plays")
    calls = [open_call(ch), open_call(grpc.insecure_channel("unix:" + sock))]
    time.sleep(0.5)
    tap.ok(all(not f.done() for f, _ in calls), "two gRPC calls are held open")
    rc, took = term_and_time(proc)
    log.close()
    for f, release in calls:
        release.set()
    tap.ok(rc == 0 and took <= CORE_TERM_DEADLINE_S,
           "SIGTERM with a channel playing and calls open exits %s in %.2f s" % (rc, took))
    ended = []
    for f, _ in calls:
        try:
            f.result(timeout=10)
            ended.append("answered")
        except grpc.RpcError as e:
            ended.append(str(e.code()))
        except Exception as e:  # noqa: BLE001 - a timeout here is the failure we report
            ended.append(type(e).__name__)
    tap.ok(all(e.startswith("StatusCode.") for e in ended),
           "the open calls were ended by the server: %s" % ended)
    ch.close()
    if rc != 0:
        tap.diag(read(log_path)[-3000:])


def session_sigterm(tap, air, work):
    """Config-less retrovue_air with a BlockPlan session on air and its
    SubscribeBlockEvents stream open: SIGTERM (no StopBlockPlanSession) still
    exits 0 within Core's 5 s, and the stream ends."""
    port = rvtest.free_tcp_port()
    log_path = os.path.join(work, "session.log")
    sock = os.path.join(work, "core.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(sock)
    srv.listen(1)
    got = bytearray()
    stop = threading.Event()

    def consume():
        conn, _ = srv.accept()
        conn.settimeout(0.2)
        while not stop.is_set():
            try:
                chunk = conn.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            if not chunk:
                break
            got.extend(chunk)
        conn.close()

    reader = threading.Thread(target=consume, daemon=True)
    reader.start()
    proc, log = launch([air, "--port", str(port)], log_path)
    ch = None
    events = []
    try:
        if not tap.ok(wait_version(proc, "127.0.0.1:%d" % port) is not None,
                      "session: retrovue_air --port answers"):
            return
        ch = grpc.insecure_channel("127.0.0.1:%d" % port)
        stub = pb_grpc.PlayoutControlStub(ch)
        r = stub.AttachStream(pb.AttachStreamRequest(
            channel_id=1, transport=pb.STREAM_TRANSPORT_UNIX_DOMAIN_SOCKET, endpoint=sock,
            replace_existing=True), timeout=5)
        tap.ok(r.success, "session: AttachStream on the built-in channel defaults: %s" %
               r.message)
        join = int(time.time() * 1000)

        def blk(bid, start):
            return pb.BlockPlan(block_id=bid, channel_id=1, start_utc_ms=start,
                                end_utc_ms=start + 4000, segments=[pb.BlockSegment(
                                    segment_index=0, asset_uri="slate:bars",
                                    segment_duration_ms=4000, event_id=bid)])
        fmt = json.dumps({"video": {"width": 320, "height": 180, "frame_rate": "30000/1001"},
                          "audio": {"sample_rate": 48000, "channels": 2}})
        r = stub.StartBlockPlanSession(pb.StartBlockPlanSessionRequest(
            channel_id=1, block_a=blk("A", join), block_b=blk("B", join + 4000),
            join_utc_ms=join, program_format_json=fmt, max_queue_depth=3), timeout=10)
        tap.ok(r.success, "session: StartBlockPlanSession with program_format_json: %s" %
               r.message)
        stream = stub.SubscribeBlockEvents(pb.SubscribeBlockEventsRequest(channel_id=1))
        ended = []

        def read_events():
            try:
                for e in stream:
                    events.append(e.WhichOneof("event"))
                ended.append("OK")
            except grpc.RpcError as e:
                ended.append(str(e.code()))

        ev_thread = threading.Thread(target=read_events, daemon=True)
        ev_thread.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (not events or len(got) < 188 * 50):
            time.sleep(0.1)
        listed = stub.ListChannels(pb.ChannelListQuery(), timeout=10)
        tap.ok(events[:1] == ["block_started"] and len(got) >= 188 * 50 and
               any(c.channel_id == 1 for c in listed.channels),
               "session: on air (events %s, %d TS bytes, channel listed)" % (events, len(got)))
        rc, took = term_and_time(proc)
        ev_thread.join(10)
        tap.ok(rc == 0 and took <= CORE_TERM_DEADLINE_S,
               "session: SIGTERM with a session on air and its event stream open exits %s in "
               "%.2f s" % (rc, took))
        tap.ok(bool(ended), "session: the event stream ended (%s, after %s)" %
               (ended, events[-1:]))
        if rc != 0:
            tap.diag(read(log_path)[-3000:])
    finally:
        stop.set()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
        if ch:
            ch.close()
        srv.close()


def installed(tap, work):
    """`cmake --install` under a scratch prefix: retrovue_air is installed as
    a relative link beside retrovue_playout, and config-less mode finds the
    installed modules relative to the binary."""
    prefix = os.path.join(work, "prefix")
    p = subprocess.run(["cmake", "--install", rvtest.env("RV_BUILD_DIR"), "--prefix", prefix],
                       capture_output=True, text=True, timeout=600)
    binary = os.path.join(prefix, "bin", "retrovue_playout")
    air = os.path.join(prefix, "bin", "retrovue_air")
    if not tap.ok(p.returncode == 0 and os.path.isfile(binary),
                  "cmake --install --prefix works (%s)" % p.stderr.strip()[-300:]):
        return
    tap.ok(os.path.islink(air) and os.readlink(air) == "retrovue_playout",
           "retrovue_air is installed as a relative link (%s)" %
           (os.readlink(air) if os.path.islink(air) else "missing"))
    port = rvtest.free_tcp_port()
    log_path = os.path.join(work, "installed.log")
    proc, log = launch([air, "--port", str(port)], log_path)
    version = wait_version(proc, "127.0.0.1:%d" % port)
    rc, took = term_and_time(proc)
    log.close()
    text = read(log_path)
    mods = os.path.realpath(os.path.join(prefix, "lib", "retrovue-playout", "modules"))
    tap.ok(version is not None and rc == 0 and took <= CORE_TERM_DEADLINE_S and
           "modules from %s (installed" % mods in text,
           "the installed retrovue_air --port loads the installed modules, answers, exits %s" %
           rc)
    if rc != 0 or version is None:
        tap.diag(text[-2000:])


def main():
    tap = Tap()
    work = rvtest.scratch("coremode")
    binary = rvtest.env("RV_BIN")
    air = air_path(binary)

    p = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=60)
    tap.ok(p.returncode == 0 and "--port PORT" in p.stdout and "--address ADDR" in p.stdout and
           "retrovue_air --port PORT" in p.stdout and "--metrics-listen" in p.stdout and
           "--asrun-dir" in p.stdout and "config-less" in p.stdout,
           "--help documents --port, --address, retrovue_air and config-less mode")
    tap.ok(os.path.islink(air) and os.readlink(air) == "retrovue_playout",
           "retrovue_air is a relative link to retrovue_playout beside it (%s)" %
           (os.readlink(air) if os.path.islink(air) else "missing"))
    pa = subprocess.run([air, "--version"], capture_output=True, text=True, timeout=60)
    pp = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=60)
    tap.ok(pa.returncode == 0 and pa.stdout == pp.stdout,
           "retrovue_air --version prints what retrovue_playout prints: %s" % pa.stdout.strip())

    configless_run(tap, "retrovue_playout", binary, work)
    configless_run(tap, "retrovue_air", air, work)
    bad_ports(tap, binary)
    pa = subprocess.run([air, "--port", "0"], capture_output=True, text=True, timeout=60)
    tap.ok(pa.returncode == 2 and "--port: '0'" in pa.stderr, "retrovue_air refuses it too")
    busy_port(tap, binary, work)
    config_with_port(tap, binary, work)
    session_sigterm(tap, air, work)
    installed(tap, work)
    tap.done()


if __name__ == "__main__":
    main()
