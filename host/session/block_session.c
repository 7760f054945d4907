/**
 * @file host/session/block_session.c
 * @short A BlockPlan session's bookkeeping and event thread (see
 *        block_session.h).
 *
 * The output thread's reports and the control calls become items in one
 * fixed ring, handled in order by the session's event thread: queue depth
 * first (so a Feed prompted by a BlockStarted already sees the slot free),
 * then the subscribers, then the evidence stream. Subscribers are added by
 * an item too, so a late subscriber's replay of the live block's
 * BlockStarted lands exactly where it belongs in the event order.
 */
#include "session/block_session.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <retrovue/error.h>

#include "core/log.h"
#include "jsonl/json_text.h"
#include "session/block_session_evidence.h"
#include "session/block_session_item.h"
#include "core/thread_name.h"

#define BS_RING_ITEMS 128
#define BS_MAX_SUBSCRIBERS 32

typedef enum bs_item_kind {
    BS_ITEM_CHANNEL = 1,   /**< a channel_event, copied */
    BS_ITEM_SUBSCRIBE = 2, /**< activate subscriber `sub_id` */
    BS_ITEM_END = 3        /**< SessionEnded, then the thread exits */
} bs_item_kind;

typedef struct bs_subscriber {
    uint64_t id;
    session_event_fn fn;
    void *user;
    int active;            /**< its SUBSCRIBE item was handled */
} bs_subscriber;

typedef struct bs_fed {
    char id[128];
    int64_t start_utc_ms;
} bs_fed;

struct block_session {
    int32_t channel_id;
    rv_rational rate;
    int32_t depth;
    struct evidence_client *evidence;  /**< owned; NULL: none */

    /* the ring: q_lock */
    pthread_mutex_t q_lock;
    pthread_cond_t q_cond;             /**< an item arrived */
    pthread_cond_t done_cond;          /**< the thread handled the END item */
    bs_item ring[BS_RING_ITEMS];
    size_t head;
    size_t count;
    uint64_t dropped;
    int ended;                         /**< END handled: the thread is gone */
    int end_queued;
    pthread_t thread;
    int thread_started;

    /* fed blocks, in order: fed_lock (event thread and control thread) */
    pthread_mutex_t fed_lock;
    bs_fed fed[BLOCK_SESSION_MAX_DEPTH + 2];
    size_t fed_count;                  /**< entries in fed[] (not yet started) */
    char last_id[128];
    int64_t last_end_utc_ms;

    /* subscribers: sub_lock, held while a subscriber's fn runs */
    pthread_mutex_t sub_lock;
    bs_subscriber subs[BS_MAX_SUBSCRIBERS];
    size_t sub_count;
    atomic_uint_fast64_t next_sub_id;

    /* event thread's own state */
    session_event live;                /**< the live block's BlockStarted */
    int has_live;
    int32_t completed;                 /**< BlockCompleted sent */
    atomic_llong last_tick;            /**< ticks the channel had emitted at its last report */
    atomic_llong last_utc_ms;          /**< that report's instant (the session's end, at the end) */
    char stream_target[300];           /**< written only while stream_watch is 0 */
    atomic_int stream_watch;           /**< a leave of stream_target ends the session */
    atomic_int stream_lost;
};

static int64_t bs_ticks_ms(const block_session *bs, int64_t ticks)
{
    return ticks > 0 ? rv_ticks_to_ns(bs->rate, ticks) / 1000000 : 0;
}

/** Append @p it (borrowed) to the ring. Never waits: a full ring drops. */
static int bs_push(block_session *bs, const bs_item *it)
{
    pthread_mutex_lock(&bs->q_lock);
    if (bs->ended || bs->count == BS_RING_ITEMS) {
        int dropped = !bs->ended;
        if (dropped)
            bs->dropped++;
        pthread_mutex_unlock(&bs->q_lock);
        if (dropped)
            log_write(RV_LOG_ERROR, bs->channel_id, NULL,
                      "block session: event ring full, an event was lost");
        return RV_EAGAIN;
    }
    bs->ring[(bs->head + bs->count) % BS_RING_ITEMS] = *it;
    bs->count++;
    pthread_cond_signal(&bs->q_cond);
    pthread_mutex_unlock(&bs->q_lock);
    return RV_OK;
}

