/**
 * @file host/control/control_session.c
 * @short The BlockPlan session handlers (see control_session.h). Owns, per
 *        open SubscribeBlockEvents stream, one control_sub (the engine
 *        subscription's user pointer), freed with the stream. Requests are
 *        borrowed; responses belong to the rpc_server's per-call arena; the
 *        engine is borrowed.
 */
#include "control/control_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <retrovue/error.h>

#include "control/control_blockplan.h"
#include "control/control_validate.h"
#include "control/rpc_stream.h"
#include "core/log.h"
#include "engine/engine_session.h"
#include "retrovue/playout.pb-c.h"

#define CONTROL_MSG_BYTES 512

typedef Retrovue__Playout__BlockPlanResultCode control_code;
#define CONTROL_CODE_NONE RETROVUE__PLAYOUT__BLOCK_PLAN_RESULT_CODE__BLOCKPLAN_RESULT_UNSPECIFIED
#define CONTROL_CODE_INVALID_BLOCK \
    RETROVUE__PLAYOUT__BLOCK_PLAN_RESULT_CODE__BLOCKPLAN_RESULT_INVALID_BLOCK

/** The engine's sentence, or rv_strerror / @p ok_text when it wrote none. */
static const char *control_text(int rc, const char *msg, const char *ok_text)
{
    if (msg[0])
        return msg;
    return rc == RV_OK ? ok_text : rv_strerror(rc);
}

/** An engine session_result as the proto's code (same values). */
static control_code control_code_of(session_result r)
{
    return (control_code)r;
}

grpc_status_code control_attach_stream(void *user, const ProtobufCMessage *request,
                                       ProtobufCMessage *response, rpc_reply *reply)
{
    engine *e = user;
    const Retrovue__Playout__AttachStreamRequest *req = (const void *)request;
    Retrovue__Playout__AttachStreamResponse *resp = (void *)response;
    char msg[CONTROL_MSG_BYTES] = "";
    int rc = control_check_channel_id(req->channel_id, msg, sizeof(msg));
    stream_transport transport = STREAM_TRANSPORT_UDS;
    if (rc == RV_OK) {
        switch ((int)req->transport) {
        case RETROVUE__PLAYOUT__STREAM_TRANSPORT__STREAM_TRANSPORT_UNIX_DOMAIN_SOCKET:
            transport = STREAM_TRANSPORT_UDS;
            break;
        case RETROVUE__PLAYOUT__STREAM_TRANSPORT__STREAM_TRANSPORT_TCP_LOOPBACK:
            transport = STREAM_TRANSPORT_TCP_LOOPBACK;
            break;
        default:
            snprintf(msg, sizeof(msg),
                     "transport must be STREAM_TRANSPORT_UNIX_DOMAIN_SOCKET (1) or "
                     "STREAM_TRANSPORT_TCP_LOOPBACK (2) (got %d)",
                     (int)req->transport);
            rc = RV_EINVAL;
        }
    }
    if (rc == RV_OK && req->endpoint[0] == '\0') {
        snprintf(msg, sizeof(msg), "endpoint is empty (a socket path, or \"host:port\")");
        rc = RV_EINVAL;
    }
    if (rc == RV_OK)
        rc = control_check_text("endpoint", req->endpoint, CONTROL_MAX_TEXT_BYTES, msg,
                                sizeof(msg));
    if (rc == RV_OK)
        rc = engine_attach_stream(e, req->channel_id, transport, req->endpoint,
                                  req->replace_existing, msg, sizeof(msg));
    log_write(rc == RV_OK ? RV_LOG_INFO : RV_LOG_WARN, req->channel_id, NULL,
              "control: AttachStream %d %.255s: %s", (int)req->transport, req->endpoint,
              control_text(rc, msg, "attached"));
    resp->success = rc == RV_OK;
    if (rc == RV_OK) {
        resp->message = rpc_reply_strdup(reply, "Attached");
        resp->negotiated_transport = req->transport;
        resp->negotiated_endpoint = rpc_reply_strdup(reply, req->endpoint);
    } else {
        resp->message = rpc_reply_strdup(reply, control_text(rc, msg, ""));
    }
    return GRPC_STATUS_OK;
}

grpc_status_code control_detach_stream(void *user, const ProtobufCMessage *request,
                                       ProtobufCMessage *response, rpc_reply *reply)
{
    engine *e = user;
    const Retrovue__Playout__DetachStreamRequest *req = (const void *)request;
    Retrovue__Playout__DetachStreamResponse *resp = (void *)response;
    char msg[CONTROL_MSG_BYTES] = "";
    int rc = control_check_channel_id(req->channel_id, msg, sizeof(msg));
    if (rc == RV_OK)
        rc = engine_detach_stream(e, req->channel_id, msg, sizeof(msg));
    log_write(rc == RV_OK ? RV_LOG_INFO : RV_LOG_WARN, req->channel_id, NULL,
              "control: DetachStream: %s", control_text(rc, msg, "detached"));
    resp->success = rc == RV_OK;
    resp->message = rpc_reply_strdup(reply, control_text(rc, msg, "Detached"));
    return GRPC_STATUS_OK;
}

