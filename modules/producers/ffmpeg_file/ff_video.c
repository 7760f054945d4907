/**
 * @file ff_video.c
 * @short ff_video: deinterlace, turn upright, convert colour, aspect-preserving
 *        scale into host pictures.
 *        See ff_video.h.
 */
#include "ff_video.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include <retrovue/error.h>

#include "ff_colour.h"
#include "ff_orient.h"

/** Geometry a swscale context was made for. */
typedef struct ff_video_key {
    int src_w;
    int src_h;
    int src_fmt;
    int src_full_range;
    AVRational sar;
    int fitted;
} ff_video_key;

/** What a filter graph was built for: rebuilt when any of it changes. */
typedef struct ff_video_graph_key {
    int w;
    int h;
    int fmt;
    int deint;                    /**< bwdif in the chain */
    ff_colour_desc colour;
    const char *orient;           /**< static string from ff_orient */
} ff_video_graph_key;

struct ff_video {
    rv_program_format format;
    const AVStream *stream;       /**< borrowed */
    ff_video_params params;
    ff_colour_desc channel_colour;

    AVFrame *decoded;             /**< owned work frame */
    AVFilterGraph *graph;         /**< owned, NULL until a picture needs it */
    AVFilterContext *buffersrc;   /**< owned by graph */
    AVFilterContext *buffersink;  /**< owned by graph */
    ff_video_graph_key graph_key;
    int graph_fits;               /**< the graph scales into the rect itself */
    int graph_eof_sent;
    int deint_seen;               /**< a picture wanted deinterlacing (auto) */
    int picture_seen;             /**< a decoded picture came through */
    int tonemapped;               /**< a graph tone-mapped HDR pictures */
    char note[256];               /**< what the graph does, for the segment */
    int note_new;

    struct SwsContext *sws;       /**< owned, NULL until needed (or fast path) */
    ff_video_key key;             /**< what rect and sws were computed for */
    int have_key;
    int rect_x;                   /**< picture area inside the host picture */
    int rect_y;
    int rect_w;
    int rect_h;
};

int ff_video_create(const rv_program_format *format, const AVStream *stream,
                    const ff_video_params *params, ff_video **out)
{
    ff_video *vn = calloc(1, sizeof(*vn));
    if (!vn)
        return RV_ENOMEM;
    vn->format = *format;
    vn->stream = stream;
    vn->params = *params;
    vn->channel_colour = ff_colour_of_channel(format);
    vn->decoded = av_frame_alloc();
    if (!vn->decoded) {
        free(vn);
        return RV_ENOMEM;
    }
    *out = vn;
    return RV_OK;
}

static void ff_video_free_graph(ff_video *vn)
{
    avfilter_graph_free(&vn->graph);
    vn->buffersrc = NULL;
    vn->buffersink = NULL;
    vn->graph_eof_sent = 0;
    vn->graph_fits = 0;
}

void ff_video_destroy(ff_video *vn)
{
    if (!vn)
        return;
    ff_video_free_graph(vn);
    sws_freeContext(vn->sws);
    av_frame_free(&vn->decoded);
    free(vn);
}

void ff_video_reset(ff_video *vn)
{
    ff_video_free_graph(vn);
}

int ff_video_needs_every_picture(const ff_video *vn)
{
    return !vn->picture_seen || vn->deint_seen ||
           vn->params.deinterlace == FF_DEINTERLACE_ON;
}

/* ---- deinterlacer ---- */

static int ff_video_wants_deinterlace(const ff_video *vn, const AVFrame *f)
{
    if (vn->params.deinterlace == FF_DEINTERLACE_ON)
        return 1;
    if (vn->params.deinterlace == FF_DEINTERLACE_OFF)
        return 0;
    return f->interlaced_frame != 0;
}

static enum AVPixelFormat ff_video_unjpeg(int fmt)
{
    switch (fmt) {
    case AV_PIX_FMT_YUVJ420P:
        return AV_PIX_FMT_YUV420P;
    case AV_PIX_FMT_YUVJ422P:
        return AV_PIX_FMT_YUV422P;
    case AV_PIX_FMT_YUVJ444P:
        return AV_PIX_FMT_YUV444P;
    case AV_PIX_FMT_YUVJ440P:
        return AV_PIX_FMT_YUV440P;
    case AV_PIX_FMT_YUVJ411P:
        return AV_PIX_FMT_YUV411P;
    default:
        return fmt;
    }
}

