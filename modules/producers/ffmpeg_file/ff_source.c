/**
 * @file ff_source.c
 * @short ff_source: one opened media file (demuxer, two decoders, two packet
 *        queues, the I/O deadline). See ff_source.h.
 */
#include "ff_source.h"

#include "ff_pick.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <libavutil/avutil.h>
#include <libavutil/mathematics.h>

#include <retrovue/error.h>

/** Consecutive decoder failures after which a stream counts as undecodable. */
#define FF_SOURCE_MAX_CONSECUTIVE_ERRORS 2000
/** Packets one read-ahead may demux, of every stream (see ff_source_read_ahead). */
#define FF_SOURCE_READ_AHEAD_MAX 64
/** Smallest lateness of a picture's timestamp still counted as due. */
#define FF_SOURCE_MIN_SLACK_NS 1000

/** A FIFO of packets of one stream, demuxed while the other stream was being
 *  pulled. Slots are allocated once and reused; the ring only grows. */
typedef struct pkt_queue {
    AVPacket **slot;   /**< owned, cap entries */
    size_t cap;
    size_t head;
    size_t count;
} pkt_queue;

/** One decoded stream. */
typedef struct ff_stream {
    int index;                 /**< stream index, -1 when absent */
    AVStream *st;              /**< borrowed from fmt */
    AVCodecContext *dec;       /**< owned */
    pkt_queue queue;
    int flushing;              /**< NULL packet sent */
    int need_key;              /**< after a seek: drop pictures up to a keyframe */
    int consecutive_errors;
    int64_t skip_nonref_until_ns; /**< video: packets before this asset position are
                                       decoded with AVDISCARD_NONREF (a seek's
                                       pre-roll); INT64_MIN = decode everything */
} ff_stream;

struct ff_source {
    ff_source_params params;
    AVFormatContext *fmt;      /**< owned */
    AVPacket *pkt;             /**< owned work packet */
    ff_stream video;
    ff_stream audio;
    const AVStream *origin_st; /**< the stream whose first picture/sample is position 0 */
    int64_t origin_ts;         /**< its start time in its own time base */
    int64_t origin_ns;         /**< absolute time of asset position 0, ns */
    int64_t origin_us;         /**< same in AV_TIME_BASE units */
    int64_t deadline_mono_ns;  /**< interrupt when CLOCK_MONOTONIC passes it */
    int timed_out;             /**< the interrupt callback fired */
    int demux_ended;
    int read_any;              /**< a packet was read since the open */
    int demux_error;           /**< sticky rv_error once demuxing failed */
    int64_t decode_errors;
    ff_audio_choice audio_choice; /**< how the audio stream was chosen */
    struct stat file;          /**< the file as opened (ff_source_unpark checks it) */
    AVPacket *ahead;           /**< owned work packet of the read-ahead */
    ff_source_unshown_fn unshown;  /**< NULL: every picture is shown */
    void *unshown_opaque;      /**< borrowed */
    int64_t behind_ns[FF_SOURCE_SEEN_BEHIND]; /**< times of the last video packets sent */
    int behind_count;
    int behind_next;           /**< slot the next one goes into */
    ff_source_counts counts;
};

static int64_t ff_source_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/** AVIOInterruptCB: called by FFmpeg inside blocking work. Thread: the
 *  source's thread. @p opaque is the ff_source (borrowed). */
static int ff_source_interrupt(void *opaque)
{
    ff_source *src = opaque;
    if (ff_source_mono_ns() <= src->deadline_mono_ns)
        return 0;
    src->timed_out = 1;
    return 1;
}

void ff_source_arm(ff_source *src)
{
    src->deadline_mono_ns = ff_source_mono_ns() + src->params.io_timeout_ms * 1000000;
}

/* ---- packet queue ---- */

static int pkt_queue_push(pkt_queue *q, AVPacket *pkt)
{
    if (q->count == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 32;
        AVPacket **slot = calloc(cap, sizeof(*slot));
        if (!slot)
            return RV_ENOMEM;
        for (size_t i = 0; i < cap; i++) {
            slot[i] = i < q->cap ? q->slot[(q->head + i) % q->cap] : av_packet_alloc();
            if (!slot[i]) {
                for (size_t j = q->cap; j < i; j++)
                    av_packet_free(&slot[j]);
                free(slot);
                return RV_ENOMEM;
            }
        }
        free(q->slot);
        q->slot = slot;
        q->head = 0;
        q->cap = cap;
    }
    av_packet_move_ref(q->slot[(q->head + q->count) % q->cap], pkt);
    q->count++;
    return RV_OK;
}

