/**
 * @file host/plan/plan.h
 * @short A plan: ordered blocks of segments (RetroVue's BlockPlan shape),
 *        loaded from a libconfig file named by a handle, validated before it
 *        can touch a running channel. Immutable once loaded; reference-counted
 *        so a channel can swap plans while frames of the old one drain.
 */
#ifndef RV_HOST_PLAN_H
#define RV_HOST_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include <retrovue/producer.h>

typedef struct plan_segment {
    int32_t index;                 /**< position in its block */
    rv_segment_type type;
    char *asset_uri;               /**< owned; "" for PAD */
    int64_t asset_start_offset_ms;
    int64_t duration_ms;
    char *event_id;                /**< owned; "" if none */
    rv_transition transition_in;
    rv_transition transition_out;
    double gain_db;
    int64_t start_offset_ms;       /**< derived: start within its block */
} plan_segment;

typedef struct plan_block {
    char *id;                      /**< owned */
    int64_t start_utc_ms;
    int64_t end_utc_ms;
    plan_segment *segments;        /**< owned array */
    size_t segment_count;
} plan_block;

typedef struct plan {
    char *handle;                  /**< owned; the name it was loaded by */
    int loop;                      /**< repeat forever with period end - start */
    int gap_pad;                   /**< ticks no block owns air black and silence (a fed
                                        session whose queue ran dry), not the slate */
    plan_block *blocks;            /**< owned array */
    size_t block_count;
    int refcount;                  /**< atomic; use plan_ref / plan_unref */
} plan;

/* ---- limits (docs/config.md, "Plan limits") ----
 * Every instant, duration and offset a validated plan holds lies within these
 * bounds, so the host and the modules can turn any of them (and any sum of an
 * offset and a duration, or the difference of two instants) into int64
 * nanoseconds without overflow: 4102444800000 ms is 4.1e18 ns, and
 * 1e12 + 4102444800000 ms is 5.1e18 ns, both below INT64_MAX (9.22e18). */

/** Earliest start_utc_ms / end_utc_ms: 1970-01-01T00:00:00Z. */
#define PLAN_UTC_MIN_MS INT64_C(0)
/** Latest start_utc_ms / end_utc_ms: 2100-01-01T00:00:00Z. */
#define PLAN_UTC_MAX_MS INT64_C(4102444800000)
/** Longest segment duration_ms: the whole instant range. */
#define PLAN_DURATION_MAX_MS (PLAN_UTC_MAX_MS - PLAN_UTC_MIN_MS)
/** Largest asset_start_offset_ms: 1e12 ms, about 31.7 years into an asset. */
#define PLAN_ASSET_OFFSET_MAX_MS INT64_C(1000000000000)
/** Longest plan handle in bytes: the file <handle>.conf must fit a file name
 *  (NAME_MAX 255) with room to spare; the same limit over gRPC. */
#define PLAN_HANDLE_MAX_BYTES 128

/** True when @p handle is a safe plan name: 1..PLAN_HANDLE_MAX_BYTES bytes of
 *  [A-Za-z0-9_.-], no leading '.', no '/', no "..". Writes the reason into
 *  @p err otherwise. */
int plan_handle_valid(const char *handle, char *err, size_t errlen);

/** Load <plans_dir>/<handle>.conf, parse and validate. NULL on error with a
 *  message naming the file, line, block, segment and rule. The result has one
 *  reference owned by the caller. @p plans_dir, @p handle borrowed. */
plan *plan_load(const char *plans_dir, const char *handle, char *err, size_t errlen);
/** Parse and validate plan text (tests, gRPC later). @p handle names it. */
plan *plan_parse_string(const char *text, const char *handle, char *err, size_t errlen);

/** Check every rule; RV_OK or RV_EINVAL with "block 'id' (#i) segment j: rule". */
int plan_validate(const plan *p, char *err, size_t errlen);

/** A plan made of copies of @p blocks (borrowed; @p count >= 1) named
 *  @p handle (borrowed), non-looping, with every segment's start_offset_ms
 *  derived and every rule of plan_validate checked. @p gap_pad sets
 *  plan->gap_pad. NULL with the rule that failed in @p err ("block 'id'
 *  (#i) segment j: rule"), or "out of memory". One reference for the caller. */
plan *plan_from_blocks(const char *handle, const plan_block *blocks, size_t count, int gap_pad,
                       char *err, size_t errlen);

plan *plan_ref(plan *p);
/** Drop a reference; frees at zero. NULL is a no-op. Thread: any. */
void plan_unref(plan *p);

/** Start of the first block and end of the last. */
int64_t plan_start_utc_ms(const plan *p);
int64_t plan_end_utc_ms(const plan *p);

#endif
