/**
 * @file ff_dr.c
 * @short ff_dr: decode straight into the channel's pool pictures. See
 *        ff_dr.h.
 */
#include "ff_dr.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>

#include <libavutil/buffer.h>
#include <libavutil/frame.h>

/** Buffers one decoder holds at once: H.264's 16 reference pictures, the
 *  pictures in flight in frame threads and the segment's own frames stay
 *  well inside it; past it a picture simply takes libavcodec's buffers. */
#define FF_DR_SLOTS 64

typedef struct ff_dr_slot {
    ff_dr *dr;
    rv_video_frame *pic;          /**< one host reference while in use */
    atomic_int used;
} ff_dr_slot;

struct ff_dr {
    const rv_host_api *host;      /**< borrowed */
    rv_context *ctx;              /**< borrowed */
    rv_program_format format;
    atomic_int refcount;          /**< owner + slots in use */
    atomic_int next;              /**< where the next slot search starts */
    _Atomic int64_t direct;
    _Atomic int64_t fallback;
    atomic_int unfit_logged;
    ff_dr_slot slot[FF_DR_SLOTS];
};

ff_dr *ff_dr_create(const rv_host_api *host, rv_context *ctx, const rv_program_format *format)
{
    if (!host || !format ||
        host->struct_size < offsetof(rv_host_api, video_plane_bytes) + sizeof(void *) ||
        !host->video_plane_bytes)
        return NULL;
    ff_dr *dr = calloc(1, sizeof(*dr));
    if (!dr)
        return NULL;
    dr->host = host;
    dr->ctx = ctx;
    dr->format = *format;
    atomic_init(&dr->refcount, 1);
    for (int i = 0; i < FF_DR_SLOTS; i++) {
        dr->slot[i].dr = dr;
        atomic_init(&dr->slot[i].used, 0);
    }
    return dr;
}

static void ff_dr_unref(ff_dr *dr)
{
    if (atomic_fetch_sub(&dr->refcount, 1) == 1)
        free(dr);
}

void ff_dr_destroy(ff_dr *dr)
{
    if (dr)
        ff_dr_unref(dr);
}

int64_t ff_dr_direct_count(const ff_dr *dr)
{
    return dr ? atomic_load(&((ff_dr *)dr)->direct) : 0;
}

int64_t ff_dr_fallback_count(const ff_dr *dr)
{
    return dr ? atomic_load(&((ff_dr *)dr)->fallback) : 0;
}

static ff_dr_slot *ff_dr_slot_take(ff_dr *dr)
{
    int start = atomic_fetch_add(&dr->next, 1);
    for (int i = 0; i < FF_DR_SLOTS; i++) {
        ff_dr_slot *s = &dr->slot[(unsigned)(start + i) % FF_DR_SLOTS];
        int free_ = 0;
        if (atomic_compare_exchange_strong(&s->used, &free_, 1)) {
            atomic_fetch_add(&dr->refcount, 1);
            return s;
        }
    }
    return NULL;
}

/** libavcodec dropped the last reference to a picture. Thread: any. */
static void ff_dr_free(void *opaque, uint8_t *data)
{
    ff_dr_slot *s = opaque;
    ff_dr *dr = s->dr;
    (void)data;
    dr->host->video_release(s->pic);
    s->pic = NULL;
    atomic_store(&s->used, 0);
    ff_dr_unref(dr);
}

/** Does @p pic hold a picture of the decoder's coded size @p w x @p h as
 *  libavcodec's own pool would lay it out (avcodec_align_dimensions2: the
 *  aligned size, strides multiples of the codec's alignment, 16 +
 *  alignment - 1 bytes past each plane)? */
static int ff_dr_fits(const ff_dr *dr, AVCodecContext *avctx, const AVFrame *frame,
                      const rv_video_frame *pic)
{
    int w = frame->width;
    int h = frame->height;
    int align[AV_NUM_DATA_POINTERS];
    avcodec_align_dimensions2(avctx, &w, &h, align);
    int64_t cw = (w + 1) / 2;
    int64_t ch = (h + 1) / 2;
    if (pic->stride[0] < w || pic->stride[1] < cw || pic->stride[2] != pic->stride[1])
        return 0;
    for (uint32_t p = 0; p < 3; p++) {
        int a = align[p] > 0 ? align[p] : 1;
        int64_t rows = p == 0 ? h : ch;
        int64_t need = (int64_t)pic->stride[p] * rows + 16 + a - 1;
        if (pic->stride[p] % a != 0 || (uintptr_t)pic->plane[p] % (uintptr_t)a != 0 ||
            (int64_t)dr->host->video_plane_bytes(pic, p) < need)
            return 0;
    }
    return 1;
}

