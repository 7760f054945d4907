/**
 * @file modules/sinks/mpegts_common/ts_transport.c
 * @short ts_transport: one MPEG-TS transport instance: options, the fan-out
 *        session between start() and stop(), counters (see ts_transport.h).
 */
#include "ts_transport.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <retrovue/error.h>

/** Connect mode: reconnect backoff bounds. */
#define TS_BACKOFF_MIN_MS 100
#define TS_BACKOFF_MAX_MS 5000

typedef struct ts_transport {
    const rv_host_api *host;
    rv_context *ctx;
    ts_fanout_mode mode;
    const ts_transport_ops *ops;
    void *glue;
    size_t client_queue_bytes;
    uint32_t max_clients;
    uint32_t max_per_peer;   /**< 0: no per-peer cap (the Unix socket transport) */
    atomic_int adopted_fd;   /**< connect mode: a connected socket handed over once; -1 */
    int adopted;             /**< created with one (never reconnects) */

    /* The session: between start() and stop() */
    ts_fanout *fan;          /**< guarded by stats_lock against get_stats */
    int listen_open;         /**< the glue's unlisten is due */
    int64_t last_tick;       /**< transport thread: the tick of the last chunk */

    pthread_mutex_t stats_lock;
    ts_fanout_stats retired; /**< counters of sessions already stopped */
    atomic_uint_fast64_t dropped_frames;

    pthread_mutex_t desc_lock;
    char desc[256];
} ts_transport;

int ts_transport_create(const rv_create_args *args, ts_fanout_mode mode,
                        const ts_transport_ops *ops, void *glue, void **state)
{
    const rv_host_api *h = args->host;
    ts_transport *t;

    *state = NULL;
    t = calloc(1, sizeof *t);
    if (!t) {
        ops->free_glue(glue);
        return RV_ENOMEM;
    }
    t->host = h;
    t->ctx = args->ctx;
    t->mode = mode;
    t->ops = ops;
    t->glue = glue;
    t->last_tick = -1;
    pthread_mutex_init(&t->stats_lock, NULL);
    pthread_mutex_init(&t->desc_lock, NULL);
    t->client_queue_bytes = (size_t)h->opt_int(args->options, "client_queue_kb") * 1024;
    t->client_queue_bytes -= t->client_queue_bytes % 188;
    t->max_clients = 1;
    atomic_store(&t->adopted_fd, -1);
    if (mode == TS_FANOUT_CONNECT && h->opt_int(args->options, "fd") >= 0) {
        atomic_store(&t->adopted_fd, (int)h->opt_int(args->options, "fd"));
        t->adopted = 1;
    }
    if (mode == TS_FANOUT_LISTEN) {
        t->max_clients = (uint32_t)h->opt_int(args->options, "max_clients");
        /* Only mpegts-tcp declares it; elsewhere it reads 0 (no cap). */
        t->max_per_peer = (uint32_t)h->opt_int(args->options, "max_clients_per_peer");
    }
    ops->describe(glue, -1, t->desc, sizeof t->desc);
    *state = t;
    return RV_OK;
}

/* Connect mode with an adopted socket: hand it over once, then refuse (the
 * consumer's listener accepted exactly one connection). Network thread. */
static int ts_transport_adopted_connect(void *opaque, int *fd, char *err, size_t errlen)
{
    ts_transport *t = opaque;
    int adopted = atomic_exchange(&t->adopted_fd, -1);
    if (adopted < 0) {
        snprintf(err, errlen, "the attached socket was used and is gone; not reconnecting");
        return RV_EIO;
    }
    int flags = fcntl(adopted, F_GETFL);
    if (flags < 0 || fcntl(adopted, F_SETFL, flags | O_NONBLOCK) != 0) {
        snprintf(err, errlen, "attached socket %d: %s", adopted, strerror(errno));
        close(adopted);
        return RV_EIO;
    }
    *fd = adopted;
    return RV_OK;
}

void ts_transport_destroy(void *state)
{
    ts_transport *t = state;
    if (!t)
        return;
    int unused = atomic_exchange(&t->adopted_fd, -1);
    if (unused >= 0)
        close(unused);
    ts_transport_stop(t);
    t->ops->free_glue(t->glue);
    pthread_mutex_destroy(&t->stats_lock);
    pthread_mutex_destroy(&t->desc_lock);
    free(t);
}

