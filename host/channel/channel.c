/**
 * @file host/channel/channel.c
 * @short A channel's lifecycle (build, prime, start, swap plans, stop) and its
 *        status. The threads themselves live in channel_output.c,
 *        channel_producer.c and channel_sinks.c.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "channel/channel_internal.h"
#include "core/log.h"
#include "core/thread_budget.h"

/** The slate stands in after the last real picture has been repeated this long. */
#define FREEZE_MAX_MS 250
/** The ring holds about this much output ahead of the output thread. */
#define RING_AHEAD_MS 500
/** How long start waits (real time) for the first frame. */
#define PRIME_TIMEOUT_NS (10LL * 1000 * 1000 * 1000)

void channel_set_error(channel *ch, const char *public_reason, const char *fmt, ...)
{
    va_list ap;
    char text[256];
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&ch->status_lock);
    snprintf(ch->last_error, sizeof(ch->last_error), "%s", text);
    snprintf(ch->public_error, sizeof(ch->public_error), "%s",
             public_reason ? public_reason : text);
    pthread_mutex_unlock(&ch->status_lock);
    log_write(RV_LOG_WARN, ch->id, NULL, "%s", text);
}

/** Remember @p message about asset @p uri for its as-run line. Any thread. */
static void channel_notes_add(channel *ch, const char *uri, const char *message)
{
    static const uint64_t one = 1;
    pthread_mutex_lock(&ch->notes_lock);
    channel_notes *slot = NULL;
    channel_notes *oldest = &ch->notes[0];
    uint64_t newest = 0;
    for (int i = 0; i < CHANNEL_NOTE_ASSETS; i++) {
        channel_notes *n = &ch->notes[i];
        if (n->seq > newest)
            newest = n->seq;
        if (!slot && n->uri[0] && strcmp(n->uri, uri) == 0)
            slot = n;
        if (n->seq < oldest->seq)
            oldest = n;
    }
    if (!slot) {
        slot = oldest;
        snprintf(slot->uri, sizeof(slot->uri), "%s", uri);
        slot->text[0] = '\0';
    }
    slot->seq = newest + one;
    size_t used = strlen(slot->text);
    if (used + 3 < sizeof(slot->text))
        snprintf(slot->text + used, sizeof(slot->text) - used, "%s%s", used ? "; " : "", message);
    pthread_mutex_unlock(&ch->notes_lock);
}

void channel_notes_take(channel *ch, const char *uri, char *out, size_t len)
{
    out[0] = '\0';
    pthread_mutex_lock(&ch->notes_lock);
    for (int i = 0; i < CHANNEL_NOTE_ASSETS; i++) {
        channel_notes *n = &ch->notes[i];
        if (n->uri[0] && strcmp(n->uri, uri) == 0) {
            snprintf(out, len, "%s", n->text);
            n->uri[0] = '\0';
            n->text[0] = '\0';
            n->seq = 0;
            break;
        }
    }
    pthread_mutex_unlock(&ch->notes_lock);
}

void channel_on_event(void *owner, rv_context *ctx, rv_event_type type, int code,
                      const char *subject, const char *message)
{
    channel *ch = owner;
    (void)ctx;
    if (type == RV_EVENT_CLIENT_LEAVE) {
        channel_event ev = {.type = CHANNEL_EVENT_CLIENT_LEFT, .tick = -1,
                            .text = message ? message : ""};
        channel_emit(ch, &ev);
        return;
    }
    /* a producer's warning or asset error about an asset: a substitution
     * its as-run line carries (held picture, tone mapping, fallback...) */
    if ((type == RV_EVENT_WARNING || type == RV_EVENT_ASSET_ERROR) && subject && subject[0] &&
        message)
        channel_notes_add(ch, subject, message);
    if (type != RV_EVENT_ASSET_ERROR && type != RV_EVENT_SINK_ERROR)
        return;
    pthread_mutex_lock(&ch->status_lock);
    snprintf(ch->last_error, sizeof(ch->last_error), "%s: %s (%s)", subject ? subject : "",
             message ? message : "", rv_strerror(code));
    snprintf(ch->public_error, sizeof(ch->public_error), "%s",
             type == RV_EVENT_ASSET_ERROR ? "asset unavailable" : "sink error");
    pthread_mutex_unlock(&ch->status_lock);
}

