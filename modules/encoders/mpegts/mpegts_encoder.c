/**
 * @file modules/encoders/mpegts/mpegts_encoder.c
 * @short The mpegts encoder module: one channel rendition, ticks encoded
 *        (libx264 or MPEG-2 video, AAC, MP2 or AC-3 audio) and muxed into
 *        MPEG-TS, handed to the host with stream_write.
 *
 * Owns the ts_encoder, the ts_muxer and the bytes of the tick being muxed.
 * Each tick's bytes leave in one stream_write, split where a video keyframe
 * starts (PAT/PMT in front of it) so that write carries
 * RV_STREAM_RANDOM_ACCESS. Timestamps come from the tick index (ts_encoder).
 * Threads: encode() on the host's encoder thread; the rest on the control
 * thread (see retrovue/encoder.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <retrovue/retrovue.h>

#include "ts_encoder.h"
#include "ts_muxer.h"
#include "ts_options.h"

static const rv_option mpegts_options[] = {
    TS_ENCODER_OPTIONS,
    {.key = NULL},
};

typedef struct mpegts_enc {
    const rv_host_api *host;
    rv_context *ctx;
    rv_program_format format;
    ts_encoder_config ecfg;  /**< strings borrowed from the options */
    ts_muxer_config mcfg;
    char service_name[256];

    ts_encoder *enc;         /**< between start() and stop() */
    ts_muxer *mux;
    uint8_t *buf;            /**< bytes muxed since the last write */
    size_t len;
    size_t cap;
    uint32_t flags;          /**< flags of the bytes in buf */
    int failed;              /**< out of memory while buffering */
} mpegts_enc;

static int enc_choice(const char *value, const char *const *choices)
{
    for (int i = 0; value && choices[i]; i++)
        if (strcmp(value, choices[i]) == 0)
            return i + 1;
    return 1;
}

/* Hand what is buffered to the host. Encoder thread (or stop). */
static int enc_emit(mpegts_enc *e)
{
    int rc = RV_OK;
    if (e->failed) {
        e->failed = 0;
        e->len = 0;
        return RV_ENOMEM;
    }
    if (e->len)
        rc = e->host->stream_write(e->ctx, e->buf, e->len, e->flags);
    e->len = 0;
    e->flags = 0;
    return rc;
}

static void enc_append(void *opaque, const uint8_t *data, size_t len)
{
    mpegts_enc *e = opaque;
    if (e->len + len > e->cap) {
        size_t cap = e->cap ? e->cap : 64 * 1024;
        while (cap < e->len + len)
            cap *= 2;
        uint8_t *grown = realloc(e->buf, cap);
        if (!grown) {
            e->failed = 1;
            return;
        }
        e->buf = grown;
        e->cap = cap;
    }
    memcpy(e->buf + e->len, data, len);
    e->len += len;
}

static void enc_mark_keyframe(void *opaque)
{
    mpegts_enc *e = opaque;
    enc_emit(e); /* an error shows again at the end of the tick */
    e->flags = RV_STREAM_RANDOM_ACCESS;
}

static int mpegts_create(const rv_create_args *args, void **state)
{
    const rv_host_api *h = args->host;
    const rv_options *o = args->options;
    const char *name;
    mpegts_enc *e;

    *state = NULL;
    if (h->struct_size < offsetof(rv_host_api, stream_write) + sizeof(void *)) {
        h->log(args->ctx, RV_LOG_ERROR, "this host has no stream_write (ABI < 1.2)");
        return RV_ENOTSUP;
    }
    e = calloc(1, sizeof *e);
    if (!e)
        return RV_ENOMEM;
    e->host = h;
    e->ctx = args->ctx;
    e->format = *args->format;
    e->ecfg = (ts_encoder_config){
        .video_codec = (ts_video_codec)enc_choice(h->opt_string(o, "video_codec"),
                                                  ts_video_codec_choices),
        .preset = h->opt_string(o, "preset"),
        .tune = h->opt_string(o, "tune"),
        .profile = h->opt_string(o, "profile"),
        .level = h->opt_string(o, "level"),
        .bitrate_kbps = h->opt_int(o, "bitrate_kbps"),
        .maxrate_kbps = h->opt_int(o, "maxrate_kbps"),
        .bufsize_kbps = h->opt_int(o, "bufsize_kbps"),
        .gop_frames = h->opt_int(o, "gop_frames"),
        .keyint_max_s = h->opt_float(o, "keyint_max_s"),
        .threads = h->opt_is_set(o, "threads") ? h->opt_int(o, "threads") : -1,
        .audio_codec = (ts_audio_codec)enc_choice(h->opt_string(o, "audio_codec"),
                                                  ts_audio_codec_choices),
        .audio_bitrate_kbps = h->opt_int(o, "audio_bitrate_kbps"),
    };
    name = h->opt_string(o, "service_name");
    if (!name || !name[0])
        name = args->channel_name && args->channel_name[0] ? args->channel_name : "RetroVue";
    snprintf(e->service_name, sizeof e->service_name, "%s", name);
    e->mcfg = (ts_muxer_config){
        .service_name = e->service_name,
        .service_provider = h->opt_string(o, "service_provider"),
        .service_id = h->opt_int(o, "service_id"),
        .pmt_pid = h->opt_int(o, "pmt_pid"),
        .video_pid = h->opt_int(o, "video_pid"),
        .audio_pid = h->opt_int(o, "audio_pid"),
        .pcr_period_ms = h->opt_int(o, "pcr_period_ms"),
        .pat_period_ms = h->opt_int(o, "pat_period_ms"),
        .muxrate_kbps = h->opt_int(o, "muxrate_kbps"),
    };
    if (!e->ecfg.preset || !e->ecfg.tune || !e->ecfg.profile || !e->ecfg.level ||
        !e->mcfg.service_provider) {
        free(e);
        return RV_EINVAL;
    }
    *state = e;
    return RV_OK;
}

