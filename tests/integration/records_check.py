"""Shared by the as-run / framelog record tests (asrun_records_test.py,
kill9_records.py, tools/kill9-records): plans whose ids hold hostile bytes,
the engine config that writes both logs, and the checks every line must pass.
"""
import json
import os
import re

import rvtest

RATE = (30000, 1001)

# Bytes a line must never hold raw (it is valid UTF-8 by then, so a byte match
# is exact): C0 controls, DEL, C1 controls (U+0080..U+009F), U+2028, U+2029.
RAW_CONTROL = re.compile(rb"[\x00-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\xa8\xa9]")

# Ids as raw bytes, as a plan file (or a gRPC request) can carry them.
HOSTILE_IDS = [
    b"ctl" + bytes(range(1, 32)) + b"\x7f" * 4,     # every C0 control and DEL
    b"\x01" * 127,                                   # many control characters
    b"bad\xff\xfe\xff",                              # bytes that are never UTF-8
    b"over\xc0\xaf\xe0\x80\xaf\xf0\x80\x80\xaf",     # overlong forms of '/'
    b"surr\xed\xa0\x80\xf4\x90\x80\x80|\xe2\x82",    # a surrogate, past U+10FFFF, cut
    "漢".encode() * 43,                              # 129 bytes of CJK
    "é".encode() * 63 + b"\xff",                     # 127 bytes, the last ill-formed
    b"sep\xe2\x80\xa8\xc2\x85\"\\q\"",              # U+2028, NEL, quote, backslash
]


def libconfig_literal(raw):
    """A libconfig string literal for raw bytes: '"' and '\\' escaped, every
    byte below 0x20 or above 0x7e as \\xNN (libconfig 1.5 reads them back)."""
    out = []
    for b in raw:
        if b == 0x22 or b == 0x5c:
            out.append("\\" + chr(b))
        elif b < 0x20 or b > 0x7e:
            out.append("\\x%02x" % b)
        else:
            out.append(chr(b))
    return '"' + "".join(out) + '"'


def plan_bytes(block_id, start_ms, segments, loop=False):
    """A one-block plan file; segments are dicts {duration, uri, event (bytes)}."""
    end = start_ms + sum(s["duration"] for s in segments)
    segs = []
    for s in segments:
        segs.append('    { type = "CONTENT"; duration_ms = %d; asset_uri = "%s"; event_id = %s; }'
                    % (s["duration"], s.get("uri", "slate:"), libconfig_literal(s["event"])))
    text = ("loop = %s;\nblocks = (\n  { id = %s; start_utc_ms = %dL; end_utc_ms = %dL; "
            "segments = (\n%s\n  ) }\n);\n" % ("true" if loop else "false",
                                               libconfig_literal(block_id), start_ms, end,
                                               ",\n".join(segs)))
    return text


def minimal_modules(work, names=("slate", "null", "framelog")):
    """A module folder with only the modules these tests bind, so a start
    does not load FFmpeg, x264 and SDL for nothing (kill9 restarts often)."""
    mods = os.path.join(work, "modules")
    os.makedirs(mods, exist_ok=True)
    for n in names:
        target = os.path.join(mods, n + ".so")
        if not os.path.exists(target):
            os.symlink(os.path.abspath(os.path.join(rvtest.env("RV_MODULE_DIR"), n + ".so")),
                       target)
    return mods


def engine_config(work, mods, framelogs, asrun_dir, plan="p", log_level="info"):
    """One channel (id 5) with a framelog sink per (path, mode, flush)."""
    sinks = ", ".join('{ module = "framelog"; options = { mode = "%s"; path = "%s"; '
                      'flush = "%s"; crc = false; }; }' % (mode, path, flush)
                      for path, mode, flush in framelogs)
    chan = """  { id = 5; name = "Records"; profile = "test"; autostart_plan = "%s";
    producers = ( { module = "slate"; } );
    slate = { module = "slate"; options = { show_clock = false; }; };
    renderer = { module = "null"; };
    sinks = ( %s ); }""" % (plan, sinks)
    cfg = rvtest.engine_config(work, mods, [chan], profile=(64, 36, "30000/1001", 48000, 2),
                               extra_engine='  asrun_dir = "%s";' % asrun_dir)
    text = open(cfg).read().replace('log_level = "info"', 'log_level = "%s"' % log_level)
    rvtest.write(cfg, text)
    return cfg


def expected_text(raw, cap=None):
    """What a record keeps of raw bytes: ill-formed parts as U+FFFD (maximal
    subparts, as Python's 'replace' does) and, with a cap, cut after the last
    whole character that fits cap - 1 bytes."""
    text = raw.split(b"\0")[0].decode("utf-8", "replace")
    if cap is None:
        return text
    out = ""
    for ch in text:
        if len((out + ch).encode("utf-8")) > cap - 1:
            break
        out += ch
    return out


def check_lines(data):
    """Split file bytes into lines; returns (records, bad, torn): records
    parsed from whole lines, bad a list of (line number, reason), torn the
    bytes of a last line without '\\n' (b"" when none)."""
    records = []
    bad = []
    lines = data.split(b"\n")
    torn = lines.pop()   # after the last '\n'
    for i, line in enumerate(lines):
        try:
            text = line.decode("utf-8")          # strict: valid UTF-8
        except UnicodeDecodeError as e:
            bad.append((i + 1, "not UTF-8: %s" % e))
            continue
        if RAW_CONTROL.search(line):
            bad.append((i + 1, "a raw control character or line separator"))
            continue
        try:
            records.append(json.loads(text))
        except ValueError as e:
            bad.append((i + 1, "not JSON: %s" % e))
    return records, bad, torn


def read(path):
    if not os.path.exists(path):
        return b""
    with open(path, "rb") as f:
        return f.read()
