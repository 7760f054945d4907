/**
 * @file modules/sinks/mpegts_common/ts_encoder.c
 * @short ts_encoder: libavcodec video + audio encoding of channel ticks with
 *        timestamps derived only from the tick index (see ts_encoder.h).
 */
#include "ts_encoder.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>

#include <retrovue/error.h>
#include <retrovue/format.h>

/** A gap of more dropped audio than this is not bridged with silence: the
 *  audio timeline restarts at the new tick instead. */
#define TS_MAX_SILENCE_BRIDGE_S 10
/** Encoder messages one level quieter (info becomes verbose): libx264's
 *  statistics stay out of the host's log; errors reach it as events. */
#define TS_LOG_LEVEL_OFFSET 8

struct ts_encoder {
    const rv_host_api *host;
    rv_context *ctx;
    rv_program_format format;
    int gop_frames;

    AVCodecContext *video;
    AVCodecContext *audio;
    AVFrame *vframe;          /**< wraps the tick's planes (refcounted: no copy) */
    AVFrame *aframe;          /**< one encoder frame of audio */
    AVPacket *pkt;

    int16_t *abuf;            /**< S16 interleaved samples waiting for a full frame */
    int64_t abuf_samples;     /**< samples (per channel) in abuf */
    int64_t abuf_cap;
    int64_t audio_pts;        /**< sample index of abuf[0] */
    int audio_frame_samples;  /**< the encoder's frame size */

    int64_t next_tick;        /**< tick expected next; INT64_MIN before the first */
};

static void enc_error(ts_encoder *enc, int code, const char *what, int averr)
{
    char msg[AV_ERROR_MAX_STRING_SIZE] = "";
    av_strerror(averr, msg, sizeof msg);
    enc->host->event(enc->ctx, RV_EVENT_SINK_ERROR, code, "", "%s: %s", what, msg);
}

/* floor(a * b / c) for c > 0, exact for any channel's lifetime. */
static int64_t muldiv_floor(int64_t a, int64_t b, int64_t c)
{
    rv_int128 n = (rv_int128)a * b;
    rv_int128 q = n / c;
    if (n % c != 0 && n < 0)
        q -= 1;
    return (int64_t)q;
}

/** The video encoder's thread count: the option when set, else the host's
 *  share for this channel (ABI 1.3), else 0 (the codec's automatic count). */
static int enc_threads(const ts_encoder *enc, const ts_encoder_config *cfg)
{
    if (cfg->threads >= 0)
        return (int)cfg->threads;
    return rv_host_thread_count(enc->host, enc->ctx, RV_THREADS_ENCODER, 0);
}

