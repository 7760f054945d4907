/**
 * @file host/plan/timeline.c
 * @short A plan laid on a channel's tick grid: which segment (or gap) owns
 *        each tick, by the fence rules, in exact 128-bit integer arithmetic.
 *
 * Owns nothing; every function reads a borrowed, validated plan.
 *
 * Arithmetic: with the channel epoch E (ms) and rate num/den, the instant of
 * tick n is t(n) = E + n*den*1000/num ms. Every comparison of an instant b
 * (ms) with t(n) is made on integers scaled by num:
 *     b <= t(n)  <=>  b*num <= E*num + n*den*1000
 * so no rounding ever happens. A looping plan with period L = end - start
 * puts tick n in iteration k = floor((t(n) - start) / L) (floor division,
 * also for ticks before the plan's start) and in the segment containing
 * t(n) - k*L. The gap before a non-looping plan starts at INT64_MIN (with
 * first_tick INT64_MIN); the gap after it ends at INT64_MAX (end_tick
 * INT64_MAX).
 */
#include "plan/timeline.h"

#include <string.h>

enum { NS_PER_MS = 1000000 };

static int64_t timeline_clamp(rv_int128 v)
{
    if (v > (rv_int128)INT64_MAX)
        return INT64_MAX;
    if (v < (rv_int128)INT64_MIN)
        return INT64_MIN;
    return (int64_t)v;
}

/** floor(a / b) for b > 0. */
static rv_int128 timeline_floor_div(rv_int128 a, rv_int128 b)
{
    rv_int128 q = a / b;
    if (a % b != 0 && a < 0)
        q -= 1;
    return q;
}

/** num * t(tick): the tick's instant in ms, scaled by num. */
static rv_int128 timeline_scaled_instant(int64_t epoch_utc_ms, rv_rational rate, int64_t tick)
{
    return (rv_int128)epoch_utc_ms * rate.num + (rv_int128)tick * rate.den * 1000;
}

/** First tick at or after instant @p utc_ms: ceil((utc - E) * num / (den*1000)). */
static int64_t timeline_first_tick(int64_t epoch_utc_ms, rv_rational rate, rv_int128 utc_ms)
{
    rv_int128 n = (utc_ms - epoch_utc_ms) * rate.num;
    rv_int128 d = (rv_int128)rate.den * 1000;
    rv_int128 q = n / d;
    if (n % d != 0 && n > 0)
        q += 1;
    return timeline_clamp(q);
}

/** end - start of the whole plan; 128-bit, so even a plan that skipped
 *  validation (its instants are bounded by PLAN_UTC_*) cannot overflow. */
static rv_int128 timeline_period_ms(const plan *p)
{
    return (rv_int128)plan_end_utc_ms(p) - plan_start_utc_ms(p);
}

static rv_int128 timeline_segment_start_ms(const plan *p, size_t b, size_t s)
{
    return (rv_int128)p->blocks[b].start_utc_ms + p->blocks[b].segments[s].start_offset_ms;
}

/** Fill @p out for segment (@p b, @p s) of iteration @p k. */
static void timeline_fill_segment(const plan *p, int64_t epoch_utc_ms, rv_rational rate,
                                  int64_t k, size_t b, size_t s, timeline_pos *out)
{
    rv_int128 shift = (rv_int128)k * timeline_period_ms(p);
    rv_int128 start = timeline_segment_start_ms(p, b, s) + shift;
    rv_int128 end = start + p->blocks[b].segments[s].duration_ms;
    memset(out, 0, sizeof(*out));
    out->in_gap = 0;
    out->iteration = k;
    out->block = b;
    out->segment = s;
    out->start_utc_ms = timeline_clamp(start);
    out->end_utc_ms = timeline_clamp(end);
    out->first_tick = timeline_first_tick(epoch_utc_ms, rate, start);
    out->end_tick = timeline_first_tick(epoch_utc_ms, rate, end);
}

static void timeline_fill_gap_before(const plan *p, int64_t epoch_utc_ms, rv_rational rate,
                                     timeline_pos *out)
{
    memset(out, 0, sizeof(*out));
    out->in_gap = 1;
    out->start_utc_ms = INT64_MIN;
    out->end_utc_ms = plan_start_utc_ms(p);
    out->first_tick = INT64_MIN;
    out->end_tick = timeline_first_tick(epoch_utc_ms, rate, plan_start_utc_ms(p));
}

static void timeline_fill_gap_after(const plan *p, int64_t epoch_utc_ms, rv_rational rate,
                                    timeline_pos *out)
{
    memset(out, 0, sizeof(*out));
    out->in_gap = 1;
    out->block = p->block_count > 0 ? p->block_count - 1 : 0;
    out->start_utc_ms = plan_end_utc_ms(p);
    out->end_utc_ms = INT64_MAX;
    out->first_tick = timeline_first_tick(epoch_utc_ms, rate, plan_end_utc_ms(p));
    out->end_tick = INT64_MAX;
}

