/**
 * @file modules/sinks/mpegts_common/ts_muxer.c
 * @short ts_muxer: MPEG-TS muxing through a custom AVIOContext into the
 *        fan-out (see ts_muxer.h).
 */
#include "ts_muxer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavformat/avformat.h>
#include <libavutil/opt.h>

#include <retrovue/error.h>

#include "ts_encoder.h"

/** AVIO buffer: whole TS packets, small so bytes leave promptly. */
#define TS_IO_BUFFER_BYTES (188 * 32)
/** Packets one stream may queue while the other has none (interleaving). */
#define TS_QUEUE_PACKETS 128
/** Muxer max_delay: room in front of the PCR for the decoder's buffer and
 *  the audio encoder's priming, so no timestamp is ever negative. */
#define TS_MAX_DELAY_US 350000
/** Most a video packet may be written ahead of the audio (90 kHz): a quarter
 *  of max_delay (87.5 ms), so audio written after it is still far ahead of
 *  the PCR. See mux_video_lead. */
#define TS_VIDEO_LEAD_MAX_90K (TS_MAX_DELAY_US * 90 / 1000 / 4)

typedef struct ts_pkt_queue {
    AVPacket *pkt[TS_QUEUE_PACKETS];
    int head;
    int count;
} ts_pkt_queue;

struct ts_muxer {
    const rv_host_api *host;
    rv_context *ctx;
    ts_output out;
    AVFormatContext *fmt;
    AVIOContext *io;
    ts_pkt_queue queue[2];
    int64_t video_lead;  /**< 90 kHz a video packet may precede the audio written */
    int64_t audio_dts;   /**< DTS of the last audio packet written; INT64_MIN: none yet */
    int64_t video_first_dts; /**< DTS of the first video packet queued; INT64_MIN: none yet */
    int header_written;
    int first_bytes;     /**< at a keyframe's tables: put PAT/PMT in front */
    int first_state;     /**< TS_FIRST_SDT (holding SDT), TS_FIRST_PAT (PAT out) */
    unsigned pmt_pid;
    uint8_t held[4 * 188];
    size_t held_len;
};

enum { TS_FIRST_SDT = 1, TS_FIRST_PAT = 2 };

#define TS_PACKET 188
#define TS_PID_PAT 0x0000
#define TS_PID_SDT 0x0011

static unsigned mux_pid(const uint8_t *p)
{
    return ((unsigned)(p[1] & 0x1F) << 8) | p[2];
}

/* The tables in front of a keyframe (where a joining consumer starts):
 * libavformat writes its SDT before the PAT; hold the SDT until the PAT and
 * PMT are out, so a consumer's first packets are PAT/PMT then the IDR. Reordering whole packets of
 * different PIDs changes no continuity counter. Returns 1 while still
 * reordering. */
static int mux_append_first(ts_muxer *mux, const uint8_t *buf, size_t size)
{
    size_t n = size % TS_PACKET == 0 ? size / TS_PACKET : 0;
    size_t i = 0;
    if (n == 0)
        goto done;
    for (; i < n; i++) {
        const uint8_t *p = buf + i * TS_PACKET;
        unsigned pid = mux_pid(p);
        if (p[0] != 0x47)
            goto done;
        if (mux->first_state == TS_FIRST_SDT && pid == TS_PID_SDT &&
            mux->held_len + TS_PACKET <= sizeof mux->held) {
            memcpy(mux->held + mux->held_len, p, TS_PACKET);
            mux->held_len += TS_PACKET;
        } else if (mux->first_state == TS_FIRST_SDT && pid == TS_PID_PAT) {
            mux->out.append(mux->out.opaque, p, TS_PACKET);
            mux->first_state = TS_FIRST_PAT;
        } else if (mux->first_state == TS_FIRST_PAT && pid == mux->pmt_pid) {
            mux->out.append(mux->out.opaque, p, TS_PACKET);
        } else {
            goto done;
        }
    }
    return 1;
done:
    mux->out.append(mux->out.opaque, mux->held, mux->held_len);
    mux->held_len = 0;
    if (i < n || n == 0)
        mux->out.append(mux->out.opaque, buf + i * TS_PACKET, size - i * TS_PACKET);
    return 0;
}