static int enc_open_video(ts_encoder *enc, const ts_encoder_config *cfg)
{
    const AVCodec *codec;
    AVCodecContext *v;
    AVDictionary *opts = NULL;
    int64_t maxrate_kbps = cfg->maxrate_kbps > 0 ? cfg->maxrate_kbps : cfg->bitrate_kbps;
    int64_t bufsize_kbps = cfg->bufsize_kbps > 0 ? cfg->bufsize_kbps : maxrate_kbps;
    rv_rational fr = enc->format.frame_rate;
    int64_t limit = (int64_t)(cfg->keyint_max_s * fr.num / fr.den);
    int rc;

    if (limit < 1)
        limit = 1;
    enc->gop_frames = (int)(cfg->gop_frames > 0 && cfg->gop_frames < limit ? cfg->gop_frames : limit);

    if (cfg->video_codec == TS_VIDEO_H264) {
        codec = avcodec_find_encoder_by_name("libx264");
        if (!codec)
            codec = avcodec_find_encoder(AV_CODEC_ID_H264);
    } else {
        codec = avcodec_find_encoder(AV_CODEC_ID_MPEG2VIDEO);
    }
    if (!codec) {
        enc->host->event(enc->ctx, RV_EVENT_SINK_ERROR, RV_ENOTSUP, "",
                         "no %s encoder in this FFmpeg build",
                         cfg->video_codec == TS_VIDEO_H264 ? "H.264" : "MPEG-2");
        return RV_ENOTSUP;
    }
    v = avcodec_alloc_context3(codec);
    if (!v)
        return RV_ENOMEM;
    enc->video = v;
    v->log_level_offset = TS_LOG_LEVEL_OFFSET;
    v->width = (int)enc->format.width;
    v->height = (int)enc->format.height;
    v->pix_fmt = AV_PIX_FMT_YUV420P;
    v->time_base = (AVRational){fr.den, fr.num}; /* one tick */
    v->framerate = (AVRational){fr.num, fr.den};
    v->sample_aspect_ratio = (AVRational){1, 1};
    v->gop_size = enc->gop_frames;
    v->max_b_frames = 0;
    v->bit_rate = cfg->bitrate_kbps * 1000;
    v->rc_max_rate = maxrate_kbps * 1000;
    v->rc_buffer_size = (int)(bufsize_kbps * 1000);
    v->thread_count = enc_threads(enc, cfg);
    /* Tagged with exactly the space producers convert into (format.h). */
    v->color_range = AVCOL_RANGE_MPEG;
    switch (rv_format_colour_space(&enc->format)) {
    case RV_COLOUR_BT709:
        v->color_primaries = AVCOL_PRI_BT709;
        v->color_trc = AVCOL_TRC_BT709;
        v->colorspace = AVCOL_SPC_BT709;
        break;
    case RV_COLOUR_BT601_625:
        v->color_primaries = AVCOL_PRI_BT470BG;
        v->color_trc = AVCOL_TRC_SMPTE170M;
        v->colorspace = AVCOL_SPC_BT470BG;
        break;
    case RV_COLOUR_BT601_525:
    default:
        v->color_primaries = AVCOL_PRI_SMPTE170M;
        v->color_trc = AVCOL_TRC_SMPTE170M;
        v->colorspace = AVCOL_SPC_SMPTE170M;
        break;
    }
    if (cfg->video_codec == TS_VIDEO_H264) {
        if (cfg->preset[0])
            av_dict_set(&opts, "preset", cfg->preset, 0);
        if (cfg->tune[0])
            av_dict_set(&opts, "tune", cfg->tune, 0);
        if (cfg->profile[0])
            av_dict_set(&opts, "profile", cfg->profile, 0);
        if (cfg->level[0])
            av_dict_set(&opts, "level", cfg->level, 0);
    } else if (cfg->profile[0] || cfg->level[0]) {
        enc->host->log(enc->ctx, RV_LOG_WARN, "profile/level are ignored for MPEG-2 video");
    }
    rc = avcodec_open2(v, codec, &opts);
    if (rc >= 0 && av_dict_count(opts) > 0) {
        const AVDictionaryEntry *e = av_dict_get(opts, "", NULL, AV_DICT_IGNORE_SUFFIX);
        enc->host->event(enc->ctx, RV_EVENT_SINK_ERROR, RV_EINVAL, "",
                         "video encoder %s does not accept option %s=%s", codec->name, e->key,
                         e->value);
        av_dict_free(&opts);
        return RV_EINVAL;
    }
    av_dict_free(&opts);
    if (rc < 0) {
        enc_error(enc, RV_EINVAL, "cannot open the video encoder (check preset/tune/profile/level)",
                  rc);
        return RV_EINVAL;
    }
    return RV_OK;
}

static int enc_sample_rate_ok(const AVCodec *codec, int rate)
{
    if (!codec->supported_samplerates)
        return 1;
    for (const int *r = codec->supported_samplerates; *r; r++)
        if (*r == rate)
            return 1;
    return 0;
}

static int enc_sample_fmt_ok(enum AVSampleFormat f)
{
    switch (f) {
    case AV_SAMPLE_FMT_S16:
    case AV_SAMPLE_FMT_S16P:
    case AV_SAMPLE_FMT_FLT:
    case AV_SAMPLE_FMT_FLTP:
    case AV_SAMPLE_FMT_S32:
    case AV_SAMPLE_FMT_S32P:
        return 1;
    default:
        return 0;
    }
}