static int pkt_queue_pop(pkt_queue *q, AVPacket *out)
{
    if (q->count == 0)
        return 0;
    av_packet_move_ref(out, q->slot[q->head]);
    q->head = (q->head + 1) % q->cap;
    q->count--;
    return 1;
}

static void pkt_queue_clear(pkt_queue *q)
{
    for (size_t i = 0; i < q->cap; i++)
        av_packet_unref(q->slot[i]);
    q->head = 0;
    q->count = 0;
}

static void pkt_queue_free(pkt_queue *q)
{
    for (size_t i = 0; i < q->cap; i++)
        av_packet_free(&q->slot[i]);
    free(q->slot);
    q->slot = NULL;
    q->cap = 0;
    q->count = 0;
}

/* ---- errors ---- */

int ff_source_map_error(const ff_source *src, int averr)
{
    if (src && src->timed_out)
        return RV_ETIMEDOUT;
    switch (averr) {
    case AVERROR(ENOENT):
    case AVERROR(ENOTDIR):
        return RV_ENOENT;
    case AVERROR(EACCES):
    case AVERROR(EPERM):
        return RV_EACCES;
    case AVERROR(ENOMEM):
        return RV_ENOMEM;
    case AVERROR(ETIMEDOUT):
    case AVERROR_EXIT:
        return RV_ETIMEDOUT;
    case AVERROR_INVALIDDATA:
    case AVERROR_EOF:
    case AVERROR(EISDIR):
    case AVERROR_DECODER_NOT_FOUND:
    case AVERROR_DEMUXER_NOT_FOUND:
    case AVERROR_STREAM_NOT_FOUND:
        return RV_EFORMAT;
    default:
        return RV_EIO;
    }
}

static int ff_source_fail(int code, char *why, size_t whylen, const char *fmt, const char *detail)
{
    snprintf(why, whylen, fmt, detail);
    return code;
}

/* ---- open ---- */

static int ff_source_open_decoder(ff_stream *s, int threads, const ff_source_params *dr)
{
    const AVCodec *codec = avcodec_find_decoder(s->st->codecpar->codec_id);
    if (!codec)
        return AVERROR_DECODER_NOT_FOUND;
    s->dec = avcodec_alloc_context3(codec);
    if (!s->dec)
        return AVERROR(ENOMEM);
    int r = avcodec_parameters_to_context(s->dec, s->st->codecpar);
    if (r < 0)
        return r;
    s->dec->pkt_timebase = s->st->time_base;
    s->dec->thread_count = threads;
    s->dec->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
    if (dr && dr->get_buffer2) {
        /* decode into the channel's own pictures (ff_dr) */
        s->dec->get_buffer2 = dr->get_buffer2;
        s->dec->opaque = dr->get_buffer2_opaque;
    }
    return avcodec_open2(s->dec, codec, NULL);
}

static void ff_stream_reset(ff_stream *s)
{
    avcodec_free_context(&s->dec);
    s->index = -1;
    s->st = NULL;
}

/** Check the path before FFmpeg sees it, for precise reasons; fills @p sb. */
static int ff_source_stat(const char *path, struct stat *out, char *why, size_t whylen)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return ff_source_fail(RV_ENOENT, why, whylen, "no such file: %s", path);
        if (errno == EACCES || errno == EPERM)
            return ff_source_fail(RV_EACCES, why, whylen, "permission denied: %s", path);
        return ff_source_fail(RV_EIO, why, whylen, "cannot stat: %s", strerror(errno));
    }
    if (S_ISDIR(sb.st_mode))
        return ff_source_fail(RV_EFORMAT, why, whylen, "not media: %s is a directory", path);
    if (S_ISREG(sb.st_mode) && sb.st_size == 0)
        return ff_source_fail(RV_EFORMAT, why, whylen, "not media: %s has zero length", path);
    *out = sb;
    return RV_OK;
}

