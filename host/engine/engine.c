/**
 * @file host/engine/engine.c
 * @short The engine: a slot per channel id, each with its own lock, and the
 *        control API on top (start, update, stop, status).
 *
 * Slots are created on first use and counted: every call that takes a slot
 * pointer (engine_slot, a snapshot) holds a use until engine_slot_put, so the
 * pointer stays valid after the engine lock is released. The last use of a
 * slot that holds nothing (no channel, no session, no attached stream) frees
 * it, so refused starts for ever-new ids cannot grow the engine. Every call
 * validates its request before it touches a running channel.
 */
#include "engine/engine.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "channel/channel.h"
#include "engine/engine_internal.h"
#include "channel/channel_preview.h"
#include "core/log.h"
#include "plan/plan.h"
#include "plan/plan_media.h"
#include "session/block_session.h"
#include "telemetry/asrun.h"

engine *engine_create(const config *cfg, const module_registry *reg, master_clock *clock)
{
    engine *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->cfg = cfg;
    pthread_rwlock_init(&e->cfg_lock, NULL);
    e->reg = reg;
    e->clock = clock;
    pthread_mutex_init(&e->lock, NULL);
    atomic_store(&e->stop_utc_ms, INT64_MAX);
    return e;
}

void engine_set_asrun(engine *e, struct asrun_writer *w)
{
    e->asrun = w;
}

void engine_asrun_counts(engine *e, uint64_t *written, uint64_t *dropped)
{
    *written = e->asrun ? asrun_writer_written(e->asrun) : 0;
    *dropped = e->asrun ? asrun_writer_dropped(e->asrun) : 0;
}

static void engine_slot_free(channel_slot *slot)
{
    pthread_mutex_destroy(&slot->lock);
    pthread_mutex_destroy(&slot->sess_lock);
    if (slot->attached_fd >= 0)
        close(slot->attached_fd);
    free(slot);
}

void engine_destroy(engine *e)
{
    if (!e)
        return;
    engine_stop_all(e);
    for (size_t i = 0; i < e->slot_count; i++)
        engine_slot_free(e->slots[i]);
    free(e->slots);
    pthread_mutex_destroy(&e->lock);
    pthread_rwlock_destroy(&e->cfg_lock);
    free(e);
}

/** The slot for @p id, created on first use; NULL when out of memory. */
channel_slot *engine_slot(engine *e, int32_t id, int create)
{
    channel_slot *found = NULL;
    pthread_mutex_lock(&e->lock);
    for (size_t i = 0; i < e->slot_count && !found; i++)
        if (e->slots[i]->id == id)
            found = e->slots[i];
    if (found)
        found->users++;
    if (!found && create) {
        if (e->slot_count == e->slot_capacity) {
            size_t cap = e->slot_capacity ? e->slot_capacity * 2 : 8;
            channel_slot **grown = realloc(e->slots, cap * sizeof(*grown));
            if (grown) {
                e->slots = grown;
                e->slot_capacity = cap;
            }
        }
        if (e->slot_count < e->slot_capacity && (found = calloc(1, sizeof(*found)))) {
            found->id = id;
            found->attached_fd = -1;
            found->session_fd = -1;
            pthread_mutex_init(&found->lock, NULL);
            pthread_mutex_init(&found->sess_lock, NULL);
            found->users = 1;
            e->slots[e->slot_count++] = found;
        }
    }
    pthread_mutex_unlock(&e->lock);
    return found;
}

void engine_slot_put(engine *e, channel_slot *slot)
{
    if (!slot)
        return;
    channel_slot *drop = NULL;
    pthread_mutex_lock(&e->lock);
    /* users == 0: no other call holds the pointer and none can take it
     * without e->lock, so its fields are stable here */
    if (--slot->users == 0 && !slot->ch && !slot->sess && slot->attached_fd < 0) {
        for (size_t i = 0; i < e->slot_count; i++) {
            if (e->slots[i] != slot)
                continue;
            memmove(&e->slots[i], &e->slots[i + 1], (e->slot_count - i - 1) * sizeof(*e->slots));
            e->slot_count--;
            drop = slot;
            break;
        }
    }
    pthread_mutex_unlock(&e->lock);
    if (drop)
        engine_slot_free(drop);
}