/* The bit rate to ask for: MP2 and AC-3 only know a table of rates. */
static int64_t enc_audio_bitrate(ts_encoder *enc, const ts_encoder_config *cfg)
{
    static const int64_t mp2[] = {32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 0};
    static const int64_t ac3[] = {32,  40,  48,  56,  64,  80,  96,  112, 128, 160,
                                  192, 224, 256, 320, 384, 448, 512, 576, 640, 0};
    const int64_t *table = cfg->audio_codec == TS_AUDIO_MP2   ? mp2
                           : cfg->audio_codec == TS_AUDIO_AC3 ? ac3
                                                              : NULL;
    int64_t want = cfg->audio_bitrate_kbps;
    int64_t best;

    if (!table)
        return want;
    best = table[0];
    for (int i = 0; table[i]; i++) {
        int64_t d = table[i] > want ? table[i] - want : want - table[i];
        int64_t bd = best > want ? best - want : want - best;
        if (d < bd)
            best = table[i];
    }
    if (best != want)
        enc->host->log(enc->ctx, RV_LOG_WARN, "audio_bitrate_kbps %lld: using %lld kb/s",
                       (long long)want, (long long)best);
    return best;
}

static int enc_open_audio(ts_encoder *enc, const ts_encoder_config *cfg)
{
    static const enum AVCodecID ids[] = {
        [TS_AUDIO_AAC] = AV_CODEC_ID_AAC,
        [TS_AUDIO_MP2] = AV_CODEC_ID_MP2,
        [TS_AUDIO_AC3] = AV_CODEC_ID_AC3,
    };
    const AVCodec *codec = avcodec_find_encoder(ids[cfg->audio_codec]);
    AVCodecContext *a;
    int rc;

    if (!codec) {
        enc->host->event(enc->ctx, RV_EVENT_SINK_ERROR, RV_ENOTSUP, "",
                         "no encoder for the audio codec in this FFmpeg build");
        return RV_ENOTSUP;
    }
    if (!enc_sample_rate_ok(codec, (int)enc->format.audio_rate)) {
        enc->host->event(enc->ctx, RV_EVENT_SINK_ERROR, RV_ENOTSUP, "",
                         "audio encoder %s does not support %u Hz", codec->name,
                         enc->format.audio_rate);
        return RV_ENOTSUP;
    }
    a = avcodec_alloc_context3(codec);
    if (!a)
        return RV_ENOMEM;
    enc->audio = a;
    a->log_level_offset = TS_LOG_LEVEL_OFFSET;
    a->sample_rate = (int)enc->format.audio_rate;
    a->time_base = (AVRational){1, (int)enc->format.audio_rate};
    a->bit_rate = enc_audio_bitrate(enc, cfg) * 1000;
    av_channel_layout_default(&a->ch_layout, (int)enc->format.audio_channels);
    a->sample_fmt = AV_SAMPLE_FMT_NONE;
    for (const enum AVSampleFormat *f = codec->sample_fmts; f && *f != AV_SAMPLE_FMT_NONE; f++) {
        if (enc_sample_fmt_ok(*f)) {
            a->sample_fmt = *f;
            break;
        }
    }
    if (a->sample_fmt == AV_SAMPLE_FMT_NONE) {
        enc->host->event(enc->ctx, RV_EVENT_SINK_ERROR, RV_ENOTSUP, "",
                         "audio encoder %s takes no sample format this sink converts to",
                         codec->name);
        return RV_ENOTSUP;
    }
    rc = avcodec_open2(a, codec, NULL);
    if (rc < 0) {
        enc_error(enc, RV_EINVAL, "cannot open the audio encoder (check channels and bitrate)", rc);
        return RV_EINVAL;
    }
    enc->audio_frame_samples = a->frame_size > 0 ? a->frame_size : 1024;
    enc->aframe->format = a->sample_fmt;
    enc->aframe->nb_samples = enc->audio_frame_samples;
    enc->aframe->sample_rate = a->sample_rate;
    if (av_channel_layout_copy(&enc->aframe->ch_layout, &a->ch_layout) < 0 ||
        av_frame_get_buffer(enc->aframe, 0) < 0)
        return RV_ENOMEM;
    return RV_OK;
}

