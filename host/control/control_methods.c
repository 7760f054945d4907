/**
 * @file host/control/control_methods.c
 * @short PlayoutControl's handlers and method table. Owns nothing: requests
 *        are borrowed, responses belong to the rpc_server's per-call arena,
 *        the engine is borrowed (the handlers' user pointer).
 *
 * Every handler validates the request before it calls the engine, then maps
 * the engine's result: RV_OK -> success=true with the engine's sentence,
 * any error -> success=false with it. Failures are answers, not gRPC
 * errors: the gRPC status is OK unless the payload itself was bad.
 */
#include "control/control_methods.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <retrovue/error.h>

#include "control/control_session.h"
#include "control/control_validate.h"
#include "core/log.h"
#include "engine/engine.h"
#include "playout_api_version.h"
#include "retrovue/playout.pb-c.h"

#define CONTROL_MSG_BYTES 512

/** The engine's sentence, or a generic one when it wrote none. */
static const char *control_message(int rc, const char *msg, const char *ok_text, char *buf,
                                   size_t buflen)
{
    if (msg[0])
        return msg;
    if (rc == RV_OK)
        return ok_text;
    snprintf(buf, buflen, "%s", rv_strerror(rc));
    return buf;
}

static grpc_status_code control_start_channel(void *user, const ProtobufCMessage *request,
                                              ProtobufCMessage *response, rpc_reply *reply)
{
    engine *e = user;
    const Retrovue__Playout__StartChannelRequest *req = (const void *)request;
    Retrovue__Playout__StartChannelResponse *resp = (void *)response;
    char msg[CONTROL_MSG_BYTES] = "";
    char buf[64];
    rv_program_format format;
    int has_format = 0;
    const control_start_fields fields = {
        .channel_id = req->channel_id,
        .plan_handle = req->plan_handle,
        .port = req->port,
        .program_format_json = req->program_format_json,
    };
    int rc = control_check_start(&fields, &format, &has_format, msg, sizeof(msg));
    if (rc == RV_OK) {
        const engine_start_request er = {
            .channel_id = req->channel_id,
            .plan_handle = req->plan_handle,
            .port = req->port,
            .format = has_format ? &format : NULL,
        };
        rc = engine_start_channel(e, &er, msg, sizeof(msg));
    }
    log_write(rc == RV_OK ? RV_LOG_INFO : RV_LOG_WARN, req->channel_id, NULL,
              "control: StartChannel plan=%.255s: %s", req->plan_handle, msg);
    resp->success = rc == RV_OK;
    resp->message = rpc_reply_strdup(reply, control_message(rc, msg, "started", buf, sizeof(buf)));
    return GRPC_STATUS_OK;
}

static grpc_status_code control_update_plan(void *user, const ProtobufCMessage *request,
                                            ProtobufCMessage *response, rpc_reply *reply)
{
    engine *e = user;
    const Retrovue__Playout__UpdatePlanRequest *req = (const void *)request;
    Retrovue__Playout__UpdatePlanResponse *resp = (void *)response;
    char msg[CONTROL_MSG_BYTES] = "";
    char buf[64];
    int rc = control_check_channel_id(req->channel_id, msg, sizeof(msg));
    if (rc == RV_OK)
        rc = control_check_plan_handle(req->plan_handle, msg, sizeof(msg));
    if (rc == RV_OK)
        rc = engine_update_plan(e, req->channel_id, req->plan_handle, msg, sizeof(msg));
    log_write(rc == RV_OK ? RV_LOG_INFO : RV_LOG_WARN, req->channel_id, NULL,
              "control: UpdatePlan plan=%.255s: %s", req->plan_handle, msg);
    resp->success = rc == RV_OK;
    resp->message = rpc_reply_strdup(reply, control_message(rc, msg, "plan updated", buf, sizeof(buf)));
    return GRPC_STATUS_OK;
}

static grpc_status_code control_stop_channel(void *user, const ProtobufCMessage *request,
                                             ProtobufCMessage *response, rpc_reply *reply)
{
    engine *e = user;
    const Retrovue__Playout__StopChannelRequest *req = (const void *)request;
    Retrovue__Playout__StopChannelResponse *resp = (void *)response;
    char msg[CONTROL_MSG_BYTES] = "";
    char buf[64];
    int rc = control_check_channel_id(req->channel_id, msg, sizeof(msg));
    if (rc == RV_OK)
        rc = engine_stop_channel(e, req->channel_id, msg, sizeof(msg));
    log_write(rc == RV_OK ? RV_LOG_INFO : RV_LOG_WARN, req->channel_id, NULL,
              "control: StopChannel: %s", msg);
    resp->success = rc == RV_OK;
    resp->message = rpc_reply_strdup(reply, control_message(rc, msg, "stopped", buf, sizeof(buf)));
    return GRPC_STATUS_OK;
}

static grpc_status_code control_get_version(void *user, const ProtobufCMessage *request,
                                            ProtobufCMessage *response, rpc_reply *reply)
{
    (void)user;
    (void)request;
    (void)reply;
    Retrovue__Playout__ApiVersion *resp = (void *)response;
    resp->version = (char *)PLAYOUT_API_VERSION;
    return GRPC_STATUS_OK;
}

