#!/usr/bin/python3
"""integration.srt: the mpegts-srt transport, listener and caller, on loopback.

The real binary airs a channel (a clip and the bars slate) with three
mpegts-srt outputs of one rendition: a listener, a caller pushing to a
receiver's listener, and an encrypted listener (passphrase, AES-256).
Receivers: `ffmpeg` (srt://...?mode=caller against our listener, and
srt://...?mode=listener for our caller), and libsrt itself through ctypes
(Debian's libsrt-gnutls, the library FFmpeg uses) for the raw bytes, so
ts_check.py judges our TS and not a remux. Asserts: ffprobe finds H.264 + AAC
and ffmpeg decodes video frames from each mode; the raw bytes from each mode
start at a PAT and are clean (continuity, PCR, PAT/PMT, PTS); the encrypted
listener serves a receiver with the passphrase and refuses ffmpeg without it;
a passphrase SRT does not accept (too short) is refused at start with a clear
message.
"""
import ctypes
import ctypes.util
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rvtest  # noqa: E402

PASS = "retrovue-srt-test-key"
RUN_S = 60


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class SrtLib:
    """The few libsrt calls a raw receiver needs (srt/srt.h, libsrt 1.5)."""
    SRTO_RCVSYN, SRTO_RCVTIMEO, SRTO_PASSPHRASE, SRTO_PBKEYLEN = 2, 14, 26, 27

    def __init__(self):
        name = "libsrt-gnutls.so.1.5"
        self.lib = ctypes.CDLL(name)
        L = self.lib
        L.srt_startup.restype = ctypes.c_int
        L.srt_create_socket.restype = ctypes.c_int
        L.srt_setsockflag.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
        L.srt_connect.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
        L.srt_bind.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
        L.srt_listen.argtypes = [ctypes.c_int, ctypes.c_int]
        L.srt_accept.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]
        L.srt_recvmsg.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        L.srt_close.argtypes = [ctypes.c_int]
        L.srt_getlasterror_str.restype = ctypes.c_char_p
        L.srt_startup()

    @staticmethod
    def sockaddr(port):
        # struct sockaddr_in: family (host order), port, address (network order)
        return (ctypes.c_ushort(socket.AF_INET).value.to_bytes(2, sys.byteorder) +
                port.to_bytes(2, "big") + socket.inet_aton("127.0.0.1") + bytes(8))

    def opt_int(self, s, opt, v):
        x = ctypes.c_int(v)
        return self.lib.srt_setsockflag(s, opt, ctypes.byref(x), 4)

    def error(self):
        return self.lib.srt_getlasterror_str().decode()


def srt_receive(lib, mode, port, seconds, out, passphrase=""):
    """Receive raw SRT messages for `seconds` (caller: connect to our listener;
    listener: wait for our caller). out gets 'data' (bytes) and 'error'."""
    L = lib.lib
    data = bytearray()
    s = L.srt_create_socket()
    lib.opt_int(s, lib.SRTO_RCVTIMEO, 1000)
    if passphrase:
        pw = passphrase.encode()
        L.srt_setsockflag(s, lib.SRTO_PASSPHRASE, pw, len(pw))
        lib.opt_int(s, lib.SRTO_PBKEYLEN, 32)
    addr = lib.sockaddr(port)
    conn = s
    if mode == "caller":
        if L.srt_connect(s, addr, len(addr)) != 0:
            out["error"] = "connect: " + lib.error()
            L.srt_close(s)
            out["data"] = b""
            return
    else:
        if L.srt_bind(s, addr, len(addr)) != 0 or L.srt_listen(s, 1) != 0:
            out["error"] = "listen: " + lib.error()
            out["data"] = b""
            return
        out["listening"] = True
        conn = L.srt_accept(s, None, None)   # blocks until our caller arrives
        if conn < 0:
            out["error"] = "accept: " + lib.error()
            out["data"] = b""
            return
    buf = ctypes.create_string_buffer(1500)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        n = L.srt_recvmsg(conn, buf, 1500)
        if n > 0:
            data += buf.raw[:n]
        elif "timed out" not in lib.error().lower() and "timeout" not in lib.error().lower():
            out["error"] = "recv: " + lib.error()
            break
    L.srt_close(conn)
    if conn != s:
        L.srt_close(s)
    out["data"] = bytes(data)


def ts_check(tap, path, extra):
    script = os.path.join(rvtest.env("RV_SOURCE_DIR"), "tests", "unit", "ts_check.py")
    p = subprocess.run(["/usr/bin/python3", script, path] + extra, capture_output=True, text=True)
    if p.returncode != 0:
        tap.diag(p.stdout[-600:])
    return p.returncode == 0