/** The attached stream's client left: the session is over ("error"). */
static void bs_stream_lost(block_session *bs, const char *text)
{
    if (!atomic_load(&bs->stream_watch))
        return;
    size_t n = strlen(bs->stream_target);
    if (!n || strncmp(text, bs->stream_target, n) != 0 || text[n] != ':')
        return;
    if (atomic_exchange(&bs->stream_lost, 1))
        return;
    log_write(RV_LOG_ERROR, bs->channel_id, NULL,
              "the attached stream is gone (%s): the session ends with \"error\"", text);
    bs_item it = {.kind = BS_ITEM_END, .utc_ms = atomic_load(&bs->last_utc_ms)};
    snprintf(it.reason, sizeof(it.reason), "error");
    pthread_mutex_lock(&bs->q_lock);
    if (!bs->ended && !bs->end_queued && bs->count < BS_RING_ITEMS) {
        bs->end_queued = 1;
        bs->ring[(bs->head + bs->count) % BS_RING_ITEMS] = it;
        bs->count++;
        pthread_cond_signal(&bs->q_cond);
    }
    pthread_mutex_unlock(&bs->q_lock);
}

void block_session_set_stream(block_session *bs, const char *target)
{
    atomic_store(&bs->stream_watch, 0);
    if (!target || !target[0])
        return;
    snprintf(bs->stream_target, sizeof(bs->stream_target), "%s", target);
    atomic_store(&bs->stream_watch, 1);
}

int block_session_ended(block_session *bs)
{
    return atomic_load(&bs->stream_lost);
}

void block_session_on_channel_event(void *user, const channel_event *ev)
{
    block_session *bs = user;
    if (ev->type == CHANNEL_EVENT_CLIENT_LEFT) {
        bs_stream_lost(bs, ev->text ? ev->text : "");
        return;
    }
    bs_item it;
    memset(&it, 0, sizeof(it));
    it.kind = BS_ITEM_CHANNEL;
    it.type = ev->type;
    it.tick = ev->tick;
    it.utc_ms = ev->utc_ms;
    it.first_tick = ev->first_tick;
    it.fence_tick = ev->fence_tick;
    it.join_in_progress = ev->join_in_progress;
    memcpy(it.ticks_by_source, ev->ticks_by_source, sizeof(it.ticks_by_source));
    if (ev->block) {
        /* ids may hold any bytes: cut on a UTF-8 character boundary */
        json_text_utf8_copy(it.block_id, sizeof(it.block_id), ev->block->id, SIZE_MAX);
        it.block_start_utc_ms = ev->block->start_utc_ms;
        it.block_end_utc_ms = ev->block->end_utc_ms;
    }
    if (ev->segment) {
        it.segment_index = ev->segment->index;
        it.segment_type = ev->segment->type;
        it.segment_duration_ms = ev->segment->duration_ms;
        it.asset_start_offset_ms = ev->segment->asset_start_offset_ms;
        json_text_utf8_copy(it.event_id, sizeof(it.event_id), ev->segment->event_id, SIZE_MAX);
        json_text_utf8_copy(it.asset_uri, sizeof(it.asset_uri), ev->segment->asset_uri,
                            SIZE_MAX);
    }
    if (ev->record) {
        it.record = *ev->record;
        it.has_record = 1;
    }
    atomic_store(&bs->last_tick, ev->tick);
    atomic_store(&bs->last_utc_ms, ev->utc_ms);
    bs_push(bs, &it);
}

/* ---- the event thread ---- */