static AVRational ff_video_sar(const ff_video *vn, const AVFrame *f)
{
    AVRational sar = f->sample_aspect_ratio;
    if (sar.num <= 0 || sar.den <= 0)
        sar = vn->stream->sample_aspect_ratio;
    if (sar.num <= 0 || sar.den <= 0)
        sar = vn->stream->codecpar->sample_aspect_ratio;
    if (sar.num <= 0 || sar.den <= 0)
        sar = (AVRational){1, 1};
    return sar;
}

static void ff_video_fit(ff_video *vn, int src_w, int src_h, AVRational sar);

/** The key of the graph a picture like @p f needs, and whether it needs
 *  one at all (and fills @p orient, @p work). */
static int ff_video_graph_needed(ff_video *vn, const AVFrame *f, ff_video_graph_key *key,
                                 ff_orient *orient, ff_colour_work *work)
{
    if (ff_video_wants_deinterlace(vn, f))
        vn->deint_seen = 1;
    vn->picture_seen = 1;
    *orient = ff_orient_of(f, vn->stream);
    ff_colour_desc c = ff_colour_of_frame(f, vn->stream->codecpar, vn->stream->avg_frame_rate);
    *work = ff_colour_plan(&c, &vn->channel_colour);
    memset(key, 0, sizeof(*key));
    key->w = f->width;
    key->h = f->height;
    key->fmt = ff_video_unjpeg(f->format);
    key->deint = vn->deint_seen;
    key->colour = c;
    key->orient = orient->filters;
    return key->deint || orient->filters[0] || *work != FF_COLOUR_NONE;
}

static void ff_video_set_note(ff_video *vn, const ff_orient *o, ff_colour_work work,
                              const ff_colour_desc *c)
{
    char col[160] = "";
    char rot[128] = "";
    if (work != FF_COLOUR_NONE)
        ff_colour_describe(c, work, vn->params.tonemap, col, sizeof(col));
    if (o->filters[0] || o->odd_angle)
        ff_orient_describe(o, rot, sizeof(rot));
    char note[256];
    snprintf(note, sizeof(note), "%s%s%s", col, col[0] && rot[0] ? "; " : "", rot);
    if (strcmp(note, vn->note) != 0) {
        snprintf(vn->note, sizeof(vn->note), "%s", note);
        vn->note_new = note[0] != '\0';
    }
}

/** buffer -> [bwdif] -> [turn] -> [zscale chain] -> buffersink, for
 *  pictures like @p f. The graph runs inside the producer thread's budget
 *  (one thread; two slices for tone mapping). */
static int ff_video_build_graph(ff_video *vn, const AVFrame *f, const ff_video_graph_key *key,
                                const ff_orient *orient, ff_colour_work work)
{
    char args[256];
    char chain[1024];
    AVRational sar = ff_video_sar(vn, f);
    ff_video_free_graph(vn);
    size_t used = 0;
    chain[0] = '\0';
    if (key->deint)
        used += (size_t)snprintf(chain + used, sizeof(chain) - used,
                                 "bwdif=mode=send_frame:parity=auto:deint=%s,",
                                 vn->params.deinterlace == FF_DEINTERLACE_ON ? "all"
                                                                             : "interlaced");
    if (orient->filters[0] && used < sizeof(chain))
        used += (size_t)snprintf(chain + used, sizeof(chain) - used, "%s,", orient->filters);
    if (work != FF_COLOUR_NONE && used < sizeof(chain)) {
        /* the rect of the upright picture; zscale scales straight into it */
        AVRational dsar = orient->swaps_axes ? (AVRational){sar.den, sar.num} : sar;
        ff_video_fit(vn, orient->swaps_axes ? f->height : f->width,
                     orient->swaps_axes ? f->width : f->height, dsar);
        vn->have_key = 0;  /* the rect changed: the next draw recomputes it */
        if (ff_colour_chain(&key->colour, &vn->channel_colour, work, vn->rect_w, vn->rect_h,
                            vn->params.zscale_filter, vn->params.tonemap, vn->params.npl_nits,
                            chain + used, sizeof(chain) - used) != RV_OK)
            return RV_EINTERNAL;
        used = strlen(chain);
        vn->graph_fits = 1;
    } else if (used > 0) {
        chain[used - 1] = '\0';  /* trailing comma */
    }
    if (used >= sizeof(chain))
        return RV_EINTERNAL;
    vn->graph = avfilter_graph_alloc();
    if (!vn->graph)
        return RV_ENOMEM;
    /* tonemap's float stages are the one heavy filter (12-15 ms per 720p
     * picture): let it use the second core; the rest stays on this thread */
    vn->graph->nb_threads = work == FF_COLOUR_TONEMAP ? 2 : 1;
    snprintf(args, sizeof(args),
             "video_size=%dx%d:pix_fmt=%d:time_base=%d/%d:pixel_aspect=%d/%d", f->width,
             f->height, key->fmt, vn->stream->time_base.num, vn->stream->time_base.den, sar.num,
             sar.den);
    AVFilterInOut *outputs = avfilter_inout_alloc();
    AVFilterInOut *inputs = avfilter_inout_alloc();
    int r = outputs && inputs ? 0 : AVERROR(ENOMEM);
    if (r >= 0)
        r = avfilter_graph_create_filter(&vn->buffersrc, avfilter_get_by_name("buffer"), "in",
                                         args, NULL, vn->graph);
    if (r >= 0)
        r = avfilter_graph_create_filter(&vn->buffersink, avfilter_get_by_name("buffersink"),
                                         "out", NULL, NULL, vn->graph);
    if (r >= 0) {
        outputs->name = av_strdup("in");
        outputs->filter_ctx = vn->buffersrc;
        inputs->name = av_strdup("out");
        inputs->filter_ctx = vn->buffersink;
        r = outputs->name && inputs->name ? 0 : AVERROR(ENOMEM);
    }
    if (r >= 0)
        r = avfilter_graph_parse_ptr(vn->graph, chain[0] ? chain : "null", &inputs, &outputs,
                                     NULL);
    if (r >= 0)
        r = avfilter_graph_config(vn->graph, NULL);
    avfilter_inout_free(&inputs);
    avfilter_inout_free(&outputs);
    if (r < 0) {
        ff_video_free_graph(vn);
        return RV_EINTERNAL;
    }
    vn->graph_key = *key;
    if (work == FF_COLOUR_TONEMAP)
        vn->tonemapped = 1;
    ff_video_set_note(vn, orient, work, &key->colour);
    return RV_OK;
}

