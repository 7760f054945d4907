/**
 * @file host/core/stream_hub.c
 * @short stream_hub: shared chunks, GOP cache, per-reader bounded queues
 *        (see stream_hub.h).
 *
 * Locking: one mutex guards the cache and every subscriber's queue; it is
 * never held across a system call that can block. `data` is broadcast on
 * each publish (readers wait on it), `space` when a reader frees queue room
 * (a BLOCK publisher waits on it).
 */
#include "core/stream_hub.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <retrovue/encoder.h>
#include <retrovue/error.h>

#include "core/clock.h"

/** A reader's queue length in chunks (about a minute at 60 fps). */
#define SUB_MAX_CHUNKS 4096u

struct stream_sub {
    stream_hub *hub;
    stream_sub *next;            /**< hub's list */
    stream_chunk *q[SUB_MAX_CHUNKS];
    uint32_t head;
    uint32_t count;
    size_t bytes;
    size_t max_bytes;
    stream_sub_policy policy;
    int resync;
    int synced;                  /**< receives published chunks */
    int lost;                    /**< fell behind (resync off: ends with RV_EIO) */
    int skipped;                 /**< bytes were skipped before the next chunk */
    int passive;                 /**< does not count as demand (a transport's reader) */
    int interrupted;             /**< stream_sub_interrupt: the next wait returns at once */
    atomic_uint_fast64_t lagged;
};

struct stream_hub {
    atomic_int refs;
    pthread_mutex_t lock;
    pthread_cond_t data;
    pthread_cond_t space;
    int closed;
    stream_sub *subs;
    uint32_t readers;
    atomic_uint demand;          /**< readers that are not passive */
    stream_demand_fn waker;      /**< called when demand arrives; lock held */
    void *waker_user;
    stream_chunk **cache;        /**< chunks since the last random access point */
    size_t cache_count;
    size_t cache_cap;
    size_t cache_bytes;
    size_t cache_max_bytes;
    int cache_valid;
    uint64_t bytes;
    uint64_t chunks;
    uint64_t lagged;
};

void stream_chunk_ref(stream_chunk *c)
{
    atomic_fetch_add(&c->refs, 1);
}

void stream_chunk_unref(stream_chunk *c)
{
    if (c && atomic_fetch_sub(&c->refs, 1) == 1)
        free(c);
}

stream_hub *stream_hub_create(size_t cache_max_bytes)
{
    stream_hub *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    atomic_init(&h->refs, 1);
    h->cache_max_bytes = cache_max_bytes;
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->data, NULL);
    pthread_cond_init(&h->space, NULL);
    return h;
}

void stream_hub_ref(stream_hub *h)
{
    atomic_fetch_add(&h->refs, 1);
}

static void hub_cache_clear(stream_hub *h)
{
    for (size_t i = 0; i < h->cache_count; i++)
        stream_chunk_unref(h->cache[i]);
    h->cache_count = 0;
    h->cache_bytes = 0;
}

void stream_hub_unref(stream_hub *h)
{
    if (!h || atomic_fetch_sub(&h->refs, 1) != 1)
        return;
    hub_cache_clear(h);
    free(h->cache);
    pthread_mutex_destroy(&h->lock);
    pthread_cond_destroy(&h->data);
    pthread_cond_destroy(&h->space);
    free(h);
}

void stream_hub_close(stream_hub *h)
{
    pthread_mutex_lock(&h->lock);
    h->closed = 1;
    pthread_cond_broadcast(&h->data);
    pthread_cond_broadcast(&h->space);
    pthread_mutex_unlock(&h->lock);
}

void stream_hub_reset(stream_hub *h)
{
    pthread_mutex_lock(&h->lock);
    hub_cache_clear(h);
    h->cache_valid = 0;
    pthread_mutex_unlock(&h->lock);
}

/* Empty a reader's queue. Lock held. */
static void sub_flush(stream_sub *s)
{
    while (s->count) {
        stream_chunk_unref(s->q[s->head]);
        s->head = (s->head + 1) % SUB_MAX_CHUNKS;
        s->count--;
    }
    s->bytes = 0;
}

