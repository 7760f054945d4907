/**
 * @file host/telemetry/metrics.h
 * @short The Prometheus text exposition (format 0.0.4) of every running
 *        channel: state, frame gap, buffer depth, frames by source, segments
 *        by as-run outcome, producer and sink counters, build info.
 *
 * Rendering reads channel_status snapshots (engine_list_channels) and owns
 * nothing beyond the call. Every family is written with # HELP and # TYPE,
 * its samples grouped, label values escaped per the format.
 */
#ifndef RV_HOST_TELEMETRY_METRICS_H
#define RV_HOST_TELEMETRY_METRICS_H

#include <stddef.h>

#include "engine/engine.h"
#include "telemetry/text_buffer.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/** Append the exposition of @p channels (@p count snapshots, borrowed) to
 *  @p out (borrowed). RV_OK or RV_ENOMEM. Thread: any. */
int metrics_render_channels(const channel_status *channels, size_t count, text_buffer *out);

/** Append the exposition of every running channel of @p e (borrowed) to
 *  @p out (borrowed). RV_OK or a negative rv_error. Thread: any. */
int metrics_render(engine *e, text_buffer *out);

/** Append @p value (borrowed) to @p out escaped as a label value: backslash,
 *  double quote and line feed become \\, \" and \n. */
void metrics_escape_label(text_buffer *out, const char *value);

#endif
