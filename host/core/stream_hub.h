/**
 * @file host/core/stream_hub.h
 * @short stream_hub: one encoded rendition's byte stream shared by many
 *        readers (transports, HTTP viewers, HLS), with a GOP cache so a
 *        reader that joins late starts at a random access point.
 *
 * Owns the chunks (reference-counted copies of what the encoder wrote, each
 * copied once and shared by every reader), the GOP cache (the chunks since
 * the last random access point, bounded) and every subscriber's bounded
 * queue of chunk references. The encoder thread publishes; readers pull on
 * their own threads. A reader that falls behind its bound is dropped alone:
 * its queue is emptied and it either resumes at the next random access point
 * (resync) or is told to go away; the publisher never waits for it, except
 * under the BLOCK policy (virtual-clock runs) where the publisher waits for
 * queue space. The hub is reference-counted: the rendition holds one
 * reference and each subscriber one, so a viewer can outlive its channel.
 */
#ifndef RV_HOST_STREAM_HUB_H
#define RV_HOST_STREAM_HUB_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/** One published run of TS packets. Immutable; shared by reference. */
typedef struct stream_chunk {
    atomic_int refs;
    uint32_t flags;       /**< RV_STREAM_RANDOM_ACCESS */
    int64_t tick;         /**< the tick being encoded when it was written */
    int64_t utc_ms;       /**< channel UTC of that tick (HLS program date) */
    size_t len;
    uint8_t data[];
} stream_chunk;

void stream_chunk_ref(stream_chunk *c);
/** Drop one reference; frees at zero. NULL is a no-op. Thread: any. */
void stream_chunk_unref(stream_chunk *c);

typedef struct stream_hub stream_hub;
typedef struct stream_sub stream_sub;

/** What a full subscriber queue does. Never zero. */
typedef enum stream_sub_policy {
    STREAM_SUB_DROP = 1,  /**< the reader loses its place (real clock, viewers) */
    STREAM_SUB_BLOCK = 2  /**< the publisher waits for space (virtual clock) */
} stream_sub_policy;

typedef struct stream_hub_stats {
    uint64_t bytes;        /**< bytes published */
    uint64_t chunks;       /**< chunks published */
    uint32_t readers;      /**< subscribers now */
    uint64_t lagged;       /**< times a reader fell behind and lost its place */
    size_t cache_bytes;    /**< bytes in the GOP cache now */
} stream_hub_stats;

/** A hub whose GOP cache holds at most @p cache_max_bytes (a GOP larger
 *  than that makes late joiners wait for the next random access point).
 *  One reference owned by the caller. NULL when out of memory. */
stream_hub *stream_hub_create(size_t cache_max_bytes);
void stream_hub_ref(stream_hub *h);
/** Drop one reference; frees at zero (every subscriber holds one). */
void stream_hub_unref(stream_hub *h);
/** No more data: readers drain what is queued, then get RV_EOF; a blocked
 *  publisher returns. Thread: any. */
void stream_hub_close(stream_hub *h);
/** Forget the GOP cache (the encoder restarted: the next bytes start a new
 *  stream). Publisher's thread. */
void stream_hub_reset(stream_hub *h);

/** Copy @p len bytes (borrowed) into a new chunk and queue it for every
 *  reader. RV_OK, RV_ENOMEM, or RV_ESTATE once closed. Publisher's thread. */
int stream_hub_publish(stream_hub *h, const void *data, size_t len, uint32_t flags,
                       int64_t tick, int64_t utc_ms);
void stream_hub_get_stats(stream_hub *h, stream_hub_stats *out);

/** A new reader: it first receives the cached GOP (or waits for the next
 *  random access point), then everything published. At most @p max_bytes
 *  queued. @p resync: after falling behind, resume at the next random access
 *  point (1) or end with RV_EIO (0: HTTP viewers are dropped). Takes a hub
 *  reference. NULL when out of memory or the hub is closed. Thread: any. */
stream_sub *stream_hub_subscribe(stream_hub *h, size_t max_bytes, stream_sub_policy policy,
                                 int resync);
/** The same, for a reader that does not count as demand: a transport's
 *  reader, whose own clients are the demand (the transport's consumers()). */
stream_sub *stream_hub_subscribe_passive(stream_hub *h, size_t max_bytes,
                                         stream_sub_policy policy, int resync);

/** Told that a reader that counts as demand subscribed. Thread: the
 *  subscriber's, with the hub's lock held: signal and return (take no lock
 *  that is ever held while calling into this hub). */
typedef void (*stream_demand_fn)(void *user);
/** Call @p fn (NULL: none) with @p user (borrowed until replaced) when
 *  demand arrives. After it returns, the previous waker is never called
 *  again. Thread: any. */
void stream_hub_set_waker(stream_hub *h, stream_demand_fn fn, void *user);
/** Readers subscribed now that count as demand (not passive). Thread: any;
 *  a snapshot. */
uint32_t stream_hub_demand(stream_hub *h);

/** Release the queue and the hub reference. Thread: the reader's. */
void stream_sub_close(stream_sub *s);
/** Wait up to @p timeout_ns (0: do not wait) for the next chunk; one reference passes to the
 *  caller in *@p out. *@p resync (may be NULL) is set when bytes were
 *  skipped before it. RV_OK, RV_ETIMEDOUT, RV_EOF (hub closed and queue
 *  drained), RV_EIO (fell behind, resync off) or RV_EAGAIN (interrupted:
 *  stream_sub_interrupt). Thread: the reader's. */
int stream_sub_next(stream_sub *s, int64_t timeout_ns, stream_chunk **out, int *resync);
/** Make the reader's current or next stream_sub_next return RV_EAGAIN at
 *  once (when no chunk is queued): its thread should look at its own state
 *  (a transport being retired). Thread: any. */
void stream_sub_interrupt(stream_sub *s);
/** Times this reader fell behind. Thread: any. */
uint64_t stream_sub_lagged(const stream_sub *s);

#endif
