#!/usr/bin/python3
"""integration.udp: the mpegts-udp transport, unicast and multicast on loopback.

The real binary airs a channel with two mpegts-udp outputs of one rendition:
unicast to 127.0.0.1 and multicast to 239.255.77.77 (interface 127.0.0.1,
TTL 1). Asserts: every unicast datagram is 1316 bytes (7 TS packets); the
received bytes are clean MPEG-TS (ts_check.py: continuity, PCR, PAT/PMT,
PTS); `ffmpeg` reading udp://127.0.0.1:PORT decodes video frames; the
multicast group receives the same stream (skipped, with the reason, when
this kernel does not loop multicast back on lo).
"""
import os
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rvtest  # noqa: E402

GROUP = "239.255.77.77"


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def receiver(sock, out, stop):
    sock.settimeout(0.3)
    while not stop.is_set():
        try:
            out.append(sock.recv(65536))
        except socket.timeout:
            continue
        except OSError:
            break


def multicast_socket(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((GROUP, port))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                 struct.pack("4s4s", socket.inet_aton(GROUP), socket.inet_aton("127.0.0.1")))
    return s


def multicast_works():
    """Does a datagram sent to GROUP via lo come back to a member on lo?"""
    try:
        port = free_udp_port()
        r = multicast_socket(port)
        r.settimeout(1)
        t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        t.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
        t.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
        t.sendto(b"probe", (GROUP, port))
        ok = r.recv(100) == b"probe"
        r.close()
        t.close()
        return ok
    except OSError:
        return False


def main():
    tap = rvtest.Tap(6)
    work = rvtest.scratch("udp")
    os.makedirs(os.path.join(work, "plans"), exist_ok=True)
    block = {"id": "b", "start": 0, "end": 4000,
             "segments": [dict(type="CONTENT", uri="slate:bars", offset=0, duration=2000,
                               event="a"),
                          dict(type="CONTENT", uri="slate:", offset=0, duration=2000,
                               event="b")]}
    rvtest.write(os.path.join(work, "plans", "p.conf"), rvtest.plan_text([block], loop=True))
    uport, mport, fport = free_udp_port(), free_udp_port(), free_udp_port()
    mc_ok = multicast_works()
    channel = """  { id = 1; name = "UDP"; profile = "test"; autostart_plan = "p";
    producers = ( { module = "slate"; } );
    slate = { module = "slate"; };
    renderer = { module = "null"; };
    sinks = (
      { module = "mpegts-udp"; options = { host = "127.0.0.1"; port = %d; preset = "ultrafast"; keyint_max_s = 1.0; }; },
      { module = "mpegts-udp"; options = { host = "127.0.0.1"; port = %d; preset = "ultrafast"; keyint_max_s = 1.0; }; },
      { module = "mpegts-udp"; options = { host = "%s"; port = %d; ttl = 1; interface = "127.0.0.1";
                                           preset = "ultrafast"; keyint_max_s = 1.0; }; }
    ); }""" % (uport, fport, GROUP, mport)
    config = rvtest.engine_config(work, rvtest.env("RV_MODULE_DIR"), [channel],
                                  profile=(640, 360, "30000/1001", 48000, 2))
    usock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    usock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    usock.bind(("127.0.0.1", uport))
    msock = multicast_socket(mport) if mc_ok else None
    stop = threading.Event()
    ugot, mgot = [], []
    threads = [threading.Thread(target=receiver, args=(usock, ugot, stop), daemon=True)]
    if msock:
        threads.append(threading.Thread(target=receiver, args=(msock, mgot, stop), daemon=True))
    for t in threads:
        t.start()
    ff = subprocess.Popen(["ffmpeg", "-nostdin", "-v", "error",
                           "-i", "udp://127.0.0.1:%d?fifo_size=100000&overrun_nonfatal=1" % fport,
                           "-t", "4", "-map", "0:v", "-f", "framecrc", "-"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc = subprocess.run([rvtest.env("RV_BIN"), "--config", config, "--clock=real",
                           "--run-for=8"], capture_output=True, text=True, timeout=120)
    stop.set()
    for t in threads:
        t.join(5)
    try:
        fout, ferr = ff.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        ff.kill()
        fout, ferr = ff.communicate()
    tap.ok(proc.returncode == 0, "the engine ran 8 s and exited 0 (rc %s)" % proc.returncode)
    sizes = {len(d) for d in ugot}
    tap.ok(ugot and sizes <= {1316} | ({len(ugot[-1])} if ugot else set()),
           "%d unicast datagrams of 1316 bytes (sizes %s)" % (len(ugot), sorted(sizes)[:4]))
    cap = os.path.join(work, "unicast.ts")
    with open(cap, "wb") as f:
        f.write(b"".join(ugot))
    script = os.path.join(rvtest.env("RV_SOURCE_DIR"), "tests", "unit", "ts_check.py")
    p = subprocess.run(["/usr/bin/python3", script, cap, "--first-pat"], capture_output=True,
                       text=True)
    tap.ok(p.returncode == 0, "the unicast stream is clean MPEG-TS from its first PAT")
    if p.returncode:
        tap.diag(p.stdout[-600:])
    frames = [l for l in fout.splitlines() if l and not l.startswith("#")]
    tap.ok(len(frames) >= 60, "ffmpeg reading udp://127.0.0.1:%d decoded %d video frames in 4 s"
           % (fport, len(frames)))
    if mc_ok:
        tap.ok(len(mgot) > 100 and b"".join(mgot)[:188 * 50] != b"",
               "the multicast group %s received %d datagrams" % (GROUP, len(mgot)))
        mcap = os.path.join(work, "multicast.ts")
        with open(mcap, "wb") as f:
            f.write(b"".join(mgot))
        p = subprocess.run(["/usr/bin/python3", script, mcap, "--first-pat"], capture_output=True,
                           text=True)
        tap.ok(p.returncode == 0, "the multicast stream is clean MPEG-TS")
    else:
        print("ok 5 # SKIP multicast is not looped back on lo in this kernel/namespace")
        print("ok 6 # SKIP multicast is not looped back on lo in this kernel/namespace")
        tap.n += 2
    if tap.failed:
        tap.diag(proc.stderr[-1500:])
    tap.done()


if __name__ == "__main__":
    main()
