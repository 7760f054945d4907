/**
 * @file host/engine/engine_session.h
 * @short BlockPlan sessions (RetroVue Core's PlayoutSession API): a channel
 *        whose plan is the queue of blocks fed over gRPC, the byte stream
 *        attached to Core's socket, and the block events sent back.
 *
 * The control plane (host/control/) maps PlayoutControl's AttachStream,
 * DetachStream, StartBlockPlanSession, FeedBlockPlan, StopBlockPlanSession
 * and SubscribeBlockEvents onto these calls. Refusals are answers, not
 * errors: every call fills a session_result (the proto's
 * BlockPlanResultCode values) and a sentence in @p msg.
 *
 * Semantics follow RetroVue's C++ engine (pkg/air/src/playout_service.cpp,
 * see shared/notes/retrovue-core-api.md §4) where Core depends on them, and
 * do better where it falls short: a structurally invalid or non-contiguous
 * block is refused at Feed (never half-applied), a late subscriber receives
 * the live block's BlockStarted first, and several sessions (one per
 * channel) run in one process beside plan-file channels.
 *
 * Calls are safe from any thread; calls on one channel are serialised by the
 * channel's slot lock, calls on different channels never wait on each other.
 */
#ifndef RV_HOST_ENGINE_SESSION_H
#define RV_HOST_ENGINE_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include <retrovue/format.h>

#include "engine/engine.h"
#include "plan/plan.h"

/** Result codes; the values are RetroVue's BlockPlanResultCode
 *  (protos/playout.proto), so the control plane copies them as they are. */
typedef enum session_result {
    SESSION_RESULT_OK = 1,
    SESSION_RESULT_INVALID_BLOCK = 2,
    SESSION_RESULT_NOT_CONTIGUOUS = 3,
    SESSION_RESULT_QUEUE_FULL = 4,
    SESSION_RESULT_NO_SESSION = 5,
    SESSION_RESULT_ALREADY_ACTIVE = 6,
    SESSION_RESULT_STREAM_NOT_ATTACHED = 7
} session_result;

/** How AttachStream reaches the consumer; values are RetroVue's StreamTransport. */
typedef enum stream_transport {
    STREAM_TRANSPORT_UDS = 1,           /**< endpoint: a socket file path (< 108 bytes) */
    STREAM_TRANSPORT_TCP_LOOPBACK = 2   /**< endpoint: "host:port" */
} stream_transport;

/** StartBlockPlanSession. Pointers borrowed for the call. */
typedef struct engine_session_start_request {
    int32_t channel_id;                 /**< > 0 */
    const plan_block *blocks;           /**< the seed blocks (Core sends 2), copied */
    size_t block_count;
    int64_t join_utc_ms;                /**< the session epoch (UTC ms); 0 = now */
    const rv_program_format *format;    /**< NULL: the channel's configured profile */
    int32_t max_queue_depth;            /**< blocks fed but not yet started; < 2 means 2 */
    const char *evidence_endpoint;      /**< "host:port" of Core's evidence server; "" = none */
    const char *channel_id_str;         /**< Core's channel name for evidence; "" = the id */
} engine_session_start_request;

/** Attach a connect-mode byte stream to channel @p channel_id: connects to
 *  @p endpoint (borrowed) inside the call; writes nothing until a session
 *  starts on the channel; never reconnects (Core's listener accepts one
 *  connection). @p replace detaches an existing attachment first; without it
 *  an existing one is refused. RV_OK, or an error with the reason in @p msg
 *  ("connect() failed: ...", "Endpoint path too long", ...). */
int engine_attach_stream(engine *e, int32_t channel_id, stream_transport transport,
                         const char *endpoint, int replace, char *msg, size_t msglen);
/** Detach and close it. Idempotent: "Not attached (idempotent)" is RV_OK. */
int engine_detach_stream(engine *e, int32_t channel_id, char *msg, size_t msglen);

/** Start a session: validates every seed block (structure, contiguity) and
 *  the stream attachment, then starts the channel on a plan made of the
 *  blocks and returns once the first frame is primed. *@p code is
 *  SESSION_RESULT_OK on success. The return value is RV_OK whenever the
 *  request was answered (even a refusal); an error only when the engine
 *  itself failed (out of memory, the channel could not start). */
int engine_session_start(engine *e, const engine_session_start_request *req,
                         session_result *code, char *msg, size_t msglen);

/** Append @p block (borrowed, copied) to the session's queue: refused with
 *  NO_SESSION, QUEUE_FULL (blocks fed but not yet started >= depth; the block
 *  is not kept), NOT_CONTIGUOUS (start != the last fed block's end) or
 *  INVALID_BLOCK (the message names the block, segment and rule). */
int engine_session_feed(engine *e, int32_t channel_id, const plan_block *block,
                        session_result *code, char *msg, size_t msglen);

/** Stop the session (SessionEnded "stopped" to every subscriber, then the
 *  channel stops). Idempotent: no session is RV_OK with "No active session
 *  (idempotent)". @p final_ct_ms receives the content time aired in the
 *  session (ms), @p blocks_executed the blocks completed; both may be NULL.
 *  The attached stream is kept (Core kills the process next). */
int engine_session_stop(engine *e, int32_t channel_id, const char *reason,
                        int64_t *final_ct_ms, int32_t *blocks_executed, char *msg,
                        size_t msglen);

/** One block event (BlockEvent's oneof). */
typedef enum session_event_type {
    SESSION_EVENT_BLOCK_STARTED = 1,
    SESSION_EVENT_BLOCK_COMPLETED = 2,
    SESSION_EVENT_SESSION_ENDED = 3
} session_event_type;

typedef struct session_event {
    session_event_type type;
    int32_t channel_id;
    char block_id[256];
    int64_t block_start_utc_ms;
    int64_t block_end_utc_ms;
    int64_t final_ct_ms;                /**< COMPLETED: ms of the block aired; ENDED: of the session */
    int32_t blocks_executed_total;      /**< blocks completed so far, this one included */
    char reason[64];                    /**< ENDED: "stopped", "error", ... */
} session_event;

/** Receives events. Thread: the session's event thread; must not block
 *  (copy and return). @p ev is borrowed for the call. After a
 *  SESSION_EVENT_SESSION_ENDED the subscription is over: the function is
 *  never called again for it and the subscriber must not unsubscribe. */
typedef void (*session_event_fn)(void *user, const session_event *ev);

/** Subscribe to channel @p channel_id's session. The live block's
 *  BlockStarted (when one is on air) is delivered first, then every later
 *  event in order. RV_OK with *@p sub_id, RV_ENOENT when the channel has no
 *  session. @p user is borrowed until SESSION_ENDED or unsubscribe. */
int engine_session_subscribe(engine *e, int32_t channel_id, session_event_fn fn, void *user,
                             uint64_t *sub_id);
/** End a subscription (client cancel). Returns once @p fn is no longer
 *  running and will never be called again for @p sub_id. Returns 1 when the
 *  subscription was still live, 0 when it had already ended (its
 *  SESSION_ENDED was, or is being, delivered). Thread: any but the event
 *  thread. */
int engine_session_unsubscribe(engine *e, int32_t channel_id, uint64_t sub_id);

#endif