void engine_slot_unlock(engine *e, channel_slot *slot)
{
    pthread_mutex_unlock(&slot->lock);
    engine_slot_put(e, slot);
}

size_t engine_slot_count(engine *e)
{
    pthread_mutex_lock(&e->lock);
    size_t n = e->slot_count;
    pthread_mutex_unlock(&e->lock);
    return n;
}

/** Every asset of @p p must be served by a producer bound to @p ch. */
int engine_check_plan_producers(const config_channel *ch, const plan *p, char *msg,
                                size_t msglen)
{
    for (size_t b = 0; b < p->block_count; b++) {
        const plan_block *blk = &p->blocks[b];
        for (size_t s = 0; s < blk->segment_count; s++) {
            const plan_segment *seg = &blk->segments[s];
            if (seg->type == RV_SEGMENT_PAD)
                continue;
            int served = ch->slate.mod && loaded_module_serves(ch->slate.mod, seg->asset_uri);
            for (size_t i = 0; i < ch->producer_count && !served; i++)
                served = loaded_module_serves(ch->producers[i].mod, seg->asset_uri);
            if (!served) {
                snprintf(msg, msglen,
                         "plan '%s': block '%s' (#%zu) segment %zu: no producer bound to channel "
                         "%d serves '%s'",
                         p->handle, blk->id, b, s, ch->id, seg->asset_uri);
                return RV_EINVAL;
            }
        }
    }
    return RV_OK;
}

int engine_check_plan_media(engine *e, const plan *p, char *msg, size_t msglen)
{
    char err[768];
    if (plan_check_media_roots(p, e->cfg->media_roots, e->cfg->media_root_count, err,
                               sizeof(err)) == RV_OK)
        return RV_OK;
    snprintf(msg, msglen, "plan '%s': %s", p->handle, err);
    return RV_EINVAL;
}

static plan *engine_load_plan(engine *e, const config_channel *cc, const char *handle, char *msg,
                              size_t msglen, int *rc)
{
    char err[512];
    if (!plan_handle_valid(handle, err, sizeof(err))) {
        snprintf(msg, msglen, "invalid plan handle: %s", err);
        *rc = RV_EINVAL;
        return NULL;
    }
    plan *p = plan_load(e->cfg->plans_dir, handle, err, sizeof(err));
    if (!p) {
        snprintf(msg, msglen, "%s", err);
        *rc = RV_EINVAL;
        return NULL;
    }
    *rc = engine_check_plan_media(e, p, msg, msglen);
    if (*rc == RV_OK)
        *rc = engine_check_plan_producers(cc, p, msg, msglen);
    if (*rc != RV_OK) {
        plan_unref(p);
        return NULL;
    }
    return p;
}

/** The configured channel for @p id, or one made from channel_defaults. */
config_channel *engine_channel_config(engine *e, int32_t id, char *msg, size_t msglen)
{
    const config_channel *cc = config_find_channel(e->cfg, id);
    if (cc)
        return config_channel_clone(cc);
    if (!e->cfg->defaults) {
        snprintf(msg, msglen,
                 "channel %d is not in the config and the config has no channel_defaults", id);
        return NULL;
    }
    config_channel *made = config_channel_clone(e->cfg->defaults);
    if (!made)
        return NULL;
    made->id = id;
    free(made->name);
    made->name = malloc(32);
    if (made->name)
        snprintf(made->name, 32, "Channel %d", id);
    return made;
}

/** Bind the channel's mpegts-tcp listen sink to @p port, adding one with
 *  default options when the channel has none. */
static int engine_apply_port(engine *e, config_channel *cc, int32_t port, char *msg,
                             size_t msglen)
{
    char err[256];
    raw_option value = {.key = "port", .type = RAW_INT, .i = port};
    for (size_t i = 0; i < cc->sink_count; i++) {
        config_binding *b = &cc->sinks[i];
        if (strcmp(b->module, "mpegts-tcp") != 0)
            continue;
        const char *mode = options_get_string(b->options, "mode");
        if (mode && strcmp(mode, "listen") != 0)
            continue;
        if (options_override(b->options, &value, err, sizeof(err)) != RV_OK) {
            snprintf(msg, msglen, "port %d: %s", port, err);
            return RV_EINVAL;
        }
        return RV_OK;
    }
    return engine_add_sink(e, cc, "mpegts-tcp", &value, 1, msg, msglen);
}

