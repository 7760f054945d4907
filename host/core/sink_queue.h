/**
 * @file host/core/sink_queue.h
 * @short A sink's bounded queue between the channel's output thread and the
 *        sink's own thread.
 *
 * Policy DROP_OLDEST (real clock): a full queue drops its oldest entry,
 * releases it through the release callback and counts it, so a slow sink
 * never slows the channel. Policy BLOCK (virtual clock): the pusher waits, so
 * a virtual-clock run delivers every tick. Mutex-protected; one pusher, one
 * popper.
 */
#ifndef RV_HOST_SINK_QUEUE_H
#define RV_HOST_SINK_QUEUE_H

#include <stddef.h>
#include <stdint.h>

typedef struct sink_queue sink_queue;

typedef enum sink_queue_policy {
    SINK_QUEUE_DROP_OLDEST = 1,
    SINK_QUEUE_BLOCK = 2
} sink_queue_policy;

/** Called with an entry the queue drops or discards (pusher's or
 *  sink_queue_destroy's thread). @p entry borrowed. */
typedef void (*sink_queue_release_fn)(void *entry);

sink_queue *sink_queue_create(size_t capacity, size_t entry_size, sink_queue_policy policy,
                              sink_queue_release_fn release);
/** Release every entry still queued, then free. */
void sink_queue_destroy(sink_queue *q);

/** Copy @p entry in (ownership of what it references passes to the queue).
 *  RV_OK, or RV_ESTATE once closed (the entry is released). */
int sink_queue_push(sink_queue *q, const void *entry);
/** As sink_queue_push, but under DROP_OLDEST a full queue first waits up to
 *  @p wait_ns (ns, >= 0; 0 = not at all) for the popper to make room, and
 *  drops its oldest entry only if none came: for a pusher that is catching
 *  up (the start burst) and would rather be slower than lose ticks. BLOCK
 *  waits as always. */
int sink_queue_push_wait(sink_queue *q, const void *entry, int64_t wait_ns);
/** Copy the oldest entry into @p out (ownership passes to the caller).
 *  RV_OK, RV_ETIMEDOUT after @p timeout_ns, or RV_EOF when closed and empty. */
int sink_queue_pop(sink_queue *q, void *out, int64_t timeout_ns);
/** No more pushes; the popper drains what is queued then gets RV_EOF. */
void sink_queue_close(sink_queue *q);
/** Reopen a closed queue (used when a sink restarts). */
void sink_queue_reopen(sink_queue *q);

/** True once sink_queue_close was called (and not reopened). Thread: any. */
int sink_queue_closed(sink_queue *q);
size_t sink_queue_depth(sink_queue *q);
uint64_t sink_queue_dropped(const sink_queue *q);

#endif
