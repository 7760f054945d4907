#!/usr/bin/python3
"""RetroVue Core's BlockPlan session API over the real gRPC server (issue 11),
driven with Debian's grpcio against control_stub_server, whose scriptable
stub engine (control_stub_session.c) emits block events on its own thread.

    test_control_session.py --stub BIN [--valgrind]

AttachStream/DetachStream semantics, StartBlockPlanSession / FeedBlockPlan /
StopBlockPlanSession result codes and fields, the BlockPlan conversion as
the engine receives it, bad requests and malformed payloads, LoadPreview and
SwitchToLive UNIMPLEMENTED, and SubscribeBlockEvents: many messages on one
stream ending OK, NOT_FOUND, a client cancel reaching the engine, 20
subscribers (more than the 16 workers) while Feed and Stop on the same
channel complete, a client that stops reading dropped with
RESOURCE_EXHAUSTED, and SIGTERM with streams open. With --valgrind the
server runs under memcheck: 0 errors, 0 bytes definitely lost. Prints TAP.
"""
import argparse
import math
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rvtest  # noqa: E402
from control_harness import SERVICE, Engine, free_tcp_port, grpc, pb, write_plans  # noqa: E402

UDS = pb.STREAM_TRANSPORT_UNIX_DOMAIN_SOCKET
TCP = pb.STREAM_TRANSPORT_TCP_LOOPBACK
R = pb.BlockPlanResultCode
FORMAT = ('{"video":{"width":640,"height":360,"frame_rate":"25"},'
          '"audio":{"sample_rate":48000,"channels":2}}')
WAIT_S = 60  # generous bound for "eventually"; never a timing assertion


def block(i, cid=0, bid=None, segments=None):
    """Block i of a contiguous chain: [i s, (i+1) s)."""
    if segments is None:
        segments = [pb.BlockSegment(segment_index=0, asset_uri="/media/ep%d.mp4" % i,
                                    asset_start_offset_ms=500, segment_duration_ms=700,
                                    event_id="EV-%d" % i, transition_out=pb.TRANSITION_FADE,
                                    transition_out_duration_ms=250, gain_db=-3.5),
                    pb.BlockSegment(segment_index=1, segment_type=pb.SEGMENT_TYPE_PAD,
                                    segment_duration_ms=300)]
    return pb.BlockPlan(block_id=bid or "B%d" % i, channel_id=cid, start_utc_ms=i * 1000,
                        end_utc_ms=(i + 1) * 1000, segments=segments)


class Reader:
    """Reads one SubscribeBlockEvents stream on a thread."""

    def __init__(self, stub, cid, limit=None):
        self.call = stub.SubscribeBlockEvents(pb.SubscribeBlockEventsRequest(channel_id=cid))
        self.events = []
        self.code = None
        self.details = ""
        self.limit = limit
        self.first = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        try:
            for ev in self.call:
                self.events.append(ev)
                self.first.set()
            self.code = grpc.StatusCode.OK
        except grpc.RpcError as ex:
            self.code = ex.code()
            self.details = ex.details()
        self.first.set()

    def wait(self, timeout=WAIT_S):
        self.thread.join(timeout)
        return not self.thread.is_alive()

    def kinds(self):
        return [e.WhichOneof("event") for e in self.events]