/** A transport added to @p cc shares the encoder settings of the channel's
 *  first transport (one encode), or takes the mpegts encoder's defaults. */
static int engine_transport_encoder(engine *e, const config_channel *cc, config_binding *b,
                                    char *err, size_t errlen)
{
    for (size_t i = 0; i < cc->sink_count; i++) {
        const config_binding *o = &cc->sinks[i];
        if (o->encoder_mod && o->encoder_options) {
            b->encoder_mod = o->encoder_mod;
            b->encoder_options = options_clone(o->encoder_options);
            return b->encoder_options ? RV_OK : RV_ENOMEM;
        }
    }
    const loaded_module *enc = registry_find(e->reg, "mpegts");
    if (!enc || enc->kind != RV_KIND_ENCODER) {
        snprintf(err, errlen, "the mpegts encoder module is not loaded");
        return RV_ENOTSUP;
    }
    b->encoder_mod = enc;
    return options_defaults(enc->info->options, &b->encoder_options, err, errlen);
}

int engine_add_sink(engine *e, config_channel *cc, const char *module, const raw_option *values,
                    size_t count, char *msg, size_t msglen)
{
    char err[256] = "";
    const loaded_module *m = registry_find(e->reg, module);
    if (!m || (m->kind != RV_KIND_SINK && m->kind != RV_KIND_TRANSPORT)) {
        snprintf(msg, msglen, "the %s sink or transport module is not loaded", module);
        return RV_ENOTSUP;
    }
    config_binding *grown = realloc(cc->sinks, (cc->sink_count + 1) * sizeof(*grown));
    if (!grown)
        return RV_ENOMEM;
    cc->sinks = grown;
    config_binding *b = &cc->sinks[cc->sink_count];
    memset(b, 0, sizeof(*b));
    b->module = strdup(module);
    b->mod = m;
    int rc = b->module ? options_defaults(m->info->options, &b->options, err, sizeof(err))
                       : RV_ENOMEM;
    if (rc == RV_OK && m->kind == RV_KIND_TRANSPORT)
        rc = engine_transport_encoder(e, cc, b, err, sizeof(err));
    for (size_t i = 0; rc == RV_OK && i < count; i++) {
        /* each value goes to the module that declares it (the transport first) */
        int mine = 0;
        for (const rv_option *o = m->info->options; o && o->key && !mine; o++)
            mine = strcmp(o->key, values[i].key) == 0;
        rv_options *target = mine || !b->encoder_options ? b->options : b->encoder_options;
        rc = options_override(target, &values[i], err, sizeof(err));
    }
    if (rc != RV_OK) {
        config_binding_clear(b);
        snprintf(msg, msglen, "%s: %s", module, err[0] ? err : rv_strerror(rc));
        return rc == RV_ENOMEM ? RV_ENOMEM : RV_EINVAL;
    }
    cc->sink_count++;
    return RV_OK;
}

/** channel_id must be positive; RV_EINVAL with the reason otherwise. */
int engine_check_id(int32_t channel_id, char *msg, size_t msglen)
{
    if (channel_id > 0)
        return RV_OK;
    snprintf(msg, msglen, "channel_id must be > 0 (got %d)", channel_id);
    return RV_EINVAL;
}

/** The slot of running channel @p id, locked; NULL (nothing locked) when the
 *  channel is not running. */
static channel_slot *engine_lock_running(engine *e, int32_t id)
{
    channel_slot *slot = engine_slot(e, id, 0);
    if (!slot)
        return NULL;
    pthread_mutex_lock(&slot->lock);
    if (slot->ch)
        return slot;
    engine_slot_unlock(e, slot);
    return NULL;
}