/** Copy @p st (borrowed) into a ChannelReport owned by @p reply. */
static Retrovue__Playout__ChannelReport *control_report(rpc_reply *reply, const channel_status *st)
{
    Retrovue__Playout__ChannelReport *r =
        (void *)rpc_reply_message(reply, &retrovue__playout__channel_report__descriptor);
    Retrovue__Playout__FormatReport *f =
        (void *)rpc_reply_message(reply, &retrovue__playout__format_report__descriptor);
    size_t n = st->sink_count < ENGINE_MAX_SINKS ? st->sink_count : ENGINE_MAX_SINKS;
    Retrovue__Playout__SinkReport **sinks = rpc_reply_alloc(reply, (n + 1) * sizeof(*sinks));
    if (!r || !f || !sinks)
        return NULL;
    r->channel_id = st->id;
    r->name = rpc_reply_strdup(reply, st->name);
    r->state = rpc_reply_strdup(reply, channel_state_name(st->state));
    r->plan_handle = rpc_reply_strdup(reply, st->plan_handle);
    r->block_id = rpc_reply_strdup(reply, st->block_id);
    r->segment_index = st->segment_index;
    r->event_id = rpc_reply_strdup(reply, st->event_id);
    r->asset_uri = rpc_reply_strdup(reply, st->asset_uri);
    r->tick = st->tick;
    r->frame_gap_seconds = st->frame_gap_seconds;
    r->buffer_depth_frames = st->buffer_depth_frames;
    r->frames_real = st->frames_real;
    r->frames_freeze = st->frames_freeze;
    r->frames_slate = st->frames_slate;
    r->frames_pad = st->frames_pad;
    r->late_ticks = st->late_ticks;
    r->producer_errors = st->producer_errors;
    r->last_error = rpc_reply_strdup(reply, st->last_error);
    f->width = st->format.width;
    f->height = st->format.height;
    f->frame_rate_num = st->format.frame_rate.num;
    f->frame_rate_den = st->format.frame_rate.den;
    f->audio_rate = st->format.audio_rate;
    f->audio_channels = st->format.audio_channels;
    r->format = f;
    for (size_t i = 0; i < n; i++) {
        const sink_status *ss = &st->sinks[i];
        Retrovue__Playout__SinkReport *s =
            (void *)rpc_reply_message(reply, &retrovue__playout__sink_report__descriptor);
        if (!s)
            return NULL;
        s->module = rpc_reply_strdup(reply, ss->module);
        s->address = rpc_reply_strdup(reply, ss->address);
        s->clients = ss->stats.clients;
        s->bytes = ss->stats.bytes;
        s->disconnects = ss->stats.disconnects;
        s->dropped_frames = ss->stats.dropped_frames;
        s->encode_ns = ss->stats.encode_ns;
        s->queue_dropped = ss->queue_dropped;
        s->restarts = ss->restarts;
        sinks[i] = s;
    }
    r->n_sinks = n;
    r->sinks = sinks;
    return r;
}

static grpc_status_code control_get_channel_status(void *user, const ProtobufCMessage *request,
                                                   ProtobufCMessage *response, rpc_reply *reply)
{
    engine *e = user;
    const Retrovue__Playout__ChannelStatusQuery *req = (const void *)request;
    Retrovue__Playout__ChannelStatusReply *resp = (void *)response;
    char msg[CONTROL_MSG_BYTES] = "";
    int rc = control_check_channel_id(req->channel_id, msg, sizeof(msg));
    channel_status *st = calloc(1, sizeof(*st));
    if (!st) {
        rpc_reply_set_detail(reply, "out of memory");
        return GRPC_STATUS_RESOURCE_EXHAUSTED;
    }
    st->id = req->channel_id;
    st->state = CHANNEL_STOPPED;
    st->tick = -1;
    if (rc == RV_OK)
        rc = engine_channel_status(e, req->channel_id, st);
    if (rc == RV_ENOENT) {
        snprintf(msg, sizeof(msg), "channel %d is not running", (int)req->channel_id);
        memset(st, 0, sizeof(*st));
        st->id = req->channel_id;
        st->state = CHANNEL_STOPPED;
        st->tick = -1;
    } else if (rc != RV_OK && !msg[0]) {
        snprintf(msg, sizeof(msg), "%s", rv_strerror(rc));
    } else if (rc == RV_OK) {
        snprintf(msg, sizeof(msg), "%s", channel_state_name(st->state));
    }
    resp->success = rc == RV_OK;
    resp->message = rpc_reply_strdup(reply, msg);
    resp->channel = control_report(reply, st);
    free(st);
    if (!resp->channel) {
        rpc_reply_set_detail(reply, "out of memory");
        return GRPC_STATUS_RESOURCE_EXHAUSTED;
    }
    return GRPC_STATUS_OK;
}

