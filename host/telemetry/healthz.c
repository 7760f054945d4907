/**
 * @file host/telemetry/healthz.c
 * @short Render /healthz with jansson: every running channel with its state,
 *        and for each one that is not ready, why. Owns nothing.
 *
 *   200 {"status":"ok","channels":[{"id":1,"name":"..","state":"ready"}]}
 *   503 {"status":"unavailable","channels":[...],
 *        "not_ready":[{"id":1,"name":"..","state":"error","reason":".."}]}
 */
#include "telemetry/healthz.h"

#include <stdlib.h>

#include <jansson.h>

#include <retrovue/error.h>

#define HEALTHZ_OK 200
#define HEALTHZ_UNAVAILABLE 503

/** Why @p ch is not ready: its last error as anyone may read it (no file
 *  names, no system error text: /healthz needs no credentials, and "permission
 *  denied" vs "not media" would tell which files exist; the detail is in the
 *  log and the control plane's status), or a sentence from its state. */
static const char *healthz_reason(const channel_status *ch)
{
    if (ch->public_error[0])
        return ch->public_error;
    switch (ch->state) {
    case CHANNEL_BUFFERING: return "buffering: waiting for the first frame";
    case CHANNEL_STOPPED: return "stopping";
    default: return "not ready";
    }
}

static json_t *healthz_channel(const channel_status *ch, int with_reason)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    if (json_object_set_new(o, "id", json_integer(ch->id)) ||
        json_object_set_new(o, "name", json_string(ch->name)) ||
        json_object_set_new(o, "state", json_string(channel_state_name(ch->state))) ||
        json_object_set_new(o, "tick", json_integer(ch->tick)) ||
        (with_reason && json_object_set_new(o, "reason", json_string(healthz_reason(ch))))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int healthz_render_channels(const channel_status *channels, size_t count, text_buffer *out,
                            unsigned *http_status)
{
    int rc = RV_ENOMEM;
    char *text = NULL;
    json_t *all = json_array();
    json_t *not_ready = json_array();
    json_t *doc = json_object();
    if (!all || !not_ready || !doc)
        goto fail;
    for (size_t i = 0; i < count; i++) {
        const channel_status *ch = &channels[i];
        if (json_array_append_new(all, healthz_channel(ch, 0)))
            goto fail;
        int healthy = ch->state == CHANNEL_READY || ch->state == CHANNEL_IDLE;
        if (!healthy && json_array_append_new(not_ready, healthz_channel(ch, 1)))
            goto fail;
    }
    int ok = json_array_size(not_ready) == 0;
    if (json_object_set_new(doc, "status", json_string(ok ? "ok" : "unavailable")) ||
        json_object_set(doc, "channels", all) ||
        (!ok && json_object_set(doc, "not_ready", not_ready)))
        goto fail;
    text = json_dumps(doc, JSON_COMPACT);
    if (!text)
        goto fail;
    text_buffer_puts(out, text);
    text_buffer_puts(out, "\n");
    *http_status = ok ? HEALTHZ_OK : HEALTHZ_UNAVAILABLE;
    rc = text_buffer_failed(out) ? RV_ENOMEM : RV_OK;
fail:
    free(text);
    json_decref(doc);
    json_decref(all);
    json_decref(not_ready);
    return rc;
}

int healthz_render(engine *e, text_buffer *out, unsigned *http_status)
{
    channel_status *channels = NULL;
    size_t count = 0;
    int rc = engine_list_channels(e, &channels, &count);
    if (rc != RV_OK)
        return rc;
    rc = healthz_render_channels(channels, count, out, http_status);
    free(channels);
    return rc;
}
