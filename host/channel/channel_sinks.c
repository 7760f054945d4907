/**
 * @file host/channel/channel_sinks.c
 * @short One thread per sink behind its own bounded queue, and one thread per
 *        transport reading its rendition's stream; a sink or transport that
 *        fails is restarted with backoff while the channel and the others go on.
 *
 * Transports (ABI 1.2) share their channel's rendition for their encoder
 * settings (channel_rendition.c): the output thread queues each tick once
 * per rendition, not once per transport, and each transport reads the
 * encoded stream from the rendition's hub with its own bounded queue.
 *
 * Real clock: a full queue drops its oldest tick (counted), so a slow sink
 * never slows the output thread. Virtual clock: the queue blocks, so a
 * virtual-clock run delivers every tick to every sink. The output thread
 * reads the current sink set through one atomic pointer, so a reload can add
 * or remove sinks at a tick boundary without pausing the others.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "channel/channel_internal.h"
#include "core/log.h"
#include "core/thread_name.h"

#define SINK_BACKOFF_FIRST_MS 100
#define SINK_BACKOFF_MAX_MS 5000

void channel_sink_entry_release(void *entry)
{
    sink_entry *e = entry;
    frame_pool_video_release(e->tick.video);
    frame_pool_audio_release(e->tick.audio);
    plan_unref(e->plan);
    memset(e, 0, sizeof(*e));
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/** Stop the sink, wait, start it again; repeat with longer waits until it
 *  starts or the sink is retired. Sink thread (never concurrent with write). */
static void sink_restart(sink_runner *sr)
{
    const rv_sink_ops *ops = &sr->inst.mod->sink;
    int64_t backoff_ms = SINK_BACKOFF_FIRST_MS;
    if (sr->inst.started && ops->stop)
        ops->stop(sr->inst.state);
    sr->inst.started = 0;
    while (!sink_queue_closed(sr->queue)) {
        for (int64_t waited = 0; waited < backoff_ms && !sink_queue_closed(sr->queue);
             waited += 20)
            sleep_ms(20);
        if (sink_queue_closed(sr->queue))
            return;
        atomic_fetch_add(&sr->restarts, 1);
        int rc = ops->start ? ops->start(sr->inst.state) : RV_OK;
        if (rc == RV_OK) {
            sr->inst.started = 1;
            log_write(RV_LOG_INFO, sr->ch->id, sr->inst.mod->name, "sink restarted");
            return;
        }
        backoff_ms = backoff_ms * 2 > SINK_BACKOFF_MAX_MS ? SINK_BACKOFF_MAX_MS : backoff_ms * 2;
        log_write(RV_LOG_WARN, sr->ch->id, sr->inst.mod->name,
                  "sink restart failed: %s (next try in %" PRId64 " ms)", rv_strerror(rc),
                  backoff_ms);
    }
}

static void *sink_main(void *arg)
{
    sink_runner *sr = arg;
    const rv_sink_ops *ops = &sr->inst.mod->sink;
    thread_name_self("rv-sink-%d", sr->ch->id);
    for (;;) {
        sink_entry e;
        int rc = sink_queue_pop(sr->queue, &e, 100 * 1000 * 1000);
        if (rc == RV_EOF)
            break;
        if (rc != RV_OK)
            continue;
        if (!sr->inst.started)
            sink_restart(sr);
        if (sr->inst.started) {
            rc = ops->write(sr->inst.state, &e.tick);
            if (rc != RV_OK) {
                log_write(RV_LOG_ERROR, sr->ch->id, sr->inst.mod->name,
                          "sink failed at tick %" PRId64 ": %s; restarting it", e.tick.tick,
                          rv_strerror(rc));
                channel_sink_entry_release(&e);
                sink_restart(sr);
                continue;
            }
        }
        channel_sink_entry_release(&e);
    }
    return NULL;
}

/** Transports: a fresh place in the rendition's stream (joins at its cached
 *  random access point). Transport thread, or control thread before it runs. */
static int transport_subscribe(sink_runner *sr)
{
    if (sr->sub) {
        atomic_fetch_add(&sr->lagged, stream_sub_lagged(sr->sub));
        stream_sub_close(sr->sub);
    }
    /* passive: the transport's own clients are the demand (consumers()) */
    sr->sub = stream_hub_subscribe_passive(sr->rend->hub, sr->ch->transport_queue_bytes,
                                           sr->ch->is_virtual ? STREAM_SUB_BLOCK
                                                              : STREAM_SUB_DROP,
                                           1);
    return sr->sub ? RV_OK : RV_ESTATE;
}