/** Deliver @p ev to every active subscriber (@p only: just that one). */
static void bs_deliver(block_session *bs, const session_event *ev, uint64_t only)
{
    pthread_mutex_lock(&bs->sub_lock);
    for (size_t i = 0; i < bs->sub_count; i++) {
        bs_subscriber *s = &bs->subs[i];
        if (s->active && (only == 0 || s->id == only))
            s->fn(s->user, ev);
    }
    pthread_mutex_unlock(&bs->sub_lock);
}

/** A fed block started: it and every block fed before it leave the queue. */
static void bs_mark_started(block_session *bs, const char *id, int64_t start_utc_ms)
{
    pthread_mutex_lock(&bs->fed_lock);
    for (size_t i = 0; i < bs->fed_count; i++) {
        if (bs->fed[i].start_utc_ms == start_utc_ms && strcmp(bs->fed[i].id, id) == 0) {
            memmove(&bs->fed[0], &bs->fed[i + 1], (bs->fed_count - i - 1) * sizeof(bs->fed[0]));
            bs->fed_count -= i + 1;
            break;
        }
    }
    pthread_mutex_unlock(&bs->fed_lock);
}

static void bs_block_event(block_session *bs, const bs_item *it, session_event_type type,
                           session_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->type = type;
    ev->channel_id = bs->channel_id;
    snprintf(ev->block_id, sizeof(ev->block_id), "%s", it->block_id);
    ev->block_start_utc_ms = it->block_start_utc_ms;
    ev->block_end_utc_ms = it->block_end_utc_ms;
}

static void bs_handle_channel(block_session *bs, const bs_item *it)
{
    session_event ev;
    if (it->type == CHANNEL_EVENT_BLOCK_STARTED) {
        bs_mark_started(bs, it->block_id, it->block_start_utc_ms);
        bs_block_event(bs, it, SESSION_EVENT_BLOCK_STARTED, &ev);
        bs->live = ev;
        bs->has_live = 1;
        log_write(RV_LOG_INFO, bs->channel_id, NULL,
                  "block '%s' on air at tick %" PRId64 " (fence tick %" PRId64 ")%s",
                  it->block_id, it->tick, it->fence_tick,
                  it->join_in_progress ? ", joined in progress" : "");
        bs_deliver(bs, &ev, 0);
    } else if (it->type == CHANNEL_EVENT_BLOCK_ENDED) {
        bs->has_live = 0;
        if (it->tick >= it->fence_tick) {
            /* reached its fence (a stop or a swap before it is no completion) */
            bs->completed++;
            bs_block_event(bs, it, SESSION_EVENT_BLOCK_COMPLETED, &ev);
            ev.final_ct_ms = bs_ticks_ms(bs, it->tick - it->first_tick);
            ev.blocks_executed_total = bs->completed;
            bs_deliver(bs, &ev, 0);
        }
    }
    if (bs->evidence)
        block_session_evidence_emit(bs->evidence, bs->rate, it);
}

static void bs_handle_subscribe(block_session *bs, uint64_t id)
{
    pthread_mutex_lock(&bs->sub_lock);
    for (size_t i = 0; i < bs->sub_count; i++) {
        if (bs->subs[i].id == id) {
            bs->subs[i].active = 1;
            if (bs->has_live)
                bs->subs[i].fn(bs->subs[i].user, &bs->live);
        }
    }
    pthread_mutex_unlock(&bs->sub_lock);
}

