/**
 * @file retrovue/producer.h
 * @short Producer vtable: turns an asset into one picture and one audio slice
 *        per tick, in the channel's ProgramFormat.
 *
 * Lifecycle and threads:
 *  - create / start / stop / destroy: the channel's control thread.
 *  - open: the channel's preload thread, ahead of the segment's seam. It may
 *    block (open, probe, seek, decode the first frame); it is never called on
 *    the output thread.
 *  - read / close: the channel's producer thread.
 *  open() of the next segment may run while read() runs on the current one,
 *  so per-segment state lives in the segment handle, not in the instance.
 *
 * A producer declares the URI schemes it serves (`schemes`); "" stands for a
 * bare path. The host pads a segment whose producer returns RV_EOF early and
 * airs the slate for the rest of a segment whose producer fails.
 */
#ifndef RETROVUE_PRODUCER_H
#define RETROVUE_PRODUCER_H

#include <stdint.h>

#include <retrovue/module.h>

/** Segment types of a plan. Never zero. */
typedef enum rv_segment_type {
    RV_SEGMENT_CONTENT = 1,
    RV_SEGMENT_FILLER = 2,
    RV_SEGMENT_PAD = 3
} rv_segment_type;

/** Transition at a segment's edge. Never zero. */
typedef enum rv_transition_type {
    RV_TRANSITION_NONE = 1,
    RV_TRANSITION_FADE = 2
} rv_transition_type;

typedef struct rv_transition {
    rv_transition_type type;
    int64_t duration_ms;
} rv_transition;

/** What to open. Every pointer is borrowed and valid until close(). */
typedef struct rv_segment_request {
    uint32_t struct_size;          /**< sizeof(rv_segment_request) of the host */
    const char *asset_uri;         /**< as written in the plan */
    int64_t asset_start_offset_ms; /**< the plan's offset into the asset */
    int64_t join_offset_ns;        /**< >= 0: how far past the segment's start
                                        the first frame lies (join in progress,
                                        and the sub-frame offset of the fence) */
    int64_t first_tick;            /**< channel tick of the first frame */
    int64_t frame_count;           /**< exact budget: never deliver more */
    rv_segment_type type;
    const char *event_id;          /**< "" if none */
    double gain_db;                /**< audio gain to apply */
    rv_transition transition_in;
    rv_transition transition_out;
    int64_t first_tick_utc_ns;     /**< UTC instant of first_tick (for on-screen clocks) */
} rv_segment_request;

/**
 * Source position (ns into the asset) of the frame with index @p k of a
 * segment: the plan's offset, plus the join offset, plus the exact time from
 * the segment's first tick to tick first_tick + k. The host's plan limits
 * keep the result far below INT64_MAX (asset_start_offset_ms <= 1e12 and a
 * segment lasts at most 4102444800000 ms); out-of-range inputs saturate at
 * INT64_MIN / INT64_MAX instead of overflowing. Thread: any.
 */
static inline int64_t rv_segment_position_ns(const rv_segment_request *req, rv_rational rate,
                                             int64_t k)
{
    rv_int128 ns_per_tick_num = (rv_int128)rate.den * 1000000000;
    rv_int128 a = ((rv_int128)req->first_tick + k) * ns_per_tick_num;
    rv_int128 b = (rv_int128)req->first_tick * ns_per_tick_num;
    /* floor(a / num) - floor(b / num), as rv_ticks_to_ns rounds */
    rv_int128 qa = a / rate.num - (a % rate.num != 0 && a < 0);
    rv_int128 qb = b / rate.num - (b % rate.num != 0 && b < 0);
    rv_int128 ns = (rv_int128)req->asset_start_offset_ms * 1000000 + req->join_offset_ns + qa - qb;
    if (ns > (rv_int128)INT64_MAX)
        return INT64_MAX;
    if (ns < (rv_int128)INT64_MIN)
        return INT64_MIN;
    return (int64_t)ns;
}

/** One read: the host fills the inputs, the producer the outputs. */
typedef struct rv_produce {
    int64_t tick;              /**< in: the channel tick this frame airs on */
    int64_t index;             /**< in: frames already delivered in this segment */
    rv_audio_buffer *audio;    /**< in: host's buffer, `samples` preset to the
                                    exact count for this tick; fill every sample.
                                    Borrowed: the host keeps its reference. */
    rv_video_frame *video;     /**< out: the picture; one reference passes to
                                    the host (from video_alloc, or a video_ref
                                    of a picture the producer keeps) */
    int64_t asset_offset_ms;   /**< out: source position of the picture, or -1 */
} rv_produce;

typedef struct rv_producer_ops {
    uint32_t struct_size;  /**< sizeof(rv_producer_ops) the module was built with */

    /* ---- required ---- */
    /** URI schemes served, NULL-terminated: e.g. {"file", "", NULL}. */
    const char *const *schemes;
    /** Make an instance; *state receives the module's state. Control thread. */
    int (*create)(const rv_create_args *args, void **state);
    /** Free the instance; no segment is open. Control thread. */
    void (*destroy)(void *state);
    /** Open, seek and prime a segment; *segment receives its handle. May block.
     *  Errors: RV_ENOENT, RV_EACCES, RV_EFORMAT, RV_EIO, ... (log the reason
     *  through rv_host_api.event). Preload thread. */
    int (*open)(void *state, const rv_segment_request *req, void **segment);
    /** Deliver the next frame: RV_OK, RV_EOF (asset ended: the host pads),
     *  or an error (the host airs the slate and may retry). Producer thread. */
    int (*read)(void *segment, rv_produce *out);
    /** Close a segment opened by open(). Producer or preload thread. */
    void (*close)(void *segment);

    /* ---- optional (NULL if absent) ---- */
    /** Control thread, after create. */
    int (*start)(void *state);
    /** Control thread, before destroy, with no segment open. */
    void (*stop)(void *state);

    /* ---- callbacks added in ABI 1.1 or later go below this line ---- */
} rv_producer_ops;

#endif
