/**
 * @file host/evidence/evidence_link.h
 * @short The delivery of one session's spool to Core: which sequence goes
 *        next, what Core acked, and when to (re)connect.
 *
 * A link pairs a spool (borrowed) with a stream (borrowed) and keeps the
 * delivery state: Core's ack mark (persisted into the spool's .ack file),
 * the next sequence to send, and the reconnect backoff (100 ms doubling to
 * 5 s; back to 100 ms once a call brought an ack). Every (re)connect sends
 * Hello{first_sequence_available, last_sequence_emitted} and then every
 * record after the ack mark, read back from the spool, one at a time.
 *
 * Not thread-safe: the evidence client's thread owns its links.
 */
#ifndef RV_HOST_EVIDENCE_LINK_H
#define RV_HOST_EVIDENCE_LINK_H

#include <stdint.h>

#include "evidence/evidence_spool.h"
#include "evidence/evidence_stream.h"

typedef struct evidence_link {
    evidence_spool *spool;    /**< borrowed */
    evidence_stream *stream;  /**< borrowed */
    char channel_id[129];
    char session_id[129];
    const char *endpoint;     /**< borrowed, for logs */
    uint64_t core_acked;
    uint64_t next_send;
    int backoff_ms;
    int64_t next_connect_ms;  /**< CLOCK_MONOTONIC ms */
    int failures;             /**< calls in a row that brought no ack */
    uint64_t persisted;       /**< the mark last written to the .ack file */
    int64_t persist_due_ms;   /**< no .ack write before this, unless caught up */
} evidence_link;

/** Bind @p spool and @p stream (borrowed, outliving the link's use) to
 *  @p link (caller-owned), starting from the spool's ack mark, connectable
 *  at once. @p endpoint borrowed for the link's life. */
void evidence_link_init(evidence_link *link, evidence_spool *spool, evidence_stream *stream,
                        const char *channel_id, const char *session_id, const char *endpoint);

/** 1 when Core acked everything in the spool. */
int evidence_link_all_acked(const evidence_link *link);

/** One step without waiting: connect when idle and due (unless @p no_connect),
 *  send the next record when the call can take it, or half-close when
 *  @p close_when_done and everything is acked. @p now_ms monotonic. */
void evidence_link_step(evidence_link *link, int64_t now_ms, int no_connect, int close_when_done);

/** Wait up to @p timeout_ms on the link's call and handle what completes
 *  (acks, the end of the call). A new ack mark goes to the .ack file at once
 *  when Core has everything or the call ended, otherwise at most every
 *  200 ms (a stale mark only means a longer replay, which Core dedups).
 *  Returns at once when there is no call. */
void evidence_link_poll(evidence_link *link, int timeout_ms);

/** Write the ack mark now if it moved since the last write. */
void evidence_link_flush(evidence_link *link);

#endif