static void ff_source_set_origin(ff_source *src)
{
    const AVStream *st = src->video.st ? src->video.st : src->audio.st;
    int64_t origin_ns = 0;
    src->origin_st = NULL;
    if (st && st->start_time != AV_NOPTS_VALUE) {
        src->origin_st = st;
        src->origin_ts = st->start_time;
        origin_ns = av_rescale_q_rnd(st->start_time, st->time_base, (AVRational){1, 1000000000},
                                     AV_ROUND_DOWN | AV_ROUND_PASS_MINMAX);
    } else if (src->fmt->start_time != AV_NOPTS_VALUE) {
        origin_ns = src->fmt->start_time * 1000;
    }
    src->origin_ns = origin_ns;
    src->origin_us = origin_ns / 1000;
}

int ff_source_open(const char *path, const ff_source_params *params, ff_source **out, char *why,
                   size_t whylen)
{
    *out = NULL;
    struct stat sb;
    int code = ff_source_stat(path, &sb, why, whylen);
    if (code != RV_OK)
        return code;

    ff_source *src = calloc(1, sizeof(*src));
    if (!src)
        return RV_ENOMEM;
    src->params = *params;
    src->file = sb;
    src->video.index = -1;
    src->audio.index = -1;
    src->video.skip_nonref_until_ns = INT64_MIN;
    src->audio.skip_nonref_until_ns = INT64_MIN;
    AVDictionary *opts = NULL;
    char *url = NULL;
    int r = 0;

    src->pkt = av_packet_alloc();
    src->ahead = av_packet_alloc();
    src->fmt = avformat_alloc_context();
    size_t urllen = strlen(path) + 6;
    url = malloc(urllen);
    if (!src->pkt || !src->ahead || !src->fmt || !url) {
        code = RV_ENOMEM;
        snprintf(why, whylen, "out of memory");
        goto fail;
    }
    /* "file:" keeps a path containing ':' from being read as a protocol. */
    snprintf(url, urllen, "file:%s", path);
    src->fmt->interrupt_callback = (AVIOInterruptCB){.callback = ff_source_interrupt, .opaque = src};
    av_dict_set(&opts, "protocol_whitelist", "file", 0);
    ff_source_arm(src);
    r = avformat_open_input(&src->fmt, url, NULL, &opts);
    if (r < 0)
        goto fail_av;
    /* FFmpeg renders any text file as ANSI art ("tty"): that is not media. */
    if (strcmp(src->fmt->iformat->name, "tty") == 0) {
        code = RV_EFORMAT;
        snprintf(why, whylen, "not media: no audio/video container recognised");
        goto fail;
    }
    r = avformat_find_stream_info(src->fmt, NULL);
    if (r < 0)
        goto fail_av;

    int vi = ff_pick_stream(src->fmt, AVMEDIA_TYPE_VIDEO);
    int ai = ff_pick_audio(src->fmt, vi, src->params.audio_languages, &src->audio_choice);
    if (vi >= 0) {
        src->video.index = vi;
        src->video.st = src->fmt->streams[vi];
        if (ff_source_open_decoder(&src->video, params->threads, params) < 0 ||
            src->video.dec->width <= 0 || src->video.dec->height <= 0)
            ff_stream_reset(&src->video);
    }
    if (ai >= 0) {
        src->audio.index = ai;
        src->audio.st = src->fmt->streams[ai];
        if (ff_source_open_decoder(&src->audio, 1, NULL) < 0 || src->audio.dec->sample_rate <= 0 ||
            src->audio.dec->ch_layout.nb_channels <= 0)
            ff_stream_reset(&src->audio);
    }
    if (!src->video.dec && !src->audio.dec) {
        code = RV_EFORMAT;
        snprintf(why, whylen, "no decodable video or audio stream (%u streams)",
                 src->fmt->nb_streams);
        goto fail;
    }
    for (unsigned i = 0; i < src->fmt->nb_streams; i++)
        if ((int)i != src->video.index && (int)i != src->audio.index)
            src->fmt->streams[i]->discard = AVDISCARD_ALL;
    ff_source_set_origin(src);
    av_dict_free(&opts);
    free(url);
    *out = src;
    return RV_OK;

fail_av:
    code = ff_source_map_error(src, r);
    if (code == RV_ETIMEDOUT)
        snprintf(why, whylen, "timed out after %lld ms while opening",
                 (long long)params->io_timeout_ms);
    else
        snprintf(why, whylen, "%s: %s",
                 code == RV_EFORMAT ? "not media" : rv_strerror(code), av_err2str(r));
fail:
    av_dict_free(&opts);
    free(url);
    ff_source_close(src);
    return code;
}

