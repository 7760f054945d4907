/**
 * @file host/evidence/evidence_record.h
 * @short One spooled evidence record (an evidence_event plus the sequence,
 *        UUID and emission time it was given) and its two encodings: the
 *        spool's JSON line and the EvidenceFromAir protobuf Core reads.
 *
 * The JSON line follows RetroVue's spool contract
 * (AirExecutionEvidenceSpoolContract_v0.1 §3): schema_version, channel_id,
 * playout_session_id, sequence, event_uuid, emitted_utc, payload_type
 * ("BLOCK_START", "SEGMENT_START", "SEGMENT_END", "BLOCK_FENCE",
 * "CHANNEL_TERMINATED") and a payload object whose keys are the proto's
 * field names. The protobuf is retrovue.evidence.v1.EvidenceFromAir
 * (proto/retrovue/execution_evidence_v1.proto). Pure functions; no state.
 */
#ifndef RV_HOST_EVIDENCE_RECORD_H
#define RV_HOST_EVIDENCE_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "evidence/evidence_client.h"

#define EVIDENCE_SCHEMA_VERSION 1
#define EVIDENCE_UUID_LEN 36     /**< "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" */
#define EVIDENCE_UTC_LEN 24      /**< "2026-11-29T15:21:52.123Z" */

/** A spooled event. The channel and session are the spool's, not stored here. */
typedef struct evidence_record {
    uint64_t sequence;                      /**< 1, 2, 3... within a session */
    char event_uuid[EVIDENCE_UUID_LEN + 1]; /**< UUIDv4, fixed at spooling */
    char emitted_utc[EVIDENCE_UTC_LEN + 1]; /**< when evidence_client_emit ran */
    evidence_event ev;
} evidence_record;

/** Make every string of @p ev (caller-owned) safe to spool and send:
 *  NUL-terminated within its array, and valid UTF-8 (each ill-formed part
 *  becomes U+FFFD, the text cut on a character boundary to fit: the as-run
 *  writer's rules, lib/jsonl/json_text.h), since JSON and proto3 strings must
 *  be UTF-8. */
void evidence_event_sanitize(evidence_event *ev);

/** A random (version 4, RFC 9562 §5.4) UUID from getrandom(2), lower-case,
 *  into @p out (at least 37 bytes, caller-owned). RV_OK or RV_EIO. */
int evidence_uuid_v4(char *out);

/** UTC epoch ms as ISO-8601 "YYYY-MM-DDTHH:MM:SS.mmmZ" into @p out (at least
 *  25 bytes, caller-owned). Negative times clamp to the epoch. */
void evidence_utc_iso(int64_t utc_ms, char *out);

/** The spool's name of @p kind ("BLOCK_START"...), or NULL if unknown. */
const char *evidence_kind_name(evidence_kind kind);

/** @p r as one compact JSON line without the newline, in a malloc'd string
 *  the caller frees; NULL on allocation failure. @p r, @p channel_id and
 *  @p session_id borrowed. */
char *evidence_record_to_json(const evidence_record *r, const char *channel_id,
                              const char *session_id);

/** Parse one spool line (@p len bytes, no newline needed) into @p out.
 *  RV_OK, or RV_EFORMAT with the reason in @p err when the line is not JSON,
 *  lacks a required field, has schema_version != 1, sequence 0, an unknown
 *  payload_type, or names another channel or session than the ones given.
 *  All pointers borrowed; @p out caller-owned. */
int evidence_record_from_json(const char *line, size_t len, const char *channel_id,
                              const char *session_id, evidence_record *out, char *err,
                              size_t errlen);

/** EvidenceFromAir for @p r, packed into a malloc'd buffer (caller frees)
 *  of *@p len bytes; NULL on allocation failure. */
uint8_t *evidence_record_pack(const evidence_record *r, const char *channel_id,
                              const char *session_id, size_t *len);

/** The Hello that opens every stream (sequence 0, event_uuid "hello", as
 *  RetroVue's engine sends it), packed as above. */
uint8_t *evidence_hello_pack(const char *channel_id, const char *session_id,
                             uint64_t first_sequence_available, uint64_t last_sequence_emitted,
                             size_t *len);

/** Read an EvidenceAckFromCore of @p len bytes. RV_OK with the sequence in
 *  *@p acked and Core's error text (possibly "") copied into @p error, or
 *  RV_EFORMAT when it does not decode. */
int evidence_ack_unpack(const uint8_t *buf, size_t len, uint64_t *acked, char *error,
                        size_t errlen);

#endif
