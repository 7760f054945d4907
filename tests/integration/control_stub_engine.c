/**
 * @file tests/integration/control_stub_engine.c
 * @short A stand-in for host/engine/engine.c behind the real control plane:
 *        the engine API's contract (idempotent start/update/stop, "use
 *        UpdatePlan", plans looked up as <plans_dir>/<handle>.conf) with no
 *        media. Lets the gRPC tests pin down the server itself and make a
 *        StartChannel slow on purpose:
 *
 *   plan "hold"     StartChannel blocks until StopChannel(999) releases it
 *   channels 4000..4127   StartChannel sleeps one second (killed client, deadline)
 *
 * Owns a fixed table of channels (a named singleton of this test program).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <retrovue/error.h>

#include "engine/engine.h"

#define STUB_CHANNELS 256
#define STUB_RELEASE_CHANNEL 999
#define STUB_SLOW_FIRST 4000

struct engine {
    pthread_mutex_t lock;
    pthread_cond_t released;
    int release;
    const char *plans_dir;
    char plan[STUB_CHANNELS][ENGINE_TEXT];   /**< "" = stopped */
    rv_program_format format[STUB_CHANNELS];
    int64_t starts[STUB_CHANNELS];
};

static engine stub_engine_singleton;

engine *stub_engine_create(const char *plans_dir);
engine *stub_engine_create(const char *plans_dir)
{
    engine *e = &stub_engine_singleton;
    pthread_mutex_init(&e->lock, NULL);
    pthread_cond_init(&e->released, NULL);
    e->plans_dir = plans_dir;
    return e;
}

static int stub_plan_exists(const engine *e, const char *handle)
{
    if (strcmp(handle, "hold") == 0)
        return 1;
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s.conf", e->plans_dir, handle);
    return access(path, R_OK) == 0;
}

static int stub_slot(int32_t id)
{
    if (id > 0 && id < STUB_CHANNELS / 2)
        return id;
    if (id >= STUB_SLOW_FIRST && id < STUB_SLOW_FIRST + STUB_CHANNELS / 2)
        return id - STUB_SLOW_FIRST + STUB_CHANNELS / 2;
    return -1;
}

int engine_start_channel(engine *e, const engine_start_request *req, char *msg, size_t msglen)
{
    int slot = stub_slot(req->channel_id);
    if (slot < 0) {
        snprintf(msg, msglen, "channel %d is not configured and there is no channel_defaults block",
                 req->channel_id);
        return RV_ENOENT;
    }
    if (!stub_plan_exists(e, req->plan_handle)) {
        snprintf(msg, msglen, "plan '%s' not found in %s", req->plan_handle, e->plans_dir);
        return RV_ENOENT;
    }
    pthread_mutex_lock(&e->lock);
    if (e->plan[slot][0]) {
        int same = strcmp(e->plan[slot], req->plan_handle) == 0;
        if (same)
            snprintf(msg, msglen, "channel %d is already running plan '%s'", req->channel_id,
                     req->plan_handle);
        else
            snprintf(msg, msglen, "channel %d is running plan '%s'; use UpdatePlan",
                     req->channel_id, e->plan[slot]);
        pthread_mutex_unlock(&e->lock);
        return same ? RV_OK : RV_EBUSY;
    }
    if (strcmp(req->plan_handle, "hold") == 0) {
        while (!e->release)
            pthread_cond_wait(&e->released, &e->lock);
        e->release = 0;
    }
    pthread_mutex_unlock(&e->lock);
    if (req->channel_id >= STUB_SLOW_FIRST)
        nanosleep(&(struct timespec){.tv_sec = 1}, NULL);
    pthread_mutex_lock(&e->lock);
    snprintf(e->plan[slot], ENGINE_TEXT, "%s", req->plan_handle);
    e->format[slot] = req->format ? *req->format
                                  : (rv_program_format){1280, 720, {30000, 1001}, 48000, 2};
    e->starts[slot]++;
    pthread_mutex_unlock(&e->lock);
    snprintf(msg, msglen, "channel %d started on plan '%s'", req->channel_id, req->plan_handle);
    return RV_OK;
}

