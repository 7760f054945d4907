#!/usr/bin/python3
"""RetroVue Core's own PlayoutSession, unmodified, drives our real binary.

Set RETROVUE_CORE_DIR to a RetroVue checkout (a work tree of
github slbailey/retrovue; see docs/retrovue-core.md). Without it the test
prints `1..0 # SKIP RETROVUE_CORE_DIR not set`.

What runs is Core's code: pkg/core/src/retrovue/runtime/playout_session.py
imported from the checkout, not a copy. This script only plays the part of
Core's BlockPlanProducer (channel_manager.py), which needs Core's whole
ChannelManager and schedule: it binds and listens(1) on a Unix socket and
accepts exactly one connection, builds PlayoutSession(...), calls
.start(join_utc_ms) (Core spawns `pkg/air/build/retrovue_air --port P`
itself, found by its own lookup relative to the working folder, which is a
scratch folder whose pkg/air/build/retrovue_air is our link), seeds two
blocks of real ffmpeg-made media with max_queue_depth 3, feeds on events
with Core's credit rule (BlockStarted +1, BlockCompleted +1 only while no
BlockStarted was seen, QUEUE_FULL sets 0, the pending block is retried
first, a tick at 3.75 Hz feeds in the RUNNING state), reads the TS from the
accepted socket, and stops. It asserts what Core relies on: the stream
starts with PAT, PMT and an IDR, decodes without an error, and events come
in order (BlockStarted of the first block, then for every fence the
outgoing block's BlockCompleted before the incoming block's BlockStarted),
and the engine exits cleanly within Core's 5 s after SIGTERM.

If the checkout's generated stubs (pkg/core/core/proto/retrovue) do not
import with Debian's protobuf/grpcio (RetroVue commits stubs made for newer
ones), they are regenerated in place from the checkout's protos/playout.proto
with Debian's grpc_tools, the same command as Core's
scripts/air/generate_proto.sh. Core writes the engine's log to
/opt/retrovue/pkg/air/logs/<channel>-air.log (its own fixed path).
"""
import json
import logging
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import rvtest
from rvtest import Tap

LOG_DIR = "/opt/retrovue/pkg/air/logs"      # playout_session.py start()
BLOCK_MS = 5000
BLOCKS = ["blk-A", "blk-B", "blk-C", "blk-D", "blk-E"]
QUEUE_DEPTH = 3                             # what BlockPlanProducer sends
FORMAT = {"video": {"width": 640, "height": 360, "frame_rate": "30000/1001"},
          "audio": {"sample_rate": 48000, "channels": 2}}


def skip(reason):
    print("1..0 # SKIP %s" % reason, flush=True)
    sys.exit(0)


def stubs_import(src):
    """Whether Core's stub loader works under this Python (a child process,
    so a failed import leaves nothing behind here)."""
    code = ("import sys; sys.path.insert(0, %r)\n"
            "import retrovue.runtime.playout_session as s\n"
            "print(s.playout_pb2.DESCRIPTOR.name)\n" % src)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=120)
    return p.returncode == 0, (p.stdout + p.stderr).strip()


def regenerate_stubs(core):
    """Core's scripts/air/generate_proto.sh for playout.proto, with Debian's
    grpc_tools (no PyPI)."""
    out = os.path.join(core, "pkg", "core", "core", "proto", "retrovue")
    p = subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I",
                        os.path.join(core, "protos"), "--python_out=" + out,
                        "--grpc_python_out=" + out, os.path.join(core, "protos", "playout.proto")],
                       capture_output=True, text=True, timeout=300)
    return p.returncode == 0, (p.stdout + p.stderr).strip()


