/**
 * @file host/telemetry/http_preview.h
 * @short GET /channels/<id>/preview.jpg: the latest image the channel's
 *        renderer published (engine_channel_preview), with
 *        `ETag: "<version>"`, `Cache-Control: no-cache` (a browser must
 *        revalidate, so it never shows a stale frame) and If-None-Match
 *        answered with 304, and `X-RetroVue-Tick: <tick>` (the channel's
 *        last emitted tick when the image was published; the picture is
 *        that tick's or one of the few before). 404 when the channel is not running or has
 *        published nothing yet. Owns nothing between requests.
 */
#ifndef RV_HOST_TELEMETRY_HTTP_PREVIEW_H
#define RV_HOST_TELEMETRY_HTTP_PREVIEW_H

#include <stdint.h>

#include "telemetry/http_route.h"

/** Fill @p out for channel @p id's preview; @p req borrowed (its
 *  If-None-Match is honoured). RV_OK or RV_ENOMEM. */
int http_preview_reply(engine *e, int32_t id, const http_request *req, http_reply *out);

#endif
