/**
 * @file host/core/ring.c
 * @short Frame ring: single-producer single-consumer queue of fixed-size
 *        entries, lock-free on the fast path.
 *
 * Owns its entry storage (capacity * entry_size bytes, allocated once) and a
 * mutex + two condition variables that are touched only when one side has
 * to wait. The head index is written only by the producer, the tail only by
 * the consumer; both grow without wrapping (size_t) and the slot is the index
 * modulo the capacity.
 *
 * Wake-up protocol (no lost wake-ups): a waiter publishes its "waiting" flag
 * and then re-checks the index under the mutex; the other side publishes its
 * index and then reads the flag, with sequentially consistent fences on both
 * sides, so at least one of them sees the other. The signal is sent with the
 * mutex held, which the waiter holds from its check until it sleeps.
 *
 * Timeouts of ring_wait_space / ring_wait_data: 0 polls, a negative value
 * waits without limit (until the condition or ring_wake).
 */
#include "core/ring.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <retrovue/error.h>

enum { RING_CACHE_LINE = 64 };

struct ring {
    _Alignas(RING_CACHE_LINE) _Atomic size_t head; /**< next slot to write (producer) */
    _Alignas(RING_CACHE_LINE) _Atomic size_t tail; /**< next slot to read (consumer) */
    _Alignas(RING_CACHE_LINE) atomic_int waiting_space;
    atomic_int waiting_data;
    atomic_int woken;
    size_t capacity;
    size_t entry_size;
    unsigned char *slots;   /**< owned */
    pthread_mutex_t lock;
    pthread_cond_t space;   /**< signalled when the consumer frees a slot */
    pthread_cond_t data;    /**< signalled when the producer adds an entry */
};

ring *ring_create(size_t capacity, size_t entry_size)
{
    pthread_condattr_t attr;
    if (capacity == 0 || entry_size == 0 || capacity > SIZE_MAX / entry_size)
        return NULL;
    ring *r = aligned_alloc(RING_CACHE_LINE, (sizeof(ring) + RING_CACHE_LINE - 1) /
                                                 RING_CACHE_LINE * RING_CACHE_LINE);
    if (r == NULL)
        return NULL;
    memset(r, 0, sizeof(*r));
    r->slots = calloc(capacity, entry_size);
    if (r->slots == NULL)
        goto fail;
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    atomic_init(&r->waiting_space, 0);
    atomic_init(&r->waiting_data, 0);
    atomic_init(&r->woken, 0);
    r->capacity = capacity;
    r->entry_size = entry_size;
    pthread_mutex_init(&r->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&r->space, &attr);
    pthread_cond_init(&r->data, &attr);
    pthread_condattr_destroy(&attr);
    return r;

fail:
    free(r->slots);
    free(r);
    return NULL;
}

void ring_destroy(ring *r)
{
    if (r == NULL)
        return;
    pthread_cond_destroy(&r->space);
    pthread_cond_destroy(&r->data);
    pthread_mutex_destroy(&r->lock);
    free(r->slots);
    free(r);
}

/** Signal @p cond if the other side said it is waiting. */
static void ring_signal_if_waiting(ring *r, atomic_int *waiting, pthread_cond_t *cond)
{
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(waiting, memory_order_relaxed) == 0)
        return;
    pthread_mutex_lock(&r->lock);
    pthread_cond_signal(cond);
    pthread_mutex_unlock(&r->lock);
}

int ring_push(ring *r, const void *entry)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    if (head - tail >= r->capacity)
        return RV_EAGAIN;
    memcpy(r->slots + (head % r->capacity) * r->entry_size, entry, r->entry_size);
    atomic_store_explicit(&r->head, head + 1, memory_order_release);
    ring_signal_if_waiting(r, &r->waiting_data, &r->data);
    return RV_OK;
}

const void *ring_peek(ring *r)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    if (head == tail)
        return NULL;
    return r->slots + (tail % r->capacity) * r->entry_size;
}

int ring_pop(ring *r, void *out)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    if (head == tail)
        return RV_EAGAIN;
    memcpy(out, r->slots + (tail % r->capacity) * r->entry_size, r->entry_size);
    atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
    ring_signal_if_waiting(r, &r->waiting_space, &r->space);
    return RV_OK;
}

size_t ring_count(const ring *r)
{
    size_t tail = atomic_load_explicit(&((ring *)r)->tail, memory_order_acquire);
    size_t head = atomic_load_explicit(&((ring *)r)->head, memory_order_acquire);
    return head - tail;
}

size_t ring_capacity(const ring *r)
{
    return r->capacity;
}

/** The monotonic instant @p timeout_ns from now. */
static struct timespec ring_deadline(int64_t timeout_ns)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t ns = (int64_t)ts.tv_nsec + timeout_ns % 1000000000;
    ts.tv_sec += (time_t)(timeout_ns / 1000000000 + ns / 1000000000);
    ts.tv_nsec = (long)(ns % 1000000000);
    return ts;
}

/** Wait on @p cond until @p ready(r) or the ring is woken or @p timeout_ns
 *  (< 0: no limit) passes. */
static int ring_wait(ring *r, atomic_int *waiting, pthread_cond_t *cond,
                     int (*ready)(const ring *r), int64_t timeout_ns)
{
    struct timespec deadline;
    int rc = RV_OK;
    if (atomic_load(&r->woken))
        return RV_ESTATE;
    if (ready(r))
        return RV_OK;
    if (timeout_ns == 0)
        return RV_ETIMEDOUT;
    if (timeout_ns > 0)
        deadline = ring_deadline(timeout_ns);

    pthread_mutex_lock(&r->lock);
    atomic_store(waiting, 1);
    atomic_thread_fence(memory_order_seq_cst);
    for (;;) {
        if (atomic_load(&r->woken)) {
            rc = RV_ESTATE;
            break;
        }
        if (ready(r)) {
            rc = RV_OK;
            break;
        }
        int err = timeout_ns > 0 ? pthread_cond_timedwait(cond, &r->lock, &deadline)
                                 : pthread_cond_wait(cond, &r->lock);
        if (err != 0) {
            rc = atomic_load(&r->woken) ? RV_ESTATE : ready(r) ? RV_OK : RV_ETIMEDOUT;
            break;
        }
    }
    atomic_store(waiting, 0);
    pthread_mutex_unlock(&r->lock);
    return rc;
}

static int ring_has_space(const ring *r)
{
    return ring_count(r) < r->capacity;
}

static int ring_has_data(const ring *r)
{
    return ring_count(r) > 0;
}

int ring_wait_space(ring *r, int64_t timeout_ns)
{
    return ring_wait(r, &r->waiting_space, &r->space, ring_has_space, timeout_ns);
}

int ring_wait_data(ring *r, int64_t timeout_ns)
{
    return ring_wait(r, &r->waiting_data, &r->data, ring_has_data, timeout_ns);
}

void ring_wake(ring *r)
{
    pthread_mutex_lock(&r->lock);
    atomic_store(&r->woken, 1);
    pthread_cond_broadcast(&r->space);
    pthread_cond_broadcast(&r->data);
    pthread_mutex_unlock(&r->lock);
}

void ring_reset_wake(ring *r)
{
    atomic_store(&r->woken, 0);
}