/** Producers for the plan's URIs. When none serves "slate:", a second
 *  instance of the slate binding does, so plans can always name the slate. */
static int channel_build_producers(channel *ch, char *err, size_t errlen)
{
    const config_channel *cfg = ch->cfg;
    ch->producers = calloc(cfg->producer_count + 1, sizeof(module_instance));
    if (!ch->producers) {
        snprintf(err, errlen, "out of memory");
        return RV_ENOMEM;
    }
    int slate_served = 0;
    for (size_t i = 0; i < cfg->producer_count; i++) {
        int rc = module_instance_create(&ch->producers[i], &cfg->producers[i], &ch->format, ch->id,
                                        ch->name, ch->pool, ch->clock, channel_on_event, ch, err,
                                        errlen);
        if (rc != RV_OK)
            return rc;
        host_context_set_image_sink(&ch->producers[i].ctx, channel_preview_publish, ch->preview);
        ch->producer_count++;
        slate_served |= loaded_module_serves(ch->producers[i].mod, "slate:");
    }
    if (!slate_served) {
        int rc = module_instance_create(&ch->producers[ch->producer_count], &cfg->slate,
                                        &ch->format, ch->id, ch->name, ch->pool, ch->clock,
                                        channel_on_event, ch, err, errlen);
        if (rc != RV_OK)
            return rc;
        host_context_set_image_sink(&ch->producers[ch->producer_count].ctx,
                                    channel_preview_publish, ch->preview);
        ch->producer_count++;
    }
    return RV_OK;
}

static int channel_build_instances(channel *ch, char *err, size_t errlen)
{
    const config_channel *cfg = ch->cfg;
    int rc = channel_build_producers(ch, err, errlen);
    if (rc != RV_OK)
        return rc;
    ch->slate = channel_instance_new(ch, &cfg->slate, err, errlen);
    if (!ch->slate)
        return RV_EINVAL;
    rv_video_frame *fallback = channel_render_fallback(ch, ch->slate, err, errlen);
    if (!fallback)
        return RV_EINVAL;
    atomic_store(&ch->fallback, fallback);
    module_instance *renderer = channel_instance_new(ch, &cfg->renderer, err, errlen);
    if (!renderer)
        return RV_EINVAL;
    atomic_store(&ch->renderer, renderer);
    if (renderer->mod->kind != RV_KIND_RENDERER) {
        snprintf(err, errlen, "module '%s' is not a renderer", renderer->mod->name);
        return RV_EINVAL;
    }
    if (cfg->sink_count > ENGINE_MAX_SINKS) {
        snprintf(err, errlen, "more than %d sinks", ENGINE_MAX_SINKS);
        return RV_EINVAL;
    }
    sink_set *set = calloc(1, sizeof(*set));
    if (!set) {
        snprintf(err, errlen, "out of memory");
        return RV_ENOMEM;
    }
    atomic_store(&ch->sinks, set);
    for (size_t i = 0; i < cfg->sink_count; i++) {
        sink_runner *sr = sink_runner_create(ch, &cfg->sinks[i], err, errlen);
        if (!sr)
            return RV_EINVAL;
        set->runner[set->count++] = sr;
    }
    sink_set_index_renditions(set);
    return RV_OK;
}

/** Each transport may fall this far behind its rendition before it loses
 *  its place (about 10 s at 8 Mb/s). */
#define CHANNEL_TRANSPORT_QUEUE_BYTES (10u * 1024u * 1024u)

