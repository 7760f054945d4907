/**
 * @file ff_colour.h
 * @short ff_colour: the colour description of a source picture (matrix,
 *        range, primaries, transfer) and of the channel, and the libavfilter
 *        chain (zscale, tonemap) that converts one into the other. Owns
 *        nothing; pure functions over small value types.
 *
 * Sources: ITU-T H.273 code points (FFmpeg's AVCOL_* values are the same
 * numbers, and so are zimg's, which zscale takes). The channel's space is
 * rv_format_colour_space() (BT.709 from 720 lines up, BT.601 below: SMPTE
 * 170M at 525-line rates, BT.470BG at 25/50 Hz). Untagged sources are
 * assumed to follow the same rule by their own size and frame rate.
 *
 * What is converted (everything else airs untouched, at no cost):
 *   - matrix of another family (BT.601 <-> BT.709, BT.2020, ...);
 *   - full range (JPEG) -> limited range;
 *   - BT.2020 or other wide-gamut primaries -> the channel's primaries;
 *   - PQ (SMPTE ST 2084) and HLG (ARIB STD-B67) -> SDR, tone-mapped.
 * Primaries of the BT.601 / BT.709 family (SMPTE 170M, 240M, BT.470BG,
 * BT.709) are treated as one gamut, as SD/HD up- and down-converters do.
 * Thread: any.
 */
#ifndef FF_COLOUR_H
#define FF_COLOUR_H

#include <stddef.h>

#include <libavformat/avformat.h>
#include <libavutil/frame.h>

#include <retrovue/format.h>

/** A picture's colour, as AVCOL_* values (never UNSPECIFIED once resolved). */
typedef struct ff_colour_desc {
    int space;     /**< enum AVColorSpace (matrix) */
    int range;     /**< enum AVColorRange: MPEG (limited) or JPEG (full) */
    int primaries; /**< enum AVColorPrimaries */
    int trc;       /**< enum AVColorTransferCharacteristic */
} ff_colour_desc;

/** What turning a source into the channel's colour takes. Never zero. */
typedef enum ff_colour_work {
    FF_COLOUR_NONE = 1,    /**< same family, limited range: a plain scale */
    FF_COLOUR_CONVERT = 2, /**< matrix, range and/or gamut (SDR) */
    FF_COLOUR_TONEMAP = 3  /**< PQ or HLG to SDR */
} ff_colour_work;

/** Tone-mapping operators (option `tonemap`), libavfilter tonemap's names. */
extern const char *const ff_colour_tonemap_names[];

/** The colour of @p frame (borrowed): its own tags, else the stream's
 *  (@p par, borrowed, may be NULL), else the default for its size and
 *  @p rate (the stream's frame rate; {0,1} when unknown). */
ff_colour_desc ff_colour_of_frame(const AVFrame *frame, const AVCodecParameters *par,
                                  AVRational rate);
/** The channel's colour: limited range, rv_format_colour_space(@p f). */
ff_colour_desc ff_colour_of_channel(const rv_program_format *f);
/** The work needed to air @p src as @p dst. */
ff_colour_work ff_colour_plan(const ff_colour_desc *src, const ff_colour_desc *dst);
/** "none", "matrix+range", "tone-mapped PQ (mobius)" ... for logs. */
void ff_colour_describe(const ff_colour_desc *src, ff_colour_work work, const char *tonemap,
                        char *out, size_t len);

/** The filter chain (libavfilter graph syntax, no labels) that scales a
 *  picture to @p w x @p h with zscale's @p filter ("bicubic", ...) and
 *  converts @p src to @p dst, ending in yuv420p. @p tonemap is one of
 *  ff_colour_tonemap_names; @p npl_nits the luminance of SDR white in an
 *  HDR source (100 = zscale's default). Returns RV_OK or RV_EINVAL when
 *  @p out is too small. */
int ff_colour_chain(const ff_colour_desc *src, const ff_colour_desc *dst, ff_colour_work work,
                    int w, int h, const char *filter, const char *tonemap, double npl_nits,
                    char *out, size_t len);

#endif
