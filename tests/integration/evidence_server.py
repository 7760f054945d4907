#!/usr/bin/python3
"""A stand-in for RetroVue Core's evidence server (issue 11 tests).

Serves retrovue.evidence.v1.ExecutionEvidenceService/EvidenceStream the way
Core's runtime/evidence_server.py does: every message is acked with its own
sequence (Hello too: sequence 0); a record whose event_uuid was already
committed, or whose sequence is at or below the session's durable ack mark,
is acked but not written again. Records are committed to
<store>/records.jsonl with fsync BEFORE the ack (Core: "ACK implies
durability"), and the store is read back at start, so a killed and restarted
server keeps its dedup state exactly as Core's durable ack store does.

Besides Core's behaviour it logs what a test needs in <store>/events.jsonl:
each Hello, each duplicate, and each *conflict* (a sequence already committed
with another event_uuid: the client regenerated a UUID on replay).

    evidence_server.py --port P --store DIR [--ack-limit K]
                                                 prints "listening P" when up

--ack-limit K makes a lagging Core: it commits everything but never acks
past sequence K, so a client that reconnects must replay from K + 1 and the
server's dedup must drop what it already has.
"""
import argparse
import json
import os
import sys
import threading
from concurrent import futures

import grpc

sys.path.insert(0, os.path.join(os.environ.get("RV_BUILD_DIR", "."), "python"))
from retrovue import execution_evidence_v1_pb2 as pb2  # noqa: E402
from retrovue import execution_evidence_v1_pb2_grpc as pb2_grpc  # noqa: E402


class Store:
    def __init__(self, folder):
        os.makedirs(folder, exist_ok=True)
        self.records_path = os.path.join(folder, "records.jsonl")
        self.events_path = os.path.join(folder, "events.jsonl")
        self.lock = threading.Lock()
        self.uuid_seq = {}   # event_uuid -> sequence
        self.seq_uuid = {}   # (channel, session, sequence) -> event_uuid
        self.hwm = {}        # (channel, session) -> highest committed sequence
        if os.path.exists(self.records_path):
            with open(self.records_path) as f:
                for line in f:
                    if line.endswith("\n"):
                        self._index(json.loads(line))

    def _index(self, rec):
        key = (rec["channel_id"], rec["playout_session_id"])
        self.uuid_seq[rec["event_uuid"]] = rec["sequence"]
        self.seq_uuid[key + (rec["sequence"],)] = rec["event_uuid"]
        self.hwm[key] = max(self.hwm.get(key, 0), rec["sequence"])

    def _append(self, path, obj):
        with open(path, "a") as f:
            f.write(json.dumps(obj, sort_keys=True) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def note(self, obj):
        with self.lock:
            self._append(self.events_path, obj)

    def commit(self, msg, payload_name, stream_no):
        """Write @msg unless it is a duplicate; returns 'new' or 'dup'."""
        key = (msg.channel_id, msg.playout_session_id)
        with self.lock:
            known = self.seq_uuid.get(key + (msg.sequence,))
            if known is not None and known != msg.event_uuid:
                self._append(self.events_path, {"conflict": msg.sequence, "had": known,
                                                "got": msg.event_uuid})
            if msg.event_uuid in self.uuid_seq or msg.sequence <= self.hwm.get(key, 0):
                self._append(self.events_path, {"dup": msg.sequence, "stream": stream_no})
                return "dup"
            payload = getattr(msg, payload_name)
            rec = {
                "channel_id": msg.channel_id,
                "playout_session_id": msg.playout_session_id,
                "sequence": msg.sequence,
                "event_uuid": msg.event_uuid,
                "emitted_utc": msg.emitted_utc,
                "schema_version": msg.schema_version,
                "payload_type": payload_name,
                "block_id": getattr(payload, "block_id", ""),
                "stream": stream_no,
                "pid": os.getpid(),
            }
            if payload_name == "segment_end":
                rec["computed_duration_frames"] = payload.computed_duration_frames
                rec["event_id_ref"] = payload.event_id_ref
            if payload_name == "channel_terminated":
                rec["reason"] = payload.reason
            self._append(self.records_path, rec)
            self._index(rec)
            return "new"


class Servicer(pb2_grpc.ExecutionEvidenceServiceServicer):
    def __init__(self, store, ack_limit):
        self.store = store
        self.ack_limit = ack_limit
        self.streams = 0
        self.lock = threading.Lock()

    def EvidenceStream(self, request_iterator, context):
        with self.lock:
            self.streams += 1
            stream_no = self.streams
        for msg in request_iterator:
            name = msg.WhichOneof("payload") or "unknown"
            if name == "hello":
                self.store.note({"hello": True, "stream": stream_no, "pid": os.getpid(),
                                 "sequence": msg.sequence, "event_uuid": msg.event_uuid,
                                 "first": msg.hello.first_sequence_available,
                                 "last": msg.hello.last_sequence_emitted,
                                 "session": msg.playout_session_id})
            else:
                self.store.commit(msg, name, stream_no)
            yield pb2.EvidenceAckFromCore(channel_id=msg.channel_id,
                                          playout_session_id=msg.playout_session_id,
                                          acked_sequence=min(msg.sequence, self.ack_limit))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--store", required=True)
    ap.add_argument("--ack-limit", type=int, default=2**64 - 1)
    args = ap.parse_args()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    pb2_grpc.add_ExecutionEvidenceServiceServicer_to_server(Servicer(Store(args.store), args.ack_limit), server)
    if server.add_insecure_port("127.0.0.1:%d" % args.port) == 0:
        print("bind failed", flush=True)
        return 1
    server.start()
    print("listening %d" % args.port, flush=True)
    server.wait_for_termination()
    return 0


if __name__ == "__main__":
    sys.exit(main())
