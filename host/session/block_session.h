/**
 * @file host/session/block_session.h
 * @short One BlockPlan session's bookkeeping (RetroVue Core's feed): which
 *        fed blocks have started (the queue depth Core's credits count), the
 *        block events sent to subscribers (BlockStarted, BlockCompleted,
 *        SessionEnded) and, when Core runs an evidence server, the evidence
 *        stream — all from what the channel's output thread reports.
 *
 * Owns its event thread, a fixed ring of pending items (the output thread
 * never allocates or waits for it), the subscriber list and the evidence
 * client handed to it. The engine serialises the control calls (feed, end)
 * of one session; the channel's event hook and subscribe/unsubscribe may
 * come from any thread.
 *
 * Event order follows RetroVue's contract (INV-EVIDENCE-ORDER-001): at a
 * fence, BlockCompleted of the outgoing block strictly before BlockStarted of
 * the incoming one; a subscriber that arrives late first receives the live
 * block's BlockStarted, then every later event in order; SessionEnded is the
 * last event a subscriber sees.
 */
#ifndef RV_HOST_BLOCK_SESSION_H
#define RV_HOST_BLOCK_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include <retrovue/format.h>

#include "channel/channel.h"
#include "engine/engine_session.h"

struct evidence_client;

typedef struct block_session block_session;

/** The most blocks a session may hold fed but not started. */
#define BLOCK_SESSION_MAX_DEPTH 64

/** A session for channel @p channel_id at @p rate (the channel's frame rate,
 *  for content times) holding at most @p max_queue_depth (2 ..
 *  BLOCK_SESSION_MAX_DEPTH) blocks fed but not started. @p evidence
 *  (ownership passes; NULL: none) receives the session's evidence and is
 *  stopped by block_session_destroy. NULL when out of memory. */
block_session *block_session_create(int32_t channel_id, rv_rational rate, int32_t max_queue_depth,
                                    struct evidence_client *evidence);

/** The channel's event hook (channel_event_fn); @p user is the session.
 *  Thread: the channel's output thread; copies and returns. */
void block_session_on_channel_event(void *user, const channel_event *ev);

/** The attached stream's address as its sink describes it ("unix:PATH",
 *  "tcp://HOST:PORT"; borrowed, copied): when that sink's client leaves (the
 *  consumer closed it or fell behind), the session ends with "error" —
 *  the stream is gone and never reconnects, so Core should restart. "" stops
 *  watching (before the channel stops its sinks). Control thread; a
 *  non-empty target only before the channel starts. */
void block_session_set_stream(block_session *bs, const char *target);
/** The session ended by itself (its stream was lost). Thread: any. */
int block_session_ended(block_session *bs);

/** Count a fed block (@p id borrowed, copied). Control thread. */
void block_session_note_fed(block_session *bs, const char *id, int64_t start_utc_ms,
                            int64_t end_utc_ms);
/** Blocks fed but not yet started. Thread: any. */
int block_session_pending(block_session *bs);
/** The queue bound. */
int32_t block_session_depth(const block_session *bs);
/** End of the last block fed (UTC ms). Control thread. */
int64_t block_session_last_end_utc_ms(const block_session *bs);
/** Id of the last block fed (borrowed until the next note_fed). */
const char *block_session_last_id(const block_session *bs);

/** See engine_session_subscribe / _unsubscribe. Thread: any but the
 *  session's event thread. RV_OK, RV_ESTATE (the session has ended) or
 *  RV_ENOMEM. */
int block_session_subscribe(block_session *bs, session_event_fn fn, void *user, uint64_t *id);
int block_session_unsubscribe(block_session *bs, uint64_t id);

/** End the session: every event the channel reported is delivered, then
 *  SessionEnded(@p reason, borrowed) to every subscriber; returns once that
 *  is done. @p final_ct_ms / @p blocks_executed (may be NULL) receive the
 *  session's content time (ms aired) and completed blocks. Control thread,
 *  after the channel has stopped (no more hook calls). */
void block_session_end(block_session *bs, const char *reason, int64_t *final_ct_ms,
                       int32_t *blocks_executed);

/** Stop the event thread and the evidence client, free. NULL is a no-op. */
void block_session_destroy(block_session *bs);

#endif