int engine_start_channel(engine *e, const engine_start_request *req, char *msg, size_t msglen)
{
    int rc = engine_check_id(req->channel_id, msg, msglen);
    if (rc != RV_OK)
        return rc;
    channel_slot *slot = engine_slot(e, req->channel_id, 1);
    if (!slot) {
        snprintf(msg, msglen, "out of memory");
        return RV_ENOMEM;
    }
    pthread_mutex_lock(&slot->lock);
    if (slot->sess) {
        snprintf(msg, msglen,
                 "channel %d runs a BlockPlan session; StopBlockPlanSession before StartChannel",
                 req->channel_id);
        engine_slot_unlock(e, slot);
        return RV_EBUSY;
    }
    if (slot->ch) {
        const char *on_air = channel_plan_handle(slot->ch);
        if (strcmp(on_air, req->plan_handle) == 0) {
            snprintf(msg, msglen, "channel %d is already running plan '%s'", req->channel_id,
                     on_air);
            rc = RV_OK;
        } else {
            snprintf(msg, msglen,
                     "channel %d is running plan '%s'; use UpdatePlan to change its plan",
                     req->channel_id, on_air);
            rc = RV_EBUSY;
        }
        engine_slot_unlock(e, slot);
        return rc;
    }
    pthread_rwlock_rdlock(&e->cfg_lock);
    config_channel *cc = engine_channel_config(e, req->channel_id, msg, msglen);
    if (!cc) {
        pthread_rwlock_unlock(&e->cfg_lock);
        engine_slot_unlock(e, slot);
        return RV_EINVAL;
    }
    rc = req->port > 0 ? engine_apply_port(e, cc, req->port, msg, msglen) : RV_OK;
    plan *p = rc == RV_OK ? engine_load_plan(e, cc, req->plan_handle, msg, msglen, &rc) : NULL;
    pthread_rwlock_unlock(&e->cfg_lock);
    if (p) {
        char err[512];
        channel_params params = {
            .cfg = cc,
            .format = req->format ? *req->format : cc->format,
            .plan = p,
            .clock = e->clock,
            .stop_utc_ms = atomic_load(&e->stop_utc_ms),
            .asrun = e->asrun,
        };
        rc = channel_start(&params, &slot->ch, err, sizeof(err));
        slot->port = req->port > 0 ? req->port : 0;
        if (rc == RV_OK)
            snprintf(msg, msglen, "channel %d started on plan '%s'", req->channel_id,
                     req->plan_handle);
        else
            snprintf(msg, msglen, "channel %d could not start: %s", req->channel_id, err);
    }
    config_channel_free(cc);
    engine_slot_unlock(e, slot);
    if (rc != RV_OK)
        log_write(RV_LOG_WARN, req->channel_id, NULL, "StartChannel refused: %s", msg);
    return rc;
}

int engine_update_plan(engine *e, int32_t channel_id, const char *plan_handle, char *msg,
                       size_t msglen)
{
    int rc = engine_check_id(channel_id, msg, msglen);
    if (rc != RV_OK)
        return rc;
    channel_slot *slot = engine_lock_running(e, channel_id);
    if (!slot) {
        snprintf(msg, msglen, "channel %d is not running; use StartChannel", channel_id);
        return RV_ESTATE;
    }
    if (slot->sess) {
        snprintf(msg, msglen,
                 "channel %d runs a BlockPlan session: its plan is the blocks fed with "
                 "FeedBlockPlan",
                 channel_id);
        engine_slot_unlock(e, slot);
        return RV_ESTATE;
    }
    if (strcmp(channel_plan_handle(slot->ch), plan_handle) == 0) {
        snprintf(msg, msglen, "channel %d is already on plan '%s'", channel_id, plan_handle);
        engine_slot_unlock(e, slot);
        return RV_OK;
    }
    pthread_rwlock_rdlock(&e->cfg_lock);
    config_channel *cc = engine_channel_config(e, channel_id, msg, msglen);
    plan *p = cc ? engine_load_plan(e, cc, plan_handle, msg, msglen, &rc) : NULL;
    pthread_rwlock_unlock(&e->cfg_lock);
    if (p) {
        channel_update_plan(slot->ch, p);
        snprintf(msg, msglen, "channel %d: plan '%s' takes effect at the next tick", channel_id,
                 plan_handle);
    } else if (!cc) {
        rc = RV_EINVAL;
    }
    config_channel_free(cc);
    engine_slot_unlock(e, slot);
    return rc;
}

