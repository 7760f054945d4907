/**
 * @file host/control/control_blockplan.h
 * @short RetroVue's BlockPlan (proto) to the engine's plan_block
 *        (host/plan/plan.h), with the request-level checks made before the
 *        engine sees a block: sizes, text bounds, enum values, finite gain,
 *        the block's channel. Structural rules (contiguity, segments filling
 *        the block, indices, durations) are the engine's (plan_validate).
 *
 * The result borrows the request's strings; the engine copies what it
 * keeps (engine_session.h). Pure functions; no state.
 */
#ifndef RV_CONTROL_BLOCKPLAN_H
#define RV_CONTROL_BLOCKPLAN_H

#include <stddef.h>
#include <stdint.h>

#include "plan/plan.h"
#include "retrovue/playout.pb-c.h"

/** Longest block_id / event_id / other short text accepted, in bytes (the
 *  engine's text fields and session_event.block_id hold 255). */
#define CONTROL_MAX_TEXT_BYTES 255
/** Longest asset_uri accepted, in bytes (PATH_MAX). */
#define CONTROL_MAX_URI_BYTES 4096
/** Most segments accepted in one block. */
#define CONTROL_MAX_SEGMENTS 4096

/** Convert @p in (borrowed) for channel @p channel_id into @p out, whose
 *  segments are written to @p segs (caller-owned, @p seg_cap entries, at
 *  least in->n_segments; may be NULL when there are none). @p out and its
 *  segments point into @p in's strings: valid while @p in is. @p what names
 *  the block in messages ("block_a", "block"). RV_OK, or RV_EINVAL with a
 *  sentence naming the block, the segment and the field in @p err. */
int control_block_from_proto(const Retrovue__Playout__BlockPlan *in, int32_t channel_id,
                             const char *what, plan_block *out, plan_segment *segs,
                             size_t seg_cap, char *err, size_t errlen);

/** A text field bounded to @p max bytes: RV_OK or RV_EINVAL naming
 *  @p field. NULL counts as "". */
int control_check_text(const char *field, const char *value, size_t max, char *err,
                       size_t errlen);

#endif