const char *ff_video_take_note(ff_video *vn)
{
    if (!vn->note_new)
        return NULL;
    vn->note_new = 0;
    return vn->note;
}

int ff_video_tonemapped(const ff_video *vn)
{
    return vn->tonemapped;
}

int ff_video_next(ff_video *vn, ff_source *src, AVFrame *frame)
{
    av_frame_unref(frame);
    for (;;) {
        if (vn->graph) {
            int r = av_buffersink_get_frame(vn->buffersink, frame);
            if (r >= 0) {
                /* bwdif doubles the time base; hand out the stream's */
                AVRational tb = av_buffersink_get_time_base(vn->buffersink);
                if (frame->pts != AV_NOPTS_VALUE)
                    frame->pts = av_rescale_q(frame->pts, tb, vn->stream->time_base);
                if (frame->pkt_duration > 0)
                    frame->pkt_duration = av_rescale_q(frame->pkt_duration, tb,
                                                       vn->stream->time_base);
                /* fitted by the graph: the frame is the rect, in the
                 * channel's colour (see ff_video_prepare) */
                frame->opaque = vn->graph_fits ? (void *)vn : NULL;
                return RV_OK;
            }
            if (r == AVERROR_EOF)
                return RV_EOF;
            if (r != AVERROR(EAGAIN))
                return RV_EINTERNAL;
            if (vn->graph_eof_sent)
                return RV_EOF;
        }
        int r = ff_source_video_frame(src, vn->decoded);
        if (r == RV_EOF && vn->graph && !vn->graph_eof_sent) {
            if (av_buffersrc_add_frame(vn->buffersrc, NULL) < 0)
                return RV_EINTERNAL;
            vn->graph_eof_sent = 1;
            continue;
        }
        if (r < 0)
            return r;
        AVFrame *d = vn->decoded;
        ff_video_graph_key key;
        ff_orient orient;
        ff_colour_work work;
        int need = ff_video_graph_needed(vn, d, &key, &orient, &work);
        if (vn->graph && (!need || memcmp(&key, &vn->graph_key, sizeof(key)) != 0))
            ff_video_free_graph(vn);
        if (!vn->graph && need) {
            r = ff_video_build_graph(vn, d, &key, &orient, work);
            if (r < 0)
                return r;
        } else if (!need) {
            ff_video_set_note(vn, &orient, work, &key.colour);
        }
        if (!vn->graph) {
            av_frame_move_ref(frame, d);
            frame->opaque = NULL;
            return RV_OK;
        }
        /* the graph reads the range from the chain, not the pixel format */
        d->format = key.fmt;
        /* add_frame takes the frame's references; d is left blank. */
        if (av_buffersrc_add_frame(vn->buffersrc, d) < 0)
            return RV_EINTERNAL;
    }
}