/** The segment whose [start, end) contains the instant @p target / num
 *  (scaled by num), which lies within the plan's first iteration. */
static void timeline_find(const plan *p, rv_rational rate, rv_int128 target, size_t *block,
                          size_t *segment)
{
    size_t lo = 0;
    size_t hi = p->block_count; /* last block with start*num <= target */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if ((rv_int128)p->blocks[mid].start_utc_ms * rate.num <= target)
            lo = mid;
        else
            hi = mid;
    }
    *block = lo;
    const plan_block *blk = &p->blocks[lo];
    size_t slo = 0;
    size_t shi = blk->segment_count;
    while (shi - slo > 1) {
        size_t mid = slo + (shi - slo) / 2;
        if (timeline_segment_start_ms(p, lo, mid) * rate.num <= target)
            slo = mid;
        else
            shi = mid;
    }
    *segment = slo;
}

void timeline_locate(const plan *p, int64_t epoch_utc_ms, rv_rational rate, int64_t tick,
                     timeline_pos *out)
{
    size_t b = 0;
    size_t s = 0;
    if (p == NULL || p->block_count == 0) {
        memset(out, 0, sizeof(*out));
        out->in_gap = 1;
        out->start_utc_ms = INT64_MIN;
        out->end_utc_ms = INT64_MAX;
        out->first_tick = INT64_MIN;
        out->end_tick = INT64_MAX;
        return;
    }
    rv_int128 now = timeline_scaled_instant(epoch_utc_ms, rate, tick);
    rv_int128 start = (rv_int128)plan_start_utc_ms(p) * rate.num;
    rv_int128 end = (rv_int128)plan_end_utc_ms(p) * rate.num;
    if (!p->loop) {
        if (now < start) {
            timeline_fill_gap_before(p, epoch_utc_ms, rate, out);
            return;
        }
        if (now >= end) {
            timeline_fill_gap_after(p, epoch_utc_ms, rate, out);
            return;
        }
        timeline_find(p, rate, now, &b, &s);
        timeline_fill_segment(p, epoch_utc_ms, rate, 0, b, s, out);
        return;
    }
    rv_int128 period = end - start;
    rv_int128 k = timeline_floor_div(now - start, period);
    timeline_find(p, rate, now - k * period, &b, &s);
    timeline_fill_segment(p, epoch_utc_ms, rate, timeline_clamp(k), b, s, out);
}

int timeline_next_any(const plan *p, int64_t epoch_utc_ms, rv_rational rate, timeline_pos *pos)
{
    if (p == NULL || p->block_count == 0)
        return 0;
    if (pos->in_gap) {
        if (pos->end_tick == INT64_MAX)
            return 0; /* the open-ended gap after a plan has no next */
        timeline_fill_segment(p, epoch_utc_ms, rate, 0, 0, 0, pos);
        return 1;
    }
    size_t b = pos->block;
    size_t s = pos->segment + 1;
    int64_t k = pos->iteration;
    if (s >= p->blocks[b].segment_count) {
        s = 0;
        b++;
    }
    if (b >= p->block_count) {
        if (!p->loop) {
            timeline_fill_gap_after(p, epoch_utc_ms, rate, pos);
            return 1;
        }
        b = 0;
        k++;
    }
    timeline_fill_segment(p, epoch_utc_ms, rate, k, b, s, pos);
    return 1;
}

void timeline_next(const plan *p, int64_t epoch_utc_ms, rv_rational rate, timeline_pos *pos)
{
    while (timeline_next_any(p, epoch_utc_ms, rate, pos))
        if (pos->first_tick < pos->end_tick)
            return;
}

const plan_segment *timeline_segment(const plan *p, const timeline_pos *pos)
{
    if (p == NULL || pos == NULL || pos->in_gap || pos->block >= p->block_count ||
        pos->segment >= p->blocks[pos->block].segment_count)
        return NULL;
    return &p->blocks[pos->block].segments[pos->segment];
}

const plan_block *timeline_block(const plan *p, const timeline_pos *pos)
{
    if (p == NULL || pos == NULL || pos->in_gap || pos->block >= p->block_count)
        return NULL;
    return &p->blocks[pos->block];
}

int64_t timeline_offset_ns(const timeline_pos *pos, int64_t epoch_utc_ms, rv_rational rate,
                           int64_t tick)
{
    rv_int128 instant_ns = (rv_int128)epoch_utc_ms * NS_PER_MS + rv_ticks_to_ns(rate, tick);
    return timeline_clamp(instant_ns - (rv_int128)pos->start_utc_ms * NS_PER_MS);
}