void ff_source_close(ff_source *src)
{
    if (!src)
        return;
    avcodec_free_context(&src->video.dec);
    avcodec_free_context(&src->audio.dec);
    pkt_queue_free(&src->video.queue);
    pkt_queue_free(&src->audio.queue);
    avformat_close_input(&src->fmt);
    av_packet_free(&src->pkt);
    av_packet_free(&src->ahead);
    free(src);
}

/* ---- parking ---- */

static void ff_stream_flush(ff_stream *s);

int ff_source_park(ff_source *src)
{
    if (src->demux_error || src->timed_out)
        return RV_ESTATE;
    avcodec_free_context(&src->video.dec);
    avcodec_free_context(&src->audio.dec);
    pkt_queue_clear(&src->video.queue);
    pkt_queue_clear(&src->audio.queue);
    av_packet_unref(src->ahead);
    /* the question belongs to the segment that closed: the next one asks
     * its own (ff_source_set_unshown), or none */
    src->unshown = NULL;
    src->unshown_opaque = NULL;
    src->behind_count = 0;
    memset(&src->counts, 0, sizeof(src->counts));
    return RV_OK;
}

int ff_source_unpark(ff_source *src, const char *path, const ff_source_params *params)
{
    struct stat sb;
    if (stat(path, &sb) != 0 || sb.st_dev != src->file.st_dev || sb.st_ino != src->file.st_ino ||
        sb.st_size != src->file.st_size || sb.st_mtim.tv_sec != src->file.st_mtim.tv_sec ||
        sb.st_mtim.tv_nsec != src->file.st_mtim.tv_nsec)
        return RV_ESTATE; /* replaced or changed since it was opened */
    const char *had = src->params.audio_languages ? src->params.audio_languages : "";
    const char *want = params->audio_languages ? params->audio_languages : "";
    if (strcmp(had, want) != 0)
        return RV_ESTATE; /* the audio would be chosen differently */
    src->params = *params;
    if ((src->video.st && ff_source_open_decoder(&src->video, params->threads, params) < 0) ||
        (src->audio.st && ff_source_open_decoder(&src->audio, 1, NULL) < 0))
        return RV_EFORMAT;
    ff_stream_flush(&src->video);
    ff_stream_flush(&src->audio);
    src->timed_out = 0;
    src->demux_ended = 0;
    src->demux_error = 0;
    src->decode_errors = 0;
    src->read_any = 1; /* not at the start any more: a seek to 0 must seek */
    return RV_OK;
}

/* ---- queries ---- */

const AVStream *ff_source_video_stream(const ff_source *src)
{
    return src->video.dec ? src->video.st : NULL;
}

const AVStream *ff_source_audio_stream(const ff_source *src)
{
    return src->audio.dec ? src->audio.st : NULL;
}

const char *ff_source_audio_choice(const ff_source *src)
{
    return src->audio.dec ? src->audio_choice.text : "";
}

int ff_source_audio_fell_back(const ff_source *src)
{
    return src->audio.dec ? src->audio_choice.fell_back : 0;
}

const AVCodecContext *ff_source_audio_codec(const ff_source *src)
{
    return src->audio.dec;
}

int64_t ff_source_duration_ns(const ff_source *src)
{
    const AVStream *st = src->video.dec ? src->video.st : src->audio.st;
    if (st && st->duration > 0 && st->duration != AV_NOPTS_VALUE)
        return av_rescale_q(st->duration, st->time_base, (AVRational){1, 1000000000});
    if (src->fmt->duration > 0)
        return src->fmt->duration * 1000;
    return -1;
}

