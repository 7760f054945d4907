/**
 * @file modules/renderers/preview/preview_jpeg.c
 * @short Scale with libswscale, encode with libavcodec's MJPEG encoder (see
 *        preview_jpeg.h). Owns the scaler, the encoder context, the scaled
 *        picture and the packet of the last image.
 */
#include "preview_jpeg.h"

#include <stdio.h>
#include <stdlib.h>

#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include <retrovue/error.h>

struct preview_jpeg {
    uint32_t src_width;
    uint32_t src_height;
    struct SwsContext *sws;   /**< owned: limited-range source -> full-range preview */
    AVCodecContext *enc;      /**< owned: MJPEG */
    AVFrame *scaled;          /**< owned: the preview-size picture */
    AVPacket *pkt;            /**< owned: the last JPEG */
    int64_t pts;
};

/** 1..100 -> qscale 31..2 (100: best, 1: smallest). */
static int preview_jpeg_qscale(int quality)
{
    if (quality < 1)
        quality = 1;
    if (quality > 100)
        quality = 100;
    return 2 + (100 - quality) * 29 / 99;
}

static int preview_jpeg_open_encoder(preview_jpeg *j, int quality, char *err, size_t errlen)
{
    const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
    if (!codec) {
        snprintf(err, errlen, "this FFmpeg has no MJPEG encoder");
        return RV_ENOTSUP;
    }
    j->enc = avcodec_alloc_context3(codec);
    if (!j->enc) {
        snprintf(err, errlen, "out of memory");
        return RV_ENOMEM;
    }
    j->enc->width = j->scaled->width;
    j->enc->height = j->scaled->height;
    j->enc->pix_fmt = AV_PIX_FMT_YUV420P;
    j->enc->color_range = AVCOL_RANGE_JPEG;
    j->enc->time_base = (AVRational){1, 25};
    j->enc->flags |= AV_CODEC_FLAG_QSCALE;
    j->enc->global_quality = FF_QP2LAMBDA * preview_jpeg_qscale(quality);
    j->enc->thread_count = 1;
    int rc = avcodec_open2(j->enc, codec, NULL);
    if (rc < 0) {
        snprintf(err, errlen, "cannot open the MJPEG encoder at %dx%d: %s", j->enc->width,
                 j->enc->height, av_err2str(rc));
        return RV_EINVAL;
    }
    return RV_OK;
}

int preview_jpeg_create(uint32_t src_width, uint32_t src_height, uint32_t dst_width, int quality,
                        preview_jpeg **out, char *err, size_t errlen)
{
    *out = NULL;
    if (src_width < 2 || src_height < 2 || dst_width < 2) {
        snprintf(err, errlen, "cannot scale %ux%u to width %u", src_width, src_height, dst_width);
        return RV_EINVAL;
    }
    preview_jpeg *j = calloc(1, sizeof(*j));
    if (!j) {
        snprintf(err, errlen, "out of memory");
        return RV_ENOMEM;
    }
    int rc = RV_ENOMEM;
    j->src_width = src_width;
    j->src_height = src_height;
    uint32_t w = dst_width & ~1u;
    uint64_t h = ((uint64_t)w * src_height + src_width / 2) / src_width;
    h &= ~(uint64_t)1;
    if (h < 2)
        h = 2;
    j->scaled = av_frame_alloc();
    j->pkt = av_packet_alloc();
    if (!j->scaled || !j->pkt) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    j->scaled->format = AV_PIX_FMT_YUV420P;
    j->scaled->width = (int)w;
    j->scaled->height = (int)h;
    j->scaled->color_range = AVCOL_RANGE_JPEG;
    if (av_frame_get_buffer(j->scaled, 32) < 0) {
        snprintf(err, errlen, "out of memory for a %ux%u picture", w, (unsigned)h);
        goto fail;
    }
    j->sws = sws_getContext((int)src_width, (int)src_height, AV_PIX_FMT_YUV420P, (int)w, (int)h,
                            AV_PIX_FMT_YUV420P, SWS_BILINEAR, NULL, NULL, NULL);
    if (!j->sws) {
        snprintf(err, errlen, "cannot scale %ux%u to %ux%u", src_width, src_height, w,
                 (unsigned)h);
        rc = RV_EINVAL;
        goto fail;
    }
    /* Source: limited range (ProgramFormat); destination: full range (JFIF). */
    const int *coefs = sws_getCoefficients(SWS_CS_ITU709);
    sws_setColorspaceDetails(j->sws, coefs, 0, coefs, 1, 0, 1 << 16, 1 << 16);
    rc = preview_jpeg_open_encoder(j, quality, err, errlen);
    if (rc != RV_OK)
        goto fail;
    *out = j;
    return RV_OK;
fail:
    preview_jpeg_destroy(j);
    return rc;
}

void preview_jpeg_destroy(preview_jpeg *j)
{
    if (!j)
        return;
    sws_freeContext(j->sws);
    avcodec_free_context(&j->enc);
    av_frame_free(&j->scaled);
    av_packet_free(&j->pkt);
    free(j);
}

uint32_t preview_jpeg_width(const preview_jpeg *j)
{
    return (uint32_t)j->scaled->width;
}

uint32_t preview_jpeg_height(const preview_jpeg *j)
{
    return (uint32_t)j->scaled->height;
}

int preview_jpeg_encode(preview_jpeg *j, const rv_video_frame *frame, const uint8_t **data,
                        size_t *len)
{
    *data = NULL;
    *len = 0;
    if (frame->width != j->src_width || frame->height != j->src_height)
        return RV_EINVAL;
    if (av_frame_make_writable(j->scaled) < 0)
        return RV_ENOMEM;
    const uint8_t *const src[4] = {frame->plane[0], frame->plane[1], frame->plane[2], NULL};
    const int src_stride[4] = {frame->stride[0], frame->stride[1], frame->stride[2], 0};
    sws_scale(j->sws, src, src_stride, 0, (int)frame->height, j->scaled->data,
              j->scaled->linesize);
    j->scaled->pts = j->pts++;
    j->scaled->quality = j->enc->global_quality;
    j->scaled->pict_type = AV_PICTURE_TYPE_I;
    av_packet_unref(j->pkt);
    int rc = avcodec_send_frame(j->enc, j->scaled);
    if (rc >= 0)
        rc = avcodec_receive_packet(j->enc, j->pkt);
    if (rc < 0)
        return rc == AVERROR(ENOMEM) ? RV_ENOMEM : RV_EIO;
    *data = j->pkt->data;
    *len = (size_t)j->pkt->size;
    return RV_OK;
}
