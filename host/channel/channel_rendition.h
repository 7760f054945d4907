/**
 * @file host/channel/channel_rendition.h
 * @short rendition: one encoder of a channel (one distinct set of encoder
 *        settings) on its own thread behind a bounded tick queue, publishing
 *        one MPEG-TS stream into a stream_hub that every transport bound to
 *        it, and every HTTP viewer, reads.
 *
 * Owns the encoder module instance, its tick queue and thread, and one
 * reference to the hub. Renditions are found or made by
 * channel_rendition_acquire (transports with equal encoder settings share
 * one) and live while a transport holds them; the channel keeps the list.
 */
#ifndef RV_HOST_CHANNEL_RENDITION_H
#define RV_HOST_CHANNEL_RENDITION_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "channel/module_instance.h"
#include "core/sink_queue.h"
#include "core/stream_hub.h"
#include "plan/plan.h"

struct channel;

typedef struct rendition {
    struct channel *ch;
    module_instance inst;          /**< the encoder */
    rv_options *settings;          /**< owned copy of the encoder options (the key) */
    sink_queue *queue;             /**< ticks (sink_entry) from the output thread */
    pthread_t thread;
    int thread_started;
    int finished;                  /**< control thread: drained and stopped */
    stream_hub *hub;               /**< one reference */
    int refs;                      /**< transports bound; ch->rend_lock */
    int seq;                       /**< creation order in the channel */
    struct rendition *next;        /**< the channel's list; ch->rend_lock */
    int64_t cur_tick;              /**< encoder thread: the tick being encoded */
    int64_t cur_utc_ms;
    atomic_uint_fast64_t encode_ns;
    atomic_uint_fast64_t restarts;
    int muted;                     /**< encoder thread: drop what the encoder writes */
    int64_t woke_ns;               /**< encoder thread: monotonic instant of the restart
                                        after an idle spell, until the new stream's first
                                        bytes; 0 otherwise */
    int64_t woke_first_tick;       /**< encoder thread: first tick encoded since then; -1 */
    int paused;                    /**< encoder thread: stopped for an idle spell */
    char desc[128];                /**< the encoder's describe() */
} rendition;

/** The rendition of @p ch for @p binding's encoder and encoder options (a
 *  transport binding, borrowed), made and started when none matches. One
 *  reference passes to the caller. NULL with the reason in @p err. Control
 *  thread. */
rendition *channel_rendition_acquire(struct channel *ch, const config_binding *binding, char *err,
                                     size_t errlen);
/** Drop one reference; the last one finishes the rendition (drains its
 *  queue, stops the encoder, closes the hub) and frees it. Control thread. */
void channel_rendition_release(rendition *r);
/** Let the encoder drain its queue, stop it (flushing into the hub) and
 *  close the hub so readers end after what is queued. Idempotent. Control
 *  thread, after the output thread stopped pushing to it. */
void channel_rendition_finish(rendition *r);
/** Queue @p tick (references taken) for the encoder; a full queue waits up
 *  to @p wait_ns (ns, 0 = not at all) for the encoder before it drops its
 *  oldest tick (sink_queue_push_wait). Output thread. */
void channel_rendition_push(rendition *r, const rv_tick *tick, plan *p, int64_t wait_ns);
/** The channel's idle spell ended: queue a marker that makes the encoder
 *  start a new stream at once (a random access point first), before the
 *  first tick arrives, instead of continuing the old one. Output thread. */
void channel_rendition_resume(rendition *r);

#endif