#if LIBAVFORMAT_VERSION_MAJOR >= 61
static int mux_io_write(void *opaque, const uint8_t *buf, int size)
#else
static int mux_io_write(void *opaque, uint8_t *buf, int size)
#endif
{
    ts_muxer *mux = opaque;
    if (mux->first_bytes) {
        mux->first_bytes = mux_append_first(mux, buf, (size_t)size);
        return size;
    }
    mux->out.append(mux->out.opaque, buf, (size_t)size);
    return size;
}

static void mux_error(ts_muxer *mux, const char *what, int averr)
{
    char msg[AV_ERROR_MAX_STRING_SIZE] = "";
    av_strerror(averr, msg, sizeof msg);
    mux->host->event(mux->ctx, RV_EVENT_SINK_ERROR, RV_EIO, "", "%s: %s", what, msg);
}

/* How far a video packet may go out ahead of the audio already written
 * (90 kHz). The audio for a picture always comes later than the picture:
 * an AAC or MP2 encoder returns a frame only when it has the next one (one
 * frame of delay, 21-24 ms at 48 kHz), and the samples of a tick that do not
 * fill a frame wait for the next tick. Holding every picture until audio
 * at or past its DTS is out therefore delays every picture by a tick, and
 * the first IDR of a new stream (a start, an on-demand wake) by the time
 * it takes to decode and encode the next picture: the first viewer waits
 * for it. Two audio frames plus one tick covers that wait; capped at
 * TS_VIDEO_LEAD_MAX_90K (a quarter of max_delay), so audio written after
 * the picture still arrives well before its PTS (ISO/IEC 13818-1 T-STD: the
 * PCR runs max_delay behind the DTS). */
static int64_t mux_video_lead(const AVCodecContext *video, const AVCodecContext *audio)
{
    int64_t lead = 0;
    if (audio->sample_rate > 0)
        lead += av_rescale(2 * (audio->frame_size > 0 ? audio->frame_size : 1152), 90000,
                           audio->sample_rate);
    if (video->framerate.num > 0 && video->framerate.den > 0)
        lead += av_rescale(90000, video->framerate.den, video->framerate.num);
    return lead < TS_VIDEO_LEAD_MAX_90K ? lead : TS_VIDEO_LEAD_MAX_90K;
}

static int mux_add_stream(ts_muxer *mux, const AVCodecContext *c, int64_t pid)
{
    AVStream *st = avformat_new_stream(mux->fmt, NULL);
    if (!st)
        return RV_ENOMEM;
    if (avcodec_parameters_from_context(st->codecpar, c) < 0)
        return RV_ENOMEM;
    st->time_base = (AVRational){1, 90000};
    st->id = (int)pid;
    return RV_OK;
}