static void bs_handle_end(block_session *bs, const bs_item *it)
{
    session_event ev = {.type = SESSION_EVENT_SESSION_ENDED, .channel_id = bs->channel_id};
    snprintf(ev.reason, sizeof(ev.reason), "%s", it->reason);
    ev.final_ct_ms = bs_ticks_ms(bs, atomic_load(&bs->last_tick));
    ev.blocks_executed_total = bs->completed;
    pthread_mutex_lock(&bs->sub_lock);
    for (size_t i = 0; i < bs->sub_count; i++)
        bs->subs[i].fn(bs->subs[i].user, &ev); /* even one not yet active: its last word */
    bs->sub_count = 0;
    pthread_mutex_unlock(&bs->sub_lock);
    if (bs->evidence)
        block_session_evidence_terminated(bs->evidence, it);
    log_write(RV_LOG_INFO, bs->channel_id, NULL,
              "block session ended (%s): %d blocks completed, %" PRId64 " ms aired", it->reason,
              (int)bs->completed, ev.final_ct_ms);
}

static void *bs_thread_main(void *arg)
{
    block_session *bs = arg;
    thread_name_self("rv-session-%d", bs->channel_id);
    for (;;) {
        pthread_mutex_lock(&bs->q_lock);
        while (bs->count == 0)
            pthread_cond_wait(&bs->q_cond, &bs->q_lock);
        bs_item *slot = &bs->ring[bs->head];
        pthread_mutex_unlock(&bs->q_lock);
        /* the slot stays ours until count is decremented */
        int end = slot->kind == BS_ITEM_END;
        if (slot->kind == BS_ITEM_CHANNEL)
            bs_handle_channel(bs, slot);
        else if (slot->kind == BS_ITEM_SUBSCRIBE)
            bs_handle_subscribe(bs, slot->sub_id);
        else if (end)
            bs_handle_end(bs, slot);
        pthread_mutex_lock(&bs->q_lock);
        bs->head = (bs->head + 1) % BS_RING_ITEMS;
        bs->count--;
        if (end) {
            bs->ended = 1;
            pthread_cond_broadcast(&bs->done_cond);
            pthread_mutex_unlock(&bs->q_lock);
            return NULL;
        }
        pthread_mutex_unlock(&bs->q_lock);
    }
}

/* ---- control side ---- */

block_session *block_session_create(int32_t channel_id, rv_rational rate, int32_t max_queue_depth,
                                    struct evidence_client *evidence)
{
    block_session *bs = calloc(1, sizeof(*bs));
    if (!bs)
        return NULL;
    bs->channel_id = channel_id;
    bs->rate = rate;
    bs->depth = max_queue_depth < 2 ? 2
                : max_queue_depth > BLOCK_SESSION_MAX_DEPTH ? BLOCK_SESSION_MAX_DEPTH
                                                            : max_queue_depth;
    bs->evidence = evidence;
    atomic_store(&bs->next_sub_id, 1);
    atomic_store(&bs->last_tick, 0);
    pthread_mutex_init(&bs->q_lock, NULL);
    pthread_cond_init(&bs->q_cond, NULL);
    pthread_cond_init(&bs->done_cond, NULL);
    pthread_mutex_init(&bs->fed_lock, NULL);
    pthread_mutex_init(&bs->sub_lock, NULL);
    if (pthread_create(&bs->thread, NULL, bs_thread_main, bs) != 0) {
        bs->ended = 1;
        block_session_destroy(bs);
        return NULL;
    }
    bs->thread_started = 1;
    return bs;
}

void block_session_note_fed(block_session *bs, const char *id, int64_t start_utc_ms,
                            int64_t end_utc_ms)
{
    pthread_mutex_lock(&bs->fed_lock);
    if (bs->fed_count == sizeof(bs->fed) / sizeof(bs->fed[0])) {
        memmove(&bs->fed[0], &bs->fed[1], (bs->fed_count - 1) * sizeof(bs->fed[0]));
        bs->fed_count--;
    }
    bs_fed *f = &bs->fed[bs->fed_count++];
    snprintf(f->id, sizeof(f->id), "%s", id);
    f->start_utc_ms = start_utc_ms;
    snprintf(bs->last_id, sizeof(bs->last_id), "%s", id);
    bs->last_end_utc_ms = end_utc_ms;
    pthread_mutex_unlock(&bs->fed_lock);
}

