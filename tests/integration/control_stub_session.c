/**
 * @file tests/integration/control_stub_session.c
 * @short A scriptable stand-in for host/engine/engine_session.c behind the
 *        real control plane: attach/detach, sessions with a block queue, and
 *        an event thread per session that "airs" each queued block for a
 *        few milliseconds (BlockStarted, then BlockCompleted) and ends with
 *        SessionEnded, delivering to every subscriber. No media, no clock:
 *        the gRPC tests pin down streaming, cancellation and result codes.
 *
 * Script: channel_id_str of StartBlockPlanSession, comma-separated:
 *   pace=MS     each block airs MS ms (default 20)
 *   end=N       the session ends by itself (reason "error") after N blocks
 *   flood=N     when a subscriber arrives, send N BlockStarted at once
 * Refusals: a block without segments is INVALID_BLOCK; an endpoint
 * containing "refuse" fails to connect.
 *
 * GetChannelStatus of a channel that has had an attachment or a session
 * reports (stub_session_status): state ready while a session runs, block_id
 * the block on air, asset_uri/event_id/segment_index the first segment's
 * uri, event id and the segment count of the last block fed, frames_real
 * blocks completed, frames_freeze live subscribers, frames_slate
 * subscriptions ended by unsubscribe (client cancel), frames_pad
 * subscriptions ever made, format the session's, one sink "attached" at
 * the endpoint.
 *
 * Owns a fixed table of sessions (a named singleton of this test program).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <retrovue/error.h>

#include "engine/engine_session.h"

#define STUB_SESSIONS 128
#define STUB_SUBS 32
#define STUB_QUEUE 64

typedef struct stub_block {
    char id[256];
    int64_t start;
    int64_t end;
} stub_block;

typedef struct stub_sub {
    uint64_t id;
    session_event_fn fn;
    void *user;
    int replay;                 /**< owes the live block's BlockStarted */
} stub_sub;

typedef struct stub_session {
    /* under stub_lock */
    int attached;
    char endpoint[256];
    int used;                   /**< ever attached or started: status reports it */
    int active;
    int stopping;
    int thread_started;
    pthread_t thread;
    stub_block queue[STUB_QUEUE];
    size_t qhead;
    size_t qcount;
    int depth;
    stub_block live;
    int has_live;
    int64_t last_end;
    int blocks_done;
    int64_t ct_ms;
    int pace_ms;
    int end_after;
    int flood;
    int flood_pending;
    int replay_pending;
    int announce;               /**< the live block's BlockStarted is due */
    rv_program_format format;
    char fed_uri[256];
    char fed_event[256];
    size_t fed_segments;
    /* under deliver (held while subscribers are called) */
    pthread_mutex_t deliver;
    stub_sub subs[STUB_SUBS];
    size_t nsubs;
    uint64_t subscribes;
    uint64_t unsubscribes;
} stub_session;

static pthread_mutex_t stub_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t stub_wake = PTHREAD_COND_INITIALIZER;
static stub_session stub_sessions[STUB_SESSIONS];
static uint64_t stub_next_sub = 1;
static pthread_once_t stub_once = PTHREAD_ONCE_INIT;

static void stub_init(void)
{
    for (int i = 0; i < STUB_SESSIONS; i++)
        pthread_mutex_init(&stub_sessions[i].deliver, NULL);
}

static stub_session *stub_find(int32_t channel_id)
{
    pthread_once(&stub_once, stub_init);
    return channel_id > 0 && channel_id < STUB_SESSIONS ? &stub_sessions[channel_id] : NULL;
}

/** Call every subscriber (or only those owing a replay). Lock: deliver. */
static void stub_deliver(stub_session *ss, const session_event *ev, int replays_only)
{
    pthread_mutex_lock(&ss->deliver);
    for (size_t i = 0; i < ss->nsubs; i++) {
        if (replays_only && !ss->subs[i].replay)
            continue;
        ss->subs[i].fn(ss->subs[i].user, ev);
        if (ev->type == SESSION_EVENT_BLOCK_STARTED)
            ss->subs[i].replay = 0;
    }
    if (ev->type == SESSION_EVENT_SESSION_ENDED)
        ss->nsubs = 0;
    pthread_mutex_unlock(&ss->deliver);
}