/** Stop, wait, start again with longer waits until it starts or the
 *  transport is retired; it then resumes at a random access point. */
static void transport_restart(sink_runner *sr)
{
    const rv_transport_ops *ops = &sr->inst.mod->transport;
    int64_t backoff_ms = SINK_BACKOFF_FIRST_MS;
    if (sr->inst.started && ops->stop)
        ops->stop(sr->inst.state);
    sr->inst.started = 0;
    while (!atomic_load(&sr->leaving) && !atomic_load(&sr->draining)) {
        for (int64_t waited = 0; waited < backoff_ms && !atomic_load(&sr->leaving) &&
                                 !atomic_load(&sr->draining);
             waited += 20)
            sleep_ms(20);
        if (atomic_load(&sr->leaving) || atomic_load(&sr->draining))
            return;
        atomic_fetch_add(&sr->restarts, 1);
        int rc = ops->start ? ops->start(sr->inst.state) : RV_OK;
        if (rc == RV_OK && transport_subscribe(sr) == RV_OK) {
            sr->inst.started = 1;
            log_write(RV_LOG_INFO, sr->ch->id, sr->inst.mod->name, "transport restarted");
            return;
        }
        if (rc == RV_OK && ops->stop)
            ops->stop(sr->inst.state);
        backoff_ms = backoff_ms * 2 > SINK_BACKOFF_MAX_MS ? SINK_BACKOFF_MAX_MS : backoff_ms * 2;
        log_write(RV_LOG_WARN, sr->ch->id, sr->inst.mod->name,
                  "transport restart failed: %s (next try in %" PRId64 " ms)",
                  rv_strerror(rc != RV_OK ? rc : RV_ESTATE), backoff_ms);
    }
}

static void *transport_main(void *arg)
{
    sink_runner *sr = arg;
    const rv_transport_ops *ops = &sr->inst.mod->transport;
    thread_name_self("rv-tx-%d", sr->ch->id);
    while (!atomic_load(&sr->leaving)) {
        stream_chunk *c = NULL;
        int resync = 0;
        if (!sr->inst.started) {
            if (atomic_load(&sr->draining))
                break;
            transport_restart(sr);
            continue;
        }
        /* 1 s: a retire interrupts the wait (stream_sub_interrupt), so the
         * timeout only bounds how long a stalled stream goes unnoticed; an
         * idle channel's transports wake once a second, not ten times */
        int rc = stream_sub_next(sr->sub, 1000LL * 1000 * 1000, &c, &resync);
        if (rc == RV_EOF)
            break;
        if (rc != RV_OK)
            continue;
        rv_chunk chunk = {.struct_size = sizeof(chunk), .data = c->data, .len = c->len,
                          .flags = c->flags, .resync = (uint32_t)resync, .tick = c->tick};
        rc = ops->write(sr->inst.state, &chunk);
        stream_chunk_unref(c);
        if (rc != RV_OK) {
            log_write(RV_LOG_ERROR, sr->ch->id, sr->inst.mod->name,
                      "transport failed at tick %" PRId64 ": %s; restarting it", chunk.tick,
                      rv_strerror(rc));
            transport_restart(sr);
        }
    }
    return NULL;
}

static sink_runner *transport_runner_create(channel *ch, const config_binding *binding,
                                            char *err, size_t errlen)
{
    sink_runner *sr = calloc(1, sizeof(*sr));
    if (!sr) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    sr->ch = ch;
    sr->rend = channel_rendition_acquire(ch, binding, err, errlen);
    if (!sr->rend) {
        free(sr);
        return NULL;
    }
    if (module_instance_create(&sr->inst, binding, &ch->format, ch->id, ch->name, ch->pool,
                               ch->clock, channel_on_event, ch, err, errlen) != RV_OK) {
        channel_rendition_release(sr->rend);
        free(sr);
        return NULL;
    }
    if (transport_subscribe(sr) != RV_OK) {
        snprintf(err, errlen, "transport '%s': out of memory", sr->inst.mod->name);
        goto fail;
    }
    if (pthread_create(&sr->thread, NULL, transport_main, sr) != 0) {
        snprintf(err, errlen, "transport '%s': cannot start its thread", sr->inst.mod->name);
        goto fail;
    }
    sr->thread_started = 1;
    return sr;
fail:
    stream_sub_close(sr->sub);
    module_instance_destroy(&sr->inst);
    channel_rendition_release(sr->rend);
    free(sr);
    return NULL;
}