/** Point @p frame at a fresh pool picture: 0, or < 0 when none can be used
 *  (the caller falls back to libavcodec's buffers; @p frame is untouched). */
static int ff_dr_wrap(ff_dr *dr, AVCodecContext *avctx, AVFrame *frame)
{
    rv_video_frame *pic = dr->host->video_alloc(dr->ctx);
    if (!pic)
        return -1;
    if (!ff_dr_fits(dr, avctx, frame, pic)) {
        dr->host->video_release(pic);
        if (!atomic_exchange(&dr->unfit_logged, 1))
            dr->host->log(dr->ctx, RV_LOG_DEBUG,
                          "ffmpeg-file: %s %dx%d needs more room than a channel picture "
                          "holds: decoding into libavcodec's buffers (one copy)",
                          avctx->codec ? avctx->codec->name : "?", frame->width, frame->height);
        return -1;
    }
    ff_dr_slot *s = ff_dr_slot_take(dr);
    if (!s) {
        dr->host->video_release(pic);
        return -1;
    }
    s->pic = pic;
    AVBufferRef *whole = av_buffer_create(pic->plane[0], dr->host->video_plane_bytes(pic, 0),
                                          ff_dr_free, s, AV_BUFFER_FLAG_READONLY);
    if (!whole) {
        /* the slot was not handed to libavcodec: give it back by hand */
        ff_dr_free(s, NULL);
        return -1;
    }
    frame->buf[0] = whole;
    for (uint32_t p = 1; p < 3; p++) {
        /* one AVBuffer, one host reference; each plane's ref covers it */
        frame->buf[p] = av_buffer_ref(whole);
        if (!frame->buf[p]) {
            for (uint32_t q = 0; q < p; q++)
                av_buffer_unref(&frame->buf[q]);
            return -1;
        }
        frame->buf[p]->data = pic->plane[p];
        frame->buf[p]->size = dr->host->video_plane_bytes(pic, p);
    }
    for (int p = 0; p < AV_NUM_DATA_POINTERS; p++) {
        frame->data[p] = p < 3 ? pic->plane[p] : NULL;
        frame->linesize[p] = p < 3 ? pic->stride[p] : 0;
    }
    frame->extended_data = frame->data;
    return 0;
}

int ff_dr_get_buffer2(AVCodecContext *avctx, AVFrame *frame, int flags)
{
    ff_dr *dr = avctx->opaque;
    /* Only a decoder that allocates through get_buffer2 and copes with a
     * custom allocator (DR1), in software, at the channel's picture size
     * and format, can decode into the pool. */
    if (dr && avctx->codec_type == AVMEDIA_TYPE_VIDEO && !avctx->hw_frames_ctx &&
        avctx->codec && (avctx->codec->capabilities & AV_CODEC_CAP_DR1) &&
        frame->format == AV_PIX_FMT_YUV420P && avctx->lowres == 0 &&
        avctx->width == (int)dr->format.width && avctx->height == (int)dr->format.height &&
        ff_dr_wrap(dr, avctx, frame) == 0) {
        atomic_fetch_add(&dr->direct, 1);
        return 0;
    }
    if (dr)
        atomic_fetch_add(&dr->fallback, 1);
    return avcodec_default_get_buffer2(avctx, frame, flags);
}

rv_video_frame *ff_dr_picture(const ff_dr *dr, const AVFrame *frame)
{
    if (!dr || !frame->buf[0] || frame->format != AV_PIX_FMT_YUV420P ||
        frame->width != (int)dr->format.width || frame->height != (int)dr->format.height)
        return NULL;
    /* ours when the buffer's opaque is one of our slots (an address test:
     * a foreign opaque is never dereferenced) */
    uintptr_t op = (uintptr_t)av_buffer_get_opaque(frame->buf[0]);
    uintptr_t lo = (uintptr_t)&dr->slot[0];
    uintptr_t hi = (uintptr_t)&dr->slot[FF_DR_SLOTS];
    if (op < lo || op >= hi || (op - lo) % sizeof(ff_dr_slot) != 0)
        return NULL;
    const ff_dr_slot *s = (const ff_dr_slot *)op;
    rv_video_frame *pic = s->pic;
    if (!pic)
        return NULL;
    for (int p = 0; p < 3; p++)
        if (frame->data[p] != pic->plane[p] || frame->linesize[p] != pic->stride[p])
            return NULL;
    return pic;
}