int engine_stop_channel(engine *e, int32_t channel_id, char *msg, size_t msglen)
{
    int rc = engine_check_id(channel_id, msg, msglen);
    if (rc != RV_OK)
        return rc;
    channel_slot *slot = engine_lock_running(e, channel_id);
    if (!slot) {
        snprintf(msg, msglen, "channel %d was not running", channel_id);
        return RV_OK;
    }
    if (slot->sess)
        block_session_set_stream(slot->sess, ""); /* the sink closing is not a loss */
    channel_stop(slot->ch);
    slot->ch = NULL;
    engine_session_end_locked(slot, "stopped", NULL, NULL);
    snprintf(msg, msglen, "channel %d stopped", channel_id);
    engine_slot_unlock(e, slot);
    return RV_OK;
}

/** A snapshot of the slot pointers, each with a use taken; give them back
 *  with engine_slots_release. */
static channel_slot **engine_slots_snapshot(engine *e, size_t *count)
{
    pthread_mutex_lock(&e->lock);
    channel_slot **copy = malloc((e->slot_count ? e->slot_count : 1) * sizeof(*copy));
    *count = 0;
    if (copy && e->slot_count) {
        memcpy(copy, e->slots, e->slot_count * sizeof(*copy));
        *count = e->slot_count;
        for (size_t i = 0; i < e->slot_count; i++)
            e->slots[i]->users++;
    }
    pthread_mutex_unlock(&e->lock);
    return copy;
}

/** Give back the uses of a snapshot and free it. */
static void engine_slots_release(engine *e, channel_slot **slots, size_t n)
{
    for (size_t i = 0; slots && i < n; i++)
        engine_slot_put(e, slots[i]);
    free(slots);
}

void engine_stop_all(engine *e)
{
    size_t n;
    channel_slot **slots = engine_slots_snapshot(e, &n);
    for (size_t i = 0; slots && i < n; i++) {
        pthread_mutex_lock(&slots[i]->lock);
        if (slots[i]->sess)
            block_session_set_stream(slots[i]->sess, "");
        channel_stop(slots[i]->ch);
        slots[i]->ch = NULL;
        engine_session_end_locked(slots[i], "shutdown", NULL, NULL);
        pthread_mutex_unlock(&slots[i]->lock);
    }
    engine_slots_release(e, slots, n);
}

int engine_channel_status(engine *e, int32_t channel_id, channel_status *out)
{
    channel_slot *slot = engine_lock_running(e, channel_id);
    if (!slot)
        return RV_ENOENT;
    channel_status_get(slot->ch, out);
    engine_slot_unlock(e, slot);
    return RV_OK;
}

int engine_list_channels(engine *e, channel_status **out, size_t *count)
{
    size_t n;
    channel_slot **slots = engine_slots_snapshot(e, &n);
    *out = NULL;
    *count = 0;
    if (!slots)
        return RV_ENOMEM;
    channel_status *list = calloc(n ? n : 1, sizeof(*list));
    if (!list) {
        engine_slots_release(e, slots, n);
        return RV_ENOMEM;
    }
    size_t filled = 0;
    for (size_t i = 0; i < n; i++) {
        pthread_mutex_lock(&slots[i]->lock);
        if (slots[i]->ch)
            channel_status_get(slots[i]->ch, &list[filled++]);
        pthread_mutex_unlock(&slots[i]->lock);
    }
    engine_slots_release(e, slots, n);
    *out = list;
    *count = filled;
    return RV_OK;
}

int engine_channel_preview(engine *e, int32_t channel_id, char *mime, size_t mimelen,
                           void **data, size_t *len, uint64_t *version, int64_t *tick)
{
    *data = NULL;
    *len = 0;
    channel_slot *slot = engine_lock_running(e, channel_id);
    if (!slot)
        return RV_ENOENT;
    int rc = channel_preview_copy(channel_get_preview(slot->ch), mime, mimelen, data, len,
                                  version, tick);
    engine_slot_unlock(e, slot);
    return rc;
}

