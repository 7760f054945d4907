/**
 * @file tests/fuzz/fuzz_engine.c
 * @short A stand-in for host/engine behind the real control plane, for the
 *        grpc harness: it makes the checks the engine makes on a request
 *        before anything starts, with the same host code, and never starts a
 *        channel, opens a socket or a thread:
 *
 *   StartChannel, UpdatePlan   plan_load(<plans>, handle): the plan file
 *                              named by the handle, parsed and validated
 *   StartBlockPlanSession      plan_from_blocks(seed blocks): structure,
 *                              contiguity, every rule of plan_validate
 *   FeedBlockPlan              plan_from_blocks(the block), as the engine's
 *                              session_check_block does
 *   GetChannelStatus, List     channel 1 "on air" with every text field
 *                              full, so the reply builders run at their bounds
 *   AttachStream, Detach, Stop, StopBlockPlanSession, Subscribe
 *                              answered without touching anything
 *
 * Then each refuses (or answers) as the engine would when nothing runs.
 * What it cannot stand for (the channel, its threads, AttachStream's
 * connect) is outside the harness; docs/reliability.md says so. Owns one
 * static engine (a named singleton of the harness program).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <retrovue/error.h>

#include "engine/engine.h"
#include "engine/engine_session.h"
#include "plan/plan.h"

#include "fuzz_engine.h"

struct engine {
    const char *plans_dir;   /**< borrowed */
};

static engine fuzz_engine_singleton;

engine *fuzz_engine_get(const char *plans_dir)
{
    fuzz_engine_singleton.plans_dir = plans_dir;
    return &fuzz_engine_singleton;
}

/** Load and drop the plan @p handle names, as StartChannel/UpdatePlan do
 *  first. RV_OK or the plan layer's error in @p msg. */
static int fuzz_engine_load(engine *e, const char *handle, char *msg, size_t msglen)
{
    char err[512];
    plan *p = plan_load(e->plans_dir, handle, err, sizeof(err));
    if (!p) {
        snprintf(msg, msglen, "%s", err);
        return RV_EINVAL;
    }
    plan_unref(p);
    return RV_OK;
}

int engine_start_channel(engine *e, const engine_start_request *req, char *msg, size_t msglen)
{
    int rc = fuzz_engine_load(e, req->plan_handle, msg, msglen);
    if (rc != RV_OK)
        return rc;
    snprintf(msg, msglen, "channel %d: the fuzz engine starts no channel", (int)req->channel_id);
    return RV_ENOTSUP;
}

int engine_update_plan(engine *e, int32_t channel_id, const char *plan_handle, char *msg,
                       size_t msglen)
{
    int rc = fuzz_engine_load(e, plan_handle, msg, msglen);
    if (rc != RV_OK)
        return rc;
    snprintf(msg, msglen, "channel %d is not running; use StartChannel", (int)channel_id);
    return RV_ESTATE;
}

int engine_stop_channel(engine *e, int32_t channel_id, char *msg, size_t msglen)
{
    (void)e;
    snprintf(msg, msglen, "channel %d was not running", (int)channel_id);
    return RV_OK;
}

/** Channel 1 with every text field at its longest. */
static void fuzz_engine_fill(channel_status *out)
{
    memset(out, 0, sizeof(*out));
    out->id = 1;
    out->state = CHANNEL_READY;
    char *texts[] = {out->name, out->plan_handle, out->block_id, out->event_id, out->asset_uri,
                     out->last_error};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        memset(texts[i], 'x', ENGINE_TEXT - 1);
        texts[i][ENGINE_TEXT - 1] = '\0';
    }
    out->tick = 1;
    out->format = (rv_program_format){1280, 720, {30000, 1001}, 48000, 2};
    out->sink_count = ENGINE_MAX_SINKS;
    for (size_t i = 0; i < ENGINE_MAX_SINKS; i++)
        snprintf(out->sinks[i].module, sizeof(out->sinks[i].module), "mpegts-tcp");
}

int engine_channel_status(engine *e, int32_t channel_id, channel_status *out)
{
    (void)e;
    if (channel_id != 1)
        return RV_ENOENT;
    fuzz_engine_fill(out);
    return RV_OK;
}

int engine_list_channels(engine *e, channel_status **out, size_t *count)
{
    (void)e;
    *out = calloc(1, sizeof(**out));
    if (!*out)
        return RV_ENOMEM;
    fuzz_engine_fill(*out);
    *count = 1;
    return RV_OK;
}

int engine_attach_stream(engine *e, int32_t channel_id, stream_transport transport,
                         const char *endpoint, int replace, char *msg, size_t msglen)
{
    (void)e;
    (void)transport;
    (void)replace;
    snprintf(msg, msglen, "channel %d: the fuzz engine connects to nothing (%.64s)",
             (int)channel_id, endpoint);
    return RV_ENOTSUP;
}

int engine_detach_stream(engine *e, int32_t channel_id, char *msg, size_t msglen)
{
    (void)e;
    snprintf(msg, msglen, "channel %d: Not attached (idempotent)", (int)channel_id);
    return RV_OK;
}

int engine_session_start(engine *e, const engine_session_start_request *req,
                         session_result *code, char *msg, size_t msglen)
{
    (void)e;
    char err[512];
    plan *p = plan_from_blocks("session", req->blocks, req->block_count, 1, err, sizeof(err));
    if (!p) {
        snprintf(msg, msglen, "%s", err);
        *code = SESSION_RESULT_INVALID_BLOCK;
        return RV_OK;
    }
    plan_unref(p);
    snprintf(msg, msglen, "channel %d: no stream attached", (int)req->channel_id);
    *code = SESSION_RESULT_STREAM_NOT_ATTACHED;
    return RV_OK;
}

int engine_session_feed(engine *e, int32_t channel_id, const plan_block *block,
                        session_result *code, char *msg, size_t msglen)
{
    (void)e;
    char err[512];
    plan *one = plan_from_blocks("block", block, 1, 1, err, sizeof(err));
    if (!one) {
        snprintf(msg, msglen, "block: %s", err);
        *code = SESSION_RESULT_INVALID_BLOCK;
        return RV_OK;
    }
    plan_unref(one);
    snprintf(msg, msglen, "no BlockPlan session on channel %d", (int)channel_id);
    *code = SESSION_RESULT_NO_SESSION;
    return RV_OK;
}

int engine_session_stop(engine *e, int32_t channel_id, const char *reason,
                        int64_t *final_ct_ms, int32_t *blocks_executed, char *msg,
                        size_t msglen)
{
    (void)e;
    (void)reason;
    if (final_ct_ms)
        *final_ct_ms = 0;
    if (blocks_executed)
        *blocks_executed = 0;
    snprintf(msg, msglen, "channel %d: No active session (idempotent)", (int)channel_id);
    return RV_OK;
}

int engine_session_subscribe(engine *e, int32_t channel_id, session_event_fn fn, void *user,
                             uint64_t *sub_id)
{
    (void)e;
    (void)channel_id;
    (void)fn;
    (void)user;
    (void)sub_id;
    return RV_ENOENT;
}

int engine_session_unsubscribe(engine *e, int32_t channel_id, uint64_t sub_id)
{
    (void)e;
    (void)channel_id;
    (void)sub_id;
    return 0;
}