int64_t ff_source_frame_duration_ns(const ff_source *src)
{
    const AVStream *st = src->video.st;
    AVRational r = {0, 1};
    if (st && st->avg_frame_rate.num > 0 && st->avg_frame_rate.den > 0)
        r = st->avg_frame_rate;
    else if (st && st->r_frame_rate.num > 0 && st->r_frame_rate.den > 0)
        r = st->r_frame_rate;
    if (r.num <= 0)
        return 40000000;
    return av_rescale(1000000000, r.den, r.num);
}

/** Rounded down after subtracting the origin in the stream's own time base,
 *  so a picture exactly on a tick is never 1 ns late. */
static int64_t ff_source_ns(const ff_source *src, const AVStream *st, int64_t ts)
{
    if (st == src->origin_st)
        return av_rescale_q_rnd(ts - src->origin_ts, st->time_base, (AVRational){1, 1000000000},
                                AV_ROUND_DOWN | AV_ROUND_PASS_MINMAX);
    return av_rescale_q_rnd(ts, st->time_base, (AVRational){1, 1000000000},
                            AV_ROUND_DOWN | AV_ROUND_PASS_MINMAX) -
           src->origin_ns;
}

int64_t ff_source_video_ns(const ff_source *src, int64_t ts)
{
    return ff_source_ns(src, src->video.st, ts);
}

int64_t ff_source_audio_ns(const ff_source *src, int64_t ts)
{
    return ff_source_ns(src, src->audio.st, ts);
}

int64_t ff_source_video_slack_ns(const ff_source *src)
{
    /* 1 us absorbs the nanosecond rounding of positions computed as a
     * difference of floored tick times (a 29.97 source on a 29.97 channel
     * has every picture exactly on a tick). */
    const AVStream *st = src->video.st;
    if (!st)
        return FF_SOURCE_MIN_SLACK_NS;
    /* A container storing coarse times (Matroska's whole milliseconds) rounds
     * each time by up to half a unit, and a position is a difference of two
     * of them (the picture's and the origin's): up to a whole unit off. With
     * half a unit of slack, a 29.97 Matroska source on a 29.97 channel showed
     * the picture due on some ticks one tick late, a frame twice every few
     * ticks (found by integration.media_join). Never more than 1 ms: a time
     * base as coarse as the frame itself (AVI's 1/fps) stores exact frame
     * times, and a larger slack would show pictures early. */
    int64_t tb_ns = av_rescale(1000000000, st->time_base.num, st->time_base.den);
    if (tb_ns < 100000)
        return FF_SOURCE_MIN_SLACK_NS;
    return tb_ns < 1000000 ? tb_ns : 1000000;
}

int64_t ff_source_take_decode_errors(ff_source *src)
{
    int64_t n = src->decode_errors;
    src->decode_errors = 0;
    return n;
}

int ff_source_demux_ended(const ff_source *src)
{
    return src->demux_ended;
}

/* ---- seek ---- */

static void ff_stream_flush(ff_stream *s)
{
    pkt_queue_clear(&s->queue);
    if (s->dec)
        avcodec_flush_buffers(s->dec);
    s->flushing = 0;
    s->need_key = 1;
    s->consecutive_errors = 0;
    s->skip_nonref_until_ns = INT64_MIN;
}

void ff_source_skip_nonref_until(ff_source *src, int64_t pos_ns)
{
    src->video.skip_nonref_until_ns = pos_ns;
}

void ff_source_set_unshown(ff_source *src, ff_source_unshown_fn fn, void *opaque)
{
    src->unshown = fn;
    src->unshown_opaque = opaque;
}

ff_source_counts ff_source_video_counts(const ff_source *src)
{
    return src->counts;
}