int engine_update_plan(engine *e, int32_t channel_id, const char *plan_handle, char *msg,
                       size_t msglen)
{
    int slot = stub_slot(channel_id);
    pthread_mutex_lock(&e->lock);
    int rc = RV_OK;
    if (slot < 0 || !e->plan[slot][0]) {
        snprintf(msg, msglen, "channel %d is not running; use StartChannel", channel_id);
        rc = RV_ESTATE;
    } else if (!stub_plan_exists(e, plan_handle)) {
        snprintf(msg, msglen, "plan '%s' not found", plan_handle);
        rc = RV_ENOENT;
    } else if (strcmp(e->plan[slot], plan_handle) == 0) {
        snprintf(msg, msglen, "channel %d is already on plan '%s'", channel_id, plan_handle);
    } else {
        snprintf(e->plan[slot], ENGINE_TEXT, "%s", plan_handle);
        snprintf(msg, msglen, "channel %d: plan '%s' takes effect at the next tick", channel_id,
                 plan_handle);
    }
    pthread_mutex_unlock(&e->lock);
    return rc;
}

int engine_stop_channel(engine *e, int32_t channel_id, char *msg, size_t msglen)
{
    pthread_mutex_lock(&e->lock);
    if (channel_id == STUB_RELEASE_CHANNEL) {
        e->release = 1;
        pthread_cond_broadcast(&e->released);
    }
    int slot = stub_slot(channel_id);
    if (slot < 0 || !e->plan[slot][0]) {
        snprintf(msg, msglen, "channel %d was not running", channel_id);
    } else {
        e->plan[slot][0] = '\0';
        snprintf(msg, msglen, "channel %d stopped", channel_id);
    }
    pthread_mutex_unlock(&e->lock);
    return RV_OK;
}

static void stub_fill(const engine *e, int slot, channel_status *out)
{
    memset(out, 0, sizeof(*out));
    out->id = slot < STUB_CHANNELS / 2 ? slot : slot - STUB_CHANNELS / 2 + STUB_SLOW_FIRST;
    snprintf(out->name, sizeof(out->name), "Stub %d", out->id);
    out->state = CHANNEL_READY;
    snprintf(out->plan_handle, sizeof(out->plan_handle), "%s", e->plan[slot]);
    snprintf(out->block_id, sizeof(out->block_id), "b1");
    snprintf(out->asset_uri, sizeof(out->asset_uri), "slate:bars");
    out->tick = 42;
    out->buffer_depth_frames = 3;
    out->frames_real = 43;
    out->format = e->format[slot];
    out->sink_count = 1;
    snprintf(out->sinks[0].module, sizeof(out->sinks[0].module), "framelog");
    snprintf(out->sinks[0].address, sizeof(out->sinks[0].address), "file:/dev/null");
    out->sinks[0].stats.bytes = 1000;
    out->sinks[0].stats.clients = 1;
}

int stub_session_status(int32_t channel_id, channel_status *out);

int engine_channel_status(engine *e, int32_t channel_id, channel_status *out)
{
    if (stub_session_status(channel_id, out))
        return RV_OK; /* control_stub_session.c */
    int slot = stub_slot(channel_id);
    pthread_mutex_lock(&e->lock);
    int rc = (slot > 0 && e->plan[slot][0]) ? RV_OK : RV_ENOENT;
    if (rc == RV_OK)
        stub_fill(e, slot, out);
    pthread_mutex_unlock(&e->lock);
    return rc;
}

int engine_list_channels(engine *e, channel_status **out, size_t *count)
{
    *out = calloc(STUB_CHANNELS, sizeof(channel_status));
    *count = 0;
    if (!*out)
        return RV_ENOMEM;
    pthread_mutex_lock(&e->lock);
    for (int i = 1; i < STUB_CHANNELS; i++) {
        if (e->plan[i][0])
            stub_fill(e, i, &(*out)[(*count)++]);
    }
    pthread_mutex_unlock(&e->lock);
    return RV_OK;
}
