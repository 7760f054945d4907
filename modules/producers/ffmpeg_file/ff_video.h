/**
 * @file ff_video.h
 * @short ff_video: the video normaliser of one segment. Owns the optional
 *        filter graph (libavfilter: bwdif deinterlacer, one frame out per
 *        frame in; transpose/flip to stand the picture upright by its display
 *        matrix; zscale/tonemap into the channel's colour space, scaling into
 *        the picture area in the same pass) and the swscale context that scales a source picture, preserving its display
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

/** How pictures are normalised. Copied; the strings must be static. */
typedef struct ff_video_params {
    ff_deinterlace deinterlace;
    int sws_flags;             /**< SWS_BICUBIC etc. (plain scaling) */
    const char *zscale_filter; /**< zscale's name of the same filter ("bicubic") */
    const char *tonemap;       /**< libavfilter tonemap operator ("mobius") */
    double npl_nits;           /**< luminance of SDR white in HDR sources, cd/m2 */
} ff_video_params;

/** A normaliser for pictures of @p stream (borrowed, outlives it) into
 *  @p format (borrowed, copied). */
int ff_video_create(const rv_program_format *format, const AVStream *stream,
                    const ff_video_params *params, ff_video **out);

/** What the normaliser does to the pictures (colour conversion, tone
 *  mapping, turning upright) when that changed since the last call, else
 *  NULL. Borrowed, valid until the next ff_video call. */
const char *ff_video_take_note(ff_video *vn);
/** True once a picture of this segment was tone-mapped from HDR. */
int ff_video_tonemapped(const ff_video *vn);
void ff_video_destroy(ff_video *vn);

/** True while every decoded picture must reach the normaliser, so none
 *  may be left undecoded: before the first picture (in `auto`, whether the
 *  deinterlacer runs is not known yet) and whenever the deinterlacer runs
 *  (bwdif reads the pictures before and after the one it makes). */
int ff_video_needs_every_picture(const ff_video *vn);

/** Forget deinterlacer state (after a seek). */
void ff_video_reset(ff_video *vn);

/** The next progressive picture of @p src (borrowed) into @p frame
 *  (unref'd first), pts in the stream's time base. RV_OK, RV_EOF or an
 *  error from the source. */
int ff_video_next(ff_video *vn, ff_source *src, AVFrame *frame);

/** 1 when drawing @p frame (borrowed) would be a plain copy of a whole
 *  picture: yuv420p, limited range, at the channel's size and aspect, so
 *  no scaling and no bars (the picture itself may then go on air, ff_dr);
 *  0 when it needs scaling or bars; an error when no scaler can be made. */
int ff_video_whole(ff_video *vn, const AVFrame *frame);

/** Scale @p frame (borrowed) into @p dst (borrowed, exclusively owned by the
 *  caller) with black bars around it. RV_OK or an error. */
int ff_video_draw(ff_video *vn, const AVFrame *frame, rv_video_frame *dst);

/** Fill @p dst with black (Y 16, U/V 128). */
void ff_video_fill_black(rv_video_frame *dst);
/** Draw the module's own card into @p dst: 75% colour bars over a dark band
 *  (audio-only assets with audio_only_picture = slate). */
void ff_video_draw_card(rv_video_frame *dst);

#endif
