/**
 * @file host/channel/channel_rendition.c
 * @short A channel's renditions: one encoder per distinct set of encoder
 *        settings, its thread and its stream hub (see channel_rendition.h).
 *
 * The encoder thread pops ticks like a sink thread: real clock, a full queue
 * drops its oldest tick (counted); virtual clock, it blocks. An encoder whose
 * encode() fails is stopped and restarted with backoff; the hub's GOP cache
 * is reset so joiners wait for the new stream's first random access point.
 */
#include "channel/channel_rendition.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "channel/channel_internal.h"
#include "core/log.h"
#include "core/options.h"
#include "core/thread_name.h"

#define REND_BACKOFF_FIRST_MS 100
#define REND_BACKOFF_MAX_MS 5000
/** Largest GOP the hub caches for joiners (a 2 s GOP at 20 Mb/s is 5 MB). */
#define REND_CACHE_MAX_BYTES (16u * 1024u * 1024u)

static int64_t rend_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* stream_write lands here. Encoder thread (or stop on the control thread). */
static int rend_on_stream(void *owner, rv_context *ctx, const void *data, size_t len,
                          uint32_t flags)
{
    rendition *r = owner;
    (void)ctx;
    if (r->muted)
        return RV_OK; /* the flush of a stream nobody will see (going idle) */
    if (r->woke_ns) {
        log_write(RV_LOG_INFO, r->ch->id, r->inst.mod->name,
                  "awake: the new stream's first bytes %" PRId64 " ms after the encoder "
                  "restarted (first tick %" PRId64 " in, tick %" PRId64 " out)",
                  (rend_now_ns() - r->woke_ns) / 1000000, r->woke_first_tick, r->cur_tick);
        r->woke_ns = 0;
    }
    return stream_hub_publish(r->hub, data, len, flags, r->cur_tick, r->cur_utc_ms);
}

