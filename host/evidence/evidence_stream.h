/**
 * @file host/evidence/evidence_stream.h
 * @short The gRPC side of the evidence client: one insecure grpc_channel to
 *        Core, its completion queue, and at most one EvidenceStream call
 *        (bidi: /retrovue.evidence.v1.ExecutionEvidenceService/EvidenceStream)
 *        at a time, driven with gRPC C core.
 *
 * A call goes IDLE -> OPEN (evidence_stream_open sends the Hello) -> ENDED
 * (Core's status arrived, or the call failed or was cancelled) -> IDLE again
 * once every operation of the call has completed. At most one message is in
 * flight (gRPC allows one send per call at a time); receives are re-posted
 * until Core half-closes. The channel reconnects by itself, with its own
 * backoff held to 100 ms .. 5 s so it never outlasts the client's.
 *
 * Not thread-safe: the evidence client's thread owns the stream and calls
 * everything, including the polling of the completion queue.
 */
#ifndef RV_HOST_EVIDENCE_STREAM_H
#define RV_HOST_EVIDENCE_STREAM_H

#include <stddef.h>
#include <stdint.h>

typedef struct evidence_stream evidence_stream;

typedef enum evidence_stream_state {
    EVIDENCE_STREAM_IDLE = 1, /**< no call */
    EVIDENCE_STREAM_OPEN = 2, /**< call running */
    EVIDENCE_STREAM_ENDED = 3 /**< status known; operations still draining */
} evidence_stream_state;

/** What evidence_stream_poll saw. */
typedef enum evidence_stream_what {
    EVIDENCE_STREAM_NOTHING = 1,   /**< timeout, or an internal step */
    EVIDENCE_STREAM_SENT = 2,      /**< the message in flight left (ok says if it did) */
    EVIDENCE_STREAM_ACK = 3,       /**< Core acked: acked, error */
    EVIDENCE_STREAM_FINISHED = 4   /**< the call is over and IDLE again: status, detail */
} evidence_stream_what;

typedef struct evidence_stream_event {
    evidence_stream_what what;
    int ok;                 /**< SENT: 1 if the message was handed to the transport */
    uint64_t acked;         /**< ACK: acked_sequence */
    char error[256];        /**< ACK: Core's error text, usually "" */
    int status;             /**< FINISHED: the grpc_status_code */
    char detail[256];       /**< FINISHED: status details */
    uint64_t acks_received; /**< FINISHED: acks the call brought */
} evidence_stream_event;

/** Create the channel to @p endpoint ("host:port", borrowed) and the
 *  completion queue; nothing is connected yet. NULL with the reason in
 *  @p err on an empty endpoint or when gRPC refuses it. */
evidence_stream *evidence_stream_create(const char *endpoint, char *err, size_t errlen);

evidence_stream_state evidence_stream_get_state(const evidence_stream *s);

/** IDLE -> OPEN: start a call whose first message is @p hello (@p len bytes,
 *  borrowed: copied). RV_OK, RV_ESTATE when not IDLE, RV_EIO when gRPC
 *  refuses the call (logged). */
int evidence_stream_open(evidence_stream *s, const uint8_t *hello, size_t len);

/** 1 when a message may be sent now: OPEN, nothing in flight, not half-closed. */
int evidence_stream_can_send(const evidence_stream *s);

/** Send one message (@p buf borrowed: copied). RV_OK or RV_ESTATE. */
int evidence_stream_send(evidence_stream *s, const uint8_t *buf, size_t len);

/** Half-close: nothing more will be sent; Core ends the call with OK.
 *  RV_OK or RV_ESTATE (a message in flight, or not OPEN). */
int evidence_stream_close_send(evidence_stream *s);

/** Cancel the call (if any); its operations then complete through poll. */
void evidence_stream_cancel(evidence_stream *s);

/** Wait up to @p timeout_ms for one completion and report it in @p ev
 *  (caller-owned). Returns 1 if something happened, 0 on timeout. */
int evidence_stream_poll(evidence_stream *s, int timeout_ms, evidence_stream_event *ev);

/** Cancel any call, wait for its operations, destroy the channel and the
 *  queue, free. NULL is a no-op. */
void evidence_stream_destroy(evidence_stream *s);

#endif
