/**
 * @file host/evidence/evidence_client.h
 * @short The execution-evidence client: sends a session's as-run facts to
 *        RetroVue Core's retrovue.evidence.v1.ExecutionEvidenceService/
 *        EvidenceStream (a bidi gRPC stream; we send EvidenceFromAir, Core
 *        acks with EvidenceAckFromCore), spooled to disk first so nothing is
 *        lost when Core restarts.
 *
 * Follows RetroVue's contract (protos/execution_evidence_v1.proto;
 * pkg/air/docs/contracts/AirExecutionEvidenceSpoolContract_v0.1.md): every
 * event gets the next sequence number (from 1) and a UUID, is appended to
 * <spool_dir>/<channel_id_str>/<playout_session_id>.spool.jsonl and fsync'd
 * by the client's own thread, then sent. On (re)connect the client sends
 * Hello{first_sequence_available, last_sequence_emitted} and replays every
 * event after the last sequence Core acked; reconnects back off from 100 ms
 * to 5 s. Core dedups by event_uuid, so a replay never duplicates a record.
 * Spools of earlier sessions of the channel that Core has not fully acked
 * (an engine restart starts a new session) are delivered too, each on its
 * own call under its own session id.
 *
 * The client owns its thread, its gRPC channel and call, its queue and the
 * spool file. Emitting never blocks on I/O or the network: it copies the
 * event into a bounded in-memory queue (a full queue drops and counts).
 */
#ifndef RV_HOST_EVIDENCE_CLIENT_H
#define RV_HOST_EVIDENCE_CLIENT_H

#include <stddef.h>
#include <stdint.h>

typedef struct evidence_client evidence_client;

typedef struct evidence_client_config {
    const char *endpoint;            /**< "host:port" (Core's evidence server) */
    const char *channel_id;          /**< Core's channel name (channel_id_str) */
    const char *playout_session_id;  /**< e.g. "PS-<channel>-<start ms>" */
    const char *spool_dir;           /**< folder for the spool; created if missing */
} evidence_client_config;

/** Which payload of EvidenceFromAir. */
typedef enum evidence_kind {
    EVIDENCE_BLOCK_START = 1,
    EVIDENCE_SEGMENT_START = 2,
    EVIDENCE_SEGMENT_END = 3,
    EVIDENCE_BLOCK_FENCE = 4,
    EVIDENCE_CHANNEL_TERMINATED = 5
} evidence_kind;

/** One evidence event; fields not used by its kind are ignored. Strings are
 *  copied (truncated to fit). Times are UTC epoch ms, ticks are the
 *  channel's tick indices, frames are ticks aired. */
typedef struct evidence_event {
    evidence_kind kind;
    char block_id[128];
    char event_id[128];            /**< SEGMENT_START event_id / SEGMENT_END event_id_ref */
    int32_t segment_index;
    char segment_type_name[16];    /**< "content", "filler", "pad" */
    char asset_uri[512];
    int64_t actual_start_utc_ms;   /**< BLOCK_START, SEGMENT_START, SEGMENT_END */
    int64_t actual_end_utc_ms;     /**< SEGMENT_END, BLOCK_FENCE; CHANNEL_TERMINATED:
                                        its termination_utc_ms */
    int64_t asset_start_frame;     /**< SEGMENT_START/END */
    int64_t asset_end_frame;       /**< SEGMENT_END (inclusive: frames aired =
                                        end - start + 1; a SKIPPED segment has
                                        end = start - 1) */
    int64_t scheduled_duration_ms; /**< SEGMENT_START */
    int join_in_progress;          /**< SEGMENT_START */
    char status[16];               /**< SEGMENT_END: "AIRED", "SKIPPED", "TRUNCATED" */
    char reason[128];              /**< SEGMENT_END reason; CHANNEL_TERMINATED reason */
    char detail[256];              /**< CHANNEL_TERMINATED detail */
    uint64_t fallback_frames_used; /**< SEGMENT_END: slate, freeze and pad frames */
    uint64_t swap_tick;            /**< BLOCK_START, BLOCK_FENCE: the block's first tick
                                        (BlockFence.swap_tick is sent equal to fence_tick,
                                        as RetroVue's AR-ART-003 requires; the spool keeps
                                        this value) */
    uint64_t fence_tick;           /**< BLOCK_START, BLOCK_FENCE: first tick after it */
    uint64_t ct_at_fence_ms;       /**< BLOCK_FENCE */
    uint64_t total_frames_emitted; /**< BLOCK_FENCE: ticks the block aired */
    int truncated_by_fence;        /**< BLOCK_FENCE */
    int early_exhaustion;          /**< BLOCK_FENCE: content ran out before the fence */
    int primed_success;            /**< BLOCK_START, BLOCK_FENCE */
} evidence_event;

/** Start the client (its thread connects in the background; an unreachable
 *  Core is retried, never an error here). NULL with the reason in @p err
 *  when the config is invalid or the spool cannot be created. @p cfg and
 *  its strings are borrowed for the call. Thread: any. */
evidence_client *evidence_client_start(const evidence_client_config *cfg, char *err,
                                       size_t errlen);

/** Queue a copy of @p ev (borrowed). Never blocks on I/O. Thread: any (the
 *  channel's output thread, the session's event thread). */
void evidence_client_emit(evidence_client *ec, const evidence_event *ev);

/** Sequence numbers emitted and acked by Core so far, and events dropped
 *  because the queue was full. Thread: any. */
void evidence_client_counts(evidence_client *ec, uint64_t *emitted, uint64_t *acked,
                            uint64_t *dropped);

/** Spool everything queued, try for up to @p grace_ms to have it (and any
 *  earlier session being delivered) acked (0: don't wait), close the
 *  streams, join the thread, free. What is not acked stays in the spool
 *  file. NULL is a no-op. Thread: any but the client's. */
void evidence_client_stop(evidence_client *ec, int grace_ms);

#endif