int ff_source_seek(ff_source *src, int64_t pos_ns)
{
    /* Freshly opened and nothing read yet: the demuxer is at the start
     * already, exactly (no container's seek is as exact as not seeking). */
    if (pos_ns <= 0 && !src->read_any)
        return RV_OK;
    int64_t target_us = src->origin_us + (pos_ns > 0 ? pos_ns / 1000 : 0);
    int r = -1;
    /* The start of an MPEG transport or program stream: a byte seek to 0 is
     * exact there (their timestamp seeks are approximate). Other containers
     * (Matroska, MP4) must seek by timestamp: a byte seek to 0 lands on their
     * headers and their demuxers then find no packet. */
    const char *name = src->fmt->iformat->name;
    int byte_start = strcmp(name, "mpegts") == 0 || strcmp(name, "mpeg") == 0;
    if (pos_ns <= 0 && byte_start && !(src->fmt->iformat->flags & AVFMT_NO_BYTE_SEEK))
        r = avformat_seek_file(src->fmt, -1, 0, 0, 0, AVSEEK_FLAG_BYTE);
    if (r < 0)
        r = avformat_seek_file(src->fmt, -1, INT64_MIN, target_us, target_us, 0);
    if (r < 0)
        r = av_seek_frame(src->fmt, -1, target_us, AVSEEK_FLAG_BACKWARD);
    if (r < 0)
        return ff_source_map_error(src, r);
    ff_stream_flush(&src->video);
    ff_stream_flush(&src->audio);
    src->behind_count = 0;
    src->demux_ended = 0;
    return RV_OK;
}

/* ---- demux and decode ---- */

/** Demux one packet into @p pkt (blank). RV_OK, RV_EOF (the end, sticky) or
 *  an error (sticky: returned again by every later read). */
static int ff_source_read(ff_source *src, AVPacket *pkt)
{
    if (src->demux_error)
        return src->demux_error;
    if (src->demux_ended)
        return RV_EOF;
    int r = av_read_frame(src->fmt, pkt);
    src->read_any = 1;
    if (r == AVERROR_EOF || (r < 0 && avio_feof(src->fmt->pb) && !src->timed_out)) {
        src->demux_ended = 1;
        return RV_EOF;
    }
    if (r < 0) {
        src->demux_error = ff_source_map_error(src, r);
        return src->demux_error;
    }
    return RV_OK;
}

/** Queue @p pkt (its reference moves into the queue) with the decoded
 *  stream it belongs to; a packet of any other stream is dropped. */
static int ff_source_queue(ff_source *src, AVPacket *pkt)
{
    ff_stream *s = pkt->stream_index == src->video.index ? &src->video
                   : pkt->stream_index == src->audio.index ? &src->audio
                                                            : NULL;
    int r = s && s->dec ? pkt_queue_push(&s->queue, pkt) : RV_OK;
    av_packet_unref(pkt);
    return r;
}

/** Next packet of stream @p s into src->pkt, demuxing (and queueing the
 *  other stream's packets) as needed. RV_OK, RV_EOF or an error. */
static int ff_source_next_packet(ff_source *src, ff_stream *s)
{
    if (pkt_queue_pop(&s->queue, src->pkt))
        return RV_OK;
    for (;;) {
        int r = ff_source_read(src, src->pkt);
        if (r < 0)
            return r;
        if (src->pkt->stream_index == s->index)
            return RV_OK;
        r = ff_source_queue(src, src->pkt);
        if (r < 0)
            return r;
    }
}

/** Demux until FF_SOURCE_SEEN_AHEAD video packets wait in the queue, the
 *  file ends, or FF_SOURCE_READ_AHEAD_MAX packets were read (sparse video,
 *  a long audio track: the audio queue stays bounded). A demuxing error stays
 *  for the read that reaches it (sticky); a queue that cannot grow becomes one. */
static void ff_source_read_ahead(ff_source *src)
{
    for (int n = 0; n < FF_SOURCE_READ_AHEAD_MAX &&
                    src->video.queue.count < FF_SOURCE_SEEN_AHEAD; n++) {
        if (ff_source_read(src, src->ahead) < 0)
            return;
        int r = ff_source_queue(src, src->ahead);
        if (r < 0) {
            src->demux_error = r;
            return;
        }
    }
}

/** The earliest presentation time after @p pts_ns among the video packets
 *  sent lately and those waiting in the queue; INT64_MAX when none. */
static int64_t ff_source_next_time(const ff_source *src, int64_t pts_ns)
{
    int64_t best = INT64_MAX;
    for (int i = 0; i < src->behind_count; i++)
        if (src->behind_ns[i] > pts_ns && src->behind_ns[i] < best)
            best = src->behind_ns[i];
    const pkt_queue *q = &src->video.queue;
    for (size_t i = 0; i < q->count; i++) {
        const AVPacket *p = q->slot[(q->head + i) % q->cap];
        if (p->pts == AV_NOPTS_VALUE)
            continue;
        int64_t ns = ff_source_video_ns(src, p->pts);
        if (ns > pts_ns && ns < best)
            best = ns;
    }
    return best;
}

