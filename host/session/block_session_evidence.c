/**
 * @file host/session/block_session_evidence.c
 * @short A block session's reports mapped onto RetroVue's execution evidence
 *        (see block_session_evidence.h). Owns nothing.
 *
 * Statuses follow Core's as-run rules (pkg/core/src/retrovue/runtime/
 * evidence_server.py): AIRED, TRUNCATED or SKIPPED, never a zero-frame
 * AIRED/TRUNCATED; our finer outcomes (padded, failed) travel in `reason`.
 */
#include "session/block_session_evidence.h"

#include <stdio.h>
#include <string.h>

#include "telemetry/asrun.h"

#define EVIDENCE_STOP_GRACE_MS 1000

static const char *evidence_type_name(rv_segment_type t)
{
    switch (t) {
    case RV_SEGMENT_FILLER: return "filler";
    case RV_SEGMENT_PAD: return "pad";
    default: return "content";
    }
}

/** Asset frame index of @p offset_ms at the channel's rate. */
static int64_t evidence_frame_at(rv_rational rate, int64_t offset_ms)
{
    return rv_ms_to_first_tick(rate, offset_ms < 0 ? 0 : offset_ms);
}

static void evidence_segment_end(evidence_client *ec, rv_rational rate, const bs_item *it,
                                 evidence_event *ev)
{
    const asrun_record *r = &it->record;
    int64_t frames = r->frames_aired + r->frames_padded + r->frames_slate + r->frames_freeze;
    int64_t start_frame = evidence_frame_at(
        rate, it->asset_start_offset_ms + (r->actual_start_utc_ms - r->scheduled_start_utc_ms));
    ev->kind = EVIDENCE_SEGMENT_END;
    ev->actual_start_utc_ms = r->actual_start_utc_ms;
    ev->actual_end_utc_ms = it->utc_ms;
    ev->asset_start_frame = start_frame;
    /* inclusive end: a segment that aired no frame ends one before it starts */
    ev->asset_end_frame = start_frame + frames - 1;
    ev->fallback_frames_used = (uint64_t)(r->frames_slate + r->frames_freeze +
                                          (it->segment_type == RV_SEGMENT_PAD ? 0 : r->frames_padded));
    const char *status = "AIRED";
    switch (r->status) {
    case ASRUN_AIRED: break;
    case ASRUN_PADDED:
        snprintf(ev->reason, sizeof(ev->reason), "padded: the asset ended %lld frames early",
                 (long long)r->frames_padded);
        break;
    case ASRUN_TRUNCATED: status = "TRUNCATED"; break;
    case ASRUN_FAILED:
        status = r->frames_aired > 0 ? "TRUNCATED" : "SKIPPED";
        snprintf(ev->reason, sizeof(ev->reason), "failed: the slate stood in for %lld frames",
                 (long long)r->frames_slate);
        break;
    case ASRUN_SKIPPED: status = "SKIPPED"; break;
    }
    if (frames <= 0)
        status = "SKIPPED";
    snprintf(ev->status, sizeof(ev->status), "%s", status);
    (void)ec;
}

void block_session_evidence_emit(evidence_client *ec, rv_rational rate, const bs_item *it)
{
    evidence_event ev;
    memset(&ev, 0, sizeof(ev));
    snprintf(ev.block_id, sizeof(ev.block_id), "%s", it->block_id);
    snprintf(ev.event_id, sizeof(ev.event_id), "%s", it->event_id);
    snprintf(ev.asset_uri, sizeof(ev.asset_uri), "%s", it->asset_uri);
    snprintf(ev.segment_type_name, sizeof(ev.segment_type_name), "%s",
             evidence_type_name(it->segment_type));
    ev.segment_index = it->segment_index;
    ev.primed_success = 1;
    switch (it->type) {
    case CHANNEL_EVENT_BLOCK_STARTED:
        ev.kind = EVIDENCE_BLOCK_START;
        ev.swap_tick = (uint64_t)it->tick;
        ev.fence_tick = (uint64_t)it->fence_tick;
        ev.actual_start_utc_ms = it->utc_ms;
        break;
    case CHANNEL_EVENT_SEGMENT_STARTED:
        ev.kind = EVIDENCE_SEGMENT_START;
        ev.actual_start_utc_ms = it->utc_ms;
        ev.asset_start_frame = evidence_frame_at(
            rate, it->asset_start_offset_ms + rv_ticks_to_ns(rate, it->tick - it->first_tick) /
                                                  1000000);
        ev.scheduled_duration_ms = it->segment_duration_ms;
        ev.join_in_progress = it->join_in_progress;
        break;
    case CHANNEL_EVENT_SEGMENT_ENDED:
        if (!it->has_record)
            return;
        evidence_segment_end(ec, rate, it, &ev);
        break;
    case CHANNEL_EVENT_BLOCK_ENDED: {
        int64_t frames = 0;
        for (int i = 0; i < 5; i++)
            frames += it->ticks_by_source[i];
        ev.kind = EVIDENCE_BLOCK_FENCE;
        ev.swap_tick = (uint64_t)it->first_tick;
        ev.fence_tick = (uint64_t)it->fence_tick;
        ev.actual_end_utc_ms = it->utc_ms;
        ev.ct_at_fence_ms = (uint64_t)(frames > 0 ? rv_ticks_to_ns(rate, frames) / 1000000 : 0);
        ev.total_frames_emitted = (uint64_t)frames;
        ev.truncated_by_fence = it->tick < it->fence_tick;
        ev.early_exhaustion = it->ticks_by_source[RV_SOURCE_PAD] > 0;
        break;
    }
    default:
        return;
    }
    evidence_client_emit(ec, &ev);
}

void block_session_evidence_terminated(evidence_client *ec, const bs_item *it)
{
    evidence_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.kind = EVIDENCE_CHANNEL_TERMINATED;
    ev.actual_end_utc_ms = it->utc_ms;
    snprintf(ev.reason, sizeof(ev.reason), "%s", it->reason);
    snprintf(ev.detail, sizeof(ev.detail), "block session ended: %s", it->reason);
    evidence_client_emit(ec, &ev);
}

void block_session_evidence_stop(evidence_client *ec)
{
    evidence_client_stop(ec, EVIDENCE_STOP_GRACE_MS);
}