static grpc_status_code control_list_channels(void *user, const ProtobufCMessage *request,
                                              ProtobufCMessage *response, rpc_reply *reply)
{
    engine *e = user;
    (void)request;
    Retrovue__Playout__ChannelListReply *resp = (void *)response;
    channel_status *all = NULL;
    size_t count = 0;
    int rc = engine_list_channels(e, &all, &count);
    if (rc != RV_OK) {
        rpc_reply_set_detail(reply, "listing channels failed: %s", rv_strerror(rc));
        return GRPC_STATUS_INTERNAL;
    }
    grpc_status_code status = GRPC_STATUS_OK;
    Retrovue__Playout__ChannelReport **reports = rpc_reply_alloc(reply, (count + 1) * sizeof(*reports));
    if (!reports)
        status = GRPC_STATUS_RESOURCE_EXHAUSTED;
    for (size_t i = 0; status == GRPC_STATUS_OK && i < count; i++) {
        reports[i] = control_report(reply, &all[i]);
        if (!reports[i])
            status = GRPC_STATUS_RESOURCE_EXHAUSTED;
    }
    free(all);
    if (status != GRPC_STATUS_OK) {
        rpc_reply_set_detail(reply, "out of memory");
        return status;
    }
    resp->n_channels = count;
    resp->channels = reports;
    return GRPC_STATUS_OK;
}

#define CONTROL_PATH(m) "/retrovue.playout.PlayoutControl/" m

const rpc_method control_methods[] = {
    {.path = CONTROL_PATH("StartChannel"),
     .request = &retrovue__playout__start_channel_request__descriptor,
     .response = &retrovue__playout__start_channel_response__descriptor,
     .handler = control_start_channel, .serialise_by = "channel_id"},
    {.path = CONTROL_PATH("UpdatePlan"),
     .request = &retrovue__playout__update_plan_request__descriptor,
     .response = &retrovue__playout__update_plan_response__descriptor,
     .handler = control_update_plan, .serialise_by = "channel_id"},
    {.path = CONTROL_PATH("StopChannel"),
     .request = &retrovue__playout__stop_channel_request__descriptor,
     .response = &retrovue__playout__stop_channel_response__descriptor,
     .handler = control_stop_channel, .serialise_by = "channel_id"},
    {.path = CONTROL_PATH("GetVersion"),
     .request = &retrovue__playout__api_version_request__descriptor,
     .response = &retrovue__playout__api_version__descriptor,
     .handler = control_get_version},
    {.path = CONTROL_PATH("LoadPreview"),
     .request = &retrovue__playout__load_preview_request__descriptor,
     .response = &retrovue__playout__load_preview_response__descriptor,
     .handler = control_legacy_unimplemented},
    {.path = CONTROL_PATH("SwitchToLive"),
     .request = &retrovue__playout__switch_to_live_request__descriptor,
     .response = &retrovue__playout__switch_to_live_response__descriptor,
     .handler = control_legacy_unimplemented},
    {.path = CONTROL_PATH("AttachStream"),
     .request = &retrovue__playout__attach_stream_request__descriptor,
     .response = &retrovue__playout__attach_stream_response__descriptor,
     .handler = control_attach_stream, .serialise_by = "channel_id"},
    {.path = CONTROL_PATH("DetachStream"),
     .request = &retrovue__playout__detach_stream_request__descriptor,
     .response = &retrovue__playout__detach_stream_response__descriptor,
     .handler = control_detach_stream, .serialise_by = "channel_id"},
    {.path = CONTROL_PATH("StartBlockPlanSession"),
     .request = &retrovue__playout__start_block_plan_session_request__descriptor,
     .response = &retrovue__playout__start_block_plan_session_response__descriptor,
     .handler = control_start_session, .serialise_by = "channel_id"},
    {.path = CONTROL_PATH("FeedBlockPlan"),
     .request = &retrovue__playout__feed_block_plan_request__descriptor,
     .response = &retrovue__playout__feed_block_plan_response__descriptor,
     .handler = control_feed_block, .serialise_by = "channel_id"},
    {.path = CONTROL_PATH("StopBlockPlanSession"),
     .request = &retrovue__playout__stop_block_plan_session_request__descriptor,
     .response = &retrovue__playout__stop_block_plan_session_response__descriptor,
     .handler = control_stop_session, .serialise_by = "channel_id"},
    /* Opens the stream and returns: it never holds the channel's turn. */
    {.path = CONTROL_PATH("SubscribeBlockEvents"),
     .request = &retrovue__playout__subscribe_block_events_request__descriptor,
     .response = &retrovue__playout__block_event__descriptor,
     .stream = control_subscribe_events, .serialise_by = "channel_id"},
    {.path = CONTROL_PATH("GetChannelStatus"),
     .request = &retrovue__playout__channel_status_query__descriptor,
     .response = &retrovue__playout__channel_status_reply__descriptor,
     .handler = control_get_channel_status},
    {.path = CONTROL_PATH("ListChannels"),
     .request = &retrovue__playout__channel_list_query__descriptor,
     .response = &retrovue__playout__channel_list_reply__descriptor,
     .handler = control_list_channels},
    {.path = NULL},
};