/* ---- drawing ---- */

static void ff_video_fill_rect(uint8_t *plane, int stride, int x, int y, int w, int h,
                               uint8_t value)
{
    if (w <= 0 || h <= 0)
        return;
    for (int row = 0; row < h; row++)
        memset(plane + (size_t)(y + row) * stride + x, value, (size_t)w);
}

/** Black everywhere outside the picture area (luma rect x,y,w,h). */
static void ff_video_fill_bars(rv_video_frame *dst, int x, int y, int w, int h)
{
    int W = (int)dst->width;
    int H = (int)dst->height;
    static const uint8_t black[3] = {16, 128, 128};
    for (int p = 0; p < 3; p++) {
        int s = p ? 1 : 0;
        int px = x >> s, py = y >> s, pw = w >> s, ph = h >> s, PW = W >> s, PH = H >> s;
        ff_video_fill_rect(dst->plane[p], dst->stride[p], 0, 0, PW, py, black[p]);
        ff_video_fill_rect(dst->plane[p], dst->stride[p], 0, py + ph, PW, PH - py - ph, black[p]);
        ff_video_fill_rect(dst->plane[p], dst->stride[p], 0, py, px, ph, black[p]);
        ff_video_fill_rect(dst->plane[p], dst->stride[p], px + pw, py, PW - px - pw, ph,
                           black[p]);
    }
}

void ff_video_fill_black(rv_video_frame *dst)
{
    ff_video_fill_bars(dst, 0, 0, 0, 0);
}

static int ff_video_full_range(const AVFrame *f)
{
    return f->color_range == AVCOL_RANGE_JPEG || f->format == AV_PIX_FMT_YUVJ420P ||
           f->format == AV_PIX_FMT_YUVJ422P || f->format == AV_PIX_FMT_YUVJ444P;
}

/** Largest area of the host picture with the source's display aspect,
 *  centred; even coordinates so the 4:2:0 chroma lines up. */
static void ff_video_fit(ff_video *vn, int src_w, int src_h, AVRational sar)
{
    int64_t W = vn->format.width;
    int64_t H = vn->format.height;
    int64_t dar_n = (int64_t)src_w * sar.num;  /* display aspect = dar_n / dar_d */
    int64_t dar_d = (int64_t)src_h * sar.den;
    int64_t w = W;
    int64_t h = H;
    if (dar_n * H > dar_d * W)
        h = (W * dar_d * 2 / dar_n + 1) / 2;  /* rounded to nearest */
    else if (dar_n * H < dar_d * W)
        w = (H * dar_n * 2 / dar_d + 1) / 2;
    w &= ~(int64_t)1;
    h &= ~(int64_t)1;
    if (w < 2)
        w = 2;
    if (h < 2)
        h = 2;
    vn->rect_w = (int)w;
    vn->rect_h = (int)h;
    vn->rect_x = (int)(((W - w) / 2) & ~(int64_t)1);
    vn->rect_y = (int)(((H - h) / 2) & ~(int64_t)1);
}

/** A picture the filter graph already scaled into its rect, in the
 *  channel's colour, as yuv420p (ff_video_next marks it in `opaque`). */
static int ff_video_fitted(const ff_video *vn, const AVFrame *f)
{
    return f->opaque == (void *)vn && f->format == AV_PIX_FMT_YUV420P &&
           f->width <= (int)vn->format.width && f->height <= (int)vn->format.height;
}

