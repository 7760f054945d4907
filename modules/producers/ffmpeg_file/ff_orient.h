/**
 * @file ff_orient.h
 * @short ff_orient: how a source's pictures must be turned to stand upright,
 *        read from its display matrix (ISO/IEC 14496-12 `tkhd` matrix,
 *        Matroska projection, H.264/HEVC display orientation SEI, as FFmpeg
 *        exports them: AV_PKT_DATA_DISPLAYMATRIX on the stream,
 *        AV_FRAME_DATA_DISPLAYMATRIX on a frame). Owns nothing.
 *
 * Only quarter turns and mirror images are honoured (what cameras and phones
 * write); any other angle is logged by the caller and aired unturned.
 * Thread: any.
 */
#ifndef FF_ORIENT_H
#define FF_ORIENT_H

#include <stddef.h>

#include <libavformat/avformat.h>
#include <libavutil/frame.h>

/** One orientation: a transpose (or none), then mirror images. */
typedef struct ff_orient {
    int turn_deg;     /**< clockwise display rotation: 0, 90, 180 or 270 */
    int hflip;        /**< a mirror image is undone too */
    int odd_angle;    /**< the matrix asks for an angle that is not a quarter turn */
    const char *filters; /**< libavfilter chain ("transpose=clock", "hflip,vflip"), "" for none */
    int swaps_axes;   /**< width and height trade places */
} ff_orient;

/** The orientation of @p frame (borrowed): its own display matrix side
 *  data, else the stream's (@p st, borrowed, may be NULL). */
ff_orient ff_orient_of(const AVFrame *frame, const AVStream *st);

/** "rotated 90 degrees", "mirrored", ... for logs. */
void ff_orient_describe(const ff_orient *o, char *out, size_t len);

#endif