static channel *channel_alloc(const channel_params *params)
{
    channel *ch = calloc(1, sizeof(*ch));
    if (!ch)
        return NULL;
    ch->cfg = config_channel_clone(params->cfg);
    ch->id = params->cfg->id;
    snprintf(ch->name, sizeof(ch->name), "%s", params->cfg->name);
    ch->format = params->format;
    ch->rate = params->format.frame_rate;
    ch->clock = params->clock;
    ch->asrun = params->asrun;
    ch->on_event = params->on_event;
    ch->event_user = params->event_user;
    ch->is_virtual = clock_is_virtual(params->clock);
    pthread_mutex_init(&ch->plan_lock, NULL);
    pthread_mutex_init(&ch->finish_lock, NULL);
    pthread_cond_init(&ch->finish_cond, NULL);
    pthread_mutex_init(&ch->preload_lock, NULL);
    pthread_cond_init(&ch->preload_cond, NULL);
    pthread_mutex_init(&ch->status_lock, NULL);
    pthread_mutex_init(&ch->notes_lock, NULL);
    pthread_mutex_init(&ch->sinks_lock, NULL);
    pthread_mutex_init(&ch->rend_lock, NULL);
    pthread_mutex_init(&ch->demand_lock, NULL);
    pthread_cond_init(&ch->demand_cond, NULL);
    ch->transport_queue_bytes = CHANNEL_TRANSPORT_QUEUE_BYTES;
    ch->preload.state = PRELOAD_IDLE;
    ch->now_segment = -1;
    ch->next_segment = -1;
    atomic_store(&ch->position_ms, -1);
    atomic_store(&ch->last_tick, -1);
    atomic_store(&ch->state, CHANNEL_BUFFERING);
    ch->freeze_max_ticks = rv_ms_to_first_tick(ch->rate, FREEZE_MAX_MS) - 1;
    int64_t ring_frames = rv_ms_to_first_tick(ch->rate, RING_AHEAD_MS) + 1;
    ch->pool = frame_pool_create(&ch->format);
    ch->ring = ring_create((size_t)ring_frames, sizeof(staged_frame));
    ch->preview = channel_preview_create(&ch->last_tick);
    if (!ch->cfg || !ch->pool || !ch->ring || !ch->preview) {
        channel_preview_destroy(ch->preview);
        config_channel_free(ch->cfg);
        frame_pool_destroy(ch->pool);
        ring_destroy(ch->ring);
        free(ch);
        return NULL;
    }
    thread_budget_channel_add();
    return ch;
}

static void channel_drain_ring(channel *ch)
{
    staged_frame f;
    while (ring_pop(ch->ring, &f) == RV_OK)
        channel_release_staged(&f);
}

/** Free everything; every thread is stopped. */
static void channel_free(channel *ch)
{
    channel_sinks_stop(ch);
    channel_preload_clear(ch);
    channel_drain_ring(ch);
    channel_instance_free(atomic_exchange(&ch->renderer, NULL));
    for (size_t i = 0; i < ch->producer_count; i++)
        module_instance_destroy(&ch->producers[i]);
    channel_instance_free(ch->slate);
    channel_instance_free(atomic_exchange(&ch->slate_next, NULL));
    channel_instance_free(atomic_exchange(&ch->slate_retired, NULL));
    frame_pool_video_release(ch->black);
    frame_pool_video_release(atomic_exchange(&ch->fallback, NULL));
    plan_unref(ch->plan);
    plan_unref(ch->pending);
    plan_unref(ch->prod_plan);
    free(ch->producers);
    ring_destroy(ch->ring);
    frame_pool_destroy(ch->pool);
    config_channel_free(ch->cfg);
    channel_preview_destroy(ch->preview);
    pthread_mutex_destroy(&ch->plan_lock);
    pthread_mutex_destroy(&ch->finish_lock);
    pthread_cond_destroy(&ch->finish_cond);
    pthread_mutex_destroy(&ch->preload_lock);
    pthread_cond_destroy(&ch->preload_cond);
    pthread_mutex_destroy(&ch->status_lock);
    pthread_mutex_destroy(&ch->notes_lock);
    pthread_mutex_destroy(&ch->sinks_lock);
    pthread_mutex_destroy(&ch->rend_lock);
    pthread_mutex_destroy(&ch->demand_lock);
    pthread_cond_destroy(&ch->demand_cond);
    free(ch);
    thread_budget_channel_remove();
}