int block_session_pending(block_session *bs)
{
    pthread_mutex_lock(&bs->fed_lock);
    int n = (int)bs->fed_count;
    pthread_mutex_unlock(&bs->fed_lock);
    return n;
}

int32_t block_session_depth(const block_session *bs)
{
    return bs->depth;
}

int64_t block_session_last_end_utc_ms(const block_session *bs)
{
    return bs->last_end_utc_ms;
}

const char *block_session_last_id(const block_session *bs)
{
    return bs->last_id;
}

int block_session_subscribe(block_session *bs, session_event_fn fn, void *user, uint64_t *id)
{
    pthread_mutex_lock(&bs->sub_lock);
    if (bs->sub_count == BS_MAX_SUBSCRIBERS) {
        pthread_mutex_unlock(&bs->sub_lock);
        return RV_ENOMEM;
    }
    uint64_t sid = atomic_fetch_add(&bs->next_sub_id, 1);
    bs->subs[bs->sub_count++] = (bs_subscriber){.id = sid, .fn = fn, .user = user};
    pthread_mutex_unlock(&bs->sub_lock);
    bs_item it = {.kind = BS_ITEM_SUBSCRIBE, .sub_id = sid};
    pthread_mutex_lock(&bs->q_lock);
    int gone = bs->ended || bs->end_queued;
    pthread_mutex_unlock(&bs->q_lock);
    if (gone || bs_push(bs, &it) != RV_OK) {
        block_session_unsubscribe(bs, sid);
        return gone ? RV_ESTATE : RV_EAGAIN;
    }
    *id = sid;
    return RV_OK;
}

int block_session_unsubscribe(block_session *bs, uint64_t id)
{
    int found = 0;
    pthread_mutex_lock(&bs->sub_lock);
    for (size_t i = 0; i < bs->sub_count; i++) {
        if (bs->subs[i].id == id) {
            bs->subs[i] = bs->subs[--bs->sub_count];
            found = 1;
            break;
        }
    }
    pthread_mutex_unlock(&bs->sub_lock);
    return found;
}

void block_session_end(block_session *bs, const char *reason, int64_t *final_ct_ms,
                       int32_t *blocks_executed)
{
    bs_item it = {.kind = BS_ITEM_END, .utc_ms = atomic_load(&bs->last_utc_ms)};
    snprintf(it.reason, sizeof(it.reason), "%s", reason ? reason : "stopped");
    pthread_mutex_lock(&bs->q_lock);
    if (!bs->ended && !bs->end_queued) {
        /* the END item must never be lost: wait for room */
        while (bs->count == BS_RING_ITEMS) {
            pthread_mutex_unlock(&bs->q_lock);
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
            pthread_mutex_lock(&bs->q_lock);
        }
        bs->end_queued = 1;
        bs->ring[(bs->head + bs->count) % BS_RING_ITEMS] = it;
        bs->count++;
        pthread_cond_signal(&bs->q_cond);
    }
    while (!bs->ended)
        pthread_cond_wait(&bs->done_cond, &bs->q_lock);
    pthread_mutex_unlock(&bs->q_lock);
    if (final_ct_ms)
        *final_ct_ms = bs_ticks_ms(bs, atomic_load(&bs->last_tick));
    if (blocks_executed)
        *blocks_executed = bs->completed;
}

void block_session_destroy(block_session *bs)
{
    if (!bs)
        return;
    if (bs->thread_started) {
        block_session_end(bs, "stopped", NULL, NULL);
        pthread_join(bs->thread, NULL);
    }
    if (bs->evidence)
        block_session_evidence_stop(bs->evidence);
    pthread_mutex_destroy(&bs->q_lock);
    pthread_cond_destroy(&bs->q_cond);
    pthread_cond_destroy(&bs->done_cond);
    pthread_mutex_destroy(&bs->fed_lock);
    pthread_mutex_destroy(&bs->sub_lock);
    free(bs);
}