int ts_transport_start(void *state)
{
    ts_transport *t = state;
    ts_fanout_config fc = {
        .mode = t->mode,
        .listen_fd = -1,
        .connect = t->adopted ? ts_transport_adopted_connect : t->ops->connect,
        .connect_opaque = t->adopted ? (void *)t : t->glue,
        .target = t->desc,
        .client_queue_bytes = t->client_queue_bytes,
        .max_clients = t->max_clients,
        .max_per_peer = t->max_per_peer,
        .backoff_min_ms = TS_BACKOFF_MIN_MS,
        .backoff_max_ms = TS_BACKOFF_MAX_MS,
        .host = t->host,
        .ctx = t->ctx,
    };
    ts_fanout *fan = NULL;
    int rc;

    if (t->fan)
        return RV_ESTATE;
    if (t->mode == TS_FANOUT_LISTEN) {
        char desc[sizeof t->desc];
        rc = t->ops->listen(t->glue, &fc.listen_fd);
        if (rc != RV_OK)
            return rc;
        t->listen_open = 1;
        t->ops->describe(t->glue, fc.listen_fd, desc, sizeof desc);
        pthread_mutex_lock(&t->desc_lock);
        memcpy(t->desc, desc, sizeof desc);
        pthread_mutex_unlock(&t->desc_lock);
    }
    rc = ts_fanout_start(&fc, &fan);
    if (rc != RV_OK) {
        if (fc.listen_fd >= 0)
            close(fc.listen_fd); /* the fan-out never took the socket */
        ts_transport_stop(t);
        return rc;
    }
    pthread_mutex_lock(&t->stats_lock);
    t->fan = fan;
    pthread_mutex_unlock(&t->stats_lock);
    t->last_tick = -1;
    t->host->log(t->ctx, RV_LOG_INFO, "streaming MPEG-TS on %s", t->desc);
    return RV_OK;
}

void ts_transport_stop(void *state)
{
    ts_transport *t = state;
    ts_fanout_stats last = {0};

    pthread_mutex_lock(&t->stats_lock);
    if (t->fan) {
        ts_fanout_stop(t->fan, &last);
        t->fan = NULL;
        t->retired.bytes += last.bytes;
        t->retired.disconnects += last.disconnects;
        t->retired.refused += last.refused;
    }
    pthread_mutex_unlock(&t->stats_lock);
    if (t->listen_open && t->ops->unlisten)
        t->ops->unlisten(t->glue);
    t->listen_open = 0;
}

int ts_transport_write(void *state, const rv_chunk *chunk)
{
    ts_transport *t = state;

    if (!t->fan)
        return RV_ESTATE;
    if (!chunk || !chunk->data || chunk->len % 188 != 0)
        return RV_EINVAL;
    if (chunk->flags & RV_STREAM_RANDOM_ACCESS)
        ts_fanout_mark_keyframe(t->fan);
    ts_fanout_append(t->fan, chunk->data, chunk->len);
    uint32_t receiving = ts_fanout_commit(t->fan);
    if (chunk->tick == t->last_tick)
        return RV_OK; /* the rest of a tick: counted with its first chunk */
    if (chunk->resync && t->last_tick >= 0 && chunk->tick > t->last_tick + 1)
        atomic_fetch_add(&t->dropped_frames, (uint64_t)(chunk->tick - t->last_tick - 1));
    t->last_tick = chunk->tick;
    if (receiving == 0 && t->mode == TS_FANOUT_CONNECT)
        atomic_fetch_add(&t->dropped_frames, 1); /* no consumer to take it */
    return RV_OK;
}

int ts_transport_get_stats(void *state, rv_sink_stats *out)
{
    ts_transport *t = state;
    ts_fanout_stats now = {0};

    pthread_mutex_lock(&t->stats_lock);
    if (t->fan)
        ts_fanout_get_stats(t->fan, &now);
    out->bytes = t->retired.bytes + now.bytes;
    out->clients = now.clients;
    out->disconnects = t->retired.disconnects + now.disconnects;
    pthread_mutex_unlock(&t->stats_lock);
    out->dropped_frames = atomic_load(&t->dropped_frames);
    return RV_OK;
}

int ts_transport_describe(void *state, char *buf, size_t len)
{
    ts_transport *t = state;
    if (!buf || len == 0)
        return RV_EINVAL;
    pthread_mutex_lock(&t->desc_lock);
    snprintf(buf, len, "%s", t->desc);
    pthread_mutex_unlock(&t->desc_lock);
    return RV_OK;
}

int ts_transport_consumers(void *state)
{
    ts_transport *t = state;
    if (t->mode != TS_FANOUT_LISTEN)
        return RV_ENOTSUP; /* connect: the consumer is always there to push to */
    ts_fanout_stats now = {0};
    pthread_mutex_lock(&t->stats_lock);
    if (t->fan)
        ts_fanout_get_stats(t->fan, &now);
    pthread_mutex_unlock(&t->stats_lock);
    return (int)(now.clients > INT32_MAX ? INT32_MAX : now.clients);
}
