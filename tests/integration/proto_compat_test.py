#!/usr/bin/python3
"""proto/retrovue/playout.proto stays wire-compatible with RetroVue's
protos/playout.proto (issue 11): every RetroVue method (path, request and
response types, streaming), every message field (number, name, type, label,
message/enum type, oneof) and every enum value is present and identical in
our descriptor. The expected table, retrovue_playout_wire.json, holds those
facts as extracted from RetroVue's file (see its "source"); our additions
(GetChannelStatus, ListChannels and their messages) are allowed. Prints TAP.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rvtest  # noqa: E402

sys.path.insert(0, os.path.join(rvtest.env("RV_BUILD_DIR"), "python"))
from google.protobuf import descriptor as gd  # noqa: E402
from retrovue import playout_pb2 as pb  # noqa: E402

TYPES = {getattr(gd.FieldDescriptor, n): n[5:].lower()
         for n in dir(gd.FieldDescriptor) if n.startswith("TYPE_")}


def field_row(f):
    sub = f.message_type or f.enum_type
    return [f.name, TYPES[f.type], "repeated" if f.label == f.LABEL_REPEATED else "",
            sub.name if sub else "", f.containing_oneof.name if f.containing_oneof else ""]


def main():
    t = rvtest.Tap()
    want = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                       "retrovue_playout_wire.json")))
    fd = pb.DESCRIPTOR
    svc = fd.services_by_name.get(want["service"])
    t.ok(fd.package == want["package"] and svc is not None,
         "package %s, service %s" % (fd.package, want["service"]))
    for name, (req, resp, streaming) in sorted(want["methods"].items()):
        m = svc.methods_by_name.get(name) if svc else None
        got = m and [m.input_type.name, m.output_type.name, bool(m.server_streaming)]
        t.ok(got == [req, resp, streaming],
             "rpc %s(%s) returns (%s%s) (ours: %s)" % (name, req, "stream " if streaming else "",
                                                      resp, got))
    for name, fields in sorted(want["messages"].items()):
        m = fd.message_types_by_name.get(name)
        got = {str(f.number): field_row(f) for f in m.fields} if m else None
        t.ok(got == fields, "message %s: %d fields identical" % (name, len(fields)))
        if got != fields:
            t.diag("want %s\ngot  %s" % (fields, got))
    for name, values in sorted(want["enums"].items()):
        e = fd.enum_types_by_name.get(name)
        got = {v.name: v.number for v in e.values} if e else None
        t.ok(got == values, "enum %s: %d values identical" % (name, len(values)))
    t.done()


if __name__ == "__main__":
    main()
