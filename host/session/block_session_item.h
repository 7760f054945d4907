/**
 * @file host/session/block_session_item.h
 * @short One item of a block session's event ring (internal to
 *        host/session): a channel report copied off the output thread, a
 *        subscription to activate, or the end of the session.
 */
#ifndef RV_HOST_BLOCK_SESSION_ITEM_H
#define RV_HOST_BLOCK_SESSION_ITEM_H

#include <stdint.h>

#include <retrovue/producer.h>

#include "channel/channel.h"
#include "telemetry/asrun.h"

typedef struct bs_item {
    int kind;                       /**< bs_item_kind (block_session.c) */
    channel_event_type type;        /**< BS_ITEM_CHANNEL: what happened */
    int64_t tick;
    int64_t utc_ms;
    int64_t first_tick;
    int64_t fence_tick;
    int64_t ticks_by_source[5];
    int join_in_progress;
    char block_id[128];
    int64_t block_start_utc_ms;
    int64_t block_end_utc_ms;
    int32_t segment_index;
    rv_segment_type segment_type;
    int64_t segment_duration_ms;
    int64_t asset_start_offset_ms;
    char event_id[128];
    char asset_uri[512];
    asrun_record record;            /**< SEGMENT_ENDED */
    int has_record;
    uint64_t sub_id;                /**< BS_ITEM_SUBSCRIBE */
    char reason[64];                /**< BS_ITEM_END */
} bs_item;

#endif
