#!/usr/bin/python3
"""tools/bench/viewers.py: N HTTP viewers of one channel, in a process of their
own (so their CPU is not the engine's), for tools/bench/run's `viewers` row.

usage: viewers.py URL N OUTDIR

Opens N TCP connections to URL (an `http://host:port/path`), sends each an
HTTP/1.1 GET and reads every response with one selector loop. Once every
viewer has its response headers it prints `connected N` on stdout. It reads
until a line arrives on stdin (or stdin closes), then writes each viewer's
body, de-chunked (RFC 9112 section 7.1) and cut to whole 188-byte packets, to
OUTDIR/vNN.ts and prints one JSON line: {"viewers": [{"status", "bytes",
"closed_by_server", "error"}...]}. A viewer the server closes keeps what it
received and is marked closed_by_server.
"""
import json
import os
import selectors
import socket
import sys
from urllib.parse import urlsplit


def dechunk(raw):
    """The body of a chunked HTTP/1.1 response (a cut final chunk keeps what arrived)."""
    out = bytearray()
    i = 0
    while True:
        eol = raw.find(b"\r\n", i)
        if eol < 0:
            break
        try:
            size = int(raw[i:eol].split(b";")[0], 16)
        except ValueError:
            break
        if size == 0:
            break
        start = eol + 2
        out += raw[start:start + size]
        i = start + size + 2
        if start + size > len(raw):
            break
    return out


class Viewer:
    def __init__(self, host, port, path):
        self.sock = socket.create_connection((host, port), timeout=10)
        self.sock.setblocking(False)
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (path, host)).encode())
        self.raw = bytearray()
        self.head = None
        self.status = None
        self.chunked = False
        self.closed = False
        self.error = ""

    def feed(self, data):
        self.raw += data
        if self.head is None:
            end = self.raw.find(b"\r\n\r\n")
            if end >= 0:
                self.head = bytes(self.raw[:end]).decode("latin-1")
                del self.raw[:end + 4]
                lines = self.head.split("\r\n")
                parts = lines[0].split()
                self.status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
                self.chunked = any(l.lower().startswith("transfer-encoding:") and
                                   "chunked" in l.lower() for l in lines[1:])

    def body(self):
        data = dechunk(self.raw) if self.chunked else self.raw
        return bytes(data[:len(data) - len(data) % 188])


def main():
    if len(sys.argv) != 4:
        sys.stderr.write(__doc__)
        return 2
    url, n, outdir = urlsplit(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    os.makedirs(outdir, exist_ok=True)
    sel = selectors.DefaultSelector()
    viewers = [Viewer(url.hostname, url.port or 80, url.path) for _ in range(n)]
    for v in viewers:
        sel.register(v.sock, selectors.EVENT_READ, v)
    sel.register(sys.stdin, selectors.EVENT_READ, None)
    announced = False
    stop = False
    while not stop:
        for key, _ in sel.select(timeout=1.0):
            if key.data is None:
                sys.stdin.readline()
                stop = True
                continue
            v = key.data
            try:
                data = v.sock.recv(1 << 16)
            except BlockingIOError:
                continue
            except OSError as exc:
                data = b""
                v.error = str(exc)
            if not data:
                v.closed = True
                sel.unregister(v.sock)
                continue
            v.feed(data)
        if not announced and all(v.head is not None or v.closed for v in viewers):
            print("connected %d" % sum(1 for v in viewers if v.head is not None), flush=True)
            announced = True
    out = []
    for i, v in enumerate(viewers):
        body = v.body()
        with open(os.path.join(outdir, "v%02d.ts" % i), "wb") as f:
            f.write(body)
        out.append({"status": v.status, "bytes": len(body), "closed_by_server": v.closed,
                    "error": v.error})
        v.sock.close()
    print(json.dumps({"viewers": out}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