def probe(path):
    """(sorted codec names, decoded video frames) of a file."""
    p = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", path],
                       capture_output=True, text=True, timeout=60)
    codecs = sorted(s.get("codec_name", "") for s in json.loads(p.stdout or "{}").get("streams", []))
    p = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames",
                        "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", path],
                       capture_output=True, text=True, timeout=60)
    try:
        frames = int(p.stdout.split()[0].split(",")[0])
    except ValueError:
        frames = 0
    return codecs, frames


def ffmpeg_receive(url, path, seconds):
    return subprocess.Popen(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", url,
                             "-t", str(seconds), "-map", "0", "-c", "copy", "-f", "mpegts", path],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def strict_flags(tap, base):
    """As http_stream_test: timing bounds unless the engine dropped ticks
    before encoding (a machine too loaded for real time)."""
    try:
        st = json.load(urllib.request.urlopen(base + "/channels/1", timeout=10))
        lost = sum(s.get("queue_dropped", 0) for s in st.get("sinks", []))
    except (OSError, ValueError):
        lost = 0
    if lost == 0:
        return []
    tap.diag("the engine dropped %d ticks before encoding (load): PTS/PCR gaps allowed" % lost)
    return ["--video-gaps-ok", "--pcr-max-ms", "5000", "--pat-max-ms", "5000"]


def bad_passphrase(tap, work):
    """A passphrase of 5 characters: refused at start, with SRT's rule named."""
    channel = """  { id = 1; name = "SRT bad"; profile = "test"; autostart_plan = "p";
    producers = ( { module = "slate"; } ); slate = { module = "slate"; }; renderer = { module = "null"; };
    sinks = ( { module = "mpegts-srt"; options = { port = %d; passphrase = "short"; }; } ); }""" % (
        free_udp_port())
    bad = os.path.join(work, "bad")
    block = {"id": "b", "start": 0, "end": 2000,
             "segments": [dict(type="CONTENT", uri="slate:bars", offset=0, duration=2000, event="s")]}
    rvtest.write(os.path.join(bad, "plans", "p.conf"), rvtest.plan_text([block], loop=True))
    config = rvtest.engine_config(bad, rvtest.env("RV_MODULE_DIR"), [channel])
    rc, out, err = rvtest.run_engine(config, ["--clock=virtual", "--run-for=1"], timeout=60)
    said = "passphrase is 5 characters" in err
    if not said:
        tap.diag(err[-600:])
    return said