static void stub_event_of(session_event *ev, session_event_type type, int32_t ch,
                          const stub_block *b)
{
    memset(ev, 0, sizeof(*ev));
    ev->type = type;
    ev->channel_id = ch;
    if (b) {
        snprintf(ev->block_id, sizeof(ev->block_id), "%s", b->id);
        ev->block_start_utc_ms = b->start;
        ev->block_end_utc_ms = b->end;
    }
}

static void stub_add_ms(struct timespec *t, int ms)
{
    t->tv_sec += ms / 1000;
    t->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t->tv_nsec >= 1000000000L) {
        t->tv_sec++;
        t->tv_nsec -= 1000000000L;
    }
}

/** The next queued block goes on air (lock held). */
static void stub_take(stub_session *ss)
{
    ss->live = ss->queue[ss->qhead];
    ss->qhead = (ss->qhead + 1) % STUB_QUEUE;
    ss->qcount--;
    ss->has_live = 1;
    ss->announce = 1;
}

static void *stub_session_main(void *arg)
{
    stub_session *ss = arg;
    int32_t ch = (int32_t)(ss - stub_sessions);
    session_event ev;
    struct timespec fence = {0};
    pthread_mutex_lock(&stub_lock);
    for (;;) {
        if (ss->stopping || (ss->end_after > 0 && ss->blocks_done >= ss->end_after))
            break;
        if (ss->flood_pending > 0) {
            int n = ss->flood_pending;
            ss->flood_pending = 0;
            pthread_mutex_unlock(&stub_lock);
            for (int i = 0; i < n; i++) {
                stub_block b = {.start = i, .end = i + 1};
                snprintf(b.id, sizeof(b.id), "flood-%d", i);
                stub_event_of(&ev, SESSION_EVENT_BLOCK_STARTED, ch, &b);
                stub_deliver(ss, &ev, 0);
            }
            pthread_mutex_lock(&stub_lock);
            continue;
        }
        if (ss->announce) {
            ss->announce = 0;
            clock_gettime(CLOCK_REALTIME, &fence);
            stub_add_ms(&fence, ss->pace_ms);
            stub_event_of(&ev, SESSION_EVENT_BLOCK_STARTED, ch, &ss->live);
            pthread_mutex_unlock(&stub_lock);
            stub_deliver(ss, &ev, 0);
            pthread_mutex_lock(&stub_lock);
            continue;
        }
        if (ss->replay_pending && ss->has_live) {
            ss->replay_pending = 0;
            stub_event_of(&ev, SESSION_EVENT_BLOCK_STARTED, ch, &ss->live);
            pthread_mutex_unlock(&stub_lock);
            stub_deliver(ss, &ev, 1);
            pthread_mutex_lock(&stub_lock);
            continue;
        }
        if (!ss->has_live) {
            if (ss->qcount == 0) {
                pthread_cond_wait(&stub_wake, &stub_lock);
                continue;
            }
            stub_take(ss);
            continue;
        }
        int waited = pthread_cond_timedwait(&stub_wake, &stub_lock, &fence);
        /* Woken (stop, feed, subscribe), or a replay still owed: handle it
         * first, so a late subscriber never gets a BlockCompleted without
         * its BlockStarted. The fence still stands. */
        if (waited == 0 || ss->replay_pending || ss->flood_pending || ss->stopping)
            continue;
        ss->blocks_done++;
        ss->ct_ms += ss->live.end - ss->live.start;
        ss->has_live = 0;
        stub_event_of(&ev, SESSION_EVENT_BLOCK_COMPLETED, ch, &ss->live);
        ev.final_ct_ms = ss->live.end - ss->live.start;
        ev.blocks_executed_total = ss->blocks_done;
        pthread_mutex_unlock(&stub_lock);
        stub_deliver(ss, &ev, 0);
        pthread_mutex_lock(&stub_lock);
    }
    stub_event_of(&ev, SESSION_EVENT_SESSION_ENDED, ch, NULL);
    snprintf(ev.reason, sizeof(ev.reason), "%s", ss->stopping ? "stopped" : "error");
    ev.final_ct_ms = ss->ct_ms;
    ev.blocks_executed_total = ss->blocks_done;
    ss->active = 0; /* from here, subscribe says ENOENT and feed NO_SESSION */
    ss->has_live = 0;
    pthread_mutex_unlock(&stub_lock);
    stub_deliver(ss, &ev, 0);
    return NULL;
}