static void channel_join_threads(channel *ch)
{
    atomic_store(&ch->stopping, 1);
    channel_demand_wake(ch); /* idle output and producer threads */
    ring_wake(ch->ring);
    pthread_mutex_lock(&ch->preload_lock);
    pthread_cond_broadcast(&ch->preload_cond);
    pthread_mutex_unlock(&ch->preload_lock);
    if (ch->threads_started >= 1)
        pthread_join(ch->producer_thread, NULL);
    if (ch->threads_started >= 2)
        pthread_join(ch->preload_thread, NULL);
    if (ch->threads_started >= 3)
        pthread_join(ch->output_thread, NULL);
    ch->threads_started = 0;
}

/** Apply the channel's encode policy: on demand (real clock only), and
 *  idle from the start when nobody is watching yet. Control thread, before
 *  the threads start. */
static void channel_start_on_demand(channel *ch)
{
    if (!ch->cfg->on_demand)
        return;
    if (ch->is_virtual) {
        log_write(RV_LOG_WARN, ch->id, NULL,
                  "encode = \"on-demand\" is ignored on the virtual clock: always on");
        return;
    }
    atomic_store(&ch->on_demand, 1);
    const char *push = NULL;
    int64_t demand = channel_demand_count(ch, &push);
    if (push) {
        log_write(RV_LOG_WARN, ch->id, NULL,
                  "encode = \"on-demand\", but '%s' pushes the stream out whether anyone "
                  "watches: the channel is always on",
                  push);
        return;
    }
    if (demand == 0) {
        atomic_store(&ch->idle, 1);
        atomic_store(&ch->state, CHANNEL_IDLE);
        log_write(RV_LOG_INFO, ch->id, NULL,
                  "on demand: idle until a viewer or client comes (nothing decodes or "
                  "encodes; the schedule runs on)");
    }
}

/** Wait (real time) until the producer has staged the first frame. */
static int channel_prime(channel *ch)
{
    int64_t waited = 0;
    const int64_t step = 10 * 1000 * 1000;
    while (ring_count(ch->ring) == 0) {
        if (waited >= PRIME_TIMEOUT_NS)
            return RV_ETIMEDOUT;
        ring_wait_data(ch->ring, step);
        waited += step;
    }
    return RV_OK;
}

int channel_start(const channel_params *params, channel **out, char *err, size_t errlen)
{
    channel *ch = channel_alloc(params);
    if (!ch) {
        plan_unref(params->plan);
        snprintf(err, errlen, "out of memory");
        return RV_ENOMEM;
    }
    ch->plan = params->plan;
    ch->prod_plan = plan_ref(params->plan);
    atomic_store(&ch->gen, 1);
    atomic_store(&ch->restart_tick, 0);
    int64_t now_ns = clock_now_utc_ns(ch->clock);
    ch->epoch_utc_ms = params->epoch_utc_ms ? params->epoch_utc_ms : now_ns / 1000000;
    ch->epoch_ns = ch->epoch_utc_ms * 1000000;
    atomic_store(&ch->stop_tick, params->stop_utc_ms == INT64_MAX
                                     ? INT64_MAX
                                     : clock_first_tick_at(ch->epoch_utc_ms, ch->rate,
                                                           params->stop_utc_ms));
    int rc = channel_build_instances(ch, err, errlen);
    if (rc == RV_OK) {
        ch->black = frame_pool_video_alloc(ch->pool);
        if (ch->black)
            frame_pool_video_fill_black(ch->black);
        else
            rc = RV_ENOMEM;
    }
    if (rc != RV_OK)
        goto fail;
    channel_start_on_demand(ch);
    if (pthread_create(&ch->producer_thread, NULL, channel_producer_main, ch) != 0)
        goto fail_thread;
    ch->threads_started = 1;
    if (pthread_create(&ch->preload_thread, NULL, channel_preload_main, ch) != 0)
        goto fail_thread;
    ch->threads_started = 2;
    if (atomic_load(&ch->stop_tick) > 0 && !atomic_load(&ch->idle) && channel_prime(ch) != RV_OK) {
        snprintf(err, errlen, "the first frame was not ready within %lld s",
                 PRIME_TIMEOUT_NS / 1000000000LL);
        rc = RV_ETIMEDOUT;
        goto fail;
    }
    if (pthread_create(&ch->output_thread, NULL, channel_output_main, ch) != 0)
        goto fail_thread;
    ch->threads_started = 3;
    if (!atomic_load(&ch->idle))
        atomic_store(&ch->state, CHANNEL_READY);
    log_write(RV_LOG_INFO, ch->id, NULL,
              "started on plan '%s': %ux%u @ %d/%d, %u Hz x %u, epoch %" PRId64 " ms",
              ch->plan->handle, ch->format.width, ch->format.height, ch->rate.num, ch->rate.den,
              ch->format.audio_rate, ch->format.audio_channels, ch->epoch_utc_ms);
    *out = ch;
    return RV_OK;
fail_thread:
    snprintf(err, errlen, "cannot start the channel's threads");
    rc = RV_ENOMEM;
fail:
    channel_join_threads(ch);
    channel_free(ch);
    return rc;
}