static int ff_video_prepare(ff_video *vn, const AVFrame *f)
{
    int fitted = ff_video_fitted(vn, f);
    ff_video_key key = {
        .src_w = f->width,
        .src_h = f->height,
        .src_fmt = f->format,
        .src_full_range = fitted ? 0 : ff_video_full_range(f),
        .sar = fitted ? (AVRational){0, 1} : ff_video_sar(vn, f),
        .fitted = fitted,
    };
    if (vn->have_key && memcmp(&key, &vn->key, sizeof(key)) == 0)
        return RV_OK;
    vn->key = key;
    vn->have_key = 1;
    sws_freeContext(vn->sws);
    vn->sws = NULL;
    if (fitted) {
        vn->rect_w = f->width & ~1;
        vn->rect_h = f->height & ~1;
        vn->rect_x = (((int)vn->format.width - vn->rect_w) / 2) & ~1;
        vn->rect_y = (((int)vn->format.height - vn->rect_h) / 2) & ~1;
        return RV_OK;  /* plain copy */
    }
    ff_video_fit(vn, f->width, f->height, key.sar);
    if (f->format == AV_PIX_FMT_YUV420P && !key.src_full_range && f->width == vn->rect_w &&
        f->height == vn->rect_h)
        return RV_OK;  /* fast path: plain copy */
    enum AVPixelFormat src_fmt = f->format;
    if (src_fmt == AV_PIX_FMT_YUVJ420P)
        src_fmt = AV_PIX_FMT_YUV420P;
    else if (src_fmt == AV_PIX_FMT_YUVJ422P)
        src_fmt = AV_PIX_FMT_YUV422P;
    else if (src_fmt == AV_PIX_FMT_YUVJ444P)
        src_fmt = AV_PIX_FMT_YUV444P;
    vn->sws = sws_getContext(f->width, f->height, src_fmt, vn->rect_w, vn->rect_h,
                             AV_PIX_FMT_YUV420P, vn->params.sws_flags, NULL, NULL, NULL);
    if (!vn->sws) {
        vn->have_key = 0;
        return RV_EFORMAT;
    }
    const int *coefs = sws_getCoefficients(SWS_CS_DEFAULT);
    sws_setColorspaceDetails(vn->sws, coefs, key.src_full_range, coefs, 0, 0, 1 << 16, 1 << 16);
    return RV_OK;
}

int ff_video_whole(ff_video *vn, const AVFrame *f)
{
    int r = ff_video_prepare(vn, f);
    if (r < 0)
        return r;
    return !vn->sws && vn->rect_x == 0 && vn->rect_y == 0 && f->width == (int)vn->format.width &&
           f->height == (int)vn->format.height && f->format == AV_PIX_FMT_YUV420P;
}

int ff_video_draw(ff_video *vn, const AVFrame *f, rv_video_frame *dst)
{
    int r = ff_video_prepare(vn, f);
    if (r < 0)
        return r;
    uint8_t *planes[4] = {
        dst->plane[0] + (size_t)vn->rect_y * dst->stride[0] + vn->rect_x,
        dst->plane[1] + (size_t)(vn->rect_y / 2) * dst->stride[1] + vn->rect_x / 2,
        dst->plane[2] + (size_t)(vn->rect_y / 2) * dst->stride[2] + vn->rect_x / 2,
        NULL,
    };
    int strides[4] = {dst->stride[0], dst->stride[1], dst->stride[2], 0};
    if (vn->sws) {
        sws_scale(vn->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, planes,
                  strides);
    } else {
        av_image_copy_plane(planes[0], strides[0], f->data[0], f->linesize[0], f->width,
                            f->height);
        av_image_copy_plane(planes[1], strides[1], f->data[1], f->linesize[1], f->width / 2,
                            f->height / 2);
        av_image_copy_plane(planes[2], strides[2], f->data[2], f->linesize[2], f->width / 2,
                            f->height / 2);
    }
    ff_video_fill_bars(dst, vn->rect_x, vn->rect_y, vn->rect_w, vn->rect_h);
    return RV_OK;
}

void ff_video_draw_card(rv_video_frame *dst)
{
    /* 75% bars, BT.601 limited range: white yellow cyan green magenta red blue. */
    static const uint8_t bars[7][3] = {
        {180, 128, 128}, {162, 44, 142}, {131, 156, 44}, {112, 72, 58},
        {84, 184, 198},  {65, 100, 212}, {35, 212, 114},
    };
    int W = (int)dst->width;
    int H = (int)dst->height;
    int bar_h = (H * 2 / 3) & ~1;
    for (int i = 0; i < 7; i++) {
        int x0 = (W * i / 7) & ~1;
        int x1 = i == 6 ? W : (W * (i + 1) / 7) & ~1;
        ff_video_fill_rect(dst->plane[0], dst->stride[0], x0, 0, x1 - x0, bar_h, bars[i][0]);
        ff_video_fill_rect(dst->plane[1], dst->stride[1], x0 / 2, 0, (x1 - x0) / 2, bar_h / 2,
                           bars[i][1]);
        ff_video_fill_rect(dst->plane[2], dst->stride[2], x0 / 2, 0, (x1 - x0) / 2, bar_h / 2,
                           bars[i][2]);
    }
    ff_video_fill_rect(dst->plane[0], dst->stride[0], 0, bar_h, W, H - bar_h, 32);
    ff_video_fill_rect(dst->plane[1], dst->stride[1], 0, bar_h / 2, W / 2, (H - bar_h) / 2, 128);
    ff_video_fill_rect(dst->plane[2], dst->stride[2], 0, bar_h / 2, W / 2, (H - bar_h) / 2, 128);
}
