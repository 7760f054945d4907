/**
 * @file host/telemetry/http_channels.h
 * @short The /channels routes: GET /channels (every configured or running
 *        channel as JSON), GET /channels/<id> (one of them; 404 when the
 *        engine neither runs nor configures it) and, delegated to
 *        http_preview, GET /channels/<id>/preview.jpg. Owns nothing.
 *
 * One channel's JSON:
 *   {"id":1,"name":"..","state":"ready","running":true,"plan_handle":"demo",
 *    "tick":123,"frame_gap_seconds":0.001,"epoch_utc_ms":..,"tick_utc_ms":..,
 *    "format":{"width":..,"height":..,"frame_rate":"30000/1001"},
 *    "now":{"block_id":..,"event_id":..,"asset_uri":..,"segment_index":0,
 *           "start_utc_ms":..,"end_utc_ms":..,"position_ms":..,"remaining_ms":..},
 *    "next":{"block_id":..,"event_id":..,"asset_uri":..,"segment_index":1,
 *            "start_utc_ms":..,"end_utc_ms":..},
 *    "sinks":[{"module":"mpegts-tcp","address":"tcp://..","clients":0,
 *              "bytes":..,"disconnects":..,"dropped_frames":..,
 *              "queue_dropped":..,"restarts":..}],
 *    "frames":{"real":..,"freeze":..,"slate":..,"pad":..},
 *    "last_error":"","preview":"/channels/1/preview.jpg"}
 * A configured channel that is not running has state "stopped", running
 * false and null now/next. Times are UTC ms; null where unknown (an
 * open-ended segment has a null end and remaining).
 */
#ifndef RV_HOST_TELEMETRY_HTTP_CHANNELS_H
#define RV_HOST_TELEMETRY_HTTP_CHANNELS_H

#include "telemetry/http_route.h"

/** http_handler_fn for "/channels" and every path below "/channels/". */
int http_channels_handle(engine *e, const http_request *req, http_reply *out);

#endif
