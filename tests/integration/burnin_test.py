#!/usr/bin/python3
"""24 hours of channel time on the virtual clock (conf/burn-in.conf's shape):
the framelog summary accounts for exactly every tick.

At 30000/1001 the channel emits every tick whose deadline falls before
epoch + 86400 s: ticks 0 .. ceil(86400 * 30000 / 1001) - 1, that is
2 589 411 ticks (the same ceil rule that gives a segment its first tick).
"""
import os
import re

import rvtest
from rvtest import Tap

EPOCH = 1763712000000


def main():
    tap = Tap()
    work = rvtest.scratch("burnin")
    src = rvtest.env("RV_SOURCE_DIR")
    summary = os.path.join(work, "summary.jsonl")
    text = open(os.path.join(src, "conf", "burn-in.conf")).read()
    text = text.replace('"../build/modules"', '"%s"' % rvtest.env("RV_MODULE_DIR"))
    text = text.replace('plans_dir = "plans"', 'plans_dir = "%s"' % os.path.join(src, "conf", "plans"))
    text = re.sub(r'path = "[^"]*"', 'path = "%s"' % summary, text)
    cfg = rvtest.write(os.path.join(work, "burn-in.conf"), text)
    rc, out, err = rvtest.run_engine(cfg, ["--clock=virtual", "--start-utc-ms=%d" % EPOCH,
                                           "--run-for=86400"], timeout=900)
    if not tap.ok(rc == 0, "24 h virtual run exits 0"):
        tap.diag(err[-2000:])
        tap.done()
    lines = rvtest.read_jsonl(summary)
    total = lines[-1]
    segs = [l for l in lines if l["type"] == "segment"]
    expected = rvtest.first_tick_at(EPOCH, (30000, 1001), EPOCH + 86400 * 1000)
    tap.ok(expected == 2589411, "the rule gives 2589411 ticks for 24 h at 30000/1001")
    tap.ok(total["type"] == "total" and total["ticks"] == expected,
           "total ticks %d == %d" % (total.get("ticks", -1), expected))
    tap.ok(total["first_tick"] == 0 and total["last_tick"] == expected - 1,
           "ticks 0..%d" % (expected - 1))
    tap.ok(total["missing"] == 0 and total["repeated"] == 0, "no tick missing or repeated")
    tap.ok(sum(s["ticks"] for s in segs) == expected, "segment lines add up to every tick")
    tap.ok(all(s["first_tick"] == s["expected_first_tick"] for s in segs),
           "every segment instance started on its computed tick")
    tap.ok(all(s["last_tick"] + 1 == s["expected_end_tick"] for s in segs[:-1]),
           "every complete segment instance ended on its fence")
    want_audio = expected * 48000 * 1001 // 30000
    tap.ok(total["audio_samples"] == want_audio,
           "audio samples %d == floor(ticks * 48000 * 1001 / 30000) = %d" %
           (total["audio_samples"], want_audio))
    tap.ok(total["freeze"] == 0 and total["slate"] == 0, "no freeze or fallback slate")
    tap.done()


if __name__ == "__main__":
    main()
