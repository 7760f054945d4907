/**
 * @file ff_colour.c
 * @short ff_colour: resolve source and channel colour, plan the conversion,
 *        write the zscale/tonemap chain. See ff_colour.h.
 */
#include "ff_colour.h"

#include <stdio.h>

#include <libavutil/pixdesc.h>

#include <retrovue/error.h>

const char *const ff_colour_tonemap_names[] = {"mobius", "hable", "reinhard", "clip",
                                               "linear", "gamma", NULL};

/** Matrix families: pictures within one need no matrix conversion. */
enum { FAMILY_601 = 1, FAMILY_709 = 2, FAMILY_2020 = 3, FAMILY_OTHER = 4 };

static int ff_colour_matrix_family(int space)
{
    switch (space) {
    case AVCOL_SPC_BT470BG:
    case AVCOL_SPC_SMPTE170M:
        return FAMILY_601;
    case AVCOL_SPC_BT709:
        return FAMILY_709;
    case AVCOL_SPC_BT2020_NCL:
    case AVCOL_SPC_BT2020_CL:
        return FAMILY_2020;
    default:
        return FAMILY_OTHER;
    }
}

/** Primaries of the SD/HD family, aired as they are. */
static int ff_colour_narrow_gamut(int primaries)
{
    return primaries == AVCOL_PRI_BT709 || primaries == AVCOL_PRI_SMPTE170M ||
           primaries == AVCOL_PRI_SMPTE240M || primaries == AVCOL_PRI_BT470BG;
}

static int ff_colour_is_hdr(int trc)
{
    return trc == AVCOL_TRC_SMPTE2084 || trc == AVCOL_TRC_ARIB_STD_B67;
}

/** Matrices, primaries and transfers zscale (zimg) accepts as input. */
static int ff_colour_zimg_space(int space)
{
    switch (space) {
    case AVCOL_SPC_BT709:
    case AVCOL_SPC_FCC:
    case AVCOL_SPC_BT470BG:
    case AVCOL_SPC_SMPTE170M:
    case AVCOL_SPC_SMPTE240M:
    case AVCOL_SPC_YCGCO:
    case AVCOL_SPC_BT2020_NCL:
    case AVCOL_SPC_BT2020_CL:
        return 1;
    default:
        return 0;
    }
}

static int ff_colour_zimg_trc(int trc)
{
    switch (trc) {
    case AVCOL_TRC_BT709:
    case AVCOL_TRC_GAMMA22:
    case AVCOL_TRC_GAMMA28:
    case AVCOL_TRC_SMPTE170M:
    case AVCOL_TRC_LINEAR:
    case AVCOL_TRC_LOG:
    case AVCOL_TRC_LOG_SQRT:
    case AVCOL_TRC_IEC61966_2_4:
    case AVCOL_TRC_IEC61966_2_1:
    case AVCOL_TRC_BT2020_10:
    case AVCOL_TRC_BT2020_12:
    case AVCOL_TRC_SMPTE2084:
    case AVCOL_TRC_ARIB_STD_B67:
        return 1;
    default:
        return 0;
    }
}

static int ff_colour_zimg_primaries(int pri)
{
    switch (pri) {
    case AVCOL_PRI_BT709:
    case AVCOL_PRI_BT470M:
    case AVCOL_PRI_BT470BG:
    case AVCOL_PRI_SMPTE170M:
    case AVCOL_PRI_SMPTE240M:
    case AVCOL_PRI_FILM:
    case AVCOL_PRI_BT2020:
    case AVCOL_PRI_SMPTE428:
    case AVCOL_PRI_SMPTE431:
    case AVCOL_PRI_SMPTE432:
    case AVCOL_PRI_EBU3213:
        return 1;
    default:
        return 0;
    }
}

static int ff_colour_full_range_format(int format)
{
    return format == AV_PIX_FMT_YUVJ420P || format == AV_PIX_FMT_YUVJ422P ||
           format == AV_PIX_FMT_YUVJ444P || format == AV_PIX_FMT_YUVJ440P ||
           format == AV_PIX_FMT_YUVJ411P;
}

/** 625-line rates: exactly 25 or 50 pictures per second. */
static int ff_colour_625_rate(AVRational rate)
{
    if (rate.num <= 0 || rate.den <= 0 || rate.num % rate.den != 0)
        return 0;
    int fps = rate.num / rate.den;
    return fps == 25 || fps == 50;
}

ff_colour_desc ff_colour_of_frame(const AVFrame *frame, const AVCodecParameters *par,
                                  AVRational rate)
{
    rv_program_format own = {
        .width = (uint32_t)frame->width,
        .height = (uint32_t)frame->height,
        .frame_rate = {ff_colour_625_rate(rate) ? 25 : 30, 1},
    };
    ff_colour_desc def = ff_colour_of_channel(&own);
    ff_colour_desc d = {
        .space = frame->colorspace,
        .range = frame->color_range,
        .primaries = frame->color_primaries,
        .trc = frame->color_trc,
    };
    if (par) {
        if (d.space == AVCOL_SPC_UNSPECIFIED || d.space == AVCOL_SPC_RESERVED)
            d.space = par->color_space;
        if (d.range == AVCOL_RANGE_UNSPECIFIED)
            d.range = par->color_range;
        if (d.primaries == AVCOL_PRI_UNSPECIFIED || d.primaries == AVCOL_PRI_RESERVED ||
            d.primaries == AVCOL_PRI_RESERVED0)
            d.primaries = par->color_primaries;
        if (d.trc == AVCOL_TRC_UNSPECIFIED || d.trc == AVCOL_TRC_RESERVED ||
            d.trc == AVCOL_TRC_RESERVED0)
            d.trc = par->color_trc;
    }
    if (ff_colour_full_range_format(frame->format))
        d.range = AVCOL_RANGE_JPEG;
    if (d.range != AVCOL_RANGE_JPEG)
        d.range = AVCOL_RANGE_MPEG;
    /* RGB pictures (GBR "matrix") and unusable tags take the default. */
    if (!ff_colour_zimg_space(d.space))
        d.space = def.space;
    if (!ff_colour_zimg_primaries(d.primaries)) {
        /* a BT.2020 matrix untagged otherwise is BT.2020 material */
        d.primaries = ff_colour_matrix_family(d.space) == FAMILY_2020 ? AVCOL_PRI_BT2020
                                                                      : def.primaries;
    }
    if (!ff_colour_zimg_trc(d.trc))
        d.trc = def.trc;
    return d;
}

