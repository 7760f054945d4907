/**
 * @file host/engine/engine_session_placeholder.c
 * @short PLACEHOLDER, replaced at merge by host/engine/engine_session.c:
 *        every engine_session.h call refuses with RV_ENOTSUP and says so, so
 *        the control plane links and answers clearly until BlockPlan
 *        sessions exist. Owns nothing.
 */
#include <stdio.h>

#include <retrovue/error.h>

#include "engine/engine_session.h"

#define PLACEHOLDER_TEXT "BlockPlan sessions are not implemented in this build"

int engine_attach_stream(engine *e, int32_t channel_id, stream_transport transport,
                         const char *endpoint, int replace, char *msg, size_t msglen)
{
    (void)e;
    (void)channel_id;
    (void)transport;
    (void)endpoint;
    (void)replace;
    snprintf(msg, msglen, PLACEHOLDER_TEXT);
    return RV_ENOTSUP;
}

int engine_detach_stream(engine *e, int32_t channel_id, char *msg, size_t msglen)
{
    (void)e;
    (void)channel_id;
    snprintf(msg, msglen, PLACEHOLDER_TEXT);
    return RV_ENOTSUP;
}

int engine_session_start(engine *e, const engine_session_start_request *req,
                         session_result *code, char *msg, size_t msglen)
{
    (void)e;
    (void)req;
    (void)code;
    snprintf(msg, msglen, PLACEHOLDER_TEXT);
    return RV_ENOTSUP;
}

int engine_session_feed(engine *e, int32_t channel_id, const plan_block *block,
                        session_result *code, char *msg, size_t msglen)
{
    (void)e;
    (void)channel_id;
    (void)block;
    (void)code;
    snprintf(msg, msglen, PLACEHOLDER_TEXT);
    return RV_ENOTSUP;
}

int engine_session_stop(engine *e, int32_t channel_id, const char *reason,
                        int64_t *final_ct_ms, int32_t *blocks_executed, char *msg,
                        size_t msglen)
{
    (void)e;
    (void)channel_id;
    (void)reason;
    (void)final_ct_ms;
    (void)blocks_executed;
    snprintf(msg, msglen, PLACEHOLDER_TEXT);
    return RV_ENOTSUP;
}

int engine_session_subscribe(engine *e, int32_t channel_id, session_event_fn fn, void *user,
                             uint64_t *sub_id)
{
    (void)e;
    (void)channel_id;
    (void)fn;
    (void)user;
    (void)sub_id;
    return RV_ENOTSUP;
}

int engine_session_unsubscribe(engine *e, int32_t channel_id, uint64_t sub_id)
{
    (void)e;
    (void)channel_id;
    (void)sub_id;
    return 0;
}
