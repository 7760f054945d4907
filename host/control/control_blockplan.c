/**
 * @file host/control/control_blockplan.c
 * @short BlockPlan conversion and request-level checks (see
 *        control_blockplan.h). Owns nothing.
 */
#include "control/control_blockplan.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <retrovue/error.h>

int control_check_text(const char *field, const char *value, size_t max, char *err,
                       size_t errlen)
{
    size_t n = value ? strnlen(value, max + 1) : 0;
    if (n > max) {
        snprintf(err, errlen, "%s is too long (%zu bytes, at most %zu)", field, strlen(value), max);
        return RV_EINVAL;
    }
    return RV_OK;
}

static int control_segment_type(int v, rv_segment_type *out)
{
    switch (v) {
    case RETROVUE__PLAYOUT__SEGMENT_TYPE__SEGMENT_TYPE_CONTENT: *out = RV_SEGMENT_CONTENT; return 1;
    case RETROVUE__PLAYOUT__SEGMENT_TYPE__SEGMENT_TYPE_FILLER: *out = RV_SEGMENT_FILLER; return 1;
    case RETROVUE__PLAYOUT__SEGMENT_TYPE__SEGMENT_TYPE_PAD: *out = RV_SEGMENT_PAD; return 1;
    }
    return 0;
}

static int control_transition(int v, uint32_t duration_ms, rv_transition *out)
{
    switch (v) {
    case RETROVUE__PLAYOUT__TRANSITION_TYPE__TRANSITION_NONE:
        out->type = RV_TRANSITION_NONE;
        break;
    case RETROVUE__PLAYOUT__TRANSITION_TYPE__TRANSITION_FADE:
        out->type = RV_TRANSITION_FADE;
        break;
    default:
        return 0;
    }
    out->duration_ms = duration_ms;
    return 1;
}

/** One segment. @p bid is the block's id for messages. */
static int control_segment(const Retrovue__Playout__BlockSegment *in, const char *what,
                           const char *bid, size_t j, plan_segment *out, char *err,
                           size_t errlen)
{
    char field[96];
    memset(out, 0, sizeof(*out));
    if (!control_segment_type((int)in->segment_type, &out->type)) {
        snprintf(err, errlen,
                 "%s '%s' segment %zu: segment_type %d is not CONTENT (0), FILLER (1) or PAD (2)",
                 what, bid, j, (int)in->segment_type);
        return RV_EINVAL;
    }
    if (!control_transition((int)in->transition_in, in->transition_in_duration_ms,
                            &out->transition_in) ||
        !control_transition((int)in->transition_out, in->transition_out_duration_ms,
                            &out->transition_out)) {
        snprintf(err, errlen,
                 "%s '%s' segment %zu: transition_in/transition_out must be NONE (0) or FADE "
                 "(1) (got %d/%d)",
                 what, bid, j, (int)in->transition_in, (int)in->transition_out);
        return RV_EINVAL;
    }
    if (!isfinite(in->gain_db)) {
        snprintf(err, errlen, "%s '%s' segment %zu: gain_db must be a finite number", what, bid,
                 j);
        return RV_EINVAL;
    }
    const struct {
        const char *name;
        const char *value;
        size_t max;
    } texts[] = {
        {"asset_uri", in->asset_uri, CONTROL_MAX_URI_BYTES},
        {"event_id", in->event_id, CONTROL_MAX_TEXT_BYTES},
        {"segment_uuid", in->segment_uuid, CONTROL_MAX_TEXT_BYTES},
        {"asset_uuid", in->asset_uuid, CONTROL_MAX_TEXT_BYTES},
    };
    for (size_t k = 0; k < sizeof(texts) / sizeof(texts[0]); k++) {
        snprintf(field, sizeof(field), "%s '%s' segment %zu: %s", what, bid, j, texts[k].name);
        if (control_check_text(field, texts[k].value, texts[k].max, err, errlen) != RV_OK)
            return RV_EINVAL;
    }
    out->index = in->segment_index;
    out->asset_uri = (char *)(in->asset_uri ? in->asset_uri : "");
    out->asset_start_offset_ms = in->asset_start_offset_ms;
    out->duration_ms = in->segment_duration_ms;
    out->event_id = (char *)(in->event_id ? in->event_id : "");
    out->gain_db = in->gain_db;
    return RV_OK;
}

int control_block_from_proto(const Retrovue__Playout__BlockPlan *in, int32_t channel_id,
                             const char *what, plan_block *out, plan_segment *segs,
                             size_t seg_cap, char *err, size_t errlen)
{
    char field[64];
    memset(out, 0, sizeof(*out));
    if (!in) {
        snprintf(err, errlen, "%s is missing", what);
        return RV_EINVAL;
    }
    snprintf(field, sizeof(field), "%s block_id", what);
    if (control_check_text(field, in->block_id, CONTROL_MAX_TEXT_BYTES, err, errlen) != RV_OK)
        return RV_EINVAL;
    const char *bid = in->block_id ? in->block_id : "";
    snprintf(field, sizeof(field), "%s broadcast_date", what);
    if (control_check_text(field, in->broadcast_date, CONTROL_MAX_TEXT_BYTES, err, errlen) !=
        RV_OK)
        return RV_EINVAL;
    if (in->channel_id != 0 && in->channel_id != channel_id) {
        snprintf(err, errlen, "%s '%s' names channel %d but the request is for channel %d", what,
                 bid, (int)in->channel_id, (int)channel_id);
        return RV_EINVAL;
    }
    if (in->n_segments > CONTROL_MAX_SEGMENTS) {
        snprintf(err, errlen, "%s '%s' has %zu segments (at most %d)", what, bid, in->n_segments,
                 CONTROL_MAX_SEGMENTS);
        return RV_EINVAL;
    }
    if (in->n_segments > seg_cap) {
        snprintf(err, errlen, "%s '%s': no room for %zu segments", what, bid, in->n_segments);
        return RV_EINVAL;
    }
    int64_t offset = 0;
    for (size_t j = 0; j < in->n_segments; j++) {
        if (control_segment(in->segments[j], what, bid, j, &segs[j], err, errlen) != RV_OK)
            return RV_EINVAL;
        segs[j].start_offset_ms = offset;
        /* Derived for the engine; an absurd total is refused here rather
         * than overflow (the engine refuses negative durations itself). */
        if (__builtin_add_overflow(offset, segs[j].duration_ms, &offset)) {
            snprintf(err, errlen, "%s '%s' segment %zu: segment durations overflow", what, bid, j);
            return RV_EINVAL;
        }
    }
    out->id = (char *)bid;
    out->start_utc_ms = in->start_utc_ms;
    out->end_utc_ms = in->end_utc_ms;
    out->segments = in->n_segments ? segs : NULL;
    out->segment_count = in->n_segments;
    return RV_OK;
}