def main():
    tap = rvtest.Tap(9)
    work = rvtest.scratch("srt")
    try:
        lib = SrtLib()
    except OSError as exc:
        print("Bail out! libsrt: %s (tools/debian-packages.txt: libsrt-gnutls-dev)" % exc)
        sys.exit(1)
    clip = os.path.join(work, "clip.mp4")
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y",
                    "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30000/1001:duration=4",
                    "-f", "lavfi", "-i", "sine=frequency=660:sample_rate=48000:duration=4",
                    "-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-c:a", "aac",
                    "-shortest", clip], check=True)
    block = {"id": "b", "start": 0, "end": 6000,
             "segments": [dict(type="CONTENT", uri=clip, offset=0, duration=4000, event="c"),
                          dict(type="CONTENT", uri="slate:bars", offset=0, duration=2000,
                               event="s")]}
    rvtest.write(os.path.join(work, "plans", "p.conf"), rvtest.plan_text([block], loop=True))
    lport, cport, eport, cport2 = (free_udp_port() for _ in range(4))
    http = rvtest.free_tcp_port()
    enc = 'preset = "ultrafast"; keyint_max_s = 1.0;'
    channel = """  { id = 1; name = "SRT"; profile = "test"; autostart_plan = "p";
    producers = ( { module = "ffmpeg-file"; }, { module = "slate"; } );
    slate = { module = "slate"; };
    renderer = { module = "null"; };
    sinks = (
      { module = "mpegts-srt"; options = { mode = "listener"; port = %d; latency_ms = 200; %s }; },
      { module = "mpegts-srt"; options = { mode = "caller"; port = %d; %s }; },
      { module = "mpegts-srt"; options = { mode = "caller"; port = %d; %s }; },
      { module = "mpegts-srt"; options = { port = %d; passphrase = "%s"; pbkeylen = 32; %s }; }
    ); }""" % (lport, enc, cport, enc, cport2, enc, eport, PASS, enc)
    config = rvtest.engine_config(work, rvtest.env("RV_MODULE_DIR"), [channel],
                                  profile=(640, 360, "30000/1001", 48000, 2),
                                  extra_engine='  metrics_listen = "127.0.0.1:%d";' % http)
    # the receivers of our callers listen first (the callers retry anyway)
    caller_ff = os.path.join(work, "caller_ffmpeg.ts")
    ff_listen = ffmpeg_receive("srt://127.0.0.1:%d?mode=listener" % cport, caller_ff, 4)
    raw_caller = {}
    t_caller = threading.Thread(target=srt_receive, args=(lib, "listener", cport2, 5, raw_caller))
    t_caller.start()
    proc, log, base = rvtest.start_http_engine(
        config, http, ["--clock=real", "--run-for=%d" % RUN_S])
    time.sleep(1.0)

    # our listener: ffmpeg calls; libsrt calls for the raw bytes; the encrypted
    # listener with and without the passphrase
    listener_ff = os.path.join(work, "listener_ffmpeg.ts")
    ff_call = ffmpeg_receive("srt://127.0.0.1:%d?mode=caller" % lport, listener_ff, 4)
    nopass_ff = os.path.join(work, "nopass_ffmpeg.ts")
    ff_nopass = ffmpeg_receive("srt://127.0.0.1:%d?mode=caller" % eport, nopass_ff, 3)
    raw_listener, raw_enc = {}, {}
    threads = [threading.Thread(target=srt_receive, args=(lib, "caller", lport, 5, raw_listener)),
               threading.Thread(target=srt_receive, args=(lib, "caller", eport, 5, raw_enc, PASS))]
    for t in threads:
        t.start()
    for t in threads + [t_caller]:
        t.join(60)
    results = {}
    for name, p in (("listener", ff_call), ("caller", ff_listen), ("nopass", ff_nopass)):
        try:
            _, err = p.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            _, err = p.communicate()
        results[name] = (p.returncode, err.strip()[-300:])
    flags = ["--first-pat"] + strict_flags(tap, base)
    status = json.load(urllib.request.urlopen(base + "/channels/1", timeout=10))
    proc.terminate()
    proc.wait(60)
    tap.ok(proc.returncode == 0, "the engine stops cleanly on SIGTERM (exit %s; a sanitizer "
           "report fails it)" % proc.returncode)

    for name, path, what in (("listener", listener_ff, "ffmpeg calls our listener"),
                             ("caller", caller_ff, "our caller pushes to ffmpeg's listener")):
        codecs, frames = probe(path) if os.path.exists(path) else ([], 0)
        ok = tap.ok(results[name][0] == 0 and codecs == ["aac", "h264"] and frames >= 30,
                    "%s: ffprobe finds %s, %d video frames decode (ffmpeg rc %s)"
                    % (what, codecs, frames, results[name][0]))
        if not ok:
            tap.diag(results[name][1])
    for name, got, what in (("listener", raw_listener, "our listener"),
                            ("caller", raw_caller, "our caller"),
                            ("enc", raw_enc, "the encrypted listener with the passphrase")):
        data = got.get("data", b"")
        path = os.path.join(work, "raw_%s.ts" % name)
        with open(path, "wb") as f:
            f.write(data)
        if got.get("error"):
            tap.diag("%s: %s" % (name, got["error"]))
        tap.ok(len(data) > 188 * 200 and len(data) % 188 == 0 and ts_check(tap, path, flags),
               "%s: the raw SRT payload (%d bytes) starts at a PAT and is clean MPEG-TS"
               % (what, len(data)))
    nopass_bytes = os.path.getsize(nopass_ff) if os.path.exists(nopass_ff) else 0
    tap.ok(results["nopass"][0] != 0 and nopass_bytes == 0,
           "ffmpeg without the passphrase is refused (rc %s, %d bytes; %s)"
           % (results["nopass"][0], nopass_bytes, results["nopass"][1][:120]))
    sinks = status.get("sinks", [])
    addrs = sorted(s.get("address", "") for s in sinks)
    tap.ok(len(sinks) == 4 and all(a.startswith("srt://") for a in addrs) and
           any("mode=listener" in a for a in addrs) and any("mode=caller" in a for a in addrs),
           "status names each output (%s)" % ", ".join(addrs))
    tap.ok(bad_passphrase(tap, work),
           "a 5-character passphrase is refused at start, naming SRT's 10-79 rule")
    if tap.failed:
        tap.diag("\n".join(log[-20:]))
    tap.done()


if __name__ == "__main__":
    main()