void channel_update_plan(channel *ch, plan *p)
{
    pthread_mutex_lock(&ch->plan_lock);
    plan_unref(ch->pending);
    ch->pending = p;
    pthread_mutex_unlock(&ch->plan_lock);
}

void channel_stop(channel *ch)
{
    if (!ch)
        return;
    channel_join_threads(ch);
    log_write(RV_LOG_INFO, ch->id, NULL, "stopped after tick %" PRId64,
              (int64_t)atomic_load(&ch->last_tick));
    channel_free(ch);
}

plan *channel_plan_ref(channel *ch)
{
    pthread_mutex_lock(&ch->plan_lock);
    plan *p = plan_ref(ch->pending ? ch->pending : ch->plan);
    pthread_mutex_unlock(&ch->plan_lock);
    return p;
}

int64_t channel_ticks_emitted(channel *ch)
{
    return atomic_load(&ch->last_tick) + 1;
}

int64_t channel_epoch_utc_ms(channel *ch)
{
    return ch->epoch_utc_ms;
}

channel_preview *channel_get_preview(channel *ch)
{
    return ch->preview;
}

const char *channel_plan_handle(channel *ch)
{
    return ch->pending ? ch->pending->handle : ch->plan->handle;
}

void channel_set_stop_utc_ms(channel *ch, int64_t stop_utc_ms)
{
    atomic_store(&ch->stop_tick, stop_utc_ms == INT64_MAX
                                     ? INT64_MAX
                                     : clock_first_tick_at(ch->epoch_utc_ms, ch->rate,
                                                           stop_utc_ms));
}

int channel_finished(channel *ch)
{
    pthread_mutex_lock(&ch->finish_lock);
    int done = ch->finished;
    pthread_mutex_unlock(&ch->finish_lock);
    return done;
}

void channel_wait_finished(channel *ch)
{
    pthread_mutex_lock(&ch->finish_lock);
    while (!ch->finished)
        pthread_cond_wait(&ch->finish_cond, &ch->finish_lock);
    pthread_mutex_unlock(&ch->finish_lock);
}

/** A transport's status: its own counters, and its rendition's encode time
 *  and tick-queue drops on the first transport of each rendition (so a sum
 *  over sinks counts each encode once). */
static void channel_status_transport(sink_runner *sr, int first_of_rendition, sink_status *ss)
{
    const rv_transport_ops *ops = &sr->inst.mod->transport;
    if (ops->get_stats)
        ops->get_stats(sr->inst.state, &ss->stats);
    if (ops->describe)
        ops->describe(sr->inst.state, ss->address, sizeof(ss->address));
    ss->stats.encode_ns = 0;
    ss->queue_dropped = atomic_load(&sr->lagged);
    if (first_of_rendition) {
        ss->stats.encode_ns = atomic_load(&sr->rend->encode_ns);
        ss->queue_dropped += sink_queue_dropped(sr->rend->queue);
    }
    ss->restarts = atomic_load(&sr->restarts);
}

