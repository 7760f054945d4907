/**
 * @file host/core/ring.h
 * @short Frame ring: a fixed-capacity single-producer single-consumer queue
 *        of fixed-size entries between a channel's producer thread and its
 *        output thread. No allocation after creation.
 *
 * Lock-free on the fast path (C11 acquire/release indices); a side that finds
 * the ring full or empty may wait, and is woken by the other side only when it
 * is actually waiting.
 */
#ifndef RV_HOST_RING_H
#define RV_HOST_RING_H

#include <stddef.h>
#include <stdint.h>

typedef struct ring ring;

/** A ring of @p capacity entries of @p entry_size bytes. NULL on failure. */
ring *ring_create(size_t capacity, size_t entry_size);
/** Free the ring; entries still inside are not released (drain first). */
void ring_destroy(ring *r);

/** Producer: copy @p entry (borrowed) in. RV_OK, or RV_EAGAIN when full. */
int ring_push(ring *r, const void *entry);
/** Consumer: copy the oldest entry into @p out and remove it. RV_OK or RV_EAGAIN. */
int ring_pop(ring *r, void *out);
/** Consumer: the oldest entry in place (valid until the next pop), or NULL. */
const void *ring_peek(ring *r);
/** Entries currently queued. Thread: any (a snapshot). */
size_t ring_count(const ring *r);
size_t ring_capacity(const ring *r);

/** Producer: wait until there is room, at most @p timeout_ns (real time).
 *  RV_OK when there is room, RV_ETIMEDOUT, or RV_ESTATE after ring_wake. */
int ring_wait_space(ring *r, int64_t timeout_ns);
/** Consumer: wait until an entry is queued, at most @p timeout_ns. Same returns. */
int ring_wait_data(ring *r, int64_t timeout_ns);
/** Wake both sides and make current and future waits return RV_ESTATE until
 *  ring_reset_wake. Thread: any (used to stop threads). */
void ring_wake(ring *r);
void ring_reset_wake(ring *r);

#endif
