/**
 * @file tests/unit/test_timeline.c
 * @short The tick timeline: fences at 30000/1001 (boundaries between ticks,
 *        the ceil rule), a 100-segment plan walked with timeline_next equal to
 *        timeline_locate and to an independent linear-scan reference at every
 *        tick, looping over many iterations and 30 days ahead, gaps around a
 *        non-looping plan, sub-frame segments, and timeline_offset_ns.
 */
#include <stdlib.h>
#include <string.h>

#include <retrovue/error.h>

#include "plan/plan.h"
#include "plan/timeline.h"
#include "tap.h"

__extension__ typedef __int128 i128;

static const rv_rational R2997 = {30000, 1001};
static const rv_rational R25 = {25, 1};
static const rv_rational R60 = {60, 1};

/* ---- building plans in memory ---- */

/** A plan of @p nblocks blocks from @p start_ms, each block's segments given
 *  by @p durations (ms) split into consecutive runs of @p per_block. */
static plan *build_plan(int64_t start_ms, const int64_t *durations, size_t count,
                        size_t per_block, int loop)
{
    plan *p = calloc(1, sizeof(*p));
    size_t nblocks = (count + per_block - 1) / per_block;
    p->handle = strdup("mem");
    p->loop = loop;
    p->refcount = 1;
    p->blocks = calloc(nblocks, sizeof(plan_block));
    p->block_count = nblocks;
    int64_t t = start_ms;
    for (size_t b = 0; b < nblocks; b++) {
        plan_block *blk = &p->blocks[b];
        size_t n = count - b * per_block < per_block ? count - b * per_block : per_block;
        char id[32];
        snprintf(id, sizeof(id), "blk-%zu", b);
        blk->id = strdup(id);
        blk->segments = calloc(n, sizeof(plan_segment));
        blk->segment_count = n;
        blk->start_utc_ms = t;
        int64_t off = 0;
        for (size_t s = 0; s < n; s++) {
            plan_segment *seg = &blk->segments[s];
            seg->index = (int32_t)s;
            seg->type = RV_SEGMENT_PAD;
            seg->asset_uri = strdup("");
            seg->event_id = strdup("");
            seg->duration_ms = durations[b * per_block + s];
            seg->transition_in.type = RV_TRANSITION_NONE;
            seg->transition_out.type = RV_TRANSITION_NONE;
            seg->start_offset_ms = off;
            off += seg->duration_ms;
        }
        t += off;
        blk->end_utc_ms = t;
    }
    return p;
}

/* ---- an independent reference: linear scan with cross-multiplication ---- */

/** ceil((t - epoch) * num / (den*1000)) */
static int64_t ref_first_tick(int64_t epoch, rv_rational r, i128 t_ms)
{
    i128 n = (t_ms - epoch) * r.num;
    i128 d = (i128)r.den * 1000;
    i128 q = n / d;
    if (n % d != 0 && n > 0)
        q++;
    return (int64_t)q;
}

static void ref_locate(const plan *p, int64_t epoch, rv_rational r, int64_t tick, timeline_pos *o)
{
    i128 now = (i128)epoch * r.num + (i128)tick * r.den * 1000; /* t(tick) * num */
    int64_t p0 = p->blocks[0].start_utc_ms;
    int64_t p1 = p->blocks[p->block_count - 1].end_utc_ms;
    i128 period = (i128)(p1 - p0) * r.num;
    i128 k = 0;
    memset(o, 0, sizeof(*o));
    if (p->loop) {
        i128 d = now - (i128)p0 * r.num;
        k = d / period;
        if (d % period != 0 && d < 0)
            k--;
    } else if (now < (i128)p0 * r.num) {
        o->in_gap = 1;
        o->start_utc_ms = INT64_MIN;
        o->end_utc_ms = p0;
        o->first_tick = INT64_MIN;
        o->end_tick = ref_first_tick(epoch, r, p0);
        return;
    } else if (now >= (i128)p1 * r.num) {
        o->in_gap = 1;
        o->block = p->block_count - 1;
        o->start_utc_ms = p1;
        o->end_utc_ms = INT64_MAX;
        o->first_tick = ref_first_tick(epoch, r, p1);
        o->end_tick = INT64_MAX;
        return;
    }
    i128 shift = k * (p1 - p0);
    for (size_t b = 0; b < p->block_count; b++) {
        for (size_t s = 0; s < p->blocks[b].segment_count; s++) {
            i128 st = p->blocks[b].start_utc_ms + p->blocks[b].segments[s].start_offset_ms + shift;
            i128 en = st + p->blocks[b].segments[s].duration_ms;
            if (st * r.num <= now && now < en * r.num) {
                o->iteration = (int64_t)k;
                o->block = b;
                o->segment = s;
                o->start_utc_ms = (int64_t)st;
                o->end_utc_ms = (int64_t)en;
                o->first_tick = ref_first_tick(epoch, r, st);
                o->end_tick = ref_first_tick(epoch, r, en);
                return;
            }
        }
    }
    o->in_gap = 99; /* unreachable for a valid plan */
}