/* Append @p c with a new reference. Lock held; room checked by the caller. */
static void sub_push(stream_sub *s, stream_chunk *c)
{
    stream_chunk_ref(c);
    s->q[(s->head + s->count) % SUB_MAX_CHUNKS] = c;
    s->count++;
    s->bytes += c->len;
}

static int sub_has_room(const stream_sub *s, size_t len)
{
    return s->count < SUB_MAX_CHUNKS && (s->bytes + len <= s->max_bytes || s->count == 0);
}

/* The reader fell behind: it loses its queue. Lock held. */
static void sub_lose(stream_hub *h, stream_sub *s)
{
    sub_flush(s);
    s->synced = 0;
    s->skipped = 1;
    s->lost = !s->resync;
    atomic_fetch_add(&s->lagged, 1);
    h->lagged++;
}

static void hub_cache_add(stream_hub *h, stream_chunk *c)
{
    if (c->flags & RV_STREAM_RANDOM_ACCESS) {
        hub_cache_clear(h);
        h->cache_valid = 1;
    }
    if (!h->cache_valid)
        return;
    if (h->cache_bytes + c->len > h->cache_max_bytes) {
        hub_cache_clear(h);
        h->cache_valid = 0; /* GOP too large: joiners wait for the next one */
        return;
    }
    if (h->cache_count == h->cache_cap) {
        size_t cap = h->cache_cap ? h->cache_cap * 2 : 64;
        stream_chunk **grown = realloc(h->cache, cap * sizeof(*grown));
        if (!grown) {
            hub_cache_clear(h);
            h->cache_valid = 0;
            return;
        }
        h->cache = grown;
        h->cache_cap = cap;
    }
    stream_chunk_ref(c);
    h->cache[h->cache_count++] = c;
    h->cache_bytes += c->len;
}

int stream_hub_publish(stream_hub *h, const void *data, size_t len, uint32_t flags,
                       int64_t tick, int64_t utc_ms)
{
    stream_chunk *c = malloc(sizeof(*c) + len);
    if (!c)
        return RV_ENOMEM;
    atomic_init(&c->refs, 1);
    c->flags = flags;
    c->tick = tick;
    c->utc_ms = utc_ms;
    c->len = len;
    memcpy(c->data, data, len);

    pthread_mutex_lock(&h->lock);
    if (h->closed) {
        pthread_mutex_unlock(&h->lock);
        free(c);
        return RV_ESTATE;
    }
    h->bytes += len;
    h->chunks++;
    hub_cache_add(h, c);
    for (stream_sub *s = h->subs; s; s = s->next) {
        if (!s->synced && !s->lost && (flags & RV_STREAM_RANDOM_ACCESS))
            s->synced = 1; /* a late joiner (or a resync) starts here */
        if (!s->synced)
            continue;
        while (s->policy == STREAM_SUB_BLOCK && !sub_has_room(s, len) && !h->closed)
            pthread_cond_wait(&h->space, &h->lock);
        if (!sub_has_room(s, len))
            sub_lose(h, s);
        else
            sub_push(s, c);
    }
    pthread_cond_broadcast(&h->data);
    pthread_mutex_unlock(&h->lock);
    stream_chunk_unref(c);
    return RV_OK;
}

void stream_hub_get_stats(stream_hub *h, stream_hub_stats *out)
{
    pthread_mutex_lock(&h->lock);
    out->bytes = h->bytes;
    out->chunks = h->chunks;
    out->readers = h->readers;
    out->lagged = h->lagged;
    out->cache_bytes = h->cache_valid ? h->cache_bytes : 0;
    pthread_mutex_unlock(&h->lock);
}

void stream_hub_set_waker(stream_hub *h, stream_demand_fn fn, void *user)
{
    pthread_mutex_lock(&h->lock);
    h->waker = fn;
    h->waker_user = user;
    pthread_mutex_unlock(&h->lock);
}