int engine_channel_stream(engine *e, int32_t channel_id, struct stream_hub **out)
{
    *out = NULL;
    channel_slot *slot = engine_lock_running(e, channel_id);
    if (!slot)
        return RV_ENOENT;
    *out = channel_stream_hub(slot->ch);
    engine_slot_unlock(e, slot);
    return *out ? RV_OK : RV_ENOTSUP;
}

int engine_list_configured(engine *e, engine_configured_channel **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    pthread_rwlock_rdlock(&e->cfg_lock);
    size_t n = e->cfg->channel_count;
    engine_configured_channel *list = n ? calloc(n, sizeof(*list)) : NULL;
    if (n && !list) {
        pthread_rwlock_unlock(&e->cfg_lock);
        return RV_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const config_channel *cc = &e->cfg->channels[i];
        list[i].id = cc->id;
        snprintf(list[i].name, sizeof(list[i].name), "%s", cc->name ? cc->name : "");
        snprintf(list[i].autostart_plan, sizeof(list[i].autostart_plan), "%s",
                 cc->autostart_plan ? cc->autostart_plan : "");
    }
    pthread_rwlock_unlock(&e->cfg_lock);
    *out = list;
    *count = n;
    return RV_OK;
}

const config *engine_reload(engine *e, const config *cfg, int *refused)
{
    pthread_rwlock_wrlock(&e->cfg_lock);
    const config *old = e->cfg;
    e->cfg = cfg;
    pthread_rwlock_unlock(&e->cfg_lock);
    *refused = 0;
    size_t n;
    channel_slot **slots = engine_slots_snapshot(e, &n);
    for (size_t i = 0; slots && i < n; i++) {
        pthread_mutex_lock(&slots[i]->lock);
        if (slots[i]->ch) {
            char msg[512];
            config_channel *cc = engine_channel_config(e, slots[i]->id, msg, sizeof(msg));
            char err[512];
            if (cc && ((slots[i]->port > 0 &&
                        engine_apply_port(e, cc, slots[i]->port, msg, sizeof(msg)) != RV_OK) ||
                       engine_session_config_locked(e, slots[i], cc, msg, sizeof(msg)) != RV_OK)) {
                config_channel_free(cc);
                cc = NULL;
            }
            if (!cc) {
                log_write(RV_LOG_WARN, slots[i]->id, NULL,
                          "reload: %s; the channel keeps running as it was", msg);
                (*refused)++;
            } else if (channel_reconfigure(slots[i]->ch, cc, err, sizeof(err)) != RV_OK) {
                log_write(RV_LOG_ERROR, slots[i]->id, NULL,
                          "reload refused for this channel: %s; it keeps running as it was", err);
                (*refused)++;
            }
            config_channel_free(cc);
        }
        pthread_mutex_unlock(&slots[i]->lock);
    }
    engine_slots_release(e, slots, n);
    return old;
}

void engine_set_stop_utc_ms(engine *e, int64_t stop_utc_ms)
{
    atomic_store(&e->stop_utc_ms, stop_utc_ms);
    size_t n;
    channel_slot **slots = engine_slots_snapshot(e, &n);
    for (size_t i = 0; slots && i < n; i++) {
        pthread_mutex_lock(&slots[i]->lock);
        if (slots[i]->ch)
            channel_set_stop_utc_ms(slots[i]->ch, stop_utc_ms);
        pthread_mutex_unlock(&slots[i]->lock);
    }
    engine_slots_release(e, slots, n);
}

void engine_run_until(engine *e, int64_t stop_utc_ms)
{
    engine_set_stop_utc_ms(e, stop_utc_ms);
    size_t n;
    channel_slot **slots = engine_slots_snapshot(e, &n);
    int any = 0;
    for (size_t i = 0; slots && i < n; i++) {
        for (;;) {
            pthread_mutex_lock(&slots[i]->lock);
            int running = slots[i]->ch && !channel_finished(slots[i]->ch);
            any |= slots[i]->ch != NULL;
            pthread_mutex_unlock(&slots[i]->lock);
            if (!running)
                break;
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    engine_slots_release(e, slots, n);
    if (!any)
        clock_sleep_until(e->clock, stop_utc_ms * 1000000);
}
