/**
 * @file retrovue/frame.h
 * @short Host-owned, reference-counted picture and audio buffers in the
 *        channel's ProgramFormat, and the per-tick unit the output emits.
 *
 * Pictures and audio buffers come from the host's per-channel pool
 * (rv_host_api.video_alloc / audio_alloc) and go back to it when the last
 * reference is released (rv_host_api.video_release / audio_release). A module
 * never frees one with free(). A buffer with more than one reference is
 * shared and must not be written: call rv_host_api.video_make_writable first.
 */
#ifndef RETROVUE_FRAME_H
#define RETROVUE_FRAME_H

#include <stdint.h>

/** A picture: 8-bit YUV 4:2:0 planar at the channel's width x height. */
typedef struct rv_video_frame {
    uint8_t *plane[3];    /**< Y, U, V; host memory, 32-byte aligned (64 from
                               ABI 1.4 hosts) */
    int32_t stride[3];    /**< bytes per row of each plane (>= its width; the
                               plane's size: rv_host_api.video_plane_bytes) */
    uint32_t width;       /**< luma width (the channel's) */
    uint32_t height;      /**< luma height (the channel's) */
    void *host_private;   /**< the host's; modules never touch it */
} rv_video_frame;

/** Audio for one tick: signed 16-bit interleaved at the channel's rate. */
typedef struct rv_audio_buffer {
    int16_t *data;        /**< samples * channels values; host memory */
    uint32_t samples;     /**< samples per channel in this buffer */
    uint32_t capacity;    /**< most samples per channel the buffer holds */
    uint32_t channels;    /**< the channel's audio_channels */
    void *host_private;   /**< the host's; modules never touch it */
} rv_audio_buffer;

/** Where the picture of a tick came from. Never zero. */
typedef enum rv_tick_source {
    RV_SOURCE_REAL = 1,   /**< a producer's frame for this tick */
    RV_SOURCE_FREEZE = 2, /**< the last picture repeated (no frame ready) */
    RV_SOURCE_SLATE = 3,  /**< the slate (failure, underrun, or no plan) */
    RV_SOURCE_PAD = 4     /**< black and silence (PAD, or content ended early) */
} rv_tick_source;

/** Text name of a source ("real", "freeze", "slate", "pad"). Thread: any. */
static inline const char *rv_tick_source_name(rv_tick_source s)
{
    switch (s) {
    case RV_SOURCE_REAL: return "real";
    case RV_SOURCE_FREEZE: return "freeze";
    case RV_SOURCE_SLATE: return "slate";
    case RV_SOURCE_PAD: return "pad";
    default: return "unknown";
    }
}

/**
 * One tick of channel output: exactly one picture and one audio slice.
 * Built by the host's output thread and handed to the renderer and to every
 * sink. The strings are borrowed: valid while the tick is being handled.
 */
typedef struct rv_tick {
    int64_t tick;              /**< tick index since the channel's epoch */
    int64_t utc_ns;            /**< deadline of this tick, UTC nanoseconds */
    rv_tick_source source;     /**< where the picture came from */
    rv_video_frame *video;     /**< one reference held by whoever holds the tick */
    rv_audio_buffer *audio;    /**< one reference, samples exact for this tick */
    const char *block_id;      /**< owning block, "" when outside the plan */
    int32_t segment_index;     /**< owning segment, -1 when outside the plan */
    const char *event_id;      /**< owning segment's event id, "" if none */
    const char *asset_uri;     /**< owning segment's asset, "" if none */
    int64_t segment_first_tick;/**< first tick of the owning segment (or gap) */
    int64_t segment_end_tick;  /**< one past its last tick; INT64_MAX: open-ended */
    int64_t asset_offset_ms;   /**< source position of the picture, -1 if none */
} rv_tick;

#endif