/** Join the session's thread once it has ended (or is ending: stopping set
 *  or end reached), never a running one. Lock NOT held; calls on one
 *  channel are serialised by the control plane. */
static void stub_join(stub_session *ss)
{
    pthread_mutex_lock(&stub_lock);
    int started = ss->thread_started && (!ss->active || ss->stopping);
    if (started)
        ss->thread_started = 0;
    pthread_mutex_unlock(&stub_lock);
    if (started)
        pthread_join(ss->thread, NULL);
}

int engine_attach_stream(engine *e, int32_t channel_id, stream_transport transport,
                         const char *endpoint, int replace, char *msg, size_t msglen)
{
    (void)e;
    (void)transport;
    stub_session *ss = stub_find(channel_id);
    if (!ss) {
        snprintf(msg, msglen, "channel %d is not configured", channel_id);
        return RV_ENOENT;
    }
    if (strstr(endpoint, "refuse")) {
        snprintf(msg, msglen, "connect() failed: Connection refused");
        return RV_EIO;
    }
    pthread_mutex_lock(&stub_lock);
    int rc = RV_OK;
    if (ss->attached && !replace) {
        snprintf(msg, msglen, "Already attached; set replace_existing=true to replace");
        rc = RV_EBUSY;
    } else {
        ss->attached = 1;
        ss->used = 1;
        snprintf(ss->endpoint, sizeof(ss->endpoint), "%s", endpoint);
        snprintf(msg, msglen, "attached to %s", endpoint);
    }
    pthread_mutex_unlock(&stub_lock);
    return rc;
}

int engine_detach_stream(engine *e, int32_t channel_id, char *msg, size_t msglen)
{
    (void)e;
    stub_session *ss = stub_find(channel_id);
    pthread_mutex_lock(&stub_lock);
    if (!ss || !ss->attached) {
        snprintf(msg, msglen, "Not attached (idempotent)");
    } else {
        ss->attached = 0;
        snprintf(msg, msglen, "Detached");
    }
    pthread_mutex_unlock(&stub_lock);
    return RV_OK;
}

static void stub_script(stub_session *ss, const char *script)
{
    ss->pace_ms = 20;
    ss->end_after = 0;
    ss->flood = 0;
    const char *p = script;
    while (p && *p) {
        int v = 0;
        if (sscanf(p, "pace=%d", &v) == 1)
            ss->pace_ms = v;
        else if (sscanf(p, "end=%d", &v) == 1)
            ss->end_after = v;
        else if (sscanf(p, "flood=%d", &v) == 1)
            ss->flood = v;
        p = strchr(p, ',');
        if (p)
            p++;
    }
}

/** Queue @p b (lock held). */
static void stub_push(stub_session *ss, const plan_block *b)
{
    stub_block *q = &ss->queue[(ss->qhead + ss->qcount) % STUB_QUEUE];
    snprintf(q->id, sizeof(q->id), "%s", b->id);
    q->start = b->start_utc_ms;
    q->end = b->end_utc_ms;
    ss->qcount++;
    ss->last_end = b->end_utc_ms;
    snprintf(ss->fed_uri, sizeof(ss->fed_uri), "%s", b->segments[0].asset_uri);
    snprintf(ss->fed_event, sizeof(ss->fed_event), "%s", b->segments[0].event_id);
    ss->fed_segments = b->segment_count;
}

static session_result stub_check_block(const plan_block *b, char *msg, size_t msglen)
{
    if (b->segment_count == 0) {
        snprintf(msg, msglen, "block '%s': a block needs at least one segment", b->id);
        return SESSION_RESULT_INVALID_BLOCK;
    }
    return SESSION_RESULT_OK;
}