/** Convert @p in into @p out with segments from the call's arena. */
static int control_block(const Retrovue__Playout__BlockPlan *in, int32_t channel_id,
                         const char *what, plan_block *out, rpc_reply *reply, char *msg,
                         size_t msglen)
{
    size_t n = in && in->n_segments <= CONTROL_MAX_SEGMENTS ? in->n_segments : 0;
    plan_segment *segs = rpc_reply_alloc(reply, (n + 1) * sizeof(*segs));
    if (!segs) {
        snprintf(msg, msglen, "out of memory");
        return RV_ENOMEM;
    }
    return control_block_from_proto(in, channel_id, what, out, segs, n, msg, msglen);
}

/** StartBlockPlanSession's request checks and conversion. *@p code says
 *  which kind of refusal an error is. */
static int control_start_checks(const Retrovue__Playout__StartBlockPlanSessionRequest *req,
                                plan_block blocks[2], rv_program_format *format,
                                int *has_format, control_code *code, rpc_reply *reply,
                                char *msg, size_t msglen)
{
    *code = CONTROL_CODE_NONE;
    int rc = control_check_channel_id(req->channel_id, msg, msglen);
    if (rc == RV_OK)
        rc = control_check_text("channel_id_str", req->channel_id_str, CONTROL_MAX_TEXT_BYTES,
                                msg, msglen);
    if (rc == RV_OK)
        rc = control_check_text("evidence_endpoint", req->evidence_endpoint,
                                CONTROL_MAX_TEXT_BYTES, msg, msglen);
    /* the epoch is an instant like a block's: the same plan limits */
    if (rc == RV_OK && req->join_utc_ms != 0 &&
        (req->join_utc_ms < PLAN_UTC_MIN_MS || req->join_utc_ms > PLAN_UTC_MAX_MS)) {
        snprintf(msg, msglen, "join_utc_ms %lld is outside the plan limits [%lld, %lld]",
                 (long long)req->join_utc_ms, (long long)PLAN_UTC_MIN_MS,
                 (long long)PLAN_UTC_MAX_MS);
        rc = RV_EINVAL;
    }
    /* RetroVue's engine falls back to 640x480 on a bad format; a session
     * at a format nobody asked for is worse than a clear refusal. */
    if (rc == RV_OK)
        rc = control_check_format_json(req->program_format_json, format, has_format, msg,
                                       msglen);
    if (rc != RV_OK)
        return rc;
    *code = CONTROL_CODE_INVALID_BLOCK;
    rc = control_block(req->block_a, req->channel_id, "block_a", &blocks[0], reply, msg, msglen);
    if (rc == RV_OK)
        rc = control_block(req->block_b, req->channel_id, "block_b", &blocks[1], reply, msg,
                           msglen);
    return rc;
}

grpc_status_code control_start_session(void *user, const ProtobufCMessage *request,
                                       ProtobufCMessage *response, rpc_reply *reply)
{
    engine *e = user;
    const Retrovue__Playout__StartBlockPlanSessionRequest *req = (const void *)request;
    Retrovue__Playout__StartBlockPlanSessionResponse *resp = (void *)response;
    char msg[CONTROL_MSG_BYTES] = "";
    plan_block blocks[2];
    rv_program_format format;
    int has_format = 0;
    control_code code;
    int rc = control_start_checks(req, blocks, &format, &has_format, &code, reply, msg,
                                  sizeof(msg));
    if (rc == RV_OK) {
        const engine_session_start_request er = {
            .channel_id = req->channel_id,
            .blocks = blocks,
            .block_count = 2,
            .join_utc_ms = req->join_utc_ms,
            .format = has_format ? &format : NULL,
            .max_queue_depth = req->max_queue_depth,
            .evidence_endpoint = req->evidence_endpoint,
            .channel_id_str = req->channel_id_str,
        };
        session_result r = SESSION_RESULT_OK;
        rc = engine_session_start(e, &er, &r, msg, sizeof(msg));
        code = rc == RV_OK ? control_code_of(r) : CONTROL_CODE_NONE;
        if (rc == RV_OK && r != SESSION_RESULT_OK)
            rc = RV_ESTATE; /* a refusal, answered */
    }
    log_write(rc == RV_OK ? RV_LOG_INFO : RV_LOG_WARN, req->channel_id, NULL,
              "control: StartBlockPlanSession: %s", control_text(rc, msg, "started"));
    resp->success = rc == RV_OK;
    resp->result_code = rc == RV_OK ? control_code_of(SESSION_RESULT_OK) : code;
    resp->message = rpc_reply_strdup(reply, control_text(rc, msg, "BlockPlan session started"));
    return GRPC_STATUS_OK;
}

