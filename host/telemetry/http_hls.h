/**
 * @file host/telemetry/http_hls.h
 * @short HLS on the engine's HTTP server: `GET /channel/<id>.m3u8` (a live
 *        media playlist, RFC 8216) and `GET /channel/<id>/<seq>.ts` (its
 *        segments, kept in memory).
 *
 * Owns one segmenter per channel that someone watches over HLS: a reader of
 * the channel's shared rendition (stream hub) on its own thread that cuts
 * the stream at random access points into segments of at least the target
 * duration, so every segment starts with PAT/PMT and a keyframe, and keeps
 * a live window of them. Each segment carries the channel's UTC of its first
 * tick (EXT-X-PROGRAM-DATE-TIME). A segmenter nobody asked for in
 * HLS_IDLE_S seconds stops; one whose channel stopped ends and is replaced
 * on the next request. Threads: libmicrohttpd's (requests), one per
 * segmenter.
 */
#ifndef RV_HOST_TELEMETRY_HTTP_HLS_H
#define RV_HOST_TELEMETRY_HTTP_HLS_H

#include <stdint.h>

#include "engine/engine.h"
#include "telemetry/http_route.h"

/** Segments listed in the playlist, and the target duration (s). */
#define HLS_WINDOW_SEGMENTS 6
#define HLS_TARGET_S 2
/** A segmenter nobody polled for this long stops (s). */
#define HLS_IDLE_S 30

typedef struct http_hls http_hls;

http_hls *http_hls_create(engine *e);
/** Stop every segmenter and free. */
void http_hls_destroy(http_hls *h);

/** `/channel/<id>.m3u8` (waits up to a few target durations for the first
 *  segment of a new segmenter) and `/channel/<id>/<seq>.ts`. Fills @p out:
 *  200, 404 (not running, or a segment out of the window), 503 (no
 *  rendition, or no segment yet). RV_OK or RV_ENOMEM. Thread: any. */
int http_hls_playlist(http_hls *h, int32_t id, http_reply *out);
int http_hls_segment(http_hls *h, int32_t id, uint64_t seq, http_reply *out);

/** Parse "/channel/<id>/<seq>.ts" (@p url borrowed). 1 and the numbers, or 0. */
int http_hls_parse_segment(const char *url, int32_t *id, uint64_t *seq);

#endif