/** Before a video packet goes to the decoder: its picture is not even
 *  decoded when nobody will see it and nothing references it
 *  (AVDISCARD_NONREF: H.264/HEVC nal_ref_idc 0, MPEG-2 B pictures). Nobody
 *  sees it when it is a seek's pre-roll (presented before
 *  skip_nonref_until_ns), or when the unshown question says so. The decoder
 *  reads skip_frame per packet, frame threads included (FFmpeg copies it
 *  into the frame thread's context when the packet is submitted). */
static void ff_source_pick_discard(ff_source *src, ff_stream *s, const AVPacket *pkt)
{
    if (s != &src->video)
        return;
    enum AVDiscard want = AVDISCARD_DEFAULT;
    /* no pts (some raw streams): decode it, and keep waiting for one */
    int has_pts = pkt->pts != AV_NOPTS_VALUE;
    int64_t pts_ns = has_pts ? ff_source_video_ns(src, pkt->pts) : 0;
    if (s->skip_nonref_until_ns != INT64_MIN && has_pts) {
        if (pts_ns < s->skip_nonref_until_ns)
            want = AVDISCARD_NONREF;
        else
            s->skip_nonref_until_ns = INT64_MIN; /* past the pre-roll: for good */
    }
    if (want == AVDISCARD_DEFAULT && src->unshown && has_pts) {
        ff_source_read_ahead(src);
        if (src->unshown(src->unshown_opaque, pts_ns, ff_source_next_time(src, pts_ns)))
            want = AVDISCARD_NONREF;
    }
    if (has_pts) {
        src->behind_ns[src->behind_next] = pts_ns;
        src->behind_next = (src->behind_next + 1) % FF_SOURCE_SEEN_BEHIND;
        if (src->behind_count < FF_SOURCE_SEEN_BEHIND)
            src->behind_count++;
    }
    src->counts.packets++;
    if (want == AVDISCARD_NONREF)
        src->counts.nonref_packets++;
    if (s->dec->skip_frame != want)
        s->dec->skip_frame = want;
}

static int ff_source_frame(ff_source *src, ff_stream *s, AVFrame *frame)
{
    if (!s->dec)
        return RV_EOF;
    av_frame_unref(frame);
    for (;;) {
        int r = avcodec_receive_frame(s->dec, frame);
        if (r >= 0) {
            if (s == &src->video && s->need_key && !frame->key_frame &&
                frame->pict_type != AV_PICTURE_TYPE_I) {
                av_frame_unref(frame);
                continue;
            }
            s->need_key = 0;
            s->consecutive_errors = 0;
            frame->pts = frame->best_effort_timestamp;
            if (s == &src->video)
                src->counts.pictures++;
            return RV_OK;
        }
        if (r == AVERROR_EOF)
            return RV_EOF;
        if (r != AVERROR(EAGAIN)) {
            src->decode_errors++;
            if (++s->consecutive_errors > FF_SOURCE_MAX_CONSECUTIVE_ERRORS)
                return RV_EFORMAT;
            continue;
        }
        if (s->flushing)
            return RV_EOF;
        r = ff_source_next_packet(src, s);
        if (r == RV_EOF) {
            avcodec_send_packet(s->dec, NULL);
            s->flushing = 1;
            continue;
        }
        if (r < 0)
            return r;
        ff_source_pick_discard(src, s, src->pkt);
        r = avcodec_send_packet(s->dec, src->pkt);
        av_packet_unref(src->pkt);
        if (r < 0 && r != AVERROR(EAGAIN)) {
            src->decode_errors++;
            if (++s->consecutive_errors > FF_SOURCE_MAX_CONSECUTIVE_ERRORS)
                return RV_EFORMAT;
        }
    }
}

int ff_source_video_frame(ff_source *src, AVFrame *frame)
{
    return ff_source_frame(src, &src->video, frame);
}

int ff_source_audio_frame(ff_source *src, AVFrame *frame)
{
    return ff_source_frame(src, &src->audio, frame);
}