static int pos_equal(const timeline_pos *a, const timeline_pos *b)
{
    return a->in_gap == b->in_gap && a->start_utc_ms == b->start_utc_ms &&
           a->end_utc_ms == b->end_utc_ms && a->first_tick == b->first_tick &&
           a->end_tick == b->end_tick &&
           (a->in_gap || (a->iteration == b->iteration && a->block == b->block &&
                          a->segment == b->segment));
}

static void pos_diag(const char *what, int64_t tick, const timeline_pos *p)
{
    tap_diag("%s at tick %lld: gap %d it %lld b %zu s %zu [%lld,%lld) ticks [%lld,%lld)", what,
             (long long)tick, p->in_gap, (long long)p->iteration, p->block, p->segment,
             (long long)p->start_utc_ms, (long long)p->end_utc_ms, (long long)p->first_tick,
             (long long)p->end_tick);
}

/** Walk ticks [from, to) with timeline_next and compare at every tick with
 *  timeline_locate and the reference. Also checks the walk is contiguous and
 *  never stops on a segment owning no tick. */
static int walk_and_compare(const plan *p, int64_t epoch, rv_rational r, int64_t from, int64_t to,
                            int64_t *segments_seen)
{
    timeline_pos walk;
    timeline_pos loc;
    timeline_pos ref;
    timeline_locate(p, epoch, r, from, &walk);
    *segments_seen = 1;
    for (int64_t t = from; t < to; t++) {
        if (t >= walk.end_tick) {
            int64_t prev_end = walk.end_tick;
            timeline_next(p, epoch, r, &walk);
            (*segments_seen)++;
            if (walk.first_tick != prev_end || walk.first_tick >= walk.end_tick) {
                pos_diag("walk not contiguous or empty", t, &walk);
                return 0;
            }
        }
        timeline_locate(p, epoch, r, t, &loc);
        ref_locate(p, epoch, r, t, &ref);
        if (!pos_equal(&walk, &loc) || !pos_equal(&loc, &ref) || t < loc.first_tick ||
            t >= loc.end_tick) {
            pos_diag("walk", t, &walk);
            pos_diag("locate", t, &loc);
            pos_diag("reference", t, &ref);
            return 0;
        }
    }
    return 1;
}

/* ---- tests ---- */

