#!/usr/bin/python3
"""The gRPC control plane end to end (issue 5), driven with Debian's grpcio.

    test_control.py              the real binary ($RV_BIN) on slate + framelog
    test_control.py --stub BIN   the same server code on a stub engine

Every row of the issue's semantics list, GetVersion, malformed payloads,
unknown methods, 20 concurrent mixed calls on 5 channels, a slow StartChannel
that must not delay other channels (stub), a client killed mid-call, 200
start/stop cycles with stable memory, the Unix socket guard and mode, a TCP
port in use, and a clean SIGTERM shutdown. Prints TAP.
"""
import argparse
import concurrent.futures
import os
import socket
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rvtest  # noqa: E402
from control_harness import (SERVICE, Engine, free_tcp_port, grpc, pb,  # noqa: E402
                             real_config, write_plans)

FORMAT_OK = ('{"video":{"width":640,"height":360,"frame_rate":"25"},'
             '"audio":{"sample_rate":48000,"channels":2}}')
CONFIGURED = [1, 2, 3, 4, 5, 6, 7] + list(range(11, 16)) + [21, 22]


class Suite:
    def __init__(self, args):
        self.t = rvtest.Tap()
        self.stub_bin = args.stub
        self.real = args.stub is None
        self.dir = rvtest.scratch("control-real" if self.real else "control-stub")
        self.engines = []

    # ---- processes ----
    def make_engine(self, name, sock=None, tcp_port=None, defaults=True, ids=CONFIGURED):
        sock = sock or os.path.join(self.dir, name + ".sock")
        tcp_port = tcp_port or free_tcp_port()
        log = os.path.join(self.dir, name + ".log")
        if self.real:
            conf = real_config(self.dir, sock, tcp_port, ids, defaults=defaults,
                               name=name + ".conf")
            cmd = [rvtest.env("RV_BIN"), "--config", conf]
        else:
            plans = write_plans(self.dir)
            cmd = [self.stub_bin, plans, "unix:" + sock, "127.0.0.1:%d" % tcp_port]
        e = Engine(cmd, sock, tcp_port, log)
        self.engines.append(e)
        return e

    def ok(self, cond, what, detail=None):
        if not self.t.ok(bool(cond), what) and detail is not None:
            self.t.diag(detail)
        return cond

    def skip(self, what, why):
        self.t.ok(True, "%s # SKIP %s" % (what, why))

    # ---- the tests ----
    def run(self):
        e = self.make_engine("main")
        if not self.ok(e.start(), "the engine starts and answers GetVersion on its Unix socket",
                       e.log_text()[-3000:]):
            e.stop()
            return self.t.done()
        self.e = e
        self.u = e.stub("unix")
        self.tcp = e.stub("tcp")
        self.raw = e.channel("unix")
        try:
            self.version()
            self.socket_file()
            self.start_semantics()
            self.format_semantics()
            self.port_semantics()
            self.update_semantics()
            self.stop_semantics()
            self.bad_requests()
            self.malformed()
            self.concurrent()
            self.slow_channel()
            self.killed_client()
            self.cycles()
            self.second_instance()
            self.defaults()
        finally:
            sock = e.sock
            rc = e.stop()
            self.ok(rc == 0, "SIGTERM: the engine exits 0 (no leak under ASan)",
                    "exit %r\n%s" % (rc, e.log_text()[-3000:]))
            self.ok(not os.path.exists(sock), "SIGTERM: the Unix socket file is removed")
            for other in self.engines:
                other.stop()
        return self.t.done()

    def version(self):
        v = self.u.GetVersion(pb.ApiVersionRequest(), timeout=10)
        self.ok(v.version == "1.0.0", "GetVersion over the Unix socket is 1.0.0 (%s)" % v.version)
        v = self.tcp.GetVersion(pb.ApiVersionRequest(), timeout=10)
        self.ok(v.version == "1.0.0", "GetVersion over TCP is 1.0.0")
        opt = pb.DESCRIPTOR.GetOptions().Extensions[pb.playout_api_version]
        self.ok(opt == v.version, "GetVersion equals the proto's playout_api_version option")

    def socket_file(self):
        mode = stat.S_IMODE(os.stat(self.e.sock).st_mode)
        self.ok(mode == 0o660, "the Unix socket has mode 0660 (%o)" % mode)

    def status(self, cid, stub=None):
        return (stub or self.u).GetChannelStatus(pb.ChannelStatusQuery(channel_id=cid), timeout=60)

    def start(self, cid, handle, stub=None, **kw):
        req = pb.StartChannelRequest(channel_id=cid, plan_handle=handle, **kw)
        return (stub or self.u).StartChannel(req, timeout=120)

    def update(self, cid, handle, stub=None):
        return (stub or self.u).UpdatePlan(pb.UpdatePlanRequest(channel_id=cid, plan_handle=handle),
                                           timeout=60)

    def stop(self, cid, stub=None):
        return (stub or self.u).StopChannel(pb.StopChannelRequest(channel_id=cid), timeout=60)

    def start_semantics(self):
        r = self.start(1, "demo")
        self.ok(r.success, "StartChannel(1, demo) on a stopped channel succeeds: %s" % r.message)
        s = self.status(1)
        self.ok(s.success and s.channel.state == "ready" and s.channel.plan_handle == "demo",
                "the channel is ready on 'demo' when StartChannel returns (%s)" % s.channel.state)
        tick1 = s.channel.tick
        r = self.start(1, "demo", stub=self.tcp)
        self.ok(r.success and "already" in r.message,
                "StartChannel again with the same plan (TCP): success, nothing restarts: %s" % r.message)
        s = self.status(1)
        self.ok(s.channel.tick >= tick1 and s.channel.plan_handle == "demo",
                "the running channel did not restart (tick %d -> %d)" % (tick1, s.channel.tick))
        r = self.start(1, "alt")
        self.ok(not r.success and "UpdatePlan" in r.message,
                "StartChannel with another plan: success=false, says use UpdatePlan: %s" % r.message)
        s = self.status(1)
        self.ok(s.channel.plan_handle == "demo" and s.channel.state == "ready",
                "the running channel is untouched (still 'demo', ready)")
        r = self.start(2, "nosuch")
        self.ok(not r.success and "nosuch" in r.message,
                "StartChannel with an unknown plan handle: success=false naming it: %s" % r.message)
        self.ok(not self.status(2).success, "the channel did not start")
        if self.real:
            r = self.start(2, "broken")
            self.ok(not r.success and r.message,
                    "StartChannel with an invalid plan: success=false with the reason: %s" % r.message)
        lst = self.u.ListChannels(pb.ChannelListQuery(), timeout=30)
        ids = [c.channel_id for c in lst.channels]
        self.ok(ids == [1], "ListChannels shows exactly the running channel (%s)" % ids)
        if self.ok(lst.channels and len(lst.channels[0].sinks) >= 1,
                   "the status lists the channel's sinks"):
            sk = lst.channels[0].sinks[0]
            self.t.diag("sink %s at %s: %d bytes, %d clients" % (sk.module, sk.address, sk.bytes,
                                                                 sk.clients))

    def format_semantics(self):
        r = self.start(4, "demo", program_format_json=FORMAT_OK)
        self.ok(r.success, "StartChannel with program_format_json succeeds: %s" % r.message)
        f = self.status(4).channel.format
        self.ok((f.width, f.height, f.frame_rate_num, f.frame_rate_den) == (640, 360, 25, 1),
                "the channel runs the requested format (%dx%d @ %d/%d)" % (
                    f.width, f.height, f.frame_rate_num, f.frame_rate_den))
        self.stop(4)
        r = self.start(4, "demo")
        f = self.status(4).channel.format
        self.ok(r.success and (f.width, f.height) != (640, 360) and f.width > 0,
                "an empty program_format_json means the configured profile (%dx%d)" % (f.width,
                                                                                    f.height))
        self.stop(4)
        for bad, why in (('{"video":', "not valid JSON"),
                         ('{"video":{"width":641,"height":360,"frame_rate":"25"}}', "even"),
                         ('{"video":{"width":640,"height":360,"frame_rate":"500"}}', "out of range"),
                         ('{"video":{"width":640,"height":360,"frame_rate":25},'
                          '"audio":{"sample_rate":1000}}', "sample_rate")):
            r = self.start(5, "demo", program_format_json=bad)
            self.ok(not r.success and why in r.message,
                    "invalid program_format_json %s: success=false: %s" % (bad[:40], r.message))
        self.ok(not self.status(5).success, "no channel was started by an invalid format")

    def port_semantics(self):
        if not self.real:
            return self.skip("port > 0 binds an mpegts-tcp sink", "stub engine")
        mods = rvtest.env("RV_MODULE_DIR")
        if not os.path.exists(os.path.join(mods, "mpegts-tcp.so")):
            return self.skip("port > 0 binds an mpegts-tcp sink", "mpegts-tcp.so not built")
        port = free_tcp_port()
        r = self.start(3, "demo", port=port)
        self.ok(r.success, "StartChannel(3, demo, port=%d) succeeds: %s" % (port, r.message))
        sinks = self.status(3).channel.sinks
        tcp = [s for s in sinks if s.module == "mpegts-tcp"]
        self.ok(tcp and str(port) in tcp[0].address,
                "the channel has an mpegts-tcp sink on port %d (%s)" % (
                    port, [(s.module, s.address) for s in sinks]))
        data = b""
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=30) as c:
                while len(data) < 188 * 10:
                    chunk = c.recv(65536)
                    if not chunk:
                        break
                    data += chunk
        except OSError as ex:
            self.t.diag("connect: %s" % ex)
        self.ok(len(data) >= 188 and 0x47 in data[:188],
                "a client on port %d receives MPEG-TS (%d bytes)" % (port, len(data)))
        self.stop(3)

    def update_semantics(self):
        r = self.update(1, "alt")
        self.ok(r.success, "UpdatePlan(1, alt) succeeds: %s" % r.message)
        s = self.status(1)
        self.ok(s.channel.plan_handle == "alt" and s.channel.state == "ready",
                "the channel now runs 'alt' without a restart")
        r = self.update(1, "alt", stub=self.tcp)
        self.ok(r.success, "UpdatePlan with the same plan again: success, no-op: %s" % r.message)
        r = self.update(1, "nosuch")
        self.ok(not r.success and self.status(1).channel.plan_handle == "alt",
                "UpdatePlan with an unknown plan: success=false, nothing changed: %s" % r.message)
        if self.real:
            r = self.update(1, "broken")
            self.ok(not r.success and self.status(1).channel.plan_handle == "alt",
                    "UpdatePlan with an invalid plan: success=false, nothing changed: %s" % r.message)
        r = self.update(6, "demo")
        self.ok(not r.success and not self.status(6).success,
                "UpdatePlan on a stopped channel: success=false, nothing started: %s" % r.message)

    def stop_semantics(self):
        r = self.stop(1)
        self.ok(r.success, "StopChannel(1) succeeds: %s" % r.message)
        s = self.status(1)
        self.ok(not s.success and s.channel.state == "stopped",
                "the channel is stopped (%s)" % s.message)
        r = self.stop(1, stub=self.tcp)
        self.ok(r.success and "not running" in r.message,
                "StopChannel again: success, says it was not running: %s" % r.message)
        r = self.stop(777)
        self.ok(r.success and "not running" in r.message,
                "StopChannel on an unknown channel: success, not running: %s" % r.message)

    def bad_requests(self):
        long_handle = "x" * 300
        cases = [
            ("StartChannel channel_id 0", lambda: self.start(0, "demo"), "channel_id"),
            ("StartChannel channel_id -5", lambda: self.start(-5, "demo"), "channel_id"),
            ("UpdatePlan channel_id 0", lambda: self.update(0, "demo"), "channel_id"),
            ("StopChannel channel_id -1", lambda: self.stop(-1), "channel_id"),
            ("GetChannelStatus channel_id 0", lambda: self.status(0), "channel_id"),
            ("StartChannel 300-byte plan_handle", lambda: self.start(6, long_handle), "too long"),
            ("UpdatePlan 300-byte plan_handle", lambda: self.update(6, long_handle), "too long"),
            # one limit everywhere (issue 16): 129..255 bytes passed here and failed later
            ("StartChannel 200-byte plan_handle", lambda: self.start(6, "h" * 200),
             "at most 128"),
            ("UpdatePlan 129-byte plan_handle", lambda: self.update(6, "h" * 129), "at most 128"),
            ("StartChannel plan_handle '../demo'", lambda: self.start(6, "../demo"), "plan_handle"),
            ("StartChannel plan_handle 'a/b'", lambda: self.start(6, "a/b"), "plan_handle"),
            ("StartChannel empty plan_handle", lambda: self.start(6, ""), "plan_handle"),
            ("StartChannel port 70000", lambda: self.start(6, "demo", port=70000), "port"),
            ("StartChannel 5000-byte program_format_json",
             lambda: self.start(6, "demo", program_format_json=" " * 5000), "too long"),
        ]
        if self.real:
            cases.append(("StartChannel on a plan reaching ../../etc/passwd (media_roots)",
                          lambda: self.start(6, "escape"), "outside media_roots ("))
        for what, call, needle in cases:
            r = call()
            self.ok(not r.success and needle in r.message,
                    "%s: success=false, clear message: %s" % (what, r.message[:100]))
        # protobuf-c would cut "demo\0evil" to "demo": refused on the wire (issue 16)
        for what, call in (("StartChannel", lambda: self.start(6, "demo\0evil")),
                           ("UpdatePlan", lambda: self.update(6, "demo\0evil"))):
            try:
                call()
                code, detail = grpc.StatusCode.OK, ""
            except grpc.RpcError as ex:
                code, detail = ex.code(), ex.details() or ""
            self.ok(code == grpc.StatusCode.INVALID_ARGUMENT and "plan_handle holds a NUL" in detail,
                    "%s plan_handle 'demo\\0evil': INVALID_ARGUMENT (%s: %s)" % (what, code, detail))
        lst = self.u.ListChannels(pb.ChannelListQuery(), timeout=30)
        self.ok(len(lst.channels) == 0, "nothing was started by the bad requests")

    def malformed(self):
        for payload in (b"\x08", b"\x12\x05ab", b"\xff\xff\xff\xff", b"\x0a\x03abc",
                        b"\x52\x80\x80\x80\x80\x80"):
            for method in ("StartChannel", "UpdatePlan", "StopChannel"):
                call = self.raw.unary_unary(SERVICE + method)
                try:
                    call(payload, timeout=10)
                    code = grpc.StatusCode.OK
                except grpc.RpcError as ex:
                    code = ex.code()
                if code != grpc.StatusCode.INVALID_ARGUMENT:
                    break
            self.ok(code == grpc.StatusCode.INVALID_ARGUMENT,
                    "malformed payload %s: INVALID_ARGUMENT on every method (%s)" % (payload.hex(),
                                                                                   code))
        for path in (SERVICE + "NoSuchMethod", "/other.Service/StartChannel",
                     "/retrovue.playout.Other/StartBlockPlanSession"):
            try:
                self.raw.unary_unary(path)(b"", timeout=10)
                code = grpc.StatusCode.OK
            except grpc.RpcError as ex:
                code = ex.code()
            self.ok(code == grpc.StatusCode.UNIMPLEMENTED, "unknown method %s: UNIMPLEMENTED" % path)
        v = self.u.GetVersion(pb.ApiVersionRequest(), timeout=10)
        self.ok(v.version == "1.0.0", "the server is healthy after bad payloads")

    def concurrent(self):
        chans = list(range(11, 16))
        stubs = [self.u, self.tcp]
        calls = []
        for i, c in enumerate(chans):
            s = stubs[i % 2]
            calls += [("start", lambda c=c, s=s: self.start(c, "demo", stub=s)),
                      ("status", lambda c=c, s=s: self.status(c, stub=s)),
                      ("update", lambda c=c, s=s: self.update(c, "alt", stub=s)),
                      ("version", lambda s=s: s.GetVersion(pb.ApiVersionRequest(), timeout=60))]
        errors = []
        with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
            futs = [(k, pool.submit(f)) for k, f in calls]
            results = []
            for k, f in futs:
                try:
                    results.append((k, f.result(timeout=300)))
                except grpc.RpcError as ex:
                    errors.append("%s: %s" % (k, ex.code()))
        self.ok(len(calls) == 20 and not errors,
                "20 concurrent mixed calls on 5 channels: every call answered (%s)" % errors)
        starts = [r for k, r in results if k == "start"]
        self.ok(all(r.success for r in starts), "all 5 concurrent StartChannel calls succeeded")
        updates = [r for k, r in results if k == "update"]
        self.ok(all(r.success or "not running" in r.message for r in updates),
                "each concurrent UpdatePlan either applied or found the channel not yet running")
        lst = self.u.ListChannels(pb.ChannelListQuery(), timeout=30)
        self.ok(sorted(c.channel_id for c in lst.channels) == chans and
                all(c.state in ("ready", "buffering") for c in lst.channels),
                "the 5 channels are running, ready or refilling after the swap (%s)" % [
                    (c.channel_id, c.state, c.plan_handle) for c in lst.channels])
        with concurrent.futures.ThreadPoolExecutor(max_workers=5) as pool:
            stops = list(pool.map(lambda c: self.stop(c), chans))
        self.ok(all(r.success for r in stops) and
                not self.u.ListChannels(pb.ChannelListQuery(), timeout=30).channels,
                "5 concurrent StopChannel calls stop them all")

    def slow_channel(self):
        if self.real:
            return self.skip("a slow StartChannel does not delay other channels",
                             "needs the stub engine's held StartChannel")
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            held = pool.submit(lambda: self.start(5, "hold"))
            time.sleep(0.2)  # let the held call reach the engine (ordering only)
            other = self.start(6, "demo")
            status = self.status(6)
            self.ok(other.success and status.success and not held.done(),
                    "while StartChannel(5) is held, StartChannel(6) and GetChannelStatus answer")
            self.stop(999)  # the stub's release
            r = held.result(timeout=60)
            self.ok(r.success, "the held StartChannel completes once released: %s" % r.message)
        self.stop(5)
        self.stop(6)

    def killed_client(self):
        cid = 7 if self.real else 4001
        script = ("import sys; sys.path.insert(0, %r); sys.path.insert(0, %r)\n"
                  "from control_harness import pb, pb_grpc, grpc\n"
                  "s = pb_grpc.PlayoutControlStub(grpc.insecure_channel('unix:' + %r))\n"
                  "print('calling', flush=True)\n"
                  "s.StartChannel(pb.StartChannelRequest(channel_id=%d, plan_handle='demo'))\n" % (
                      os.path.dirname(os.path.abspath(__file__)),
                      os.environ.get("RV_PYTHON_DIR", ""), self.e.sock, cid))
        p = subprocess.Popen(["/usr/bin/python3", "-c", script], stdout=subprocess.PIPE,
                             env=dict(os.environ))
        p.stdout.readline()
        time.sleep(0.3)
        p.kill()
        p.wait()
        p.stdout.close()
        v = self.u.GetVersion(pb.ApiVersionRequest(), timeout=30)
        self.ok(v.version == "1.0.0", "a client killed mid-StartChannel: the server still answers")
        if self.real:
            s = self.status(cid)
            self.ok(s.channel.state in ("ready", "stopped"),
                    "the killed call left the channel whole: ready or stopped (%s)" % s.channel.state)
        else:
            try:
                self.u.StartChannel(pb.StartChannelRequest(channel_id=4002, plan_handle="demo"),
                                    timeout=0.2)
                code = grpc.StatusCode.OK
            except grpc.RpcError as ex:
                code = ex.code()
            self.ok(code == grpc.StatusCode.DEADLINE_EXCEEDED,
                    "a client deadline shorter than the call: DEADLINE_EXCEEDED (%s)" % code)
            self.ok(self.u.GetVersion(pb.ApiVersionRequest(), timeout=30).version == "1.0.0",
                    "the server is healthy after the deadline")
            self.stop(4002)
        r = self.stop(cid)
        self.ok(r.success, "StopChannel cleans up after the killed client: %s" % r.message)

    def cycles(self):
        cid = 21
        for _ in range(20):
            self.start(cid, "demo")
            self.stop(cid)
        rss0 = self.e.rss_kb()
        failures = 0
        for i in range(200):
            stub = self.u if i % 2 == 0 else self.tcp
            if not self.start(cid, "demo", stub=stub).success:
                failures += 1
            if not self.stop(cid, stub=stub).success:
                failures += 1
        rss1 = self.e.rss_kb()
        self.ok(failures == 0, "200 start/stop cycles all succeed (%d failures)" % failures)
        growth = rss1 - rss0
        self.ok(growth < 32 * 1024,
                "memory is stable over 200 cycles: RSS %d kB -> %d kB (+%d kB, bound 32 MB)" % (
                    rss0, rss1, growth))

    def second_instance(self):
        other = self.make_engine("second", sock=self.e.sock)
        other.launch()
        rc = other.exit_status()
        self.ok(rc not in (0, None),
                "a second engine on the same Unix socket refuses to start (exit %r)" % rc)
        self.ok("in use" in other.log_text() or "another" in other.log_text(),
                "and says the socket is in use", other.log_text()[-1500:])
        v = self.u.GetVersion(pb.ApiVersionRequest(), timeout=30)
        self.ok(v.version == "1.0.0", "the first engine keeps its socket")
        other.stop()
        other = self.make_engine("third", tcp_port=self.e.tcp_port)
        other.launch()
        rc = other.exit_status()
        self.ok(rc not in (0, None),
                "a second engine on the same TCP port refuses to start (SO_REUSEPORT off)")
        self.ok(not os.path.exists(other.sock),
                "and leaves no socket behind (binds all or nothing)")
        other.stop()
        # A stale socket file (a crashed engine) is replaced.
        stale = os.path.join(self.dir, "stale.sock")
        s = socket.socket(socket.AF_UNIX)
        s.bind(stale)
        s.close()
        other = self.make_engine("stale", sock=stale)
        self.ok(other.start(), "a stale socket file nobody answers on is replaced",
                other.log_text()[-1500:])
        self.ok(other.stop() == 0, "that engine stops cleanly")

    def defaults(self):
        if not self.real:
            return self.skip("channel_defaults for unconfigured ids", "stub engine")
        r = self.start(50, "demo")
        s = self.status(50)
        self.ok(r.success and s.channel.state == "ready",
                "a channel id not in the config starts from channel_defaults: %s" % r.message)
        self.stop(50)
        other = self.make_engine("nodefaults", defaults=False)
        if self.ok(other.start(), "an engine without a channel_defaults block starts",
                   other.log_text()[-1500:]):
            r = self.start(50, "demo", stub=other.stub("unix"))
            self.ok(not r.success and r.message,
                    "without channel_defaults, an unconfigured id fails: %s" % r.message)
            self.ok(other.stop() == 0, "that engine stops cleanly")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stub", help="the control_stub_server binary (default: the real $RV_BIN)")
    return Suite(ap.parse_args()).run()


if __name__ == "__main__":
    main()