grpc_status_code control_feed_block(void *user, const ProtobufCMessage *request,
                                    ProtobufCMessage *response, rpc_reply *reply)
{
    engine *e = user;
    const Retrovue__Playout__FeedBlockPlanRequest *req = (const void *)request;
    Retrovue__Playout__FeedBlockPlanResponse *resp = (void *)response;
    char msg[CONTROL_MSG_BYTES] = "";
    plan_block block;
    control_code code = CONTROL_CODE_NONE;
    session_result r = SESSION_RESULT_OK;
    int rc = control_check_channel_id(req->channel_id, msg, sizeof(msg));
    if (rc == RV_OK) {
        code = CONTROL_CODE_INVALID_BLOCK;
        rc = control_block(req->block, req->channel_id, "block", &block, reply, msg, sizeof(msg));
    }
    if (rc == RV_OK) {
        rc = engine_session_feed(e, req->channel_id, &block, &r, msg, sizeof(msg));
        code = rc == RV_OK ? control_code_of(r) : CONTROL_CODE_NONE;
        if (rc == RV_OK && r != SESSION_RESULT_OK)
            rc = RV_ESTATE;
    }
    log_write(rc == RV_OK ? RV_LOG_INFO : RV_LOG_WARN, req->channel_id, NULL,
              "control: FeedBlockPlan %.255s: %s", req->block ? req->block->block_id : "-",
              control_text(rc, msg, "fed"));
    resp->success = rc == RV_OK;
    resp->result_code = rc == RV_OK ? control_code_of(SESSION_RESULT_OK) : code;
    resp->queue_full = code == control_code_of(SESSION_RESULT_QUEUE_FULL);
    resp->message = rpc_reply_strdup(reply, control_text(rc, msg, "Block fed"));
    return GRPC_STATUS_OK;
}

grpc_status_code control_stop_session(void *user, const ProtobufCMessage *request,
                                      ProtobufCMessage *response, rpc_reply *reply)
{
    engine *e = user;
    const Retrovue__Playout__StopBlockPlanSessionRequest *req = (const void *)request;
    Retrovue__Playout__StopBlockPlanSessionResponse *resp = (void *)response;
    char msg[CONTROL_MSG_BYTES] = "";
    int64_t final_ct_ms = 0;
    int32_t blocks_executed = 0;
    int rc = control_check_channel_id(req->channel_id, msg, sizeof(msg));
    if (rc == RV_OK)
        rc = control_check_text("reason", req->reason, CONTROL_MAX_TEXT_BYTES, msg, sizeof(msg));
    if (rc == RV_OK)
        rc = engine_session_stop(e, req->channel_id, req->reason, &final_ct_ms, &blocks_executed,
                                 msg, sizeof(msg));
    log_write(rc == RV_OK ? RV_LOG_INFO : RV_LOG_WARN, req->channel_id, NULL,
              "control: StopBlockPlanSession (%.255s): %s", req->reason,
              control_text(rc, msg, "stopped"));
    resp->success = rc == RV_OK;
    resp->message = rpc_reply_strdup(reply, control_text(rc, msg, "Session stopped"));
    resp->final_ct_ms = rc == RV_OK ? final_ct_ms : 0;
    resp->blocks_executed = rc == RV_OK ? blocks_executed : 0;
    return GRPC_STATUS_OK;
}

grpc_status_code control_legacy_unimplemented(void *user, const ProtobufCMessage *request,
                                              ProtobufCMessage *response, rpc_reply *reply)
{
    (void)user;
    (void)response;
    const char *name = request->descriptor == &retrovue__playout__load_preview_request__descriptor
                           ? "LoadPreview"
                           : "SwitchToLive";
    rpc_reply_set_detail(reply,
                         "%s is not served: this engine implements RetroVue's BlockPlan session "
                         "API; use AttachStream, StartBlockPlanSession, FeedBlockPlan, "
                         "SubscribeBlockEvents and StopBlockPlanSession",
                         name);
    return GRPC_STATUS_UNIMPLEMENTED;
}

/* ---- SubscribeBlockEvents ---- */

/** One open event stream: the engine subscription's user pointer. Freed by
 *  the stream (free_owner) once neither the engine nor gRPC needs it. */
typedef struct control_sub {
    engine *e;                  /**< borrowed */
    int32_t channel_id;
    uint64_t sub_id;            /**< set by engine_session_subscribe */
    rpc_stream *stream;         /**< borrowed: the hold ends at finish or cancel */
} control_sub;

