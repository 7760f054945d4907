/**
 * @file host/telemetry/http_channels.c
 * @short GET /channels and /channels/<id> as JSON (jansson), from the
 *        engine's status API and its configured channels (see
 *        http_channels.h). Owns nothing between requests.
 */
#include "telemetry/http_channels.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "telemetry/http_preview.h"

#define HTTP_CHANNELS_PREFIX "/channels"
#define HTTP_JSON_TYPE "application/json"

/** json_integer for an instant or duration, JSON null for "unknown". */
static json_t *http_ms(int64_t ms, int known)
{
    return known ? json_integer(ms) : json_null();
}

/** @p o gets @p key = @p value (reference stolen); counts failures. */
static void http_set(json_t *o, const char *key, json_t *value, int *failed)
{
    if (!value || json_object_set_new(o, key, value) != 0)
        *failed = 1;
}

/** UTC ms of the instant of the channel's last tick (exact integer maths). */
static int64_t http_tick_utc_ms(const channel_status *st)
{
    return st->epoch_utc_ms + rv_ticks_to_ns(st->format.frame_rate, st->tick) / 1000000;
}

static json_t *http_now_json(const channel_status *st)
{
    if (st->tick < 0 || st->segment_index < 0)
        return json_null();
    int failed = 0;
    json_t *o = json_object();
    if (!o)
        return NULL;
    int has_end = st->segment_end_utc_ms != INT64_MAX;
    int64_t remaining = st->segment_end_utc_ms - http_tick_utc_ms(st);
    http_set(o, "block_id", json_string(st->block_id), &failed);
    http_set(o, "event_id", json_string(st->event_id), &failed);
    http_set(o, "asset_uri", json_string(st->asset_uri), &failed);
    http_set(o, "segment_index", json_integer(st->segment_index), &failed);
    http_set(o, "start_utc_ms", json_integer(st->segment_start_utc_ms), &failed);
    http_set(o, "end_utc_ms", http_ms(st->segment_end_utc_ms, has_end), &failed);
    http_set(o, "position_ms", http_ms(st->position_ms, st->position_ms >= 0), &failed);
    http_set(o, "remaining_ms", http_ms(remaining < 0 ? 0 : remaining, has_end), &failed);
    if (failed) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *http_next_json(const channel_status *st)
{
    if (st->tick < 0 || st->next_segment_index < 0)
        return json_null();
    int failed = 0;
    json_t *o = json_object();
    if (!o)
        return NULL;
    http_set(o, "block_id", json_string(st->next_block_id), &failed);
    http_set(o, "event_id", json_string(st->next_event_id), &failed);
    http_set(o, "asset_uri", json_string(st->next_asset_uri), &failed);
    http_set(o, "segment_index", json_integer(st->next_segment_index), &failed);
    http_set(o, "start_utc_ms", json_integer(st->next_start_utc_ms), &failed);
    http_set(o, "end_utc_ms", http_ms(st->next_end_utc_ms, st->next_end_utc_ms != INT64_MAX),
             &failed);
    if (failed) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *http_sinks_json(const channel_status *st)
{
    json_t *a = json_array();
    if (!a)
        return NULL;
    for (size_t i = 0; i < st->sink_count; i++) {
        const sink_status *ss = &st->sinks[i];
        int failed = 0;
        json_t *o = json_object();
        if (!o || json_array_append_new(a, o) != 0) {
            json_decref(a);
            return NULL;
        }
        http_set(o, "module", json_string(ss->module), &failed);
        http_set(o, "address", json_string(ss->address), &failed);
        http_set(o, "clients", json_integer(ss->stats.clients), &failed);
        http_set(o, "bytes", json_integer((json_int_t)ss->stats.bytes), &failed);
        http_set(o, "disconnects", json_integer((json_int_t)ss->stats.disconnects), &failed);
        http_set(o, "dropped_frames", json_integer((json_int_t)ss->stats.dropped_frames),
                 &failed);
        http_set(o, "queue_dropped", json_integer((json_int_t)ss->queue_dropped), &failed);
        http_set(o, "restarts", json_integer((json_int_t)ss->restarts), &failed);
        if (failed) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *http_format_json(const rv_program_format *f)
{
    char rate[32];
    snprintf(rate, sizeof(rate), "%d/%d", f->frame_rate.num, f->frame_rate.den);
    return json_pack("{s:I, s:I, s:s, s:I, s:I}", "width", (json_int_t)f->width, "height",
                     (json_int_t)f->height, "frame_rate", rate, "audio_rate",
                     (json_int_t)f->audio_rate, "audio_channels", (json_int_t)f->audio_channels);
}

/** A running channel. NULL when out of memory. */
static json_t *http_running_json(const channel_status *st)
{
    int failed = 0;
    char preview[64];
    snprintf(preview, sizeof(preview), HTTP_CHANNELS_PREFIX "/%" PRId32 "/preview.jpg", st->id);
    json_t *o = json_object();
    if (!o)
        return NULL;
    http_set(o, "id", json_integer(st->id), &failed);
    http_set(o, "name", json_string(st->name), &failed);
    http_set(o, "state", json_string(channel_state_name(st->state)), &failed);
    http_set(o, "running", json_true(), &failed);
    http_set(o, "plan_handle", json_string(st->plan_handle), &failed);
    http_set(o, "tick", json_integer(st->tick), &failed);
    http_set(o, "frame_gap_seconds", json_real(st->frame_gap_seconds), &failed);
    http_set(o, "epoch_utc_ms", json_integer(st->epoch_utc_ms), &failed);
    http_set(o, "tick_utc_ms", http_ms(http_tick_utc_ms(st), st->tick >= 0), &failed);
    http_set(o, "format", http_format_json(&st->format), &failed);
    http_set(o, "now", http_now_json(st), &failed);
    http_set(o, "next", http_next_json(st), &failed);
    http_set(o, "sinks", http_sinks_json(st), &failed);
    http_set(o, "frames",
             json_pack("{s:I, s:I, s:I, s:I}", "real", (json_int_t)st->frames_real, "freeze",
                       (json_int_t)st->frames_freeze, "slate", (json_int_t)st->frames_slate, "pad",
                       (json_int_t)st->frames_pad),
             &failed);
    http_set(o, "last_error", json_string(st->last_error), &failed);
    http_set(o, "preview", json_string(preview), &failed);
    if (failed) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/** A configured channel that is not running. NULL when out of memory. */
static json_t *http_stopped_json(const engine_configured_channel *cc)
{
    return json_pack("{s:I, s:s, s:s, s:b, s:s, s:I, s:n, s:n, s:[], s:s, s:n}", "id",
                     (json_int_t)cc->id, "name", cc->name, "state",
                     channel_state_name(CHANNEL_STOPPED), "running", 0, "plan_handle",
                     cc->autostart_plan, "tick", (json_int_t)-1, "now", "next", "sinks",
                     "last_error", "", "preview");
}

/** Serialise @p doc (reference stolen) into @p out with @p status. */
static int http_reply_json(http_reply *out, unsigned status, json_t *doc)
{
    if (!doc)
        return RV_ENOMEM;
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (!text)
        return RV_ENOMEM;
    out->status = status;
    out->content_type = HTTP_JSON_TYPE;
    out->body = text;
    out->len = strlen(text);
    return RV_OK;
}

/** Every running channel, then every configured one that is not, by id. */
static int http_channels_list(engine *e, http_reply *out)
{
    channel_status *running = NULL;
    size_t running_count = 0;
    engine_configured_channel *configured = NULL;
    size_t configured_count = 0;
    int rc = engine_list_channels(e, &running, &running_count);
    if (rc == RV_OK)
        rc = engine_list_configured(e, &configured, &configured_count);
    json_t *list = rc == RV_OK ? json_array() : NULL;
    if (rc == RV_OK && !list)
        rc = RV_ENOMEM;
    for (size_t i = 0; rc == RV_OK && i < running_count; i++)
        if (json_array_append_new(list, http_running_json(&running[i])) != 0)
            rc = RV_ENOMEM;
    for (size_t i = 0; rc == RV_OK && i < configured_count; i++) {
        int is_running = 0;
        for (size_t j = 0; j < running_count && !is_running; j++)
            is_running = running[j].id == configured[i].id;
        if (!is_running && json_array_append_new(list, http_stopped_json(&configured[i])) != 0)
            rc = RV_ENOMEM;
    }
    free(running);
    free(configured);
    if (rc != RV_OK) {
        json_decref(list);
        return rc;
    }
    return http_reply_json(out, 200, json_pack("{s:o}", "channels", list));
}

/** One channel: running, else configured and stopped, else 404. */
static int http_channels_one(engine *e, int32_t id, http_reply *out)
{
    channel_status *st = malloc(sizeof(*st));
    if (!st)
        return RV_ENOMEM;
    int rc = engine_channel_status(e, id, st);
    if (rc == RV_OK) {
        rc = http_reply_json(out, 200, http_running_json(st));
        free(st);
        return rc;
    }
    free(st);
    engine_configured_channel *configured = NULL;
    size_t count = 0;
    rc = engine_list_configured(e, &configured, &count);
    for (size_t i = 0; rc == RV_OK && i < count; i++) {
        if (configured[i].id == id) {
            rc = http_reply_json(out, 200, http_stopped_json(&configured[i]));
            free(configured);
            return rc;
        }
    }
    free(configured);
    if (rc != RV_OK)
        return rc;
    return http_reply_text(out, 404, "no such channel\n");
}

/** Parse a channel id (decimal, > 0, fits int32) at @p s; *@p end receives
 *  the first character after it. 0 when there is none. */
static int http_parse_id(const char *s, int32_t *id, const char **end)
{
    if (*s < '0' || *s > '9')
        return 0;
    errno = 0;
    char *stop = NULL;
    long long v = strtoll(s, &stop, 10);
    if (errno != 0 || v <= 0 || v > INT32_MAX)
        return 0;
    *id = (int32_t)v;
    *end = stop;
    return 1;
}

int http_channels_handle(engine *e, const http_request *req, http_reply *out)
{
    const char *url = req->url;
    size_t plen = strlen(HTTP_CHANNELS_PREFIX);
    if (strncmp(url, HTTP_CHANNELS_PREFIX, plen) != 0)
        return http_reply_text(out, 404, "not found\n");
    const char *rest = url + plen;
    if (strcmp(rest, "") == 0 || strcmp(rest, "/") == 0)
        return http_channels_list(e, out);
    int32_t id = 0;
    const char *after = NULL;
    if (rest[0] != '/' || !http_parse_id(rest + 1, &id, &after))
        return http_reply_text(out, 404, "not found\n");
    if (strcmp(after, "") == 0 || strcmp(after, "/") == 0)
        return http_channels_one(e, id, out);
    if (strcmp(after, "/preview.jpg") == 0)
        return http_preview_reply(e, id, req, out);
    return http_reply_text(out, 404, "not found\n");
}
