/**
 * @file host/session/block_session_evidence.h
 * @short A block session's reports as RetroVue execution evidence: the
 *        channel's block and segment reports (the same records as the JSONL
 *        as-run log) mapped onto EvidenceFromAir payloads
 *        (protos/execution_evidence_v1.proto in RetroVue).
 *
 * Thread: the session's event thread. The client is borrowed.
 */
#ifndef RV_HOST_BLOCK_SESSION_EVIDENCE_H
#define RV_HOST_BLOCK_SESSION_EVIDENCE_H

#include <retrovue/format.h>

#include "evidence/evidence_client.h"
#include "session/block_session_item.h"

/** Map one channel report (@p it borrowed) at frame rate @p rate: BlockStart,
 *  SegmentStart, SegmentEnd, BlockFence. Other reports send nothing. */
void block_session_evidence_emit(evidence_client *ec, rv_rational rate, const bs_item *it);
/** ChannelTerminated with the END item's reason. */
void block_session_evidence_terminated(evidence_client *ec, const bs_item *it);
/** Stop the client, giving Core a moment to ack what is queued. */
void block_session_evidence_stop(evidence_client *ec);

#endif
