/**
 * @file modules/sinks/mpegts_common/ts_sink.c
 * @short ts_sink: one MPEG-TS sink instance: options, the encode-mux-fan-out
 *        session between start() and stop(), counters (see ts_sink.h).
 */
#include "ts_sink.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <retrovue/error.h>

#include "ts_encoder.h"
#include "ts_muxer.h"
#include "ts_options.h"

const char *const ts_video_codec_choices[] = {"h264", "mpeg2", NULL};
const char *const ts_audio_codec_choices[] = {"aac", "mp2", "ac3", NULL};
const char *const ts_mode_choices[] = {"listen", "connect", NULL};

/** Connect mode: reconnect backoff bounds. */
#define TS_BACKOFF_MIN_MS 100
#define TS_BACKOFF_MAX_MS 5000

typedef struct ts_sink {
    const rv_host_api *host;
    rv_context *ctx;
    rv_program_format format;
    ts_fanout_mode mode;
    const ts_transport_ops *ops;
    void *glue;

    ts_encoder_config ecfg;  /**< strings borrowed from the options */
    ts_muxer_config mcfg;
    char service_name[256];
    size_t client_queue_bytes;
    uint32_t max_clients;
    atomic_int adopted_fd;   /**< connect mode: a connected socket handed over once; -1 */
    int adopted;             /**< the sink was created with one (never reconnects) */

    /* The session: between start() and stop() */
    ts_encoder *enc;
    ts_muxer *mux;
    ts_fanout *fan;          /**< guarded by stats_lock against get_stats */
    int listen_open;         /**< the transport's unlisten is due */

    pthread_mutex_t stats_lock;
    ts_fanout_stats retired; /**< counters of sessions already stopped */
    atomic_uint_fast64_t dropped_frames;
    atomic_uint_fast64_t encode_ns;

    pthread_mutex_t desc_lock;
    char desc[256];
} ts_sink;

static int64_t sink_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int sink_choice(const char *value, const char *const *choices)
{
    for (int i = 0; choices[i]; i++)
        if (strcmp(value, choices[i]) == 0)
            return i + 1;
    return 1;
}

