/**
 * @file host/plan/timeline.h
 * @short Which segment owns which tick: a plan laid on a channel's tick grid
 *        by the fence rules (exact rational arithmetic, no floating point).
 *
 * A segment whose instants are [s, e) owns ticks first_tick(s) ..
 * first_tick(e) - 1, where first_tick(t) = ceil((t - epoch) * num / (den*1000)).
 * Equivalently, tick n belongs to the segment containing the instant of n.
 * A looping plan repeats with period end - start in both directions; outside a
 * non-looping plan the ticks belong to a gap (no segment).
 */
#ifndef RV_HOST_TIMELINE_H
#define RV_HOST_TIMELINE_H

#include <stdint.h>

#include <retrovue/format.h>

#include "plan/plan.h"

/** A position on the timeline: one segment (or a gap) and its ticks. */
typedef struct timeline_pos {
    int in_gap;              /**< 1: no segment owns these ticks */
    int64_t iteration;       /**< loop iteration (0 for non-looping plans) */
    size_t block;            /**< index into plan->blocks (valid when !in_gap) */
    size_t segment;          /**< index into the block's segments */
    int64_t start_utc_ms;    /**< instant the segment (or gap) starts */
    int64_t end_utc_ms;      /**< instant it ends (INT64_MAX: never) */
    int64_t first_tick;      /**< first tick owned */
    int64_t end_tick;        /**< one past the last tick owned (INT64_MAX: never) */
} timeline_pos;

/** The segment (or gap) owning tick @p tick. @p p borrowed. */
void timeline_locate(const plan *p, int64_t epoch_utc_ms, rv_rational rate, int64_t tick,
                     timeline_pos *out);
/** Advance @p pos to the next segment (or gap) that owns at least one tick;
 *  segments too short to own a tick are skipped. */
void timeline_next(const plan *p, int64_t epoch_utc_ms, rv_rational rate, timeline_pos *pos);
/** Advance @p pos by exactly one segment (or gap), even one that owns no
 *  tick (first_tick == end_tick). Returns 0 when there is no next (the
 *  open-ended gap after a non-looping plan). */
int timeline_next_any(const plan *p, int64_t epoch_utc_ms, rv_rational rate, timeline_pos *pos);
/** The segment at @p pos (NULL in a gap). */
const plan_segment *timeline_segment(const plan *p, const timeline_pos *pos);
const plan_block *timeline_block(const plan *p, const timeline_pos *pos);
/** ns from the segment's start instant to the instant of tick @p tick (>= 0
 *  for ticks it owns): the join offset of a segment entered at @p tick. */
int64_t timeline_offset_ns(const timeline_pos *pos, int64_t epoch_utc_ms, rv_rational rate,
                           int64_t tick);

#endif
