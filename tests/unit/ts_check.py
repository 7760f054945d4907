#!/usr/bin/python3
"""Check an MPEG-TS capture the way a broadcast analyser would.

usage: ts_check.py CAPTURE.ts [--fps 30000/1001] [--audio-rate 48000]
                   [--audio-frame 1024] [--pcr-max-ms 40] [--pat-max-ms 100]
                   [--first-pat] [--video-gaps-ok] [--json]

Checks: 188-byte packets with sync bytes; continuity counters continuous per
PID (no discontinuity indicator); PCR strictly increasing with every interval
<= pcr-max-ms; PAT and PMT at least every pat-max-ms (packet times
interpolated between PCRs); video PES PTS advancing by exactly one frame
(floor(n * 90000 * den / num) steps); audio PES PTS continuous (each PES
starts where the previous one's frames end, +-1 tick of 90 kHz rounding);
optionally the first packet is a PAT. Prints '# ...' diagnostics, 'FAIL: ...'
lines and one 'RESULT {json}' line; exits 1 on any failure. A truncated
final PES (a capture cut mid-packet) is ignored. --json prints one JSON object
instead (the RESULT fields plus "counts": failures by kind, and "failures":
the first 20 messages), for tools/bench/run; the exit status is the same.
"""
import argparse
import json
import sys
from fractions import Fraction


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("capture")
    p.add_argument("--fps", default="30000/1001")
    p.add_argument("--audio-rate", type=int, default=48000)
    p.add_argument("--audio-frame", type=int, default=1024)
    p.add_argument("--pcr-max-ms", type=float, default=40.0)
    p.add_argument("--pat-max-ms", type=float, default=100.0)
    p.add_argument("--first-pat", action="store_true")
    p.add_argument("--video-gaps-ok", action="store_true")
    p.add_argument("--json", action="store_true", help="print one JSON summary (counts by kind)")
    return p.parse_args()


def pts_of(b):
    return (((b[0] >> 1) & 7) << 30) | (b[1] << 22) | ((b[2] >> 1) << 15) | (b[3] << 7) | (b[4] >> 1)


def adts_frames(payload):
    n, i = 0, 0
    while i + 7 <= len(payload) and payload[i] == 0xFF and (payload[i + 1] & 0xF0) == 0xF0:
        length = ((payload[i + 3] & 3) << 11) | (payload[i + 4] << 3) | (payload[i + 5] >> 5)
        if length < 7:
            break
        n += 1
        i += length
    return max(n, 1)


class Failures(list):
    """The failure messages, counted by kind (the message's leading words)."""
    KINDS = (("continuity counter", "cc_errors"), ("discontinuity indicator", "discontinuity_flags"),
             ("video PTS step", "video_cadence_gaps"), ("video DTS", "video_dts_errors"),
             ("audio PTS", "audio_discontinuities"), ("PCR", "pcr_errors"),
             ("PAT", "psi_errors"), ("PMT", "psi_errors"), ("sync byte", "sync_errors"))

    def __init__(self):
        super().__init__()
        self.counts = {k: 0 for _, k in self.KINDS}
        self.counts["other"] = 0

    def append(self, msg):
        super().append(msg)
        for needle, kind in self.KINDS:
            if needle in msg:
                self.counts[kind] += 1
                return
        self.counts["other"] += 1