class Suite:
    def __init__(self, args):
        self.t = rvtest.Tap()
        self.dir = rvtest.scratch("control-session")
        sock = os.path.join(self.dir, "ctl.sock")
        port = free_tcp_port()
        cmd = [args.stub, write_plans(self.dir), "unix:" + sock, "127.0.0.1:%d" % port]
        self.vg_log = None
        if args.valgrind:
            self.vg_log = os.path.join(self.dir, "valgrind.log")
            cmd = ["valgrind", "--error-exitcode=9", "--leak-check=full",
                   "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite",
                   "--log-file=" + self.vg_log] + cmd
        self.e = Engine(cmd, sock, port, os.path.join(self.dir, "engine.log"))

    def ok(self, cond, what, detail=None):
        if not self.t.ok(bool(cond), what) and detail is not None:
            self.t.diag(detail)
        return cond

    def run(self):
        if not self.ok(self.e.start(), "the stub server starts", self.e.log_text()[-2000:]):
            self.e.stop()
            return self.t.done()
        self.s = self.e.stub("unix")
        self.raw = self.e.channel("unix")
        try:
            self.legacy()
            self.attach()
            self.start_codes()
            self.conversion()
            self.feed_codes()
            self.bad_requests()
            self.malformed()
            self.stop_fields()
            self.stream_many()
            self.stream_not_found()
            self.stream_cancel()
            self.stream_many_subscribers()
            self.stream_overflow()
            self.stream_races()
            self.shutdown_with_streams()
        finally:
            self.e.stop()
        if self.vg_log:
            text = open(self.vg_log).read()
            self.t.diag("\n".join(l for l in text.splitlines()
                                   if "ERROR SUMMARY" in l or "definitely lost" in l))
            self.ok("ERROR SUMMARY: 0 errors" in text, "valgrind: 0 errors")
            self.ok("definitely lost: 0 bytes" in text or "definitely lost" not in text,
                    "valgrind: 0 bytes definitely lost")
        return self.t.done()

    # ---- helpers ----
    def attach_req(self, cid, endpoint="/tmp/core.sock", transport=UDS, replace=True):
        return self.s.AttachStream(pb.AttachStreamRequest(
            channel_id=cid, transport=transport, endpoint=endpoint, replace_existing=replace),
            timeout=WAIT_S)

    def start(self, cid, a=None, b=None, script="", depth=3, fmt="", attach=True):
        if attach:
            self.attach_req(cid)
        return self.s.StartBlockPlanSession(pb.StartBlockPlanSessionRequest(
            channel_id=cid, block_a=a if a is not None else block(0, cid),
            block_b=b if b is not None else block(1, cid), join_utc_ms=0,
            program_format_json=fmt, max_queue_depth=depth, channel_id_str=script),
            timeout=WAIT_S)

    def feed(self, cid, blk):
        return self.s.FeedBlockPlan(pb.FeedBlockPlanRequest(channel_id=cid, block=blk),
                                    timeout=WAIT_S)

    def stop(self, cid, reason="test"):
        return self.s.StopBlockPlanSession(pb.StopBlockPlanSessionRequest(
            channel_id=cid, reason=reason), timeout=WAIT_S)

    def report(self, cid):
        return self.s.GetChannelStatus(pb.ChannelStatusQuery(channel_id=cid), timeout=WAIT_S).channel

    def until(self, cond):
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            if cond():
                return True
            time.sleep(0.02)
        return cond()

    def code_of(self, fn):
        try:
            fn()
            return grpc.StatusCode.OK, ""
        except grpc.RpcError as ex:
            return ex.code(), ex.details()

    # ---- unary calls ----
    def legacy(self):
        for name, req in (("LoadPreview", pb.LoadPreviewRequest(channel_id=1, asset_path="/a")),
                          ("SwitchToLive", pb.SwitchToLiveRequest(channel_id=1))):
            code, details = self.code_of(lambda: getattr(self.s, name)(req, timeout=WAIT_S))
            self.ok(code == grpc.StatusCode.UNIMPLEMENTED and "BlockPlan" in details and
                    "StartBlockPlanSession" in details,
                    "%s: UNIMPLEMENTED, naming the BlockPlan RPCs to use: %s" % (name, details))

    def attach(self):
        r = self.attach_req(100, "/tmp/core-100.sock", replace=False)
        self.ok(r.success and r.message == "Attached" and r.negotiated_transport == UDS and
                r.negotiated_endpoint == "/tmp/core-100.sock",
                "AttachStream UDS: success, 'Attached', transport and endpoint echoed (%s)" %
                r.message)
        r = self.attach_req(100, "/tmp/other.sock", replace=False)
        self.ok(not r.success and "replace_existing" in r.message,
                "AttachStream again without replace_existing: refused: %s" % r.message)
        self.ok(self.report(100).sinks[0].address == "/tmp/core-100.sock",
                "the refused attach left the first one in place")
        r = self.attach_req(100, "127.0.0.1:15001", transport=TCP, replace=True)
        self.ok(r.success and r.negotiated_transport == TCP and
                r.negotiated_endpoint == "127.0.0.1:15001",
                "AttachStream TCP_LOOPBACK with replace_existing: success, echoed")
        r = self.attach_req(100, "/tmp/x.sock", transport=pb.STREAM_TRANSPORT_UNSPECIFIED)
        self.ok(not r.success and "transport" in r.message,
                "AttachStream with transport UNSPECIFIED: refused: %s" % r.message)
        r = self.attach_req(100, "/tmp/x.sock", transport=7)
        self.ok(not r.success and "transport" in r.message, "AttachStream with transport 7: refused")
        r = self.attach_req(100, "")
        self.ok(not r.success and "endpoint" in r.message,
                "AttachStream with an empty endpoint: refused: %s" % r.message)
        r = self.attach_req(100, "/tmp/" + "x" * 300)
        self.ok(not r.success and "too long" in r.message,
                "AttachStream with a 305-byte endpoint: refused: %s" % r.message)
        r = self.attach_req(100, "/tmp/refuse.sock")
        self.ok(not r.success and "connect() failed" in r.message,
                "AttachStream the engine cannot connect: the engine's reason: %s" % r.message)
        r = self.attach_req(0)
        self.ok(not r.success and "channel_id" in r.message, "AttachStream channel_id 0: refused")
        r = self.s.DetachStream(pb.DetachStreamRequest(channel_id=100), timeout=WAIT_S)
        self.ok(r.success, "DetachStream: success: %s" % r.message)
        r = self.s.DetachStream(pb.DetachStreamRequest(channel_id=100, force=True), timeout=WAIT_S)
        self.ok(r.success and "idempotent" in r.message,
                "DetachStream again: success, idempotent: %s" % r.message)

    def start_codes(self):
        r = self.start(101, attach=False)
        self.ok(not r.success and r.result_code == R.Value("BLOCKPLAN_RESULT_STREAM_NOT_ATTACHED"),
                "StartBlockPlanSession before AttachStream: STREAM_NOT_ATTACHED: %s" % r.message)
        r = self.start(101, fmt='{"video":')
        self.ok(not r.success and r.result_code == R.Value("BLOCKPLAN_RESULT_UNSPECIFIED") and
                "JSON" in r.message,
                "a bad program_format_json is refused, not replaced by a default: %s" % r.message)
        r = self.start(101, fmt='{"video":{"width":641,"height":360,"frame_rate":"25"}}')
        self.ok(not r.success and "even" in r.message,
                "an odd width in program_format_json is refused: %s" % r.message)
        r = self.s.StartBlockPlanSession(pb.StartBlockPlanSessionRequest(
            channel_id=101, block_b=block(1)), timeout=WAIT_S)
        self.ok(not r.success and r.result_code == R.Value("BLOCKPLAN_RESULT_INVALID_BLOCK") and
                "block_a is missing" in r.message,
                "StartBlockPlanSession without block_a: INVALID_BLOCK: %s" % r.message)
        r = self.start(101, b=block(2))
        self.ok(not r.success and r.result_code == R.Value("BLOCKPLAN_RESULT_NOT_CONTIGUOUS"),
                "block_b not starting at block_a's end: NOT_CONTIGUOUS: %s" % r.message)
        r = self.start(101, a=block(0, segments=[]))
        self.ok(not r.success and r.result_code == R.Value("BLOCKPLAN_RESULT_INVALID_BLOCK"),
                "a block the engine refuses: INVALID_BLOCK with its message: %s" % r.message)
        r = self.start(101, fmt=FORMAT, script="pace=100000")
        self.ok(r.success and r.result_code == R.Value("BLOCKPLAN_RESULT_OK") and r.message,
                "StartBlockPlanSession: success, OK: %s" % r.message)
        f = self.report(101).format
        self.ok((f.width, f.height, f.frame_rate_num, f.frame_rate_den) == (640, 360, 25, 1),
                "the session got program_format_json's format (%dx%d @ %d/%d)" % (
                    f.width, f.height, f.frame_rate_num, f.frame_rate_den))
        r = self.start(101)
        self.ok(not r.success and r.result_code == R.Value("BLOCKPLAN_RESULT_ALREADY_ACTIVE"),
                "a second StartBlockPlanSession: ALREADY_ACTIVE: %s" % r.message)

    def conversion(self):
        segs = [pb.BlockSegment(segment_index=0, asset_uri="/media/show.mp4",
                                asset_start_offset_ms=1234, segment_duration_ms=600,
                                event_id="EV-SHOW", gain_db=-2.0),
                pb.BlockSegment(segment_index=1, asset_uri="/media/promo.mp4",
                                segment_type=pb.SEGMENT_TYPE_FILLER, segment_duration_ms=300),
                pb.BlockSegment(segment_index=2, segment_type=pb.SEGMENT_TYPE_PAD,
                                segment_duration_ms=100)]
        r = self.feed(101, block(2, 101, segments=segs))
        c = self.report(101)
        self.ok(r.success and c.asset_uri == "/media/show.mp4" and c.event_id == "EV-SHOW" and
                c.segment_index == 3,
                "FeedBlockPlan hands the engine the block's segments (%s, %s, %d segments)" % (
                    c.asset_uri, c.event_id, c.segment_index))

    def feed_codes(self):
        r = self.feed(101, block(7))
        self.ok(not r.success and r.result_code == R.Value("BLOCKPLAN_RESULT_NOT_CONTIGUOUS") and
                not r.queue_full, "a block not contiguous with the last fed: NOT_CONTIGUOUS: %s" %
                r.message)
        r = self.feed(101, block(3, segments=[]))
        self.ok(not r.success and r.result_code == R.Value("BLOCKPLAN_RESULT_INVALID_BLOCK"),
                "a block the engine refuses at Feed: INVALID_BLOCK: %s" % r.message)
        full = None
        for i in range(3, 8):
            r = self.feed(101, block(i))
            if not r.success:
                full = r
                break
        self.ok(full is not None and full.result_code == R.Value("BLOCKPLAN_RESULT_QUEUE_FULL") and
                full.queue_full and full.message == "Queue full",
                "feeding past max_queue_depth: QUEUE_FULL, queue_full=true (%s)" % (
                    full and full.message))
        r = self.feed(102, block(0))
        self.ok(not r.success and r.result_code == R.Value("BLOCKPLAN_RESULT_NO_SESSION"),
                "FeedBlockPlan without a session: NO_SESSION: %s" % r.message)
        r = self.feed(101, block(9, cid=55))
        self.ok(not r.success and r.result_code == R.Value("BLOCKPLAN_RESULT_INVALID_BLOCK") and
                "channel 55" in r.message,
                "a block naming another channel is refused: %s" % r.message)

    def bad_requests(self):
        bad_seg = [
            ("segment_type 7", pb.BlockSegment(segment_type=7, segment_duration_ms=1000),
             "segment_type"),
            ("transition_in 5", pb.BlockSegment(transition_in=5, segment_duration_ms=1000),
             "transition"),
            ("gain_db NaN", pb.BlockSegment(gain_db=math.nan, segment_duration_ms=1000), "gain_db"),
            ("gain_db inf", pb.BlockSegment(gain_db=math.inf, segment_duration_ms=1000), "gain_db"),
            ("a 300-byte event_id", pb.BlockSegment(event_id="e" * 300, segment_duration_ms=1000),
             "too long"),
            ("a 5000-byte asset_uri", pb.BlockSegment(asset_uri="/" * 5000,
                                                      segment_duration_ms=1000), "too long"),
        ]
        for what, seg, needle in bad_seg:
            r = self.feed(101, block(5, segments=[seg]))
            self.ok(not r.success and r.result_code == R.Value("BLOCKPLAN_RESULT_INVALID_BLOCK") and
                    needle in r.message and "segment 0" in r.message,
                    "FeedBlockPlan with %s: INVALID_BLOCK naming the segment: %s" % (
                        what, r.message[:120]))
        r = self.feed(101, block(5, bid="b" * 300))
        self.ok(not r.success and "block_id is too long" in r.message,
                "a 300-byte block_id: refused: %s" % r.message[:80])
        r = self.feed(101, pb.BlockPlan(block_id="big", start_utc_ms=5000, end_utc_ms=6000,
                                        segments=[pb.BlockSegment(segment_index=i,
                                                                  segment_duration_ms=1)
                                                  for i in range(5000)]))
        self.ok(not r.success and "5000 segments" in r.message,
                "a block of 5000 segments: refused: %s" % r.message)
        r = self.feed(0, block(5))
        self.ok(not r.success and "channel_id" in r.message, "FeedBlockPlan channel_id 0: refused")
        r = self.stop(-3)
        self.ok(not r.success and "channel_id" in r.message,
                "StopBlockPlanSession channel_id -3: refused")
        r = self.start(103, fmt=" " * 5000)
        self.ok(not r.success and "too long" in r.message, "a 5000-byte program_format_json: refused")
        r = self.s.StartBlockPlanSession(pb.StartBlockPlanSessionRequest(
            channel_id=103, block_a=block(0), block_b=block(1), evidence_endpoint="h" * 300),
            timeout=WAIT_S)
        self.ok(not r.success and "evidence_endpoint" in r.message,
                "a 300-byte evidence_endpoint: refused")
        r = self.s.StartBlockPlanSession(pb.StartBlockPlanSessionRequest(
            channel_id=103, block_a=block(0), block_b=block(1),
            join_utc_ms=9223372036854775000), timeout=WAIT_S)
        self.ok(not r.success and "join_utc_ms 9223372036854775000 is outside the plan limits"
                in r.message, "join_utc_ms past 2100-01-01 (plan limits): refused: %s" % r.message)
        self.ok(self.report(103).state == "stopped", "no session was started by the bad requests")

    def malformed(self):
        # A NUL inside a string: protobuf-c would cut it short; refused instead.
        for what, call, req, needle in (
                ("FeedBlockPlan block_id", self.s.FeedBlockPlan,
                 pb.FeedBlockPlanRequest(channel_id=101, block=block(5, bid="B\x005")), "block_id"),
                ("FeedBlockPlan asset_uri", self.s.FeedBlockPlan, pb.FeedBlockPlanRequest(
                    channel_id=101, block=block(5, segments=[pb.BlockSegment(
                        asset_uri="/a.mp4\x00/etc/passwd", segment_duration_ms=1000)])),
                 "asset_uri"),
                ("AttachStream endpoint", self.s.AttachStream, pb.AttachStreamRequest(
                    channel_id=101, transport=UDS, endpoint="/tmp/a\x00b"), "endpoint"),
                ("StartChannel plan_handle", self.s.StartChannel, pb.StartChannelRequest(
                    channel_id=1, plan_handle="demo\x00x"), "plan_handle")):
            code, details = self.code_of(lambda: call(req, timeout=WAIT_S))
            self.ok(code == grpc.StatusCode.INVALID_ARGUMENT and needle in details and
                    "NUL" in details,
                    "a NUL byte in %s: INVALID_ARGUMENT: %s" % (what, details))
        for payload in (b"\x08", b"\x12\x05ab", b"\xff\xff\xff\xff", b"\x12\x03\x0a\x01"):
            codes = set()
            for m in ("AttachStream", "DetachStream", "StartBlockPlanSession", "FeedBlockPlan",
                      "StopBlockPlanSession", "SubscribeBlockEvents", "LoadPreview"):
                if m == "SubscribeBlockEvents":
                    fn = self.raw.unary_stream(SERVICE + m)
                    code, _ = self.code_of(lambda: list(fn(payload, timeout=WAIT_S)))
                else:
                    fn = self.raw.unary_unary(SERVICE + m)
                    code, _ = self.code_of(lambda: fn(payload, timeout=WAIT_S))
                codes.add(code)
            self.ok(codes == {grpc.StatusCode.INVALID_ARGUMENT},
                    "malformed payload %s: INVALID_ARGUMENT on every session RPC (%s)" % (
                        payload.hex(), codes))

    def stop_fields(self):
        r = self.start(104, script="pace=1,end=2")
        done = self.until(lambda: self.report(104).frames_real >= 2)
        r = self.stop(105)
        self.ok(r.success and "idempotent" in r.message and r.final_ct_ms == 0 and
                r.blocks_executed == 0,
                "StopBlockPlanSession without a session: success, idempotent: %s" % r.message)
        r = self.stop(101)
        self.ok(r.success and r.message == "Session stopped",
                "StopBlockPlanSession: success: %s" % r.message)
        self.ok(r.blocks_executed >= 0 and r.final_ct_ms == 1000 * r.blocks_executed,
                "it reports final_ct_ms and blocks_executed (%d ms, %d blocks)" % (
                    r.final_ct_ms, r.blocks_executed))
        r = self.stop(101)
        self.ok(r.success and "idempotent" in r.message, "Stop again: idempotent: %s" % r.message)
        self.ok(done, "a session can end by itself (the stub's end=2)")

    # ---- SubscribeBlockEvents ----
    def stream_many(self):
        cid, n = 106, 40
        r = self.start(cid, script="pace=100000", depth=64)
        rd = Reader(self.s, cid)
        rd.first.wait(WAIT_S)
        # Restart with the real script now that the ordering is pinned: stop
        # (the reader sees SessionEnded and OK), then a fast session.
        self.stop(cid)
        rd.wait()
        self.ok(rd.code == grpc.StatusCode.OK and rd.kinds() == ["block_started", "session_ended"] and
                rd.events[0].block_started.block_id == "B0" and
                rd.events[-1].session_ended.reason == "stopped",
                "a subscriber after the start gets the live block's BlockStarted, then "
                "SessionEnded 'stopped', then status OK (%s)" % rd.kinds())
        r = self.start(cid, script="pace=200,end=%d" % n, depth=64)
        rd = Reader(self.s, cid)
        fed = all(self.feed(cid, block(i, cid)).success for i in range(2, n))
        self.ok(r.success and fed, "a session with %d blocks fed" % n)
        self.ok(rd.wait(), "the stream ends by itself when the session ends")
        kinds = rd.kinds()
        ids = [getattr(e, k).block_id for e, k in zip(rd.events, kinds) if k != "session_ended"]
        # The subscriber arrives while block k is on air (0 unless the machine
        # is very slow): it gets k's BlockStarted first, then everything.
        k = int(ids[0][1:]) if ids and ids[0].startswith("B") else -1
        m = n - k
        pairs = k >= 0 and all(
            kinds[2 * j] == "block_started" and kinds[2 * j + 1] == "block_completed" and
            ids[2 * j] == ids[2 * j + 1] == "B%d" % (k + j) for j in range(m))
        self.ok(0 <= k < n // 2 and len(rd.events) == 2 * m + 1 and pairs,
                "%d messages on one stream: BlockStarted then BlockCompleted for every block "
                "from the one on air at the subscription (B%d), in order" % (len(rd.events), k))
        totals = [e.block_completed.blocks_executed_total for e, kd in zip(rd.events, kinds)
                  if kd == "block_completed"]
        self.ok(totals == list(range(k + 1, n + 1)) and
                all(e.channel_id == cid for e in rd.events),
                "BlockCompleted carries blocks_executed_total %d..%d and the channel id" % (k + 1, n))
        end = rd.events[-1].session_ended if rd.events else None
        self.ok(end and end.reason == "error" and end.blocks_executed_total == n and
                end.final_ct_ms == 1000 * n and rd.code == grpc.StatusCode.OK,
                "the last message is SessionEnded with its reason and totals; status OK (%s)" %
                rd.code)

    def stream_not_found(self):
        code, details = self.code_of(lambda: list(self.s.SubscribeBlockEvents(
            pb.SubscribeBlockEventsRequest(channel_id=107), timeout=WAIT_S)))
        self.ok(code == grpc.StatusCode.NOT_FOUND and "no BlockPlan session" in details,
                "SubscribeBlockEvents without a session: NOT_FOUND at once: %s" % details)
        code, details = self.code_of(lambda: list(self.s.SubscribeBlockEvents(
            pb.SubscribeBlockEventsRequest(channel_id=0), timeout=WAIT_S)))
        self.ok(code == grpc.StatusCode.INVALID_ARGUMENT and "channel_id" in details,
                "SubscribeBlockEvents channel_id 0: INVALID_ARGUMENT: %s" % details)

    def stream_cancel(self):
        cid = 108
        self.start(cid, script="pace=100000")
        before = self.report(cid)
        rd = Reader(self.s, cid)
        got = rd.first.wait(WAIT_S) and rd.events
        self.ok(got and self.until(lambda: self.report(cid).frames_freeze == 1),
                "one subscriber is live")
        rd.call.cancel()
        rd.wait()
        self.ok(rd.code == grpc.StatusCode.CANCELLED, "the client cancels its stream (%s)" % rd.code)
        self.ok(self.until(lambda: self.report(cid).frames_slate == before.frames_slate + 1 and
                           self.report(cid).frames_freeze == 0),
                "the engine sees the unsubscribe (the cancel is noticed without any event)")
        r = self.feed(cid, block(2, cid))
        self.ok(r.success, "the session keeps running after the cancel: %s" % r.message)
        self.stop(cid)

    def stream_many_subscribers(self):
        cid, n = 109, 20
        self.start(cid, script="pace=100000", depth=8)
        readers = [Reader(self.s, cid) for _ in range(n)]
        self.ok(all(rd.first.wait(WAIT_S) for rd in readers) and
                all(rd.kinds()[:1] == ["block_started"] for rd in readers),
                "%d subscribers on one channel (more than the 16 workers) each get the live "
                "BlockStarted" % n)
        r = self.feed(cid, block(2, cid))
        self.ok(r.success, "with %d streams open, FeedBlockPlan on the channel completes: %s" % (
            n, r.message))
        st = self.s.GetChannelStatus(pb.ChannelStatusQuery(channel_id=cid), timeout=WAIT_S)
        self.ok(st.channel.frames_freeze == n, "and the engine counts %d live subscribers" % n)
        r = self.stop(cid)
        self.ok(r.success and r.message == "Session stopped",
                "with %d streams open, StopBlockPlanSession on the channel completes" % n)
        self.ok(all(rd.wait() for rd in readers) and
                all(rd.code == grpc.StatusCode.OK and rd.kinds()[-1] == "session_ended"
                    for rd in readers),
                "every stream ends with SessionEnded then status OK")

    def stream_overflow(self):
        cid = 110
        # ~50 MB of events: more than any HTTP/2 window, so the queue must fill.
        self.start(cid, script="pace=100000,flood=2000000")
        call = self.s.SubscribeBlockEvents(pb.SubscribeBlockEventsRequest(channel_id=cid),
                                           timeout=WAIT_S * 2)
        # The client reads nothing: the server's bounded queue fills up.
        self.ok(self.until(lambda: self.report(cid).frames_slate >= 1),
                "a client that stops reading is dropped and unsubscribed (bounded queue)")
        code, details = self.code_of(lambda: list(call))
        self.ok(code == grpc.StatusCode.RESOURCE_EXHAUSTED,
                "it sees RESOURCE_EXHAUSTED: %s (%s)" % (details, code))
        self.ok(self.feed(cid, block(2, cid)).success and self.stop(cid).success,
                "the session is unaffected")

    def stream_races(self):
        """Cancels racing the session's own end and Stop: every stream ends,
        nothing hangs or crashes (ASan/valgrind judge the memory)."""
        cid, rounds = 112, 25
        hung = bad = 0
        for i in range(rounds):
            self.start(cid, script="pace=1,end=2" if i % 2 else "pace=2")
            readers = [Reader(self.s, cid) for _ in range(4)]
            readers[0].call.cancel()
            if i % 3 == 0:
                readers[1].call.cancel()
            if i % 2 == 0:
                self.stop(cid)
            for rd in readers:
                if not rd.wait():
                    hung += 1
                elif rd.code not in (grpc.StatusCode.OK, grpc.StatusCode.CANCELLED,
                                     grpc.StatusCode.NOT_FOUND):
                    bad += 1
            self.stop(cid)
        self.ok(hung == 0 and bad == 0,
                "%d rounds of cancels racing the session's end and Stop: every stream ends "
                "(OK, CANCELLED or NOT_FOUND; %d hung, %d other)" % (rounds, hung, bad))
        c = self.report(cid)
        self.ok(c.frames_freeze == 0, "no subscription is left behind (%d live)" % c.frames_freeze)

    def shutdown_with_streams(self):
        cid = 111
        self.start(cid, script="pace=100000")
        readers = [Reader(self.s, cid) for _ in range(3)]
        self.ok(all(rd.first.wait(WAIT_S) for rd in readers), "3 streams open")
        rc = self.e.stop()
        self.ok(rc == 0, "SIGTERM with 3 streams open: the server exits 0 (ASan: no leak)",
                self.e.log_text()[-2000:])
        self.ok(all(rd.wait() for rd in readers) and
                all(rd.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)
                    for rd in readers),
                "the open streams end with UNAVAILABLE (%s)" % [
                    (rd.code, rd.details) for rd in readers])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stub", required=True, help="the control_stub_server binary")
    ap.add_argument("--valgrind", action="store_true", help="run the server under memcheck")
    return Suite(ap.parse_args()).run()


if __name__ == "__main__":
    main()