int ts_muxer_create(const ts_muxer_config *cfg, const AVCodecContext *video,
                    const AVCodecContext *audio, const ts_output *out, const rv_host_api *host,
                    rv_context *ctx, ts_muxer **result)
{
    ts_muxer *mux;
    AVDictionary *opts = NULL;
    uint8_t *iobuf;
    char num[64];
    int rc;

    *result = NULL;
    if (cfg->video_pid == cfg->audio_pid || cfg->video_pid == cfg->pmt_pid ||
        cfg->audio_pid == cfg->pmt_pid) {
        host->event(ctx, RV_EVENT_SINK_ERROR, RV_EINVAL, "",
                    "pmt_pid, video_pid and audio_pid must differ (%lld, %lld, %lld)",
                    (long long)cfg->pmt_pid, (long long)cfg->video_pid,
                    (long long)cfg->audio_pid);
        return RV_EINVAL;
    }
    mux = calloc(1, sizeof *mux);
    if (!mux)
        return RV_ENOMEM;
    mux->host = host;
    mux->ctx = ctx;
    mux->out = *out;
    mux->pmt_pid = (unsigned)cfg->pmt_pid;
    mux->video_lead = mux_video_lead(video, audio);
    mux->audio_dts = INT64_MIN;
    mux->video_first_dts = INT64_MIN;
    rc = RV_ENOMEM;
    if (avformat_alloc_output_context2(&mux->fmt, NULL, "mpegts", NULL) < 0 || !mux->fmt)
        goto fail;
    iobuf = av_malloc(TS_IO_BUFFER_BYTES);
    if (!iobuf)
        goto fail;
    mux->io = avio_alloc_context(iobuf, TS_IO_BUFFER_BYTES, 1, mux, NULL, mux_io_write, NULL);
    if (!mux->io) {
        av_free(iobuf);
        goto fail;
    }
    mux->fmt->pb = mux->io;
    mux->fmt->flags |= AVFMT_FLAG_CUSTOM_IO | AVFMT_FLAG_FLUSH_PACKETS;
    mux->fmt->max_delay = TS_MAX_DELAY_US;
    if (mux_add_stream(mux, video, cfg->video_pid) != RV_OK ||
        mux_add_stream(mux, audio, cfg->audio_pid) != RV_OK)
        goto fail;
    av_dict_set(&mux->fmt->metadata, "service_name", cfg->service_name, 0);
    av_dict_set(&mux->fmt->metadata, "service_provider", cfg->service_provider, 0);

    av_dict_set_int(&opts, "mpegts_service_id", cfg->service_id, 0);
    av_dict_set_int(&opts, "mpegts_pmt_start_pid", cfg->pmt_pid, 0);
    av_dict_set_int(&opts, "pcr_period", cfg->pcr_period_ms, 0);
    snprintf(num, sizeof num, "%lld.%03lld", (long long)(cfg->pat_period_ms / 1000),
             (long long)(cfg->pat_period_ms % 1000));
    av_dict_set(&opts, "pat_period", num, 0);
    av_dict_set(&opts, "sdt_period", "0.5", 0);
    av_dict_set_int(&opts, "muxrate", cfg->muxrate_kbps > 0 ? cfg->muxrate_kbps * 1000 : 1, 0);
    /* each audio frame its own PES: nothing waits in the muxer */
    av_dict_set_int(&opts, "pes_payload_size", 0, 0);
    /* a video PES says its length when it fits (ISO/IEC 13818-1 2.4.3.7;
     * an IDR at SD/HD broadcast rates does): a player knows the picture is
     * complete at its last byte instead of when the next one starts, which
     * is a whole picture sooner for a viewer joining at the IDR */
    av_dict_set(&opts, "omit_video_pes_length", "0", 0);
    rc = avformat_write_header(mux->fmt, &opts);
    av_dict_free(&opts);
    if (rc < 0) {
        mux_error(mux, "cannot start the MPEG-TS muxer", rc);
        rc = RV_EINVAL;
        goto fail;
    }
    mux->header_written = 1;
    for (unsigned i = 0; i < mux->fmt->nb_streams; i++) {
        AVRational tb = mux->fmt->streams[i]->time_base;
        if (tb.num != 1 || tb.den != 90000) {
            host->event(ctx, RV_EVENT_SINK_ERROR, RV_EINTERNAL, "",
                        "MPEG-TS muxer chose time base %d/%d, expected 1/90000", tb.num, tb.den);
            rc = RV_EINTERNAL;
            goto fail;
        }
    }
    *result = mux;
    return RV_OK;
fail:
    ts_muxer_destroy(mux);
    return rc;
}