static void rend_sleep_ms(int64_t ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* The channel went idle (or resumes from it): stop the encoder, dropping
 * what its flush writes, and forget the GOP cache, so the next viewer starts
 * with the new stream's first random access point, not a stale picture.
 * Encoder thread. */
static void rend_pause(rendition *r)
{
    const rv_encoder_ops *ops = &r->inst.mod->encoder;
    if (r->inst.started && ops->stop) {
        r->muted = 1;
        ops->stop(r->inst.state);
        r->muted = 0;
    }
    r->inst.started = 0;
    stream_hub_reset(r->hub);
}

/* Stop, wait (unless @p at_once: the start after an idle spell), start again
 * with growing waits until it starts or the queue closes. Encoder thread
 * (never concurrent with encode). */
static void rend_restart(rendition *r, int at_once)
{
    const rv_encoder_ops *ops = &r->inst.mod->encoder;
    int64_t backoff_ms = REND_BACKOFF_FIRST_MS;
    if (r->inst.started && ops->stop)
        ops->stop(r->inst.state);
    r->inst.started = 0;
    stream_hub_reset(r->hub);
    while (!sink_queue_closed(r->queue)) {
        for (int64_t waited = 0; !at_once && waited < backoff_ms && !sink_queue_closed(r->queue);
             waited += 20)
            rend_sleep_ms(20);
        at_once = 0;
        if (sink_queue_closed(r->queue))
            return;
        atomic_fetch_add(&r->restarts, 1);
        int rc = ops->start ? ops->start(r->inst.state) : RV_OK;
        if (rc == RV_OK) {
            r->inst.started = 1;
            if (!r->paused)
                log_write(RV_LOG_INFO, r->ch->id, r->inst.mod->name, "encoder restarted");
            r->paused = 0;
            return;
        }
        backoff_ms = backoff_ms * 2 > REND_BACKOFF_MAX_MS ? REND_BACKOFF_MAX_MS : backoff_ms * 2;
        log_write(RV_LOG_WARN, r->ch->id, r->inst.mod->name,
                  "encoder restart failed: %s (next try in %" PRId64 " ms)", rv_strerror(rc),
                  backoff_ms);
    }
}

static void *rend_main(void *arg)
{
    rendition *r = arg;
    const rv_encoder_ops *ops = &r->inst.mod->encoder;
    thread_name_self("rv-enc-%d", r->ch->id);
    const rv_rational rate = r->ch->rate;
    for (;;) {
        sink_entry e;
        /* 100 ms: an encoder notices an idle spell soon (and frees its
         * state); once paused, nothing is due until the wake's marker, whose
         * push ends the wait at once: 1 s then, so twenty idle channels' encoder
         * threads wake 20 times a second, not 200 */
        int rc = sink_queue_pop(r->queue, &e, r->paused ? 1000LL * 1000 * 1000
                                                         : 100LL * 1000 * 1000);
        if (rc == RV_EOF)
            break;
        if (rc != RV_OK) {
            if (r->inst.started && atomic_load(&r->ch->idle)) {
                rend_pause(r); /* nobody watches: free the encoder's state */
                r->paused = 1;
            }
            continue;
        }
        if (!e.tick.video) {
            /* the idle spell ended: a new stream, started while the producer
             * opens the asset (paused first if the spell was too short to
             * notice) */
            if (r->inst.started)
                rend_pause(r);
            r->paused = 1;
            rend_restart(r, 1);
            r->woke_ns = rend_now_ns();
            r->woke_first_tick = -1;
            channel_sink_entry_release(&e);
            continue;
        }
        if (!r->inst.started)
            rend_restart(r, r->paused);
        if (r->inst.started) {
            if (r->woke_ns && r->woke_first_tick < 0) {
                r->woke_first_tick = e.tick.tick;
                log_write(RV_LOG_INFO, r->ch->id, r->inst.mod->name,
                          "awake: tick %" PRId64 " reached the encoder %" PRId64
                          " ms after it restarted",
                          e.tick.tick, (rend_now_ns() - r->woke_ns) / 1000000);
            }
            r->cur_tick = e.tick.tick;
            r->cur_utc_ms = r->ch->epoch_utc_ms +
                            (int64_t)((__int128)e.tick.tick * rate.den * 1000 / rate.num);
            int64_t t0 = rend_now_ns();
            rc = ops->encode(r->inst.state, &e.tick);
            atomic_fetch_add(&r->encode_ns, (uint64_t)(rend_now_ns() - t0));
            if (rc != RV_OK) {
                log_write(RV_LOG_ERROR, r->ch->id, r->inst.mod->name,
                          "encoder failed at tick %" PRId64 ": %s; restarting it", e.tick.tick,
                          rv_strerror(rc));
                channel_sink_entry_release(&e);
                rend_restart(r, 0);
                continue;
            }
        }
        channel_sink_entry_release(&e);
    }
    return NULL;
}

static void rend_free(rendition *r)
{
    channel_rendition_finish(r);
    module_instance_destroy(&r->inst);
    if (r->queue)
        sink_queue_destroy(r->queue);
    stream_hub_unref(r->hub);
    options_free(r->settings);
    free(r);
}

static rendition *rend_create(channel *ch, const config_binding *b, char *err, size_t errlen)
{
    rendition *r = calloc(1, sizeof(*r));
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->ch = ch;
    r->cur_tick = -1;
    r->hub = stream_hub_create(REND_CACHE_MAX_BYTES);
    r->settings = options_clone(b->encoder_options);
    size_t capacity = (size_t)((ch->rate.num + ch->rate.den - 1) / ch->rate.den) + 2;
    r->queue = sink_queue_create(capacity, sizeof(sink_entry),
                                 ch->is_virtual ? SINK_QUEUE_BLOCK : SINK_QUEUE_DROP_OLDEST,
                                 channel_sink_entry_release);
    if (!r->hub || !r->settings || !r->queue) {
        snprintf(err, errlen, "encoder '%s': out of memory", b->encoder_mod->name);
        r->finished = 1;
        rend_free(r);
        return NULL;
    }
    config_binding eb = {
        .module = b->encoder_mod ? (char *)b->encoder_mod->name : NULL,
        .mod = b->encoder_mod,
        .options = b->encoder_options,
    };
    if (module_instance_create(&r->inst, &eb, &ch->format, ch->id, ch->name, ch->pool, ch->clock,
                               channel_on_event, ch, err, errlen) != RV_OK) {
        r->finished = 1;
        rend_free(r);
        return NULL;
    }
    host_context_set_stream_sink(&r->inst.ctx, rend_on_stream, r);
    stream_hub_set_waker(r->hub, channel_demand_wake, ch); /* a viewer wakes an idle channel */
    if (r->inst.mod->encoder.describe)
        r->inst.mod->encoder.describe(r->inst.state, r->desc, sizeof(r->desc));
    if (pthread_create(&r->thread, NULL, rend_main, r) != 0) {
        snprintf(err, errlen, "encoder '%s': cannot start its thread", r->inst.mod->name);
        r->finished = 1;
        rend_free(r);
        return NULL;
    }
    r->thread_started = 1;
    return r;
}

rendition *channel_rendition_acquire(channel *ch, const config_binding *b, char *err,
                                     size_t errlen)
{
    if (!b->encoder_mod || !b->encoder_options) {
        snprintf(err, errlen, "transport '%s' has no encoder bound", b->module);
        return NULL;
    }
    pthread_mutex_lock(&ch->rend_lock);
    for (rendition *r = ch->renditions; r; r = r->next)
        if (r->inst.mod == b->encoder_mod && !r->finished &&
            options_equal(r->settings, b->encoder_options)) {
            r->refs++;
            pthread_mutex_unlock(&ch->rend_lock);
            return r;
        }
    rendition *r = rend_create(ch, b, err, errlen);
    if (r) {
        r->refs = 1;
        r->seq = ch->rend_seq++;
        r->next = ch->renditions;
        ch->renditions = r;
        log_write(RV_LOG_INFO, ch->id, r->inst.mod->name, "rendition %d: %s", r->seq, r->desc);
    }
    pthread_mutex_unlock(&ch->rend_lock);
    return r;
}

void channel_rendition_finish(rendition *r)
{
    if (r->finished)
        return;
    r->finished = 1;
    stream_hub_set_waker(r->hub, NULL, NULL); /* viewers may outlive the channel */
    sink_queue_close(r->queue);
    if (r->thread_started)
        pthread_join(r->thread, NULL);
    r->thread_started = 0;
    if (r->inst.mod && r->inst.started && r->inst.mod->encoder.stop)
        r->inst.mod->encoder.stop(r->inst.state); /* the last bytes go to the hub */
    r->inst.started = 0;
    stream_hub_close(r->hub);
}

void channel_rendition_release(rendition *r)
{
    if (!r)
        return;
    channel *ch = r->ch;
    pthread_mutex_lock(&ch->rend_lock);
    int last = --r->refs == 0;
    if (last)
        for (rendition **p = &ch->renditions; *p; p = &(*p)->next)
            if (*p == r) {
                *p = r->next;
                break;
            }
    pthread_mutex_unlock(&ch->rend_lock);
    if (last)
        rend_free(r);
}

void channel_rendition_resume(rendition *r)
{
    sink_entry e = {.tick = {.tick = -1}, .plan = NULL};
    sink_queue_push(r->queue, &e);
}

void channel_rendition_push(rendition *r, const rv_tick *tick, plan *p, int64_t wait_ns)
{
    sink_entry e = {.tick = *tick, .plan = plan_ref(p)};
    frame_pool_video_ref(e.tick.video);
    frame_pool_audio_ref(e.tick.audio);
    sink_queue_push_wait(r->queue, &e, wait_ns);
}

stream_hub *channel_stream_hub(channel *ch)
{
    rendition *first = NULL;
    pthread_mutex_lock(&ch->rend_lock);
    for (rendition *r = ch->renditions; r; r = r->next)
        if (!r->finished && (!first || r->seq < first->seq))
            first = r;
    stream_hub *h = first ? first->hub : NULL;
    if (h)
        stream_hub_ref(h);
    pthread_mutex_unlock(&ch->rend_lock);
    return h;
}