sink_runner *sink_runner_create(channel *ch, const config_binding *binding, char *err,
                                size_t errlen)
{
    if (binding->mod && binding->mod->kind == RV_KIND_TRANSPORT)
        return transport_runner_create(ch, binding, err, errlen);

    sink_runner *sr = calloc(1, sizeof(*sr));
    if (!sr) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    sr->ch = ch;
    if (module_instance_create(&sr->inst, binding, &ch->format, ch->id, ch->name, ch->pool,
                               ch->clock, channel_on_event, ch, err, errlen) != RV_OK) {
        free(sr);
        return NULL;
    }
    host_context_set_image_sink(&sr->inst.ctx, channel_preview_publish, ch->preview);
    if (sr->inst.mod->kind != RV_KIND_SINK) {
        snprintf(err, errlen, "module '%s' is not a sink", sr->inst.mod->name);
        goto fail;
    }
    size_t capacity = (size_t)((ch->rate.num + ch->rate.den - 1) / ch->rate.den) + 2;
    sink_queue_policy policy = ch->is_virtual ? SINK_QUEUE_BLOCK : SINK_QUEUE_DROP_OLDEST;
    sr->queue = sink_queue_create(capacity, sizeof(sink_entry), policy,
                                  channel_sink_entry_release);
    if (!sr->queue) {
        snprintf(err, errlen, "sink '%s': out of memory", sr->inst.mod->name);
        goto fail;
    }
    if (pthread_create(&sr->thread, NULL, sink_main, sr) != 0) {
        snprintf(err, errlen, "sink '%s': cannot start its thread", sr->inst.mod->name);
        goto fail;
    }
    sr->thread_started = 1;
    return sr;
fail:
    if (sr->queue)
        sink_queue_destroy(sr->queue);
    module_instance_destroy(&sr->inst);
    free(sr);
    return NULL;
}

void sink_runner_retire(sink_runner *sr)
{
    if (!sr)
        return;
    if (sr->rend) {
        /* a hub already closed (channel stop) lets it deliver what is left */
        atomic_store(&sr->draining, 1);
        if (!sr->rend->finished)
            atomic_store(&sr->leaving, 1);
        if (sr->sub)
            stream_sub_interrupt(sr->sub); /* its thread sees the flags now */
        if (sr->thread_started)
            pthread_join(sr->thread, NULL);
        module_instance_destroy(&sr->inst);
        stream_sub_close(sr->sub);
        channel_rendition_release(sr->rend);
        free(sr);
        return;
    }
    sink_queue_close(sr->queue);
    if (sr->thread_started)
        pthread_join(sr->thread, NULL);
    module_instance_destroy(&sr->inst);
    sink_queue_destroy(sr->queue);
    free(sr);
}

void sink_set_index_renditions(sink_set *set)
{
    set->rend_count = 0;
    for (size_t i = 0; i < set->count; i++) {
        rendition *r = set->runner[i]->rend;
        int seen = !r;
        for (size_t j = 0; j < set->rend_count && !seen; j++)
            seen = set->rend[j] == r;
        if (!seen)
            set->rend[set->rend_count++] = r;
    }
}

void channel_sinks_resume(channel *ch)
{
    sink_set *set = atomic_load_explicit(&ch->sinks, memory_order_acquire);
    for (size_t i = 0; set && i < set->rend_count; i++)
        channel_rendition_resume(set->rend[i]);
}

void channel_sinks_push(channel *ch, const rv_tick *tick, plan *p, int64_t wait_ns)
{
    sink_set *set = atomic_load_explicit(&ch->sinks, memory_order_acquire);
    for (size_t i = 0; set && i < set->rend_count; i++)
        channel_rendition_push(set->rend[i], tick, p, wait_ns);
    for (size_t i = 0; set && i < set->count; i++) {
        if (set->runner[i]->rend)
            continue;
        sink_entry e = {.tick = *tick, .plan = plan_ref(p)};
        frame_pool_video_ref(e.tick.video);
        frame_pool_audio_ref(e.tick.audio);
        sink_queue_push_wait(set->runner[i]->queue, &e, wait_ns);
    }
}

void channel_sinks_stop(channel *ch)
{
    pthread_mutex_lock(&ch->sinks_lock);
    sink_set *set = atomic_exchange(&ch->sinks, NULL);
    pthread_mutex_unlock(&ch->sinks_lock);
    if (!set)
        return;
    for (size_t i = 0; i < set->count; i++)
        if (set->runner[i]->queue)
            sink_queue_close(set->runner[i]->queue);
    /* encoders drain and flush; their transports then deliver what is left */
    for (size_t i = 0; i < set->rend_count; i++)
        channel_rendition_finish(set->rend[i]);
    for (size_t i = 0; i < set->count; i++)
        sink_runner_retire(set->runner[i]);
    free(set);
}