/* Write one packet now; a video keyframe restarts the fan-out's GOP cache. */
static int mux_write(ts_muxer *mux, AVPacket *pkt)
{
    int rc;

    if (pkt->stream_index == TS_STREAM_VIDEO && (pkt->flags & AV_PKT_FLAG_KEY)) {
        avio_flush(mux->io);
        mux->out.mark_keyframe(mux->out.opaque);
        mux->first_bytes = 1; /* the tables in front of this keyframe: PAT/PMT first */
        mux->first_state = TS_FIRST_SDT;
        /* belt and braces: the muxer also re-sends PAT/PMT before keyframes */
        av_opt_set(mux->fmt->priv_data, "mpegts_flags", "+resend_headers", 0);
    }
    rc = av_write_frame(mux->fmt, pkt);
    if (rc < 0) {
        mux_error(mux, "MPEG-TS muxing failed", rc);
        return RV_EIO;
    }
    if (pkt->stream_index == TS_STREAM_AUDIO && pkt->dts > mux->audio_dts)
        mux->audio_dts = pkt->dts;
    return RV_OK;
}

static AVPacket *queue_pop(ts_pkt_queue *q)
{
    AVPacket *p = q->pkt[q->head];
    q->pkt[q->head] = NULL;
    q->head = (q->head + 1) % TS_QUEUE_PACKETS;
    q->count--;
    return p;
}

/* Whether video packet @p p may be written before any audio is queued:
 * within the lead of the audio written so far (or, before any, of the
 * stream's first picture). See mux_video_lead. */
static int mux_video_leads(const ts_muxer *mux, const AVPacket *p)
{
    int64_t base = mux->audio_dts != INT64_MIN ? mux->audio_dts : mux->video_first_dts;
    return base != INT64_MIN && p->dts <= base + mux->video_lead;
}

/* Write queued packets in DTS order while both streams have one (or one
 * stream's queue is full: the other has stalled). A picture does not wait
 * for the audio behind it (mux_video_leads). */
static int mux_interleave(ts_muxer *mux, int drain)
{
    ts_pkt_queue *v = &mux->queue[TS_STREAM_VIDEO];
    ts_pkt_queue *a = &mux->queue[TS_STREAM_AUDIO];

    for (;;) {
        ts_pkt_queue *from;
        AVPacket *p;
        int rc;

        if (v->count && a->count)
            from = v->pkt[v->head]->dts <= a->pkt[a->head]->dts ? v : a;
        else if (v->count && (drain || v->count == TS_QUEUE_PACKETS ||
                               mux_video_leads(mux, v->pkt[v->head])))
            from = v;
        else if (a->count && (drain || a->count == TS_QUEUE_PACKETS))
            from = a;
        else
            return RV_OK;
        p = queue_pop(from);
        rc = mux_write(mux, p);
        av_packet_free(&p);
        if (rc != RV_OK)
            return rc;
    }
}

int ts_muxer_packet(void *opaque, AVPacket *pkt)
{
    ts_muxer *mux = opaque;
    ts_pkt_queue *q = &mux->queue[pkt->stream_index == TS_STREAM_VIDEO ? 0 : 1];
    AVPacket *copy;

    if (q->count == TS_QUEUE_PACKETS) {
        int rc = mux_interleave(mux, 0);
        if (rc != RV_OK)
            return rc;
    }
    copy = av_packet_clone(pkt);
    if (!copy)
        return RV_ENOMEM;
    if (q == &mux->queue[TS_STREAM_VIDEO] && mux->video_first_dts == INT64_MIN)
        mux->video_first_dts = copy->dts;
    q->pkt[(q->head + q->count) % TS_QUEUE_PACKETS] = copy;
    q->count++;
    return mux_interleave(mux, 0);
}

int ts_muxer_flush(ts_muxer *mux)
{
    avio_flush(mux->io);
    return mux->io->error < 0 ? RV_EIO : RV_OK;
}

void ts_muxer_destroy(ts_muxer *mux)
{
    if (!mux)
        return;
    if (mux->header_written) {
        mux_interleave(mux, 1);
        av_write_trailer(mux->fmt);
        avio_flush(mux->io);
    }
    for (int s = 0; s < 2; s++)
        while (mux->queue[s].count) {
            AVPacket *p = queue_pop(&mux->queue[s]);
            av_packet_free(&p);
        }
    if (mux->io) {
        av_freep(&mux->io->buffer);
        avio_context_free(&mux->io);
    }
    avformat_free_context(mux->fmt);
    free(mux);
}
