/**
 * @file host/telemetry/healthz.h
 * @short /healthz: 200 {"status":"ok",...} when every started channel is
 *        ready (also when none is), else 503 naming each channel that is not
 *        ready, its state and why (the channel's last error).
 *
 * Rendering reads channel_status snapshots and owns nothing beyond the call.
 */
#ifndef RV_HOST_TELEMETRY_HEALTHZ_H
#define RV_HOST_TELEMETRY_HEALTHZ_H

#include <stddef.h>

#include "engine/engine.h"
#include "telemetry/text_buffer.h"

#define HEALTHZ_CONTENT_TYPE "application/json"

/** Append the JSON document for @p channels (@p count snapshots, borrowed)
 *  to @p out (borrowed); *@p http_status receives 200 or 503. RV_OK or
 *  RV_ENOMEM. Thread: any. */
int healthz_render_channels(const channel_status *channels, size_t count, text_buffer *out,
                            unsigned *http_status);

/** The same for every running channel of @p e (borrowed). */
int healthz_render(engine *e, text_buffer *out, unsigned *http_status);

#endif
