/**
 * @file ff_segment.h
 * @short ff_segment: one open segment of the ffmpeg-file producer. Owns its
 *        ff_source, video and audio normalisers, the picture on air (a host
 *        picture it keeps one reference to) and the frame budget. Maps every
 *        source picture onto channel ticks by timestamp cadence: frame k airs
 *        the last source picture whose time is <= rv_segment_position_ns(k).
 *
 * Thread: open on the preload thread, read/close on the producer thread;
 * never two at once. Nothing is shared with other segments.
 */
#ifndef FF_SEGMENT_H
#define FF_SEGMENT_H

#include <stdint.h>

#include <retrovue/host.h>
#include <retrovue/producer.h>

#include "ff_video.h"

/** An instance's settings, read once from its options. The instance owns
 *  it and outlives every segment that borrows it. */
typedef struct ff_params {
    const rv_host_api *host;      /**< borrowed */
    rv_context *ctx;              /**< borrowed */
    rv_program_format format;
    int threads;                  /**< decoder threads, 0 = FFmpeg's automatic count,
                                       -1 = the host's share (ff_segment_threads) */
    ff_video_params video;        /**< deinterlace, scaler, tone mapping */
    int audio_only_slate;         /**< audio-only assets show the card, not black */
    int zero_copy;                /**< decode into the channel's pictures (ff_dr) */
    int64_t io_timeout_ms;
    int skip_dropped;             /**< pictures no tick shows are not decoded when
                                       nothing references them */
    char audio_languages[128];    /**< "eng,und" (validated ISO 639-2 codes) or "" */
    struct ff_park *park;         /**< the instance's (borrowed, thread-safe): closed sources
                                       are kept there for a join back into them; NULL: none */
} ff_params;

typedef struct ff_segment ff_segment;

/** Open, seek and prime the segment @p req (borrowed; its strings stay valid
 *  until close). On failure reports one RV_EVENT_ASSET_ERROR naming the
 *  asset and the reason, and returns RV_ENOENT, RV_EACCES, RV_EFORMAT,
 *  RV_EIO, RV_ETIMEDOUT or RV_ENOMEM. */
int ff_segment_open(const ff_params *params, const rv_segment_request *req, ff_segment **out);
/** The next frame: RV_OK, RV_EOF (budget spent or asset ended), or an error
 *  (reported once; the segment stays failed). */
int ff_segment_read(ff_segment *seg, rv_produce *out);
void ff_segment_close(ff_segment *seg);

#endif