static void channel_status_sinks(channel *ch, channel_status *out)
{
    pthread_mutex_lock(&ch->sinks_lock);
    sink_set *set = atomic_load(&ch->sinks);
    out->sink_count = set ? set->count : 0;
    for (size_t i = 0; i < out->sink_count; i++) {
        sink_runner *sr = set->runner[i];
        sink_status *ss = &out->sinks[i];
        snprintf(ss->module, sizeof(ss->module), "%s", sr->inst.mod->name);
        ss->stats.struct_size = sizeof(ss->stats);
        if (sr->rend) {
            int first = 1;
            for (size_t j = 0; j < i; j++)
                first &= set->runner[j]->rend != sr->rend;
            channel_status_transport(sr, first, ss);
            continue;
        }
        const rv_sink_ops *ops = &sr->inst.mod->sink;
        if (ops->get_stats)
            ops->get_stats(sr->inst.state, &ss->stats);
        if (ops->describe)
            ops->describe(sr->inst.state, ss->address, sizeof(ss->address));
        ss->queue_dropped = sink_queue_dropped(sr->queue);
        ss->restarts = atomic_load(&sr->restarts);
    }
    pthread_mutex_unlock(&ch->sinks_lock);
}

void channel_status_get(channel *ch, channel_status *out)
{
    memset(out, 0, sizeof(*out));
    out->id = ch->id;
    snprintf(out->name, sizeof(out->name), "%s", ch->name);
    out->state = (channel_state)atomic_load(&ch->state);
    pthread_mutex_lock(&ch->plan_lock);
    snprintf(out->plan_handle, sizeof(out->plan_handle), "%s", channel_plan_handle(ch));
    pthread_mutex_unlock(&ch->plan_lock);
    pthread_mutex_lock(&ch->status_lock);
    snprintf(out->block_id, sizeof(out->block_id), "%s", ch->now_block);
    out->segment_index = ch->now_segment;
    snprintf(out->event_id, sizeof(out->event_id), "%s", ch->now_event);
    snprintf(out->asset_uri, sizeof(out->asset_uri), "%s", ch->now_asset);
    snprintf(out->last_error, sizeof(out->last_error), "%s", ch->last_error);
    snprintf(out->public_error, sizeof(out->public_error), "%s", ch->public_error);
    out->segment_start_utc_ms = ch->now_pos.start_utc_ms;
    out->segment_end_utc_ms = ch->now_pos.end_utc_ms;
    snprintf(out->next_block_id, sizeof(out->next_block_id), "%s", ch->next_block);
    out->next_segment_index = ch->next_segment;
    snprintf(out->next_event_id, sizeof(out->next_event_id), "%s", ch->next_event);
    snprintf(out->next_asset_uri, sizeof(out->next_asset_uri), "%s", ch->next_asset);
    out->next_start_utc_ms = ch->next_pos.start_utc_ms;
    out->next_end_utc_ms = ch->next_pos.end_utc_ms;
    pthread_mutex_unlock(&ch->status_lock);
    out->tick = atomic_load(&ch->last_tick);
    out->frame_gap_seconds = (double)atomic_load(&ch->frame_gap_ns) / 1e9;
    out->buffer_depth_frames = (uint32_t)ring_count(ch->ring);
    out->frames_real = atomic_load(&ch->frames_by_source[RV_SOURCE_REAL]);
    out->frames_freeze = atomic_load(&ch->frames_by_source[RV_SOURCE_FREEZE]);
    out->frames_slate = atomic_load(&ch->frames_by_source[RV_SOURCE_SLATE]);
    out->frames_pad = atomic_load(&ch->frames_by_source[RV_SOURCE_PAD]);
    out->late_ticks = atomic_load(&ch->late_ticks);
    out->producer_errors = atomic_load(&ch->producer_errors);
    out->producer_restarts = atomic_load(&ch->producer_restarts);
    out->idle_spells = atomic_load(&ch->idle_spells);
    out->segments_aired = atomic_load(&ch->segments_by_outcome[ASRUN_AIRED]);
    out->segments_truncated = atomic_load(&ch->segments_by_outcome[ASRUN_TRUNCATED]);
    out->segments_padded = atomic_load(&ch->segments_by_outcome[ASRUN_PADDED]);
    out->segments_failed = atomic_load(&ch->segments_by_outcome[ASRUN_FAILED]);
    out->segments_skipped = atomic_load(&ch->segments_by_outcome[ASRUN_SKIPPED]);
    out->epoch_utc_ms = ch->epoch_utc_ms;
    out->position_ms = atomic_load(&ch->position_ms);
    out->format = ch->format;
    channel_status_sinks(ch, out);
}
