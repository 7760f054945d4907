/**
 * @file host/core/sink_queue.c
 * @short A sink's bounded queue (mutex + condition variables) between the
 *        channel's output thread and the sink's thread.
 *
 * Owns its slot storage (capacity * entry_size bytes), a scratch slot used to
 * hand a dropped entry to the release callback outside the lock, and every
 * entry queued in it (released at destroy). The dropped counter is atomic so
 * telemetry may read it without the lock.
 *
 * sink_queue_pop's timeout: 0 polls, a negative value waits without limit
 * (until an entry arrives or the queue is closed).
 */
#include "core/sink_queue.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <retrovue/error.h>

struct sink_queue {
    size_t capacity;
    size_t entry_size;
    sink_queue_policy policy;
    sink_queue_release_fn release;   /**< may be NULL */
    unsigned char *slots;            /**< owned */
    unsigned char *scratch;          /**< owned; the pusher's drop slot */
    size_t head;                     /**< oldest entry */
    size_t count;
    int closed;
    _Atomic uint64_t dropped;
    pthread_mutex_t lock;
    pthread_cond_t not_empty;
    pthread_cond_t not_full;
};

sink_queue *sink_queue_create(size_t capacity, size_t entry_size, sink_queue_policy policy,
                              sink_queue_release_fn release)
{
    pthread_condattr_t attr;
    if (capacity == 0 || entry_size == 0 || capacity > SIZE_MAX / entry_size)
        return NULL;
    if (policy != SINK_QUEUE_DROP_OLDEST && policy != SINK_QUEUE_BLOCK)
        return NULL;
    sink_queue *q = calloc(1, sizeof(*q));
    if (q == NULL)
        return NULL;
    q->slots = calloc(capacity, entry_size);
    q->scratch = calloc(1, entry_size);
    if (q->slots == NULL || q->scratch == NULL)
        goto fail;
    q->capacity = capacity;
    q->entry_size = entry_size;
    q->policy = policy;
    q->release = release;
    atomic_init(&q->dropped, 0);
    pthread_mutex_init(&q->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&q->not_empty, &attr);
    pthread_cond_init(&q->not_full, &attr);
    pthread_condattr_destroy(&attr);
    return q;

fail:
    free(q->slots);
    free(q->scratch);
    free(q);
    return NULL;
}

static unsigned char *sink_queue_slot(sink_queue *q, size_t i)
{
    return q->slots + ((q->head + i) % q->capacity) * q->entry_size;
}

void sink_queue_destroy(sink_queue *q)
{
    if (q == NULL)
        return;
    for (size_t i = 0; i < q->count; i++) {
        if (q->release != NULL)
            q->release(sink_queue_slot(q, i));
    }
    pthread_cond_destroy(&q->not_empty);
    pthread_cond_destroy(&q->not_full);
    pthread_mutex_destroy(&q->lock);
    free(q->slots);
    free(q->scratch);
    free(q);
}

int sink_queue_push(sink_queue *q, const void *entry)
{
    return sink_queue_push_wait(q, entry, 0);
}

int sink_queue_push_wait(sink_queue *q, const void *entry, int64_t wait_ns)
{
    int dropped = 0;
    pthread_mutex_lock(&q->lock);
    if (q->policy == SINK_QUEUE_BLOCK) {
        while (!q->closed && q->count == q->capacity)
            pthread_cond_wait(&q->not_full, &q->lock);
    } else if (wait_ns > 0 && !q->closed && q->count == q->capacity) {
        struct timespec deadline;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        int64_t ns = (int64_t)deadline.tv_nsec + wait_ns % 1000000000;
        deadline.tv_sec += (time_t)(wait_ns / 1000000000 + ns / 1000000000);
        deadline.tv_nsec = (long)(ns % 1000000000);
        while (!q->closed && q->count == q->capacity &&
               pthread_cond_timedwait(&q->not_full, &q->lock, &deadline) == 0) {
        }
    }
    if (q->closed) {
        pthread_mutex_unlock(&q->lock);
        if (q->release != NULL)
            q->release((void *)entry);
        return RV_ESTATE;
    }
    if (q->count == q->capacity) {
        /* DROP_OLDEST: move the oldest out, release it after unlocking. */
        memcpy(q->scratch, sink_queue_slot(q, 0), q->entry_size);
        q->head = (q->head + 1) % q->capacity;
        q->count--;
        atomic_fetch_add(&q->dropped, 1);
        dropped = 1;
    }
    memcpy(sink_queue_slot(q, q->count), entry, q->entry_size);
    q->count++;
    pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->lock);
    if (dropped && q->release != NULL)
        q->release(q->scratch);
    return RV_OK;
}

int sink_queue_pop(sink_queue *q, void *out, int64_t timeout_ns)
{
    struct timespec deadline;
    int rc = RV_OK;
    if (timeout_ns > 0) {
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        int64_t ns = (int64_t)deadline.tv_nsec + timeout_ns % 1000000000;
        deadline.tv_sec += (time_t)(timeout_ns / 1000000000 + ns / 1000000000);
        deadline.tv_nsec = (long)(ns % 1000000000);
    }
    pthread_mutex_lock(&q->lock);
    while (q->count == 0 && !q->closed) {
        if (timeout_ns == 0) {
            rc = RV_ETIMEDOUT;
            break;
        }
        int err = timeout_ns > 0 ? pthread_cond_timedwait(&q->not_empty, &q->lock, &deadline)
                                 : pthread_cond_wait(&q->not_empty, &q->lock);
        if (err != 0 && q->count == 0 && !q->closed) {
            rc = RV_ETIMEDOUT;
            break;
        }
    }
    if (rc == RV_OK) {
        if (q->count == 0) {
            rc = RV_EOF;
        } else {
            memcpy(out, sink_queue_slot(q, 0), q->entry_size);
            q->head = (q->head + 1) % q->capacity;
            q->count--;
            pthread_cond_signal(&q->not_full);
        }
    }
    pthread_mutex_unlock(&q->lock);
    return rc;
}

void sink_queue_close(sink_queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->closed = 1;
    pthread_cond_broadcast(&q->not_empty);
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->lock);
}

void sink_queue_reopen(sink_queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->closed = 0;
    pthread_mutex_unlock(&q->lock);
}

size_t sink_queue_depth(sink_queue *q)
{
    pthread_mutex_lock(&q->lock);
    size_t depth = q->count;
    pthread_mutex_unlock(&q->lock);
    return depth;
}

uint64_t sink_queue_dropped(const sink_queue *q)
{
    return atomic_load(&((sink_queue *)q)->dropped);
}

int sink_queue_closed(sink_queue *q)
{
    pthread_mutex_lock(&q->lock);
    int closed = q->closed;
    pthread_mutex_unlock(&q->lock);
    return closed;
}
