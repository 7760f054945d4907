/**
 * @file host/channel/channel_reload.c
 * @short Live reconfiguration of a running channel (SIGHUP): sinks added,
 *        removed or changed, a new renderer or slate, swapped at a tick
 *        boundary while the clock and the untouched sinks never pause.
 *
 * Everything new is built first; if anything fails, nothing changes. Then the
 * new sink set, renderer and fallback picture are published through atomic
 * pointers the output thread reads once per tick, the new slate is handed to
 * the producer thread, and what was replaced is retired once the output
 * thread has passed a tick boundary (and the producer has let go of the old
 * slate).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "channel/channel_internal.h"
#include "core/log.h"

#define BOUNDARY_WAIT_NS (2LL * 1000 * 1000 * 1000)

module_instance *channel_instance_new(channel *ch, const config_binding *binding, char *err,
                                      size_t errlen)
{
    module_instance *mi = calloc(1, sizeof(*mi));
    if (!mi) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (module_instance_create(mi, binding, &ch->format, ch->id, ch->name, ch->pool, ch->clock,
                               channel_on_event, ch, err, errlen) != RV_OK) {
        free(mi);
        return NULL;
    }
    host_context_set_image_sink(&mi->ctx, channel_preview_publish, ch->preview);
    return mi;
}

void channel_instance_free(module_instance *mi)
{
    if (!mi)
        return;
    module_instance_destroy(mi);
    free(mi);
}

rv_video_frame *channel_render_fallback(channel *ch, module_instance *slate, char *err,
                                        size_t errlen)
{
    if (slate->mod->kind != RV_KIND_PRODUCER || !loaded_module_serves(slate->mod, "slate:")) {
        snprintf(err, errlen, "slate module '%s' is not a producer serving 'slate:'",
                 slate->mod->name);
        return NULL;
    }
    const rv_producer_ops *ops = &slate->mod->producer;
    rv_segment_request req = {
        .struct_size = sizeof(req),
        .asset_uri = "slate:",
        .frame_count = 1,
        .type = RV_SEGMENT_CONTENT,
        .event_id = "",
        .transition_in = {RV_TRANSITION_NONE, 0},
        .transition_out = {RV_TRANSITION_NONE, 0},
        .first_tick_utc_ns = clock_now_utc_ns(ch->clock),
    };
    void *seg = NULL;
    rv_produce out = {.tick = 0, .index = 0, .asset_offset_ms = -1};
    int rc = ops->open(slate->state, &req, &seg);
    if (rc == RV_OK) {
        out.audio = frame_pool_audio_alloc(ch->pool, rv_samples_in_tick(ch->rate,
                                                                         ch->format.audio_rate, 0));
        rc = out.audio ? ops->read(seg, &out) : RV_ENOMEM;
        frame_pool_audio_release(out.audio);
        ops->close(seg);
    }
    if (rc != RV_OK || !out.video) {
        frame_pool_video_release(out.video);
        snprintf(err, errlen, "slate module '%s' could not render the fallback slate: %s",
                 slate->mod->name, rv_strerror(rc != RV_OK ? rc : RV_EINTERNAL));
        return NULL;
    }
    return out.video;
}

void channel_wait_tick_boundary(channel *ch)
{
    int64_t start = atomic_load(&ch->ticks_done);
    const int64_t step_ns = 2 * 1000 * 1000;
    for (int64_t waited = 0; waited < BOUNDARY_WAIT_NS; waited += step_ns) {
        if (atomic_load(&ch->ticks_done) >= start + 2 || channel_finished(ch))
            return;
        struct timespec ts = {0, step_ns};
        nanosleep(&ts, NULL);
    }
}

static int binding_equal(const config_binding *a, const config_binding *b)
{
    return strcmp(a->module, b->module) == 0 && options_equal(a->options, b->options) &&
           a->encoder_mod == b->encoder_mod &&
           options_equal(a->encoder_options, b->encoder_options);
}

/** What a reconfiguration builds before anything is published. */
typedef struct reload_plan {
    sink_set *next;              /**< the new set */
    int kept[ENGINE_MAX_SINKS];  /**< old index -> 1 when reused */
    module_instance *renderer;   /**< new renderer, NULL when unchanged */
    module_instance *slate;      /**< new slate, NULL when unchanged */
    rv_video_frame *fallback;    /**< its fallback picture */
} reload_plan;

static void reload_plan_abort(reload_plan *rp, const sink_set *old)
{
    for (size_t i = 0; rp->next && i < rp->next->count; i++) {
        int reused = 0;
        for (size_t j = 0; old && j < old->count; j++)
            reused |= rp->next->runner[i] == old->runner[j];
        if (!reused)
            sink_runner_retire(rp->next->runner[i]);
    }
    free(rp->next);
    channel_instance_free(rp->renderer);
    channel_instance_free(rp->slate);
    frame_pool_video_release(rp->fallback);
}

