/**
 * @file host/channel/channel_asrun.c
 * @short The output thread's account of each segment instance: what aired
 *        (real, freeze, slate, pad), how it ended, and its as-run line.
 *
 * Counting is a few integer additions per tick; at each segment end one
 * record is copied into the as-run writer's queue (no file I/O here).
 */
#include <string.h>

#include "channel/channel_internal.h"

void channel_tally_begin(segment_tally *t, int64_t first_aired_tick, int join_in_progress)
{
    memset(t, 0, sizeof(*t));
    t->first_aired_tick = first_aired_tick;
    t->join_in_progress = join_in_progress;
}

static asrun_status tally_status(const plan_segment *s, const timeline_pos *pos,
                                 const segment_tally *t)
{
    int64_t aired = 0;
    for (int i = 0; i < 5; i++)
        aired += t->by_source[i];
    if (aired < pos->end_tick - t->first_aired_tick)
        return ASRUN_TRUNCATED;
    if (t->by_source[RV_SOURCE_SLATE] > 0)
        return ASRUN_FAILED;
    if (s->type != RV_SEGMENT_PAD && t->by_source[RV_SOURCE_PAD] > 0)
        return ASRUN_PADDED;
    return ASRUN_AIRED;
}

static void tally_submit(channel *ch, const plan *p, const timeline_pos *pos,
                         const segment_tally *t, asrun_status status)
{
    const plan_block *b = timeline_block(p, pos);
    const plan_segment *s = timeline_segment(p, pos);
    atomic_fetch_add(&ch->segments_by_outcome[status], 1);
    if (!ch->asrun && !ch->on_event)
        return;
    asrun_record rec = {
        .channel_id = ch->id,
        .segment_index = s->index,
        .scheduled_start_utc_ms = pos->start_utc_ms,
        .actual_start_utc_ms =
            status == ASRUN_SKIPPED
                ? pos->start_utc_ms
                : ch->epoch_utc_ms + rv_ticks_to_ns(ch->rate, t->first_aired_tick) / 1000000,
        .scheduled_frames = pos->end_tick - pos->first_tick,
        .frames_aired = t->by_source[RV_SOURCE_REAL],
        .frames_padded = t->by_source[RV_SOURCE_PAD],
        .frames_slate = t->by_source[RV_SOURCE_SLATE],
        .frames_freeze = t->by_source[RV_SOURCE_FREEZE],
        .status = status,
        .join_in_progress = t->join_in_progress,
    };
    /* ids from plan files and gRPC may hold any bytes: cut on a character
     * boundary, never inside one (the writer escapes the rest) */
    asrun_record_set_text(rec.block_id, sizeof(rec.block_id), b->id);
    asrun_record_set_text(rec.event_id, sizeof(rec.event_id), s->event_id);
    asrun_record_set_text(rec.asset_uri, sizeof(rec.asset_uri), s->asset_uri);
    if (s->asset_uri && s->asset_uri[0])
        channel_notes_take(ch, s->asset_uri, rec.notes, sizeof(rec.notes));
    if (ch->asrun)
        asrun_writer_submit(ch->asrun, &rec, ch->is_virtual);
    int64_t end_tick = t->first_aired_tick;
    for (int i = 0; i < 5; i++)
        end_tick += t->by_source[i];
    channel_event ev = {.type = CHANNEL_EVENT_SEGMENT_ENDED,
                        .tick = end_tick,
                        .utc_ms = ch->epoch_utc_ms + rv_ticks_to_ns(ch->rate, end_tick) / 1000000,
                        .block = b,
                        .segment = s,
                        .first_tick = t->first_aired_tick,
                        .fence_tick = pos->end_tick,
                        .join_in_progress = t->join_in_progress,
                        .record = &rec};
    memcpy(ev.ticks_by_source, t->by_source, sizeof(ev.ticks_by_source));
    channel_emit(ch, &ev);
}

void channel_tally_finish(channel *ch, const plan *p, const timeline_pos *pos,
                          const segment_tally *t)
{
    const plan_segment *s = timeline_segment(p, pos);
    if (!s)
        return;
    tally_submit(ch, p, pos, t, tally_status(s, pos, t));
}

void channel_tally_skipped(channel *ch, const plan *p, const timeline_pos *pos)
{
    if (!timeline_segment(p, pos))
        return;
    segment_tally none;
    channel_tally_begin(&none, pos->first_tick, 0);
    tally_submit(ch, p, pos, &none, ASRUN_SKIPPED);
}