/** Thread: the session's event thread. Copies @p ev into a BlockEvent. */
static void control_sub_event(void *user, const session_event *ev)
{
    control_sub *sub = user;
    Retrovue__Playout__BlockEvent be = RETROVUE__PLAYOUT__BLOCK_EVENT__INIT;
    Retrovue__Playout__BlockStarted started = RETROVUE__PLAYOUT__BLOCK_STARTED__INIT;
    Retrovue__Playout__BlockCompleted completed = RETROVUE__PLAYOUT__BLOCK_COMPLETED__INIT;
    Retrovue__Playout__SessionEnded ended = RETROVUE__PLAYOUT__SESSION_ENDED__INIT;
    be.channel_id = sub->channel_id;
    switch (ev->type) {
    case SESSION_EVENT_BLOCK_STARTED:
        started.block_id = (char *)ev->block_id;
        started.block_start_utc_ms = ev->block_start_utc_ms;
        started.block_end_utc_ms = ev->block_end_utc_ms;
        be.event_case = RETROVUE__PLAYOUT__BLOCK_EVENT__EVENT_BLOCK_STARTED;
        be.block_started = &started;
        break;
    case SESSION_EVENT_BLOCK_COMPLETED:
        completed.block_id = (char *)ev->block_id;
        completed.block_start_utc_ms = ev->block_start_utc_ms;
        completed.block_end_utc_ms = ev->block_end_utc_ms;
        completed.final_ct_ms = ev->final_ct_ms;
        completed.blocks_executed_total = ev->blocks_executed_total;
        be.event_case = RETROVUE__PLAYOUT__BLOCK_EVENT__EVENT_BLOCK_COMPLETED;
        be.block_completed = &completed;
        break;
    case SESSION_EVENT_SESSION_ENDED:
        ended.reason = (char *)ev->reason;
        ended.final_ct_ms = ev->final_ct_ms;
        ended.blocks_executed_total = ev->blocks_executed_total;
        be.event_case = RETROVUE__PLAYOUT__BLOCK_EVENT__EVENT_SESSION_ENDED;
        be.session_ended = &ended;
        break;
    }
    (void)rpc_stream_send(sub->stream, &be.base);
    if (ev->type == SESSION_EVENT_SESSION_ENDED)
        (void)rpc_stream_finish(sub->stream, GRPC_STATUS_OK, NULL); /* sub may be freed now */
}

/** The client went (cancel, deadline, overflow, shutdown). Thread: a
 *  worker. Returns once the engine will never call control_sub_event again. */
static void control_sub_cancel(void *owner)
{
    control_sub *sub = owner;
    int live = engine_session_unsubscribe(sub->e, sub->channel_id, sub->sub_id);
    log_write(RV_LOG_INFO, sub->channel_id, NULL, "control: SubscribeBlockEvents: client gone%s",
              live ? ", unsubscribed" : " as the session ended");
}

grpc_status_code control_subscribe_events(void *user, const ProtobufCMessage *request,
                                          rpc_stream *stream, rpc_reply *reply)
{
    engine *e = user;
    const Retrovue__Playout__SubscribeBlockEventsRequest *req = (const void *)request;
    char msg[CONTROL_MSG_BYTES] = "";
    if (control_check_channel_id(req->channel_id, msg, sizeof(msg)) != RV_OK) {
        rpc_reply_set_detail(reply, "%s", msg);
        return GRPC_STATUS_INVALID_ARGUMENT;
    }
    control_sub *sub = calloc(1, sizeof(*sub));
    if (!sub) {
        rpc_reply_set_detail(reply, "out of memory");
        return GRPC_STATUS_RESOURCE_EXHAUSTED;
    }
    sub->e = e;
    sub->channel_id = req->channel_id;
    sub->stream = stream;
    rpc_stream_set_owner(stream, sub, control_sub_cancel, free);
    int rc = engine_session_subscribe(e, req->channel_id, control_sub_event, sub, &sub->sub_id);
    if (rc == RV_OK) {
        log_write(RV_LOG_INFO, req->channel_id, NULL, "control: SubscribeBlockEvents: subscribed");
        return GRPC_STATUS_OK;
    }
    if (rc == RV_ENOENT) {
        rpc_reply_set_detail(reply, "channel %d has no BlockPlan session", (int)req->channel_id);
        return GRPC_STATUS_NOT_FOUND;
    }
    rpc_reply_set_detail(reply, "SubscribeBlockEvents on channel %d failed: %s",
                         (int)req->channel_id, rv_strerror(rc));
    return rc == RV_ENOTSUP ? GRPC_STATUS_UNIMPLEMENTED : GRPC_STATUS_INTERNAL;
}
