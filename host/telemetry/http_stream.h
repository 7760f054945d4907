/**
 * @file host/telemetry/http_stream.h
 * @short Viewer outputs on the engine's HTTP server: `GET /channel/<id>.ts`
 *        (the channel's shared MPEG-TS rendition, chunked, starting at the
 *        cached keyframe) and `GET /channels.m3u` (an extended M3U playlist
 *        of every channel, as IPTV clients and Jellyfin/Plex tuners read it).
 *
 * Owns, per viewer, its place in the rendition's stream hub (a stream_sub
 * with a bounded queue) for the life of the HTTP response. A viewer that
 * falls behind its bound is dropped alone: its connection is closed, the
 * channel and the other viewers never wait. Threads: libmicrohttpd's, one
 * per connection, parse the request and send the headers; one thread for
 * all viewers writes the bodies (http_viewers.h).
 */
#ifndef RV_HOST_TELEMETRY_HTTP_STREAM_H
#define RV_HOST_TELEMETRY_HTTP_STREAM_H

#include <stdint.h>

#include <microhttpd.h>

#include "engine/engine.h"
#include "telemetry/http_route.h"
#include "telemetry/http_viewers.h"

/** How far a viewer may fall behind before it is dropped (bytes). */
#define HTTP_STREAM_VIEWER_QUEUE_BYTES (8u * 1024u * 1024u)

/** Parse "/channel/<id>.<ext>" (@p url borrowed): the id (> 0) into
 *  *@p id and 1, or 0 when the path is not of that form. */
int http_stream_parse(const char *url, const char *ext, int32_t *id);

/** Queue the reply to `GET /channel/<id>.ts` on @p conn: 200 with the live
 *  stream (its body written by @p vs's thread, http_viewers.h), 404 when
 *  the channel is not running, 503 when it has no rendition. @p e and
 *  @p vs borrowed. Thread: the connection's. */
enum MHD_Result http_stream_ts(struct MHD_Connection *conn, engine *e, http_viewers *vs,
                               int32_t id);

/** `GET /channels.m3u`: #EXTM3U with one #EXTINF (tvg-id, tvg-name,
 *  group-title, name) and URL per channel, running or configured; URLs are
 *  built from the request's Host header (or @p fallback_host).
 *  RV_OK or RV_ENOMEM. */
int http_stream_m3u(engine *e, const char *host_header, const char *fallback_host,
                    http_reply *out);

#endif