int ts_sink_create(const rv_create_args *args, ts_fanout_mode mode, const ts_transport_ops *ops,
                   void *glue, void **state)
{
    const rv_host_api *h = args->host;
    const rv_options *o = args->options;
    const char *name;
    ts_sink *s;

    *state = NULL;
    s = calloc(1, sizeof *s);
    if (!s) {
        ops->free_glue(glue);
        return RV_ENOMEM;
    }
    s->host = h;
    s->ctx = args->ctx;
    s->format = *args->format;
    s->mode = mode;
    s->ops = ops;
    s->glue = glue;
    pthread_mutex_init(&s->stats_lock, NULL);
    pthread_mutex_init(&s->desc_lock, NULL);

    s->ecfg = (ts_encoder_config){
        .video_codec = (ts_video_codec)sink_choice(h->opt_string(o, "video_codec"),
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
        .threads = h->opt_int(o, "threads"),
        .audio_codec = (ts_audio_codec)sink_choice(h->opt_string(o, "audio_codec"),
                                                   ts_audio_codec_choices),
        .audio_bitrate_kbps = h->opt_int(o, "audio_bitrate_kbps"),
    };
    name = h->opt_string(o, "service_name");
    if (!name || !name[0])
        name = args->channel_name && args->channel_name[0] ? args->channel_name : "RetroVue";
    snprintf(s->service_name, sizeof s->service_name, "%s", name);
    s->mcfg = (ts_muxer_config){
        .service_name = s->service_name,
        .service_provider = h->opt_string(o, "service_provider"),
        .service_id = h->opt_int(o, "service_id"),
        .pmt_pid = h->opt_int(o, "pmt_pid"),
        .video_pid = h->opt_int(o, "video_pid"),
        .audio_pid = h->opt_int(o, "audio_pid"),
        .pcr_period_ms = h->opt_int(o, "pcr_period_ms"),
        .pat_period_ms = h->opt_int(o, "pat_period_ms"),
        .muxrate_kbps = h->opt_int(o, "muxrate_kbps"),
    };
    if (!s->ecfg.preset || !s->ecfg.tune || !s->ecfg.profile || !s->ecfg.level ||
        !s->mcfg.service_provider) {
        ts_sink_destroy(s);
        return RV_EINVAL;
    }
    s->client_queue_bytes = (size_t)h->opt_int(o, "client_queue_kb") * 1024;
    s->client_queue_bytes -= s->client_queue_bytes % 188;
    s->max_clients = 1;
    atomic_store(&s->adopted_fd, -1);
    if (mode == TS_FANOUT_CONNECT && h->opt_int(o, "fd") >= 0) {
        atomic_store(&s->adopted_fd, (int)h->opt_int(o, "fd"));
        s->adopted = 1;
    }
    if (mode == TS_FANOUT_LISTEN)
        s->max_clients = (uint32_t)h->opt_int(o, "max_clients");
    ops->describe(glue, -1, s->desc, sizeof s->desc);
    *state = s;
    return RV_OK;
}

/* Connect mode with an adopted socket: hand it over once, then refuse (the
 * consumer's listener accepted exactly one connection). Network thread. */
static int ts_sink_adopted_connect(void *opaque, int *fd, char *err, size_t errlen)
{
    ts_sink *s = opaque;
    int adopted = atomic_exchange(&s->adopted_fd, -1);
    if (adopted < 0) {
        snprintf(err, errlen, "the attached socket was used and is gone; not reconnecting");
        return RV_EIO;
    }
    int flags = fcntl(adopted, F_GETFL);
    if (flags < 0 || fcntl(adopted, F_SETFL, flags | O_NONBLOCK) != 0) {
        snprintf(err, errlen, "attached socket %d: %s", adopted, strerror(errno));
        close(adopted);
        return RV_EIO;
    }
    *fd = adopted;
    return RV_OK;
}

void ts_sink_destroy(void *state)
{
    ts_sink *s = state;
    if (!s)
        return;
    int unused = atomic_exchange(&s->adopted_fd, -1);
    if (unused >= 0)
        close(unused);
    ts_sink_stop(s);
    s->ops->free_glue(s->glue);
    pthread_mutex_destroy(&s->stats_lock);
    pthread_mutex_destroy(&s->desc_lock);
    free(s);
}

int ts_sink_start(void *state)
{
    ts_sink *s = state;
    ts_fanout_config fc = {
        .mode = s->mode,
        .listen_fd = -1,
        .connect = s->adopted ? ts_sink_adopted_connect : s->ops->connect,
        .connect_opaque = s->adopted ? (void *)s : s->glue,
        .target = s->desc,
        .client_queue_bytes = s->client_queue_bytes,
        .max_clients = s->max_clients,
        .backoff_min_ms = TS_BACKOFF_MIN_MS,
        .backoff_max_ms = TS_BACKOFF_MAX_MS,
        .host = s->host,
        .ctx = s->ctx,
    };
    ts_fanout *fan = NULL;
    int rc;

    if (s->enc || s->fan)
        return RV_ESTATE;
    if (s->mode == TS_FANOUT_LISTEN) {
        char desc[sizeof s->desc];
        rc = s->ops->listen(s->glue, &fc.listen_fd);
        if (rc != RV_OK)
            return rc;
        s->listen_open = 1;
        s->ops->describe(s->glue, fc.listen_fd, desc, sizeof desc);
        pthread_mutex_lock(&s->desc_lock);
        memcpy(s->desc, desc, sizeof desc);
        pthread_mutex_unlock(&s->desc_lock);
    }
    rc = ts_encoder_create(&s->ecfg, &s->format, s->host, s->ctx, &s->enc);
    if (rc != RV_OK)
        goto fail;
    rc = ts_fanout_start(&fc, &fan);
    if (rc != RV_OK)
        goto fail;
    fc.listen_fd = -1; /* the fan-out owns it now */
    pthread_mutex_lock(&s->stats_lock);
    s->fan = fan;
    pthread_mutex_unlock(&s->stats_lock);
    rc = ts_muxer_create(&s->mcfg, ts_encoder_video_ctx(s->enc), ts_encoder_audio_ctx(s->enc),
                         s->fan, s->host, s->ctx, &s->mux);
    if (rc != RV_OK)
        goto fail;
    s->host->log(s->ctx, RV_LOG_INFO, "streaming MPEG-TS on %s (%s %lld kb/s, GOP %d frames)",
                 s->desc, s->ecfg.video_codec == TS_VIDEO_H264 ? "H.264" : "MPEG-2",
                 (long long)s->ecfg.bitrate_kbps, ts_encoder_gop_frames(s->enc));
    return RV_OK;
fail:
    if (fc.listen_fd >= 0) {
        /* the fan-out never took the socket */
        close(fc.listen_fd);
    }
    ts_sink_stop(s);
    return rc;
}

void ts_sink_stop(void *state)
{
    ts_sink *s = state;
    ts_fanout_stats last = {0};

    if (s->enc && s->mux)
        ts_encoder_flush(s->enc, ts_muxer_packet, s->mux);
    ts_muxer_destroy(s->mux); /* writes what is queued into the fan-out */
    s->mux = NULL;
    ts_encoder_destroy(s->enc);
    s->enc = NULL;
    pthread_mutex_lock(&s->stats_lock);
    if (s->fan) {
        ts_fanout_stop(s->fan, &last);
        s->fan = NULL;
        s->retired.bytes += last.bytes;
        s->retired.disconnects += last.disconnects;
        s->retired.refused += last.refused;
    }
    pthread_mutex_unlock(&s->stats_lock);
    if (s->listen_open && s->ops->unlisten)
        s->ops->unlisten(s->glue);
    s->listen_open = 0;
}

int ts_sink_write(void *state, const rv_tick *tick)
{
    ts_sink *s = state;
    int64_t t0 = sink_now_ns();
    int64_t missing = 0;
    int rc;

    if (!s->enc || !s->mux || !s->fan)
        return RV_ESTATE;
    rc = ts_encoder_encode(s->enc, tick, ts_muxer_packet, s->mux, &missing);
    if (rc == RV_OK)
        rc = ts_muxer_flush(s->mux);
    atomic_fetch_add(&s->encode_ns, (uint64_t)(sink_now_ns() - t0));
    if (missing > 0)
        atomic_fetch_add(&s->dropped_frames, (uint64_t)missing);
    if (rc != RV_OK)
        return rc;
    if (ts_fanout_commit(s->fan) == 0 && s->mode == TS_FANOUT_CONNECT)
        atomic_fetch_add(&s->dropped_frames, 1); /* no consumer to take it */
    return RV_OK;
}

int ts_sink_get_stats(void *state, rv_sink_stats *out)
{
    ts_sink *s = state;
    ts_fanout_stats now = {0};

    pthread_mutex_lock(&s->stats_lock);
    if (s->fan)
        ts_fanout_get_stats(s->fan, &now);
    out->bytes = s->retired.bytes + now.bytes;
    out->clients = now.clients;
    out->disconnects = s->retired.disconnects + now.disconnects;
    pthread_mutex_unlock(&s->stats_lock);
    out->dropped_frames = atomic_load(&s->dropped_frames);
    out->encode_ns = atomic_load(&s->encode_ns);
    return RV_OK;
}

int ts_sink_describe(void *state, char *buf, size_t len)
{
    ts_sink *s = state;
    if (!buf || len == 0)
        return RV_EINVAL;
    pthread_mutex_lock(&s->desc_lock);
    snprintf(buf, len, "%s", s->desc);
    pthread_mutex_unlock(&s->desc_lock);
    return RV_OK;
}