int engine_session_start(engine *e, const engine_session_start_request *req,
                         session_result *code, char *msg, size_t msglen)
{
    (void)e;
    stub_session *ss = stub_find(req->channel_id);
    if (!ss) {
        snprintf(msg, msglen, "channel %d is not configured", req->channel_id);
        return RV_ENOENT;
    }
    stub_join(ss); /* a session that ended by itself */
    pthread_mutex_lock(&stub_lock);
    *code = SESSION_RESULT_OK;
    if (ss->active) {
        *code = SESSION_RESULT_ALREADY_ACTIVE;
        snprintf(msg, msglen, "BlockPlan session already active");
    } else if (!ss->attached) {
        *code = SESSION_RESULT_STREAM_NOT_ATTACHED;
        snprintf(msg, msglen, "No stream attached; call AttachStream first");
    } else if (req->block_count != 2 || req->blocks[0].end_utc_ms != req->blocks[1].start_utc_ms) {
        *code = SESSION_RESULT_NOT_CONTIGUOUS;
        snprintf(msg, msglen, "block_a must end where block_b starts");
    } else if ((*code = stub_check_block(&req->blocks[0], msg, msglen)) == SESSION_RESULT_OK) {
        *code = stub_check_block(&req->blocks[1], msg, msglen);
    }
    if (*code != SESSION_RESULT_OK) {
        pthread_mutex_unlock(&stub_lock);
        return RV_OK;
    }
    ss->used = 1;
    ss->qhead = ss->qcount = 0;
    ss->has_live = 0;
    ss->blocks_done = 0;
    ss->ct_ms = 0;
    ss->stopping = 0;
    ss->depth = req->max_queue_depth < 2 ? 2 : req->max_queue_depth;
    if (ss->depth > STUB_QUEUE)
        ss->depth = STUB_QUEUE;
    ss->format = req->format ? *req->format
                             : (rv_program_format){1280, 720, {30000, 1001}, 48000, 2};
    stub_script(ss, req->channel_id_str);
    stub_push(ss, &req->blocks[0]);
    stub_push(ss, &req->blocks[1]);
    stub_take(ss); /* like the engine: block_a is on air when Start returns */
    ss->active = 1;
    if (pthread_create(&ss->thread, NULL, stub_session_main, ss) != 0) {
        ss->active = 0;
        pthread_mutex_unlock(&stub_lock);
        snprintf(msg, msglen, "cannot start the session thread");
        return RV_ENOMEM;
    }
    ss->thread_started = 1;
    pthread_mutex_unlock(&stub_lock);
    snprintf(msg, msglen, "BlockPlan session started");
    return RV_OK;
}

int engine_session_feed(engine *e, int32_t channel_id, const plan_block *block,
                        session_result *code, char *msg, size_t msglen)
{
    (void)e;
    stub_session *ss = stub_find(channel_id);
    pthread_mutex_lock(&stub_lock);
    *code = SESSION_RESULT_OK;
    if (!ss || !ss->active) {
        *code = SESSION_RESULT_NO_SESSION;
        snprintf(msg, msglen, "No active BlockPlan session on channel %d", channel_id);
    } else if ((int)ss->qcount >= ss->depth) {
        *code = SESSION_RESULT_QUEUE_FULL;
        snprintf(msg, msglen, "Queue full");
    } else if ((*code = stub_check_block(block, msg, msglen)) != SESSION_RESULT_OK) {
        /* message written */
    } else if (block->start_utc_ms != ss->last_end) {
        *code = SESSION_RESULT_NOT_CONTIGUOUS;
        snprintf(msg, msglen, "block '%s' starts at %lld, not at the last block's end %lld",
                 block->id, (long long)block->start_utc_ms, (long long)ss->last_end);
    } else {
        stub_push(ss, block);
        pthread_cond_broadcast(&stub_wake);
        snprintf(msg, msglen, "Block fed");
    }
    pthread_mutex_unlock(&stub_lock);
    return RV_OK;
}

int engine_session_stop(engine *e, int32_t channel_id, const char *reason,
                        int64_t *final_ct_ms, int32_t *blocks_executed, char *msg,
                        size_t msglen)
{
    (void)e;
    (void)reason;
    stub_session *ss = stub_find(channel_id);
    if (!ss) {
        snprintf(msg, msglen, "No active session (idempotent)");
        return RV_OK;
    }
    pthread_mutex_lock(&stub_lock);
    int was_active = ss->active;
    ss->stopping = 1;
    pthread_cond_broadcast(&stub_wake);
    pthread_mutex_unlock(&stub_lock);
    stub_join(ss);
    pthread_mutex_lock(&stub_lock);
    if (final_ct_ms)
        *final_ct_ms = was_active ? ss->ct_ms : 0;
    if (blocks_executed)
        *blocks_executed = was_active ? ss->blocks_done : 0;
    pthread_mutex_unlock(&stub_lock);
    snprintf(msg, msglen, was_active ? "Session stopped" : "No active session (idempotent)");
    return RV_OK;
}