def main():
    a = parse_args()
    fails = Failures()
    data = open(a.capture, "rb").read()
    npk = len(data) // 188
    if len(data) % 188:
        fails.append("capture is %d bytes, not whole 188-byte packets" % len(data))
    fps = Fraction(a.fps)
    frame90 = Fraction(90000) / fps
    last_cc = {}
    pcrs = []          # (packet index, pcr)
    pat_idx, pmt_idx = [], []
    pmt_pid, pcr_pid = None, None
    streams = {}       # pid -> stream_type
    pes = {}           # pid -> [start packet index, bytearray, rai]
    done_pes = {}      # pid -> list of (pts, dts, payload, packet index, rai)
    for i in range(npk):
        pk = data[i * 188:(i + 1) * 188]
        if pk[0] != 0x47:
            fails.append("packet %d: no sync byte" % i)
            break
        pid = ((pk[1] & 0x1F) << 8) | pk[2]
        pusi = bool(pk[1] & 0x40)
        afc = (pk[3] >> 4) & 3
        cc = pk[3] & 0xF
        pos = 4
        rai = False
        if afc & 2:
            alen = pk[4]
            if alen > 0:
                flags = pk[5]
                if flags & 0x80:
                    fails.append("packet %d pid %d: discontinuity indicator" % (i, pid))
                rai = bool(flags & 0x40)
                if flags & 0x10:
                    b = pk[6:12]
                    base = (b[0] << 25) | (b[1] << 17) | (b[2] << 9) | (b[3] << 1) | (b[4] >> 7)
                    ext = ((b[4] & 1) << 8) | b[5]
                    if pid == pcr_pid or pcr_pid is None:
                        pcrs.append((i, base * 300 + ext))
            pos = 5 + alen
        if pid == 0x1FFF:
            continue
        has_payload = bool(afc & 1)
        if pid in last_cc:
            want = (last_cc[pid] + 1) & 0xF if has_payload else last_cc[pid]
            if cc != want:
                fails.append("packet %d pid %d: continuity counter %d, expected %d" % (i, pid, cc, want))
        last_cc[pid] = cc
        if not has_payload:
            continue
        payload = pk[pos:]
        if pid == 0 and pusi:
            pat_idx.append(i)
            t = payload[1 + payload[0]:]
            sec_len = ((t[1] & 0xF) << 8) | t[2]
            for k in range(8, 3 + sec_len - 4, 4):
                prog = (t[k] << 8) | t[k + 1]
                if prog != 0:
                    pmt_pid = ((t[k + 2] & 0x1F) << 8) | t[k + 3]
            continue
        if pid == pmt_pid and pusi:
            pmt_idx.append(i)
            t = payload[1 + payload[0]:]
            sec_len = ((t[1] & 0xF) << 8) | t[2]
            pcr_pid = ((t[8] & 0x1F) << 8) | t[9]
            pil = ((t[10] & 0xF) << 8) | t[11]
            k = 12 + pil
            while k < 3 + sec_len - 4:
                st = t[k]
                epid = ((t[k + 1] & 0x1F) << 8) | t[k + 2]
                esl = ((t[k + 3] & 0xF) << 8) | t[k + 4]
                streams[epid] = st
                k += 5 + esl
            continue
        if pid in streams:
            if pusi:
                if pid in pes:
                    done_pes.setdefault(pid, []).append(pes[pid])
                pes[pid] = [i, bytearray(payload), rai]
            elif pid in pes:
                pes[pid][1] += payload
    # complete PES only: drop the one each stream had open at the end

    video_pids = [p for p, t in streams.items() if t in (0x1B, 0x02, 0x24)]
    audio_pids = [p for p, t in streams.items() if t in (0x0F, 0x03, 0x04, 0x81, 0x11)]
    result = {"packets": npk, "pat": len(pat_idx), "pmt": len(pmt_idx), "pcr": len(pcrs),
              "video_frames": 0, "audio_pes": 0, "keyframe_offsets": [], "max_gop_bytes": 0}
    if not video_pids or not audio_pids:
        fails.append("no video or no audio stream in the PMT (streams %r)" % streams)

    def pes_list(pid):
        out = []
        for start, buf, rai in done_pes.get(pid, []):
            if buf[:3] != b"\x00\x00\x01":
                fails.append("pid %d: PES at packet %d has no start code" % (pid, start))
                continue
            flags = buf[7]
            hl = buf[8]
            pts = pts_of(buf[9:14]) if flags & 0x80 else None
            dts = pts_of(buf[14:19]) if flags & 0x40 else pts
            out.append((start, pts, dts, bytes(buf[9 + hl:]), rai))
        return out

    # PCR
    for (i0, p0), (i1, p1) in zip(pcrs, pcrs[1:]):
        d = p1 - p0
        if d <= 0 or d > a.pcr_max_ms * 27000:
            fails.append("PCR interval %.3f ms between packets %d and %d" % (d / 27000.0, i0, i1))
    if pcrs:
        result["max_pcr_interval_ms"] = max([(q - p) / 27000.0 for (_, p), (_, q) in zip(pcrs, pcrs[1:])] or [0])
    else:
        fails.append("no PCR")

    # PAT / PMT rate, packet times interpolated between PCRs
    def t_of(idx):
        lo, hi = None, None
        for j, (pi, pv) in enumerate(pcrs):
            if pi <= idx:
                lo = (pi, pv)
            if pi >= idx:
                hi = (pi, pv)
                break
        if lo is None or hi is None or lo[0] == hi[0]:
            return None if lo is None and hi is None else (lo or hi)[1]
        return lo[1] + (hi[1] - lo[1]) * (idx - lo[0]) / (hi[0] - lo[0])

    for name, idxs in (("PAT", pat_idx), ("PMT", pmt_idx)):
        times = [t for t in (t_of(k) for k in idxs) if t is not None]
        worst = max([(b - c) / 27000.0 for c, b in zip(times, times[1:])] or [0])
        result["max_%s_interval_ms" % name.lower()] = worst
        if len(idxs) < 2 and npk > 2000:
            fails.append("%s appears %d times" % (name, len(idxs)))
        if worst > a.pat_max_ms:
            fails.append("%s interval %.1f ms > %.1f" % (name, worst, a.pat_max_ms))

    if a.first_pat:
        # a joiner's first bytes: only PSI/SI (PAT, PMT, SDT, NIT, null) until
        # both PAT and PMT were seen, and both before the first PES
        first_pes = min([v[0][0] for v in done_pes.values() if v] + [npk])
        si = {0, 0x10, 0x11, 0x1FFF, pmt_pid}
        lead = [((data[k * 188 + 1] & 0x1F) << 8) | data[k * 188 + 2] for k in range(min(first_pes, npk))]
        if not pat_idx or not pmt_idx or pat_idx[0] > first_pes or pmt_idx[0] > first_pes \
                or any(p not in si for p in lead):
            fails.append("the capture does not start with PAT/PMT before the first PES (pids %r)" % lead[:8])
        result["lead_pids"] = lead[:8]

    # video: one frame per PES, PTS step exactly one frame
    for pid in video_pids:
        vl = pes_list(pid)
        result["video_frames"] += len(vl)
        keys = [s for s, _, _, _, r in vl if r]
        result["keyframe_offsets"] = [k * 188 for k in keys]
        gops = [(b - c) * 188 for c, b in zip(keys, keys[1:])]
        result["max_gop_bytes"] = max(gops or [0])
        if vl:
            result["first_video_pts"] = vl[0][1]
            result["last_video_pts"] = vl[-1][1]
            result["first_video_is_key"] = bool(vl[0][4])
        fl, ce = frame90.numerator // frame90.denominator, -(-frame90.numerator // frame90.denominator)
        for (s0, p0, d0, _, _), (s1, p1, d1, _, _) in zip(vl, vl[1:]):
            step = p1 - p0
            if step not in (fl, ce) and not (a.video_gaps_ok and step > ce):
                fails.append("video PTS step %d at packet %d (expected %s)" % (step, s1, frame90))
            if d1 <= d0:
                fails.append("video DTS not increasing at packet %d" % s1)

    # audio: continuous
    step_a = Fraction(90000 * a.audio_frame, a.audio_rate)
    for pid in audio_pids:
        al = pes_list(pid)
        result["audio_pes"] += len(al)
        for (s0, p0, _, pl0, _), (s1, p1, _, _, _) in zip(al, al[1:]):
            want = p0 + step_a * adts_frames(pl0) if streams[pid] == 0x0F else None
            if want is None:
                continue
            if abs(p1 - want) > 1:
                fails.append("audio PTS %d at packet %d, expected %s (gap %.2f ms)" %
                             (p1, s1, float(want), float((p1 - want) / 90)))

    if a.json:
        out = dict(result)
        out["keyframe_offsets"] = result["keyframe_offsets"][:4]
        out["counts"] = fails.counts
        out["failures"] = list(fails[:20])
        print(json.dumps(out))
        return 1 if fails else 0
    for f in fails[:20]:
        print("FAIL: " + f)
    if len(fails) > 20:
        print("FAIL: ... %d more" % (len(fails) - 20))
    print("# %s: %d packets, %d video frames, %d audio PES, PAT %d, PCR max %.1f ms, PAT max %.1f ms"
          % (a.capture, npk, result["video_frames"], result["audio_pes"], len(pat_idx),
             result.get("max_pcr_interval_ms", -1), result.get("max_pat_interval_ms", -1)))
    short = dict(result)
    short["keyframe_offsets"] = result["keyframe_offsets"][:4]
    print("RESULT " + json.dumps(short))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