static int reload_build_sinks(channel *ch, const config_channel *cfg, const sink_set *old,
                              reload_plan *rp, char *err, size_t errlen)
{
    if (cfg->sink_count > ENGINE_MAX_SINKS) {
        snprintf(err, errlen, "more than %d sinks", ENGINE_MAX_SINKS);
        return RV_EINVAL;
    }
    rp->next = calloc(1, sizeof(*rp->next));
    if (!rp->next)
        return RV_ENOMEM;
    for (size_t i = 0; i < cfg->sink_count; i++) {
        sink_runner *reuse = NULL;
        for (size_t j = 0; old && j < old->count && !reuse; j++)
            if (!rp->kept[j] && ch->cfg->sink_count > j &&
                binding_equal(&ch->cfg->sinks[j], &cfg->sinks[i])) {
                rp->kept[j] = 1;
                reuse = old->runner[j];
            }
        if (!reuse)
            reuse = sink_runner_create(ch, &cfg->sinks[i], err, errlen);
        if (!reuse)
            return RV_EINVAL;
        rp->next->runner[rp->next->count++] = reuse;
    }
    sink_set_index_renditions(rp->next);
    return RV_OK;
}

int channel_reconfigure(channel *ch, const config_channel *cfg, char *err, size_t errlen)
{
    if (memcmp(&cfg->format, &ch->cfg->format, sizeof(cfg->format)) != 0) {
        snprintf(err, errlen,
                 "profile change refused for a running channel (ProgramFormat is fixed per "
                 "session: stop and start the channel to change it)");
        return RV_ESTATE;
    }
    int producers_changed = cfg->producer_count != ch->cfg->producer_count;
    for (size_t i = 0; !producers_changed && i < cfg->producer_count; i++)
        producers_changed = !binding_equal(&cfg->producers[i], &ch->cfg->producers[i]);
    if (producers_changed)
        log_write(RV_LOG_WARN, ch->id, NULL,
                  "reload: producer changes take effect when the channel next starts (producers "
                  "hold open segments and are not swapped live)");
    reload_plan rp = {0};
    pthread_mutex_lock(&ch->sinks_lock);
    sink_set *old = atomic_load(&ch->sinks);
    int rc = reload_build_sinks(ch, cfg, old, &rp, err, errlen);
    if (rc == RV_OK && !binding_equal(&cfg->renderer, &ch->cfg->renderer) &&
        !(rp.renderer = channel_instance_new(ch, &cfg->renderer, err, errlen)))
        rc = RV_EINVAL;
    if (rc == RV_OK && !binding_equal(&cfg->slate, &ch->cfg->slate)) {
        rp.slate = channel_instance_new(ch, &cfg->slate, err, errlen);
        rp.fallback = rp.slate ? channel_render_fallback(ch, rp.slate, err, errlen) : NULL;
        if (!rp.fallback)
            rc = RV_EINVAL;
    }
    config_channel *copy = rc == RV_OK ? config_channel_clone(cfg) : NULL;
    if (rc == RV_OK && !copy) {
        snprintf(err, errlen, "out of memory");
        rc = RV_ENOMEM;
    }
    if (rc != RV_OK) {
        reload_plan_abort(&rp, old);
        pthread_mutex_unlock(&ch->sinks_lock);
        return rc;
    }

    /* publish: the output thread sees all of it from its next tick */
    size_t added = 0;
    atomic_store_explicit(&ch->sinks, rp.next, memory_order_release);
    module_instance *old_renderer = rp.renderer ? atomic_exchange(&ch->renderer, rp.renderer)
                                                : NULL;
    rv_video_frame *old_fallback = rp.fallback ? atomic_exchange(&ch->fallback, rp.fallback)
                                               : NULL;
    if (rp.slate)
        atomic_store(&ch->slate_next, rp.slate);
    channel_wait_tick_boundary(ch);

    /* retire what was replaced */
    size_t removed = 0;
    for (size_t j = 0; old && j < old->count; j++)
        if (!rp.kept[j]) {
            sink_runner_retire(old->runner[j]);
            removed++;
        }
    added = rp.next->count - (old ? old->count - removed : 0);
    free(old);
    channel_instance_free(old_renderer);
    frame_pool_video_release(old_fallback);
    config_channel_free(ch->cfg);
    ch->cfg = copy;
    if (!ch->is_virtual && atomic_exchange(&ch->on_demand, cfg->on_demand) != cfg->on_demand) {
        log_write(RV_LOG_INFO, ch->id, NULL, "encode policy now \"%s\"",
                  cfg->on_demand ? "on-demand" : "always");
        channel_demand_wake(ch); /* an idle channel now always on wakes */
    }
    pthread_mutex_unlock(&ch->sinks_lock);
    if (rp.slate) {
        /* the producer thread adopts the new slate at its next frame */
        module_instance *retired = NULL;
        for (int i = 0; i < 1000 && !(retired = atomic_exchange(&ch->slate_retired, NULL)); i++) {
            if (channel_finished(ch) || atomic_load(&ch->stopping))
                break;
            struct timespec ts = {0, 2 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        channel_instance_free(retired);
    }
    log_write(RV_LOG_INFO, ch->id, NULL,
              "reconfigured at tick %" PRId64 ": %zu sinks added, %zu removed, %zu kept%s%s",
              (int64_t)atomic_load(&ch->last_tick), added, removed, rp.next->count - added,
              rp.renderer ? ", new renderer" : "", rp.slate ? ", new slate" : "");
    return RV_OK;
}