int ts_encoder_create(const ts_encoder_config *cfg, const rv_program_format *format,
                      const rv_host_api *host, rv_context *ctx, ts_encoder **out)
{
    ts_encoder *enc;
    int rc = RV_ENOMEM;

    *out = NULL;
    enc = calloc(1, sizeof *enc);
    if (!enc)
        return RV_ENOMEM;
    enc->host = host;
    enc->ctx = ctx;
    enc->format = *format;
    enc->next_tick = INT64_MIN;
    enc->vframe = av_frame_alloc();
    enc->aframe = av_frame_alloc();
    enc->pkt = av_packet_alloc();
    if (!enc->vframe || !enc->aframe || !enc->pkt)
        goto fail;
    rc = enc_open_video(enc, cfg);
    if (rc != RV_OK)
        goto fail;
    rc = enc_open_audio(enc, cfg);
    if (rc != RV_OK)
        goto fail;
    /* room for one encoder frame plus the largest tick, in whole samples */
    enc->abuf_cap = enc->audio_frame_samples +
                    rv_samples_in_tick(format->frame_rate, format->audio_rate, 0) + 16;
    enc->abuf = malloc((size_t)enc->abuf_cap * format->audio_channels * sizeof(int16_t));
    rc = RV_ENOMEM;
    if (!enc->abuf)
        goto fail;
    *out = enc;
    return RV_OK;
fail:
    ts_encoder_destroy(enc);
    return rc;
}

void ts_encoder_destroy(ts_encoder *enc)
{
    if (!enc)
        return;
    avcodec_free_context(&enc->video);
    avcodec_free_context(&enc->audio);
    av_frame_free(&enc->vframe);
    av_frame_free(&enc->aframe);
    av_packet_free(&enc->pkt);
    free(enc->abuf);
    free(enc);
}

int ts_encoder_gop_frames(const ts_encoder *enc)
{
    return enc->gop_frames;
}

const AVCodecContext *ts_encoder_video_ctx(const ts_encoder *enc)
{
    return enc->video;
}

const AVCodecContext *ts_encoder_audio_ctx(const ts_encoder *enc)
{
    return enc->audio;
}

/* Drain one encoder into @p emit with timestamps rescaled to 90 kHz. */
static int enc_drain(ts_encoder *enc, AVCodecContext *c, int stream, ts_packet_fn emit, void *opaque)
{
    for (;;) {
        AVPacket *pkt = enc->pkt;
        int rc = avcodec_receive_packet(c, pkt);
        int64_t num = stream == TS_STREAM_VIDEO ? enc->format.frame_rate.den : 1;
        int64_t den = stream == TS_STREAM_VIDEO ? enc->format.frame_rate.num
                                                : (int64_t)enc->format.audio_rate;
        int64_t end;

        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
            return RV_OK;
        if (rc < 0) {
            enc_error(enc, RV_EIO, stream == TS_STREAM_VIDEO ? "video encoding failed"
                                                             : "audio encoding failed", rc);
            return RV_EIO;
        }
        /* pts90k = floor(pts * 90000 * num / den), the same for dts */
        end = pkt->pts + (pkt->duration > 0 ? pkt->duration : 1);
        pkt->duration = muldiv_floor(end, 90000 * num, den) - muldiv_floor(pkt->pts, 90000 * num, den);
        pkt->pts = muldiv_floor(pkt->pts, 90000 * num, den);
        pkt->dts = pkt->dts == AV_NOPTS_VALUE ? pkt->pts : muldiv_floor(pkt->dts, 90000 * num, den);
        pkt->time_base = (AVRational){1, 90000};
        pkt->stream_index = stream;
        rc = emit(opaque, pkt);
        av_packet_unref(pkt);
        if (rc < 0)
            return rc;
    }
}