ff_colour_desc ff_colour_of_channel(const rv_program_format *f)
{
    switch (rv_format_colour_space(f)) {
    case RV_COLOUR_BT709:
        return (ff_colour_desc){AVCOL_SPC_BT709, AVCOL_RANGE_MPEG, AVCOL_PRI_BT709,
                                AVCOL_TRC_BT709};
    case RV_COLOUR_BT601_625:
        return (ff_colour_desc){AVCOL_SPC_BT470BG, AVCOL_RANGE_MPEG, AVCOL_PRI_BT470BG,
                                AVCOL_TRC_SMPTE170M};
    case RV_COLOUR_BT601_525:
    default:
        return (ff_colour_desc){AVCOL_SPC_SMPTE170M, AVCOL_RANGE_MPEG, AVCOL_PRI_SMPTE170M,
                                AVCOL_TRC_SMPTE170M};
    }
}

ff_colour_work ff_colour_plan(const ff_colour_desc *src, const ff_colour_desc *dst)
{
    if (ff_colour_is_hdr(src->trc))
        return FF_COLOUR_TONEMAP;
    if (src->range != dst->range ||
        ff_colour_matrix_family(src->space) != ff_colour_matrix_family(dst->space))
        return FF_COLOUR_CONVERT;
    if (!ff_colour_narrow_gamut(src->primaries) && src->primaries != dst->primaries)
        return FF_COLOUR_CONVERT;
    return FF_COLOUR_NONE;
}

void ff_colour_describe(const ff_colour_desc *src, ff_colour_work work, const char *tonemap,
                        char *out, size_t len)
{
    const char *space = av_color_space_name(src->space);
    const char *pri = av_color_primaries_name(src->primaries);
    const char *trc = av_color_transfer_name(src->trc);
    const char *range = src->range == AVCOL_RANGE_JPEG ? "full" : "limited";
    if (work == FF_COLOUR_TONEMAP)
        snprintf(out, len, "tone-mapped %s (%s/%s, %s range) to SDR with %s",
                 src->trc == AVCOL_TRC_SMPTE2084 ? "HDR10 PQ" : "HLG", space ? space : "?",
                 pri ? pri : "?", range, tonemap);
    else if (work == FF_COLOUR_CONVERT)
        snprintf(out, len, "converted colour from %s/%s/%s, %s range", space ? space : "?",
                 pri ? pri : "?", trc ? trc : "?", range);
    else
        snprintf(out, len, "no colour conversion (%s, %s range)", space ? space : "?", range);
}

int ff_colour_chain(const ff_colour_desc *src, const ff_colour_desc *dst, ff_colour_work work,
                    int w, int h, const char *filter, const char *tonemap, double npl_nits,
                    char *out, size_t len)
{
    int n;
    /* zimg has no BT.601 transfer of its own: it is BT.709's curve. */
    int out_trc = dst->trc == AVCOL_TRC_SMPTE170M ? AVCOL_TRC_BT709 : dst->trc;
    int in_trc = src->trc == AVCOL_TRC_SMPTE170M ? AVCOL_TRC_BT709 : src->trc;
    if (work == FF_COLOUR_TONEMAP) {
        /* Linear light (1.0 = npl nits) in float RGB, the channel's gamut,
         * the operator over the brighter-than-white range, then the
         * channel's transfer, matrix and range (libavfilter's documented
         * HDR-to-SDR recipe). desat=0: keep saturation of in-range colour. */
        n = snprintf(out, len,
                     "zscale=w=%d:h=%d:f=%s:min=%d:pin=%d:tin=%d:rin=%s:t=linear:npl=%g,"
                     "format=gbrpf32le,zscale=p=%d,tonemap=tonemap=%s:desat=0,"
                     "zscale=t=%d:m=%d:r=limited:dither=ordered,format=yuv420p",
                     w, h, filter, src->space, src->primaries, in_trc,
                     src->range == AVCOL_RANGE_JPEG ? "full" : "limited", npl_nits,
                     dst->primaries, tonemap, out_trc, dst->space);
    } else {
        /* Gamut conversion only for wide-gamut sources; within the SD/HD
         * family only matrix and range change (keep primaries as they are). */
        int gamut = !ff_colour_narrow_gamut(src->primaries) && src->primaries != dst->primaries;
        int pri_in = gamut ? src->primaries : dst->primaries;
        int trc_in = gamut ? in_trc : out_trc;
        n = snprintf(out, len,
                     "zscale=w=%d:h=%d:f=%s:min=%d:pin=%d:tin=%d:rin=%s:"
                     "m=%d:p=%d:t=%d:r=limited:dither=ordered,format=yuv420p",
                     w, h, filter, src->space, pri_in, trc_in,
                     src->range == AVCOL_RANGE_JPEG ? "full" : "limited", dst->space,
                     dst->primaries, out_trc);
    }
    return n > 0 && (size_t)n < len ? RV_OK : RV_EINVAL;
}