static void test_fences(void)
{
    const int64_t E = 1763712000000LL;
    const int64_t d[] = {1000, 1, 1000, 2002, 997};
    plan *p = build_plan(E, d, 5, 5, 0);
    timeline_pos pos;
    timeline_locate(p, E, R2997, 0, &pos);
    tap_ok(!pos.in_gap && pos.segment == 0 && pos.first_tick == 0 && pos.end_tick == 30,
           "segment [0, 1000 ms) owns ticks 0..29 (ceil(29.97) = 30)");
    timeline_locate(p, E, R2997, 29, &pos);
    tap_ok(pos.segment == 0, "tick 29 (966.3 ms) is in segment 0");
    /* Segment 1 is [1000, 1001): tick 30 is at exactly 1001 ms, so it owns none. */
    timeline_locate(p, E, R2997, 30, &pos);
    tap_ok(pos.segment == 2 && pos.start_utc_ms == E + 1001 && pos.first_tick == 30,
           "tick 30 lies exactly on 1001 ms: it belongs to the segment starting there");
    timeline_locate(p, E, R2997, 0, &pos);
    timeline_next(p, E, R2997, &pos);
    tap_ok(pos.segment == 2 && pos.first_tick == 30 && pos.end_tick == 60,
           "timeline_next skips the 1 ms segment that owns no tick");
    /* Segment 3 is [2001, 4003): ceil(59.97) = 60 .. ceil(119.97) = 120. */
    timeline_next(p, E, R2997, &pos);
    tap_ok(pos.segment == 3 && pos.first_tick == 60 && pos.end_tick == 120,
           "segment [2001, 4003) owns ticks 60..119");
    timeline_next(p, E, R2997, &pos);
    tap_ok(pos.segment == 4 && pos.first_tick == 120 && pos.end_tick == 150 &&
               pos.end_utc_ms == E + 5000,
           "last segment [4003, 5000) owns 120..149 (5000 ms * 0.02997 = 149.85 -> 150)");
    timeline_next(p, E, R2997, &pos);
    tap_ok(pos.in_gap && pos.first_tick == 150 && pos.end_tick == INT64_MAX &&
               pos.end_utc_ms == INT64_MAX,
           "after a non-looping plan: an open-ended gap from tick 150");
    timeline_pos again = pos;
    timeline_next(p, E, R2997, &again);
    tap_ok(pos_equal(&pos, &again), "the open-ended gap has no next");

    /* Epoch not on a boundary: channel started 10 ms into the plan. */
    timeline_locate(p, E + 10, R2997, 0, &pos);
    tap_ok(pos.segment == 0 && pos.first_tick == 0 && pos.end_tick == 30 &&
               timeline_offset_ns(&pos, E + 10, R2997, 0) == 10000000,
           "join 10 ms into a segment: offset 10 ms (10000000 ns)");
    timeline_locate(p, E, R2997, 31, &pos);
    tap_ok(timeline_offset_ns(&pos, E, R2997, 31) == 33366666,
           "offset of tick 31 (1034.3667 ms) in the segment starting at 1001 ms: 33366666 ns "
           "(floor)");
    tap_ok(timeline_offset_ns(&pos, E, R2997, pos.first_tick) == 0,
           "a segment starting exactly on a tick: offset 0");
    tap_ok(timeline_segment(p, &pos) == &p->blocks[0].segments[2] &&
               timeline_block(p, &pos) == &p->blocks[0],
           "timeline_segment / timeline_block");
    plan_unref(p);
}

static void test_gaps(void)
{
    const int64_t E = 1700000000000LL;
    const int64_t d[] = {1000, 2000};
    plan *p = build_plan(E + 500, d, 2, 1, 0); /* starts 0.5 s after the epoch, two blocks */
    timeline_pos pos;
    timeline_locate(p, E, R25, 0, &pos);
    tap_ok(pos.in_gap && pos.first_tick == INT64_MIN && pos.end_tick == 13 &&
               pos.end_utc_ms == E + 500 && timeline_segment(p, &pos) == NULL,
           "before the plan: a gap ending at tick 13 (500 ms at 25 fps = 12.5 -> 13)");
    timeline_locate(p, E, R25, -1000, &pos);
    tap_ok(pos.in_gap && pos.end_tick == 13, "long before the plan: the same gap");
    timeline_next(p, E, R25, &pos);
    tap_ok(!pos.in_gap && pos.block == 0 && pos.first_tick == 13 && pos.end_tick == 38,
           "the gap's next is the first segment, ticks 13..37");
    timeline_next(p, E, R25, &pos);
    tap_ok(!pos.in_gap && pos.block == 1 && pos.first_tick == 38 && pos.end_tick == 88,
           "next block: ticks 38..87");
    timeline_next(p, E, R25, &pos);
    tap_ok(pos.in_gap && pos.first_tick == 88 && pos.end_tick == INT64_MAX, "then the gap after");
    int64_t seen = 0;
    tap_ok(walk_and_compare(p, E, R25, -50, 200, &seen) && seen == 4,
           "walk across gap, plan, gap matches locate and the reference at every tick");
    timeline_locate(p, E, R25, 1000000, &pos);
    tap_ok(pos.in_gap && pos.first_tick == 88, "far after the plan: still the gap after it");
    plan_unref(p);
}

/** Durations of a 100-segment plan: mostly seconds, some sub-frame (1..40 ms). */
static void make_durations(int64_t *d, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        uint32_t r = (seed >> 8) % 1000;
        if (i % 7 == 3)
            d[i] = 1 + r % 40; /* often owns no tick at 29.97 (33.37 ms per tick) */
        else
            d[i] = 200 + (int64_t)r * 7 + (int64_t)(i % 3);
    }
}