/* Convert @p n samples of S16 interleaved at @p src into enc->aframe. */
static void enc_convert(ts_encoder *enc, const int16_t *src, int n)
{
    AVFrame *f = enc->aframe;
    int ch = (int)enc->format.audio_channels;

    switch (f->format) {
    case AV_SAMPLE_FMT_S16:
        memcpy(f->data[0], src, (size_t)n * ch * sizeof(int16_t));
        break;
    case AV_SAMPLE_FMT_S16P:
        for (int c = 0; c < ch; c++)
            for (int i = 0; i < n; i++)
                ((int16_t *)f->extended_data[c])[i] = src[i * ch + c];
        break;
    case AV_SAMPLE_FMT_FLT:
        for (int i = 0; i < n * ch; i++)
            ((float *)f->data[0])[i] = (float)src[i] / 32768.0f;
        break;
    case AV_SAMPLE_FMT_FLTP:
        for (int c = 0; c < ch; c++)
            for (int i = 0; i < n; i++)
                ((float *)f->extended_data[c])[i] = (float)src[i * ch + c] / 32768.0f;
        break;
    case AV_SAMPLE_FMT_S32:
        for (int i = 0; i < n * ch; i++)
            ((int32_t *)f->data[0])[i] = (int32_t)((uint32_t)(int32_t)src[i] << 16);
        break;
    default: /* AV_SAMPLE_FMT_S32P */
        for (int c = 0; c < ch; c++)
            for (int i = 0; i < n; i++)
                ((int32_t *)f->extended_data[c])[i] =
                    (int32_t)((uint32_t)(int32_t)src[i * ch + c] << 16);
        break;
    }
}

/* Append @p n samples (NULL: silence) and encode every full frame. */
static int enc_push_audio(ts_encoder *enc, const int16_t *src, int64_t n, ts_packet_fn emit,
                          void *opaque)
{
    size_t ch = enc->format.audio_channels;
    int fs = enc->audio_frame_samples;

    while (n > 0) {
        int64_t take = enc->abuf_cap - enc->abuf_samples;
        int rc;

        if (take > n)
            take = n;
        if (src) {
            memcpy(enc->abuf + enc->abuf_samples * ch, src, (size_t)take * ch * sizeof(int16_t));
            src += take * (int64_t)ch;
        } else {
            memset(enc->abuf + enc->abuf_samples * ch, 0, (size_t)take * ch * sizeof(int16_t));
        }
        enc->abuf_samples += take;
        n -= take;
        while (enc->abuf_samples >= fs) {
            rc = av_frame_make_writable(enc->aframe);
            if (rc < 0)
                return RV_ENOMEM;
            enc_convert(enc, enc->abuf, fs);
            enc->aframe->pts = enc->audio_pts;
            rc = avcodec_send_frame(enc->audio, enc->aframe);
            if (rc < 0) {
                enc_error(enc, RV_EIO, "audio encoder refused a frame", rc);
                return RV_EIO;
            }
            enc->audio_pts += fs;
            enc->abuf_samples -= fs;
            memmove(enc->abuf, enc->abuf + (size_t)fs * ch,
                    (size_t)enc->abuf_samples * ch * sizeof(int16_t));
            rc = enc_drain(enc, enc->audio, TS_STREAM_AUDIO, emit, opaque);
            if (rc != RV_OK)
                return rc;
        }
    }
    return RV_OK;
}

/* Put this tick's audio on the timeline at floor(tick * rate * den / num). */
static int enc_audio_tick(ts_encoder *enc, const rv_tick *tick, ts_packet_fn emit, void *opaque)
{
    const rv_audio_buffer *ab = tick->audio;
    int64_t target = rv_ticks_to_samples(enc->format.frame_rate, enc->format.audio_rate, tick->tick);
    int64_t end = enc->audio_pts + enc->abuf_samples;
    const int16_t *src = ab ? ab->data : NULL;
    int64_t n = ab ? ab->samples : rv_samples_in_tick(enc->format.frame_rate,
                                                      enc->format.audio_rate, tick->tick);
    int64_t gap = target - end;
    int rc;

    if (ab && ab->channels != enc->format.audio_channels)
        return RV_EINVAL;
    if (gap > (int64_t)enc->format.audio_rate * TS_MAX_SILENCE_BRIDGE_S || gap < -n) {
        enc->audio_pts = target; /* restart the audio timeline */
        enc->abuf_samples = 0;
        gap = 0;
    }
    if (gap > 0) {
        rc = enc_push_audio(enc, NULL, gap, emit, opaque);
        if (rc != RV_OK)
            return rc;
    } else if (gap < 0) {
        if (src)
            src += -gap * (int64_t)enc->format.audio_channels;
        n += gap;
    }
    return enc_push_audio(enc, src, n, emit, opaque);
}


