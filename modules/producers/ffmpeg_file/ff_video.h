/**
 * @file ff_video.h
 * @short ff_video: the video normaliser of one segment. Owns the optional
 *        deinterlacer (libavfilter bwdif, one frame out per frame in) and the
 *        swscale context that scales a source picture, preserving its display
 *        aspect, straight into the letterboxed / pillarboxed area of a host
 *        picture. Both are created once per segment and reused.
 *
 * Thread: the segment's thread (preload, then producer).
 */
#ifndef FF_VIDEO_H
#define FF_VIDEO_H

#include <libavutil/frame.h>

#include <retrovue/format.h>
#include <retrovue/frame.h>

#include "ff_source.h"

/** Deinterlace modes (option `deinterlace`). Never zero. */
typedef enum ff_deinterlace {
    FF_DEINTERLACE_AUTO = 1, /**< only pictures flagged interlaced */
    FF_DEINTERLACE_ON = 2,   /**< every picture */
    FF_DEINTERLACE_OFF = 3   /**< never */
} ff_deinterlace;

typedef struct ff_video ff_video;

/** A normaliser for pictures of @p stream (borrowed, outlives it) into
 *  @p format (borrowed, copied). @p sws_flags: SWS_BICUBIC etc. */
int ff_video_create(const rv_program_format *format, const AVStream *stream,
                    ff_deinterlace deinterlace, int sws_flags, ff_video **out);
void ff_video_destroy(ff_video *vn);

/** Forget deinterlacer state (after a seek). */
void ff_video_reset(ff_video *vn);

/** The next progressive picture of @p src (borrowed) into @p frame
 *  (unref'd first), pts in the stream's time base. RV_OK, RV_EOF or an
 *  error from the source. */
int ff_video_next(ff_video *vn, ff_source *src, AVFrame *frame);

/** Scale @p frame (borrowed) into @p dst (borrowed, exclusively owned by the
 *  caller) with black bars around it. RV_OK or an error. */
int ff_video_draw(ff_video *vn, const AVFrame *frame, rv_video_frame *dst);

/** Fill @p dst with black (Y 16, U/V 128). */
void ff_video_fill_black(rv_video_frame *dst);
/** Draw the module's own card into @p dst: 75% colour bars over a dark band
 *  (audio-only assets with audio_only_picture = slate). */
void ff_video_draw_card(rv_video_frame *dst);

#endif