uint32_t stream_hub_demand(stream_hub *h)
{
    return atomic_load_explicit(&h->demand, memory_order_relaxed);
}

static stream_sub *hub_subscribe(stream_hub *h, size_t max_bytes, stream_sub_policy policy,
                                 int resync, int passive)
{
    stream_sub *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->max_bytes = max_bytes;
    s->policy = policy;
    s->resync = resync;
    atomic_init(&s->lagged, 0);
    pthread_mutex_lock(&h->lock);
    if (h->closed) {
        pthread_mutex_unlock(&h->lock);
        free(s);
        return NULL;
    }
    if (h->cache_valid && h->cache_bytes <= max_bytes && h->cache_count <= SUB_MAX_CHUNKS) {
        for (size_t i = 0; i < h->cache_count; i++)
            sub_push(s, h->cache[i]);
        s->synced = 1;
    }
    s->hub = h;
    s->next = h->subs;
    s->passive = passive;
    h->subs = s;
    h->readers++;
    if (!passive) {
        atomic_fetch_add(&h->demand, 1);
        if (h->waker)
            h->waker(h->waker_user);
    }
    stream_hub_ref(h);
    pthread_mutex_unlock(&h->lock);
    return s;
}

stream_sub *stream_hub_subscribe(stream_hub *h, size_t max_bytes, stream_sub_policy policy,
                                 int resync)
{
    return hub_subscribe(h, max_bytes, policy, resync, 0);
}

stream_sub *stream_hub_subscribe_passive(stream_hub *h, size_t max_bytes,
                                         stream_sub_policy policy, int resync)
{
    return hub_subscribe(h, max_bytes, policy, resync, 1);
}

void stream_sub_close(stream_sub *s)
{
    if (!s)
        return;
    stream_hub *h = s->hub;
    pthread_mutex_lock(&h->lock);
    for (stream_sub **p = &h->subs; *p; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            break;
        }
    h->readers--;
    if (!s->passive)
        atomic_fetch_sub(&h->demand, 1);
    sub_flush(s);
    pthread_cond_broadcast(&h->space);
    pthread_mutex_unlock(&h->lock);
    free(s);
    stream_hub_unref(h);
}

int stream_sub_next(stream_sub *s, int64_t timeout_ns, stream_chunk **out, int *resync)
{
    stream_hub *h = s->hub;
    struct timespec deadline = clock_wait_deadline(CLOCK_REALTIME, timeout_ns);
    *out = NULL;
    pthread_mutex_lock(&h->lock);
    for (;;) {
        if (s->lost) {
            pthread_mutex_unlock(&h->lock);
            return RV_EIO;
        }
        if (s->count) {
            stream_chunk *c = s->q[s->head];
            s->head = (s->head + 1) % SUB_MAX_CHUNKS;
            s->count--;
            s->bytes -= c->len;
            if (resync)
                *resync = s->skipped;
            s->skipped = 0;
            *out = c;
            pthread_cond_broadcast(&h->space);
            pthread_mutex_unlock(&h->lock);
            return RV_OK;
        }
        if (h->closed) {
            pthread_mutex_unlock(&h->lock);
            return RV_EOF;
        }
        if (s->interrupted) {
            s->interrupted = 0;
            pthread_mutex_unlock(&h->lock);
            return RV_EAGAIN;
        }
        if (timeout_ns <= 0 ||
            pthread_cond_timedwait(&h->data, &h->lock, &deadline) == ETIMEDOUT) {
            pthread_mutex_unlock(&h->lock);
            return RV_ETIMEDOUT;
        }
    }
}

void stream_sub_interrupt(stream_sub *s)
{
    stream_hub *h = s->hub;
    pthread_mutex_lock(&h->lock);
    s->interrupted = 1;
    pthread_cond_broadcast(&h->data);
    pthread_mutex_unlock(&h->lock);
}

uint64_t stream_sub_lagged(const stream_sub *s)
{
    return atomic_load(&((stream_sub *)s)->lagged);
}