/** A reference to one plane of a host picture, held by libavcodec. */
typedef struct enc_plane_ref {
    const rv_host_api *host;
    rv_video_frame *picture;
} enc_plane_ref;

/** AVBuffer free callback: drop the host reference. Thread: whichever
 *  encoder thread lets go of the frame last. */
static void enc_plane_free(void *opaque, uint8_t *data)
{
    enc_plane_ref *r = opaque;
    (void)data;
    r->host->video_release(r->picture);
    free(r);
}

/** Point @p f at @p vf's planes with reference-counted buffers that hold a
 *  host reference each, so libavcodec keeps the picture without copying it. */
static int enc_wrap_picture(ts_encoder *enc, const rv_video_frame *vf, AVFrame *f)
{
    f->format = AV_PIX_FMT_YUV420P;
    f->width = (int)vf->width;
    f->height = (int)vf->height;
    for (int p = 0; p < 3; p++) {
        size_t rows = p == 0 ? vf->height : (vf->height + 1) / 2;
        enc_plane_ref *r = malloc(sizeof(*r));
        if (!r)
            goto fail;
        r->host = enc->host;
        r->picture = (rv_video_frame *)vf;
        enc->host->video_ref(r->picture);
        f->buf[p] = av_buffer_create(vf->plane[p], (size_t)vf->stride[p] * rows, enc_plane_free,
                                     r, AV_BUFFER_FLAG_READONLY);
        if (!f->buf[p]) {
            enc_plane_free(r, NULL);
            goto fail;
        }
        f->data[p] = vf->plane[p];
        f->linesize[p] = vf->stride[p];
    }
    return RV_OK;
fail:
    av_frame_unref(f);
    return RV_ENOMEM;
}

int ts_encoder_encode(ts_encoder *enc, const rv_tick *tick, ts_packet_fn emit, void *opaque,
                      int64_t *missing_ticks)
{
    const rv_video_frame *vf = tick->video;
    AVFrame *f = enc->vframe;
    int rc;

    *missing_ticks = 0;
    if (!vf || vf->width != enc->format.width || vf->height != enc->format.height)
        return RV_EINVAL;
    if (enc->next_tick == INT64_MIN) {
        enc->audio_pts = rv_ticks_to_samples(enc->format.frame_rate, enc->format.audio_rate,
                                             tick->tick);
        enc->abuf_samples = 0;
    } else if (tick->tick < enc->next_tick) {
        return RV_EINVAL; /* ticks never go back */
    } else {
        *missing_ticks = tick->tick - enc->next_tick;
    }
    enc->next_tick = tick->tick + 1;

    rc = enc_wrap_picture(enc, vf, f);
    if (rc != RV_OK) {
        enc_error(enc, rc, "cannot wrap the picture", AVERROR(ENOMEM));
        return rc;
    }
    f->pts = tick->tick;
    f->pict_type = AV_PICTURE_TYPE_NONE;
    rc = avcodec_send_frame(enc->video, f);
    av_frame_unref(f);
    if (rc < 0) {
        enc_error(enc, RV_EIO, "video encoder refused a frame", rc);
        return RV_EIO;
    }
    rc = enc_drain(enc, enc->video, TS_STREAM_VIDEO, emit, opaque);
    if (rc != RV_OK)
        return rc;
    return enc_audio_tick(enc, tick, emit, opaque);
}

int ts_encoder_flush(ts_encoder *enc, ts_packet_fn emit, void *opaque)
{
    int rc = RV_OK;
    if (enc->next_tick == INT64_MIN)
        return RV_OK; /* nothing was encoded */
    if (avcodec_send_frame(enc->video, NULL) >= 0)
        rc = enc_drain(enc, enc->video, TS_STREAM_VIDEO, emit, opaque);
    if (rc == RV_OK && avcodec_send_frame(enc->audio, NULL) >= 0)
        rc = enc_drain(enc, enc->audio, TS_STREAM_AUDIO, emit, opaque);
    return rc;
}