def make_media(work, name, hue):
    """A 6 s H.264/AAC clip: moving test pattern and a tone."""
    path = os.path.join(work, name + ".mp4")
    subprocess.run(["ffmpeg", "-v", "error", "-y",
                    "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30000/1001:duration=6",
                    "-f", "lavfi", "-i", "sine=frequency=%d:sample_rate=48000:duration=6" % hue,
                    "-vf", "hue=h=%d" % hue, "-c:v", "libx264", "-preset", "ultrafast",
                    "-g", "30", "-pix_fmt", "yuv420p", "-c:a", "aac", "-ac", "2",
                    "-shortest", path], check=True, timeout=300)
    return path


class CoreLog(logging.Handler):
    """Every record Core's PlayoutSession logs, for assertions and diagnosis."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []
        self.mutex = threading.Lock()

    def emit(self, record):
        with self.mutex:
            self.lines.append("%s %s" % (record.levelname, record.getMessage()))

    def has(self, text):
        with self.mutex:
            return any(text in line for line in self.lines)

    def dump(self, tap):
        with self.mutex:
            for line in self.lines[-60:]:
                tap.diag("core: " + line)


class Producer:
    """The part of Core's BlockPlanProducer this test plays: the UDS
    listener, block generation and the credit-based feeder."""

    def __init__(self, session_cls, block_cls, feed_result, clock, media, sock_path, channel):
        self.block_cls = block_cls
        self.feed_result = feed_result
        self.clock = clock
        self.media = media
        self.lock = threading.RLock()
        self.events = []                     # (kind, block_id, wall ms)
        self.feeds = []                      # (block_id, result)
        self.credits = 0
        self.state = "INIT"
        self.started_seen = False
        self.pending = None
        self.next_index = 0
        self.session_ended = None
        self.error_backoff = 0
        self.join_utc_ms = 0
        self.conn_queue = queue.Queue()
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(sock_path)
        self.server.listen(1)
        threading.Thread(target=self._accept, daemon=True).start()
        self.session = session_cls(
            channel_id=channel, channel_id_int=1, ts_socket_path=Path(sock_path),
            program_format=FORMAT, clock=clock, on_block_complete=self.on_block_complete,
            on_session_end=self.on_session_end, on_block_started=self.on_block_started)

    def _accept(self):
        try:
            conn, _ = self.server.accept()
            self.conn_queue.put(conn)
        except OSError:
            pass

    def now_ms(self):
        return int(self.clock.now_utc().timestamp() * 1000)

    def block(self, index):
        """Block `index` of the schedule: BLOCK_MS long from the join
        instant; the second block ends in a PAD segment."""
        start = self.join_utc_ms + index * BLOCK_MS
        segs = [{"segment_index": 0, "asset_uri": self.media[index % len(self.media)],
                 "asset_start_offset_ms": 0, "segment_duration_ms": BLOCK_MS,
                 "segment_type": "content", "event_id": "ev-%d" % index}]
        if index == 1:
            segs[0]["segment_duration_ms"] = BLOCK_MS - 1000
            segs.append({"segment_index": 1, "segment_duration_ms": 1000,
                         "segment_type": "pad"})
        return self.block_cls(block_id=BLOCKS[index], channel_id=1, start_utc_ms=start,
                              end_utc_ms=start + BLOCK_MS, segments=segs)

    # -- Core's feeder (channel_manager.py _feed_ahead, simplified to the
    #    decisions that reach the engine) --
    def feed_ahead(self):
        with self.lock:
            if self.state != "RUNNING" or self.session_ended is not None:
                return
            if self.error_backoff > 0:
                self.error_backoff -= 1
                return
            for _ in range(min(self.credits, QUEUE_DEPTH)):
                if self.credits <= 0:
                    return
                if self.pending is not None:
                    blk = self.pending
                elif self.next_index < len(BLOCKS):
                    blk = self.block(self.next_index)
                else:
                    return
                result = self.session.feed(blk)
                self.feeds.append((blk.block_id, result.value))
                if result == self.feed_result.ACCEPTED:
                    self.pending = None
                    if blk.block_id == BLOCKS[self.next_index]:
                        self.next_index += 1
                    self.credits -= 1
                    continue
                self.pending = blk
                if result == self.feed_result.QUEUE_FULL:
                    self.credits = 0
                else:
                    self.error_backoff = 4
                return

    def on_block_started(self, block_id):
        with self.lock:
            self.events.append(("started", block_id, self.now_ms()))
            self.started_seen = True
            self.credits = min(self.credits + 1, QUEUE_DEPTH)
            if self.state == "SEEDED":
                self.state = "RUNNING"
            self.feed_ahead()

    def on_block_complete(self, block_id):
        with self.lock:
            self.events.append(("completed", block_id, self.now_ms()))
            if self.state == "SEEDED":
                self.state = "RUNNING"
            if not self.started_seen:
                self.credits = min(self.credits + 1, QUEUE_DEPTH)
            self.feed_ahead()

    def on_session_end(self, reason):
        with self.lock:
            self.events.append(("ended", reason, self.now_ms()))
            if self.session_ended is None:
                self.session_ended = reason

    def tick_loop(self, stop):
        """on_paced_tick: every 8th tick of 30 Hz."""
        while not stop.wait(8 / 30):
            self.feed_ahead()


def read_ts(conn, out_path, stop, first_byte):
    conn.settimeout(0.3)
    with open(out_path, "wb") as out:
        while not stop.is_set():
            try:
                chunk = conn.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            if not chunk:
                break
            if not first_byte:
                first_byte.append(time.monotonic())
            out.write(chunk)


def ts_checks(tap, path):
    data = open(path, "rb").read()
    tap.ok(len(data) >= 188 * 100 and len(data) % 188 == 0 and data[0] == 0x47,
           "the socket carried %d bytes of 188-byte TS packets" % len(data))
    pids = []
    for off in range(0, min(len(data), 188 * 50), 188):
        pids.append(((data[off + 1] & 0x1F) << 8) | data[off + 2])
    pmt_pid = None
    if pids and pids[0] == 0:
        pat = data[0:188]
        ptr = pat[4]
        sec = pat[5 + ptr:]
        # first program entry after the 8-byte section header
        pmt_pid = ((sec[10] & 0x1F) << 8) | sec[11]
    tap.ok(pids[:1] == [0] and pmt_pid is not None and pids[1:2] == [pmt_pid],
           "it starts with PAT then PMT (PIDs %s, PMT %s)" % (pids[:4], pmt_pid))
    p = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                        "packet=flags,pts_time", "-read_intervals", "%+#1", "-of", "json",
                        path], capture_output=True, text=True, timeout=120)
    packets = json.loads(p.stdout or "{}").get("packets", [])
    tap.ok(packets and "K" in packets[0].get("flags", ""),
           "the first video packet is a key frame (IDR): %s" % packets[:1])
    p = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-show_entries",
                        "stream=codec_type,codec_name,nb_read_frames", "-of", "json", path],
                       capture_output=True, text=True, timeout=300)
    streams = json.loads(p.stdout or "{}").get("streams", [])
    kinds = {s.get("codec_type"): s for s in streams}
    video_frames = int(kinds.get("video", {}).get("nb_read_frames", 0) or 0)
    tap.ok("video" in kinds and "audio" in kinds and video_frames > 0 and not p.stderr.strip(),
           "ffprobe decodes video (%d frames, %s) and audio (%s) without an error%s" %
           (video_frames, kinds.get("video", {}).get("codec_name"),
            kinds.get("audio", {}).get("codec_name"),
            ": " + p.stderr.strip()[:300] if p.stderr.strip() else ""))


def event_checks(tap, events):
    seq = [(k, b) for k, b, _ in events if k in ("started", "completed")]
    tap.ok(seq[:1] == [("started", BLOCKS[0])],
           "the first event is BlockStarted(%s): %s" % (BLOCKS[0], seq[:1]))
    started = [b for k, b in seq if k == "started"]
    tap.ok(started == BLOCKS[:len(started)] and len(started) >= 3,
           "blocks start in the fed order: %s" % started)
    bad = []
    for i in range(1, len(started)):
        prev, cur = started[i - 1], started[i]
        try:
            if seq.index(("completed", prev)) > seq.index(("started", cur)):
                bad.append(cur)
        except ValueError:
            bad.append(cur)
    tap.ok(not bad, "every fence: BlockCompleted(outgoing) before BlockStarted(incoming)%s" %
           ("; out of order at %s" % bad if bad else ""))


def main():
    core = os.environ.get("RETROVUE_CORE_DIR")
    if not core:
        skip("RETROVUE_CORE_DIR not set")
    src = os.path.join(core, "pkg", "core", "src")
    session_py = os.path.join(src, "retrovue", "runtime", "playout_session.py")
    if not os.path.isfile(session_py):
        print("Bail out! RETROVUE_CORE_DIR=%s has no %s" % (core, session_py), flush=True)
        sys.exit(1)
    try:
        os.makedirs(LOG_DIR, exist_ok=True)
    except OSError as e:
        skip("cannot create %s, where Core writes its engine log (%s)" % (LOG_DIR, e))

    tap = Tap()
    work = rvtest.scratch("core_session")
    binary = rvtest.env("RV_BIN")
    air = os.path.join(os.path.dirname(binary), "retrovue_air")

    git = subprocess.run(["git", "-C", core, "status", "--porcelain", "--", "pkg/core/src"],
                         capture_output=True, text=True)
    if git.returncode == 0:
        tap.ok(git.stdout.strip() == "", "Core's pkg/core/src is unmodified (git status: %r)" %
               git.stdout.strip()[:200])
    else:
        tap.diag("%s is not a git work tree: cannot prove pkg/core/src unmodified" % core)

    ok, detail = stubs_import(src)
    if not ok:
        tap.diag("Core's committed stubs do not import here (%s); regenerating them from "
                 "protos/playout.proto with Debian's grpc_tools" % detail.splitlines()[-1:])
        gen_ok, gen = regenerate_stubs(core)
        ok, detail = stubs_import(src) if gen_ok else (False, gen)
    if not tap.ok(ok, "Core's PlayoutSession and its playout stubs import (%s)" % detail[-200:]):
        tap.done()

    sys.path.insert(0, src)
    from retrovue.runtime.clock import MasterClock
    from retrovue.runtime.playout_session import BlockPlan, FeedResult, PlayoutSession
    core_log = CoreLog()
    core_logger = logging.getLogger("retrovue.runtime.playout_session")
    core_logger.setLevel(logging.DEBUG)
    core_logger.addHandler(core_log)

    media = [make_media(work, "clip%d" % i, hue) for i, hue in enumerate((440, 660, 880))]
    cwd = os.path.join(work, "core-cwd")
    os.makedirs(os.path.join(cwd, "pkg", "air", "build"))
    os.symlink(air, os.path.join(cwd, "pkg", "air", "build", "retrovue_air"))
    os.chdir(cwd)

    channel = "rvtest-core-%d" % os.getpid()
    sock_path = os.path.join(work, "air.sock")
    producer = Producer(PlayoutSession, BlockPlan, FeedResult, MasterClock(), media, sock_path,
                        channel)
    session = producer.session
    tap.ok(str(session.air_binary_path) == "pkg/air/build/retrovue_air" and
           os.path.realpath(session.air_binary_path) == os.path.realpath(binary),
           "Core's own lookup finds us as %s -> %s" %
           (session.air_binary_path, os.path.realpath(session.air_binary_path)))

    engine_log = os.path.join(LOG_DIR, "%s-air.log" % channel)
    stop = threading.Event()
    try:
        producer.join_utc_ms = producer.now_ms()
        started = session.start(join_utc_ms=producer.join_utc_ms)
        tap.ok(core_log.has("AIR version:"),
               "our engine answered Core's GetVersion readiness poll")
        if not tap.ok(started, "PlayoutSession.start(): spawn `retrovue_air --port P`, "
                               "GetVersion, AttachStream"):
            core_log.dump(tap)
            tap.ok(core_log.has("AIR terminated cleanly"),
                   "Core's cleanup (SIGTERM, 5 s, then SIGKILL) saw our engine exit cleanly")
            return
        try:
            conn = producer.conn_queue.get(timeout=10)
        except queue.Empty:
            conn = None
        if not tap.ok(conn is not None, "the engine connected to Core's one-shot listener"):
            return
        first_byte = []
        ts_path = os.path.join(work, "capture.ts")
        reader = threading.Thread(target=read_ts, args=(conn, ts_path, stop, first_byte),
                                  daemon=True)
        reader.start()
        time.sleep(0.3)
        tap.ok(not first_byte, "nothing is written before the session starts")

        block_a, block_b = producer.block(0), producer.block(1)
        producer.next_index = 2
        seed_at = time.monotonic()
        with producer.lock:
            seeded = session.seed(block_a, block_b, join_utc_ms=producer.join_utc_ms,
                                  max_queue_depth=QUEUE_DEPTH)
            producer.state = "SEEDED"
            producer.credits = QUEUE_DEPTH - 2
        if not tap.ok(seeded, "PlayoutSession.seed(A, B): StartBlockPlanSession accepted"):
            core_log.dump(tap)
            return
        wait_until = time.monotonic() + 10
        while not first_byte and time.monotonic() < wait_until:
            time.sleep(0.005)
        if first_byte:
            tap.diag("first TS byte at Core's socket %.0f ms after seed() was called "
                     "(information, not asserted)" % ((first_byte[0] - seed_at) * 1000))
        ticker = threading.Thread(target=producer.tick_loop, args=(stop,), daemon=True)
        ticker.start()

        # Until the fourth block has started (or a generous deadline).
        deadline = time.monotonic() + 4 * BLOCK_MS / 1000 + 60
        while time.monotonic() < deadline:
            with producer.lock:
                if any(k == "started" and b == BLOCKS[3] for k, b, _ in producer.events):
                    break
                if producer.session_ended is not None:
                    break
            time.sleep(0.1)
        with producer.lock:
            events = list(producer.events)
            feeds = list(producer.feeds)
        tap.diag("events: %s" % [(k, b) for k, b, _ in events])
        tap.diag("feeds: %s" % feeds)
        tap.ok(producer.session_ended is None,
               "the session did not end by itself (%s)" % producer.session_ended)
        tap.ok(all(r in ("accepted", "queue_full") for _, r in feeds) and
               [b for b, r in feeds if r == "accepted"][:2] == BLOCKS[2:4],
               "Core's feeds were accepted in order (queue_full is not an error)")
        event_checks(tap, events)

        stopped = session.stop(reason="last_viewer_left")
        stop.set()
        reader.join(10)
        tap.ok(stopped and core_log.has("AIR terminated cleanly") and
               not core_log.has("did not exit gracefully"),
               "PlayoutSession.stop(): StopBlockPlanSession, then SIGTERM, exit within 5 s")
        ts_checks(tap, ts_path)
    finally:
        stop.set()
        if session.is_running:
            session.stop(reason="test_cleanup")
        producer.server.close()
        if os.path.exists(engine_log):
            text = open(engine_log, errors="replace").read()
            tap.ok("signal SIGTERM: stopping" in text and "control: stopped" in text and
                   "Sanitizer" not in text,
                   "the engine's log (Core's %s) shows a clean SIGTERM shutdown" % LOG_DIR)
            if tap.failed:
                tap.diag("engine log (%s):" % engine_log)
                tap.diag(text[-4000:])
            os.unlink(engine_log)
        tap.done()


if __name__ == "__main__":
    main()