int engine_session_subscribe(engine *e, int32_t channel_id, session_event_fn fn, void *user,
                             uint64_t *sub_id)
{
    (void)e;
    stub_session *ss = stub_find(channel_id);
    if (!ss)
        return RV_ENOENT;
    pthread_mutex_lock(&stub_lock);
    if (!ss->active) {
        pthread_mutex_unlock(&stub_lock);
        return RV_ENOENT;
    }
    pthread_mutex_lock(&ss->deliver);
    if (ss->nsubs == STUB_SUBS) {
        pthread_mutex_unlock(&ss->deliver);
        pthread_mutex_unlock(&stub_lock);
        return RV_EBUSY;
    }
    *sub_id = stub_next_sub++;
    ss->subs[ss->nsubs++] = (stub_sub){.id = *sub_id, .fn = fn, .user = user,
                                       .replay = ss->has_live};
    ss->subscribes++;
    pthread_mutex_unlock(&ss->deliver);
    ss->replay_pending |= ss->has_live;
    ss->flood_pending += ss->flood;
    pthread_cond_broadcast(&stub_wake);
    pthread_mutex_unlock(&stub_lock);
    return RV_OK;
}

int engine_session_unsubscribe(engine *e, int32_t channel_id, uint64_t sub_id)
{
    (void)e;
    stub_session *ss = stub_find(channel_id);
    if (!ss)
        return 0;
    int found = 0;
    pthread_mutex_lock(&ss->deliver); /* waits for a delivery in progress */
    for (size_t i = 0; i < ss->nsubs; i++) {
        if (ss->subs[i].id == sub_id) {
            ss->subs[i] = ss->subs[--ss->nsubs];
            ss->unsubscribes++;
            found = 1;
            break;
        }
    }
    pthread_mutex_unlock(&ss->deliver);
    return found;
}

int stub_session_status(int32_t channel_id, channel_status *out);
int stub_session_status(int32_t channel_id, channel_status *out)
{
    stub_session *ss = stub_find(channel_id);
    if (!ss)
        return 0;
    pthread_mutex_lock(&stub_lock);
    if (!ss->used) {
        pthread_mutex_unlock(&stub_lock);
        return 0;
    }
    memset(out, 0, sizeof(*out));
    out->id = channel_id;
    snprintf(out->name, sizeof(out->name), "Stub session %d", channel_id);
    out->state = ss->active ? CHANNEL_READY : CHANNEL_STOPPED;
    snprintf(out->plan_handle, sizeof(out->plan_handle), "blockplan");
    snprintf(out->block_id, sizeof(out->block_id), "%s", ss->has_live ? ss->live.id : "");
    snprintf(out->asset_uri, sizeof(out->asset_uri), "%s", ss->fed_uri);
    snprintf(out->event_id, sizeof(out->event_id), "%s", ss->fed_event);
    out->segment_index = (int32_t)ss->fed_segments;
    out->frames_real = (uint64_t)ss->blocks_done;
    out->format = ss->format;
    out->tick = -1;
    out->sink_count = 1;
    snprintf(out->sinks[0].module, sizeof(out->sinks[0].module), "attached");
    snprintf(out->sinks[0].address, sizeof(out->sinks[0].address), "%s",
             ss->attached ? ss->endpoint : "");
    pthread_mutex_lock(&ss->deliver);
    out->frames_freeze = ss->nsubs;
    out->frames_slate = ss->unsubscribes;
    out->frames_pad = ss->subscribes;
    pthread_mutex_unlock(&ss->deliver);
    pthread_mutex_unlock(&stub_lock);
    return 1;
}

void stub_sessions_shutdown(void);
void stub_sessions_shutdown(void)
{
    for (int32_t i = 1; i < STUB_SESSIONS; i++) {
        char msg[128];
        if (stub_sessions[i].used)
            (void)engine_session_stop(NULL, i, "shutdown", NULL, NULL, msg, sizeof(msg));
    }
}