static void mpegts_stop(void *state)
{
    mpegts_enc *e = state;
    if (e->enc && e->mux)
        ts_encoder_flush(e->enc, ts_muxer_packet, e->mux);
    ts_muxer_destroy(e->mux); /* writes what is queued into buf */
    e->mux = NULL;
    ts_encoder_destroy(e->enc);
    e->enc = NULL;
    enc_emit(e);
}

static void mpegts_destroy(void *state)
{
    mpegts_enc *e = state;
    if (!e)
        return;
    mpegts_stop(e);
    free(e->buf);
    free(e);
}

static int mpegts_start(void *state)
{
    mpegts_enc *e = state;
    ts_output out = {.append = enc_append, .mark_keyframe = enc_mark_keyframe, .opaque = e};
    int rc;

    if (e->enc)
        return RV_ESTATE;
    rc = ts_encoder_create(&e->ecfg, &e->format, e->host, e->ctx, &e->enc);
    if (rc == RV_OK)
        rc = ts_muxer_create(&e->mcfg, ts_encoder_video_ctx(e->enc), ts_encoder_audio_ctx(e->enc),
                             &out, e->host, e->ctx, &e->mux);
    if (rc != RV_OK) {
        ts_muxer_destroy(e->mux);
        e->mux = NULL;
        ts_encoder_destroy(e->enc);
        e->enc = NULL;
        e->len = 0; /* a header nobody will follow */
        return rc;
    }
    e->host->log(e->ctx, RV_LOG_INFO, "encoding MPEG-TS (%s %lld kb/s, GOP %d frames)",
                 e->ecfg.video_codec == TS_VIDEO_H264 ? "H.264" : "MPEG-2",
                 (long long)e->ecfg.bitrate_kbps, ts_encoder_gop_frames(e->enc));
    return RV_OK;
}

static int mpegts_encode(void *state, const rv_tick *tick)
{
    mpegts_enc *e = state;
    int64_t missing = 0;
    int rc;

    if (!e->enc || !e->mux)
        return RV_ESTATE;
    rc = ts_encoder_encode(e->enc, tick, ts_muxer_packet, e->mux, &missing);
    if (rc == RV_OK)
        rc = ts_muxer_flush(e->mux);
    if (rc == RV_OK)
        rc = enc_emit(e);
    return rc;
}

static int mpegts_describe(void *state, char *buf, size_t len)
{
    mpegts_enc *e = state;
    if (!buf || len == 0)
        return RV_EINVAL;
    snprintf(buf, len, "%s %lldk %s %lldk",
             e->ecfg.video_codec == TS_VIDEO_H264 ? "h264" : "mpeg2",
             (long long)e->ecfg.bitrate_kbps, ts_audio_codec_choices[e->ecfg.audio_codec - 1],
             (long long)e->ecfg.audio_bitrate_kbps);
    return RV_OK;
}

static const rv_encoder_ops mpegts_ops = {
    .struct_size = sizeof(rv_encoder_ops),
    .create = mpegts_create,
    .destroy = mpegts_destroy,
    .encode = mpegts_encode,
    .start = mpegts_start,
    .stop = mpegts_stop,
    .describe = mpegts_describe,
};

RV_MODULE_DEFINE(.kind = RV_KIND_ENCODER, .name = "mpegts", .version = "1.0.0",
                 .description = "H.264/AAC (or MPEG-2, MP2, AC-3) in MPEG-TS: one rendition shared "
                                "by every transport with these settings",
                 .options = mpegts_options, .encoder = &mpegts_ops)