static void test_hundred_segments(void)
{
    enum { N = 100 };
    int64_t d[N];
    make_durations(d, N, 42);
    const int64_t E = 1763712000000LL;
    plan *p = build_plan(E - 1234, d, N, 10, 0); /* 10 blocks of 10, starting before the epoch */
    char err[256] = "";
    tap_ok(plan_validate(p, err, sizeof(err)) == RV_OK, "the 100-segment plan validates (%s)", err);
    int64_t seen = 0;
    int64_t end_tick = -1;
    timeline_pos pos;
    timeline_locate(p, E, R2997, INT64_MAX / 4, &pos);
    end_tick = pos.first_tick;
    int walked = walk_and_compare(p, E, R2997, -100, end_tick + 100, &seen);
    tap_ok(walked && seen > 90,
           "100 segments at 29.97: timeline_next == timeline_locate == reference at every tick "
           "(%lld positions)",
           (long long)seen);
    int skipped = 0;
    timeline_locate(p, E, R2997, 0, &pos);
    for (size_t b = 0; b < p->block_count; b++) {
        for (size_t s = 0; s < p->blocks[b].segment_count; s++) {
            const plan_segment *seg = &p->blocks[b].segments[s];
            int64_t st = p->blocks[b].start_utc_ms + seg->start_offset_ms;
            int64_t a = ref_first_tick(E, R2997, st);
            int64_t z = ref_first_tick(E, R2997, st + seg->duration_ms);
            skipped += a == z;
        }
    }
    tap_ok(skipped > 3, "the plan has %d sub-frame segments owning no tick (all skipped)", skipped);
    int64_t seen60 = 0;
    tap_ok(walk_and_compare(p, E, R60, -100, 8000, &seen60), "same plan at 60 fps");
    plan_unref(p);
}

static void test_loop(void)
{
    enum { N = 100 };
    int64_t d[N];
    make_durations(d, N, 7);
    const int64_t E = 1763712000000LL;
    plan *p = build_plan(E + 777, d, N, 25, 1);
    int64_t period = plan_end_utc_ms(p) - plan_start_utc_ms(p);
    tap_diag("loop period %lld ms", (long long)period);
    int64_t seen = 0;
    int64_t ticks = (period * 6 * 30) / 1001; /* ~6 iterations */
    tap_ok(walk_and_compare(p, E, R2997, -ticks / 2, ticks, &seen),
           "looping plan: walk == locate == reference across ~6 iterations and before the start");
    timeline_pos pos;
    timeline_locate(p, E, R2997, 0, &pos);
    tap_ok(pos.iteration == -1 && !pos.in_gap, "tick 0 before the plan start is in iteration -1");

    /* 30 days ahead. */
    int64_t t30 = ref_first_tick(E, R2997, E + 30LL * 86400000);
    int64_t k_expect = (int64_t)(((i128)(E + 30LL * 86400000) - (E + 777)) / period);
    tap_ok(walk_and_compare(p, E, R2997, t30 - 20000, t30 + 20000, &seen),
           "30 days ahead: walk == locate == reference over 40000 ticks");
    timeline_locate(p, E, R2997, t30, &pos);
    tap_ok(pos.iteration == k_expect || pos.iteration == k_expect - 1,
           "30 days ahead: iteration %lld (expected about %lld)", (long long)pos.iteration,
           (long long)k_expect);
    int ok = 1;
    timeline_pos ref;
    for (int64_t i = 0; i < 20000; i++) {
        int64_t t = t30 * (i - 10000) / 5000 + i * 7919; /* -60 .. +60 days, scattered */
        timeline_locate(p, E, R2997, t, &pos);
        ref_locate(p, E, R2997, t, &ref);
        if (!pos_equal(&pos, &ref) || t < pos.first_tick || t >= pos.end_tick) {
            pos_diag("locate", t, &pos);
            pos_diag("reference", t, &ref);
            ok = 0;
            break;
        }
    }
    tap_ok(ok, "20000 scattered ticks across +-60 days locate like the reference");
    tap_ok(timeline_offset_ns(&pos, E, R2997, pos.first_tick) >= 0 &&
               timeline_offset_ns(&pos, E, R2997, pos.first_tick) < 33366667,
           "offset at a segment's first tick is under one frame");
    plan_unref(p);
}

static void test_tiny_loop(void)
{
    /* A 10 ms loop at 29.97: most iterations own no tick; next must still advance. */
    const int64_t d[] = {4, 6};
    const int64_t E = 1000;
    plan *p = build_plan(E, d, 2, 2, 1);
    int64_t seen = 0;
    tap_ok(walk_and_compare(p, E, R2997, 0, 3000, &seen) && seen == 3000,
           "a 10 ms loop: every tick in its own position, sub-frame iterations skipped");
    plan_unref(p);
}

int main(void)
{
    tap_plan(12 + 7 + 4 + 6 + 1);
    test_fences();
    test_gaps();
    test_hundred_segments();
    test_loop();
    test_tiny_loop();
    return tap_done();
}
