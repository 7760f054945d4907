/**
 * @file ff_segment.c
 * @short ff_segment: open/seek/prime and the per-tick read loop. See
 *        ff_segment.h.
 */
#include "ff_segment.h"

#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/frame.h>

#include "ff_audio.h"
#include "ff_dr.h"
#include "ff_park.h"
#include "ff_source.h"

/** Decode errors closer together than this (source time) are one burst. */
#define FF_BURST_GAP_NS 1000000000LL
/** An asset ending this much before its declared length is truncated. */
#define FF_TRUNCATION_NS 1000000000LL
/** One stream outlasting the other by more than this is worth a warning
 *  (encoder priming and muxing leave tens of milliseconds routinely; the
 *  same margin as a truncation). */
#define FF_STREAM_GAP_NS 1000000000LL
/** Longer than any audio packet (AAC 21 ms, AC-3 32 ms, PCM blocks). */
#define FF_AUDIO_PREROLL_NS 100000000LL

struct ff_segment {
    const ff_params *params;       /**< borrowed from the instance */
    rv_segment_request req;        /**< copy; its strings are borrowed */
    char *path;                    /**< owned file system path */
    ff_source *src;                /**< owned */
    ff_video *video;               /**< owned; NULL for an audio-only asset */
    ff_audio *audio;               /**< owned; NULL when the asset has no audio */
    ff_dr *dr;                     /**< owned: the video decoder's pool pictures;
                                        NULL when zero_copy is off or the host
                                        predates ABI 1.4 */
    int64_t shared;                /**< pictures aired without a copy */
    int64_t drawn;                 /**< pictures copied or scaled */

    AVFrame *pending;              /**< owned: next decoded picture, not yet due */
    int have_pending;
    int64_t pending_ns;
    AVFrame *candidate;            /**< owned: newest due picture, not yet drawn */
    int have_candidate;
    int64_t candidate_ns;
    int64_t candidate_dur_ns;
    rv_video_frame *shown;         /**< one reference: the picture on air */
    int64_t shown_ns;
    int64_t end_ns;                /**< end of the last due picture */
    int video_eof;
    int64_t slack_ns;
    int64_t frame_dur_ns;

    rv_video_frame *card;          /**< one reference: audio-only picture */
    int64_t delivered;
    int failed;                    /**< sticky error, reported once */
    int ended_reported;
    int64_t video_end_ns;          /**< where the video ran out, -1 until it did */
    int64_t audio_end_ns;          /**< where the audio ran out, -1 until it did */
    int gap_warned;                /**< one warning about a held picture / silence */
    int length_said;

    int64_t burst_errors;          /**< decode errors in the current burst */
    int64_t burst_first_ns;
    int64_t burst_last_ns;
};

/* ---- events ---- */

static void ff_segment_event(ff_segment *seg, rv_event_type type, int code, const char *reason)
{
    const rv_host_api *host = seg->params->host;
    host->event(seg->params->ctx, type, code, seg->req.asset_uri, "%s", reason);
}

static int ff_segment_fail(ff_segment *seg, int code, const char *what)
{
    char reason[320];
    if (code == RV_ETIMEDOUT)
        snprintf(reason, sizeof(reason), "timed out after %lld ms while %s",
                 (long long)seg->params->io_timeout_ms, what);
    else
        snprintf(reason, sizeof(reason), "%s while %s", rv_strerror(code), what);
    if (!seg->failed)
        ff_segment_event(seg, RV_EVENT_ASSET_ERROR, code, reason);
    seg->failed = code;
    return code;
}

/** Account the decode errors the source counted since the last look, at
 *  source position @p pos_ns; one warning per burst when it ends. */
static void ff_segment_errors(ff_segment *seg, int64_t pos_ns, int closing)
{
    int64_t n = ff_source_take_decode_errors(seg->src);
    if (n > 0) {
        if (seg->burst_errors == 0)
            seg->burst_first_ns = pos_ns;
        seg->burst_errors += n;
        seg->burst_last_ns = pos_ns;
    }
    if (seg->burst_errors == 0)
        return;
    if (!closing && pos_ns - seg->burst_last_ns <= FF_BURST_GAP_NS)
        return;
    char reason[256];
    snprintf(reason, sizeof(reason),
             "corrupt data: skipped %lld undecodable packets between %lld and %lld ms",
             (long long)seg->burst_errors, (long long)(seg->burst_first_ns / 1000000),
             (long long)(seg->burst_last_ns / 1000000));
    ff_segment_event(seg, RV_EVENT_WARNING, RV_EFORMAT, reason);
    seg->burst_errors = 0;
}

/** Say once what the video normaliser does to this asset's pictures: tone
 *  mapping is a substitution (a warning an operator should see), colour
 *  conversion and turning upright are routine (info). */
static void ff_segment_note(ff_segment *seg)
{
    const char *note = ff_video_take_note(seg->video);
    if (!note)
        return;
    if (strstr(note, "tone-mapped") || strstr(note, "not a quarter turn"))
        ff_segment_event(seg, RV_EVENT_WARNING, 0, note);
    else
        seg->params->host->log(seg->params->ctx, RV_LOG_INFO, "%s: %s", seg->req.asset_uri, note);
}

/* ---- URI ---- */

static int ff_hex(int c)
{
    return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

/** "file:///a%20b" -> "/a b", "file:/a" -> "/a", "/a" -> "/a". Owned result. */
static char *ff_uri_to_path(const char *uri)
{
    int decode = 0;
    if (strncmp(uri, "file://", 7) == 0) {
        uri += 7;
        if (strncmp(uri, "localhost/", 10) == 0)
            uri += 9;
        decode = 1;
    } else if (strncmp(uri, "file:", 5) == 0) {
        uri += 5;
    }
    char *path = malloc(strlen(uri) + 1);
    if (!path)
        return NULL;
    char *o = path;
    for (const char *p = uri; *p; p++) {
        if (decode && p[0] == '%' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])) {
            *o++ = (char)(ff_hex((unsigned char)p[1]) * 16 + ff_hex((unsigned char)p[2]));
            p += 2;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return path;
}

/* ---- video cadence ---- */

static int64_t ff_segment_position(const ff_segment *seg, int64_t k)
{
    return rv_segment_position_ns(&seg->req, seg->params->format.frame_rate, k);
}

static void ff_segment_drop_pictures(ff_segment *seg)
{
    av_frame_unref(seg->pending);
    av_frame_unref(seg->candidate);
    seg->have_pending = 0;
    seg->have_candidate = 0;
    seg->video_eof = 0;
}

/** Decode the next picture into `pending`. RV_OK, RV_EOF or an error. */
static int ff_segment_decode(ff_segment *seg)
{
    int64_t last_ns = seg->have_candidate ? seg->candidate_ns : seg->shown_ns;
    int r = ff_video_next(seg->video, seg->src, seg->pending);
    if (r == RV_EOF) {
        seg->video_eof = 1;
        return RV_EOF;
    }
    if (r < 0)
        return r;
    seg->have_pending = 1;
    if (seg->pending->pts != AV_NOPTS_VALUE)
        seg->pending_ns = ff_source_video_ns(seg->src, seg->pending->pts);
    else
        seg->pending_ns = last_ns + seg->frame_dur_ns;
    ff_segment_errors(seg, seg->pending_ns, 0);
    return RV_OK;
}

/** Promote every decoded picture due at @p t_ns (the newest wins), then draw
 *  it into a fresh host picture. Pictures passed over are never drawn. */
static int ff_segment_advance(ff_segment *seg, int64_t t_ns)
{
    for (;;) {
        if (!seg->have_pending) {
            if (seg->video_eof)
                break;
            int r = ff_segment_decode(seg);
            if (r == RV_EOF)
                break;
            if (r < 0)
                return r;
        }
        int first = !seg->shown && !seg->have_candidate;
        if (!first && seg->pending_ns > t_ns + seg->slack_ns)
            break;
        av_frame_unref(seg->candidate);
        av_frame_move_ref(seg->candidate, seg->pending);
        seg->have_pending = 0;
        seg->have_candidate = 1;
        seg->candidate_ns = seg->pending_ns;
        int64_t dur = seg->candidate->pkt_duration;
        const AVStream *st = ff_source_video_stream(seg->src);
        seg->candidate_dur_ns = dur > 0 ? av_rescale_q(dur, st->time_base, (AVRational){1, 1000000000})
                                        : seg->frame_dur_ns;
    }
    if (!seg->have_candidate)
        return RV_OK;
    const rv_host_api *host = seg->params->host;
    rv_video_frame *pic = NULL;
    if (seg->dr) {
        int whole = ff_video_whole(seg->video, seg->candidate);
        if (whole < 0)
            return whole;
        /* decoded straight into a pool picture that needs nothing more:
         * air it as it is (the decoder's own reference keeps it shared, so
         * any writer copies it first) */
        pic = whole ? ff_dr_picture(seg->dr, seg->candidate) : NULL;
        if (pic)
            host->video_ref(pic);
    }
    if (pic) {
        seg->shared++;
    } else {
        pic = host->video_alloc(seg->params->ctx);
        if (!pic)
            return RV_ENOMEM;
        int r = ff_video_draw(seg->video, seg->candidate, pic);
        if (r < 0) {
            host->video_release(pic);
            return r;
        }
        seg->drawn++;
    }
    ff_segment_note(seg);
    host->video_release(seg->shown);
    seg->shown = pic;
    seg->shown_ns = seg->candidate_ns;
    seg->end_ns = seg->candidate_ns + seg->candidate_dur_ns;
    seg->have_candidate = 0;
    av_frame_unref(seg->candidate);
    return RV_OK;
}

/** The first tick, from the one being read on, at which a picture presented
 *  at @p pts_ns is due (its time at most the tick's position + slack);
 *  frame_count when that is past the segment's last tick. */
static int64_t ff_segment_due_tick(const ff_segment *seg, int64_t pts_ns)
{
    int64_t k = seg->delivered;
    int64_t t = ff_segment_position(seg, k) + seg->slack_ns;
    if (pts_ns <= t)
        return k;
    rv_rational r = seg->params->format.frame_rate;
    /* whole ticks in (pts - t], rounded down: never past the tick sought, as
     * the positions are rounded down to the ns */
    rv_int128 d = (rv_int128)((uint64_t)pts_ns - (uint64_t)t) * r.num /
                  ((rv_int128)r.den * 1000000000);
    if (d >= seg->req.frame_count - k)
        return seg->req.frame_count;
    for (k += (int64_t)d; k < seg->req.frame_count; k++)
        if (ff_segment_position(seg, k) + seg->slack_ns >= pts_ns)
            return k;
    return seg->req.frame_count;
}

/** ff_source_unshown_fn: a picture at @p pts_ns is never shown when a later
 *  one (@p next_ns) is due at the first tick it is due at: that tick and
 *  every later one show the newer picture. Only once the first picture is
 *  on air (the segment's first tick takes the first picture decoded, due or
 *  not) and while the deinterlacer does not need the neighbours. Thread:
 *  the segment's. */
static int ff_segment_unshown(void *opaque, int64_t pts_ns, int64_t next_ns)
{
    ff_segment *seg = opaque;
    if (next_ns == INT64_MAX || !seg->shown || ff_video_needs_every_picture(seg->video))
        return 0;
    int64_t k = ff_segment_due_tick(seg, pts_ns);
    if (k >= seg->req.frame_count)
        return 0;
    return next_ns <= ff_segment_position(seg, k) + seg->slack_ns;
}

/* ---- open ---- */

/** Seek to the keyframe before @p t0_ns and check the first picture is not
 *  later than it (some containers seek imprecisely): step further back and
 *  finally to the start. Leaves the first picture in `pending`. */
/** Frames before a seek's target decoded in full (every picture); before them
 *  only the referenced ones are. */
#define FF_SEEK_FULL_DECODE_FRAMES 4

static int ff_segment_seek(ff_segment *seg, int64_t t0_ns)
{
    static const int64_t back_ns[] = {0, 1000000000LL, 5000000000LL, 20000000000LL};
    const int attempts = (int)(sizeof(back_ns) / sizeof(back_ns[0]));
    /* demuxers drop audio packets that start before the seek point; seek a
     * little earlier so the packet holding the sample at t0 arrives too */
    const int64_t preroll_ns = seg->audio ? FF_AUDIO_PREROLL_NS : 0;
    int r = RV_OK;
    for (int i = 0; i <= attempts; i++) {
        int64_t target = i < attempts ? t0_ns - back_ns[i] - preroll_ns : 0;
        if (target < 0)
            target = 0;
        r = ff_source_seek(seg->src, target);
        if (r < 0) {
            if (target > 0)
                continue;
            return r;
        }
        if (seg->audio)
            ff_audio_restart(seg->audio, t0_ns);
        if (!seg->video)
            return RV_OK;
        ff_video_reset(seg->video);
        ff_segment_drop_pictures(seg);
        /* the pre-roll from the keyframe to t0 is never shown: pictures no
         * other one references need not be decoded. Four frames of margin:
         * the picture due at t0 is the newest at or before it, and a source
         * whose real spacing is wider than nominal must still find it. */
        ff_source_skip_nonref_until(seg->src, t0_ns - FF_SEEK_FULL_DECODE_FRAMES * seg->frame_dur_ns);
        r = ff_segment_decode(seg);
        if (r < 0 && r != RV_EOF)
            return r;
        if (target == 0 || (r == RV_OK && seg->pending_ns <= t0_ns + seg->slack_ns))
            return RV_OK;
    }
    return r;
}

static int ff_segment_make_card(ff_segment *seg)
{
    const rv_host_api *host = seg->params->host;
    seg->card = host->video_alloc(seg->params->ctx);
    if (!seg->card)
        return RV_ENOMEM;
    if (seg->params->audio_only_slate)
        ff_video_draw_card(seg->card);
    else
        ff_video_fill_black(seg->card);
    return RV_OK;
}

static int ff_segment_prime(ff_segment *seg)
{
    const rv_program_format *f = &seg->params->format;
    int64_t t0 = ff_segment_position(seg, 0);
    int r = RV_OK;
    if (t0 > 0) {
        r = ff_segment_seek(seg, t0);
    } else if (seg->audio) {
        ff_audio_restart(seg->audio, t0);
    }
    if (r < 0)
        return ff_segment_fail(seg, r, "seeking");
    if (seg->video) {
        r = ff_segment_advance(seg, t0);
        if (r < 0)
            return ff_segment_fail(seg, r, "decoding the first picture");
        if (!seg->shown)
            return ff_segment_fail(seg, RV_EFORMAT, "decoding: no picture could be decoded");
    } else {
        r = ff_segment_make_card(seg);
        if (r < 0)
            return ff_segment_fail(seg, r, "allocating the picture");
    }
    if (seg->audio) {
        r = ff_audio_prime(seg->audio, seg->src,
                           rv_samples_in_tick(f->frame_rate, f->audio_rate, seg->req.first_tick));
        if (r < 0)
            return ff_segment_fail(seg, r, "decoding the first audio");
    }
    return RV_OK;
}

/** Decoder threads for a segment opened now: the option when set, else the
 *  host's share for this channel (ABI 1.3), else the pre-1.3 default of 2. */
static int ff_segment_threads(const ff_params *params)
{
    if (params->threads >= 0)
        return params->threads;
    return rv_host_thread_count(params->host, params->ctx, RV_THREADS_DECODER, 2);
}

int ff_segment_open(const ff_params *params, const rv_segment_request *req, ff_segment **out)
{
    *out = NULL;
    ff_segment *seg = calloc(1, sizeof(*seg));
    if (!seg)
        return RV_ENOMEM;
    seg->params = params;
    seg->video_end_ns = -1;
    seg->audio_end_ns = -1;
    size_t n = req->struct_size < sizeof(seg->req) ? req->struct_size : sizeof(seg->req);
    memcpy(&seg->req, req, n);
    if (!seg->req.asset_uri)
        seg->req.asset_uri = "";
    seg->pending = av_frame_alloc();
    seg->candidate = av_frame_alloc();
    seg->path = ff_uri_to_path(seg->req.asset_uri);
    int r = RV_OK;
    if (!seg->pending || !seg->candidate || !seg->path) {
        r = ff_segment_fail(seg, RV_ENOMEM, "opening");
        goto fail;
    }
    if (seg->path[0] == '\0') {
        r = ff_segment_fail(seg, RV_ENOENT, "opening: empty path");
        goto fail;
    }

    if (params->zero_copy)
        seg->dr = ff_dr_create(params->host, params->ctx, &params->format);
    char why[256] = "";
    ff_source_params sp = {.threads = ff_segment_threads(params),
                           .io_timeout_ms = params->io_timeout_ms,
                           .audio_languages = params->audio_languages,
                           .get_buffer2 = seg->dr ? ff_dr_get_buffer2 : NULL,
                           .get_buffer2_opaque = seg->dr};
    /* a join into the middle of the asset closed last (an on-demand channel
     * waking up): reuse its demuxer, it seeks anyway (ff_park.h) */
    if (params->park && ff_segment_position(seg, 0) > 0) {
        seg->src = ff_park_take(params->park, seg->path);
        if (seg->src && ff_source_unpark(seg->src, seg->path, &sp) != RV_OK) {
            ff_source_close(seg->src);
            seg->src = NULL;
        }
    }
    if (seg->src)
        params->host->log(params->ctx, RV_LOG_INFO,
                          "%s: joined with the demuxer kept since its last close (no open, "
                          "no probe)", seg->req.asset_uri);
    r = seg->src ? RV_OK : ff_source_open(seg->path, &sp, &seg->src, why, sizeof(why));
    if (r < 0) {
        ff_segment_event(seg, RV_EVENT_ASSET_ERROR, r, why);
        seg->failed = r;
        goto fail;
    }
    const AVStream *vst = ff_source_video_stream(seg->src);
    if (vst) {
        r = ff_video_create(&params->format, vst, &params->video, &seg->video);
        if (r < 0) {
            ff_segment_fail(seg, r, "opening");
            goto fail;
        }
        seg->slack_ns = ff_source_video_slack_ns(seg->src);
        seg->frame_dur_ns = ff_source_frame_duration_ns(seg->src);
        /* more pictures than ticks: some are never shown (59.94 on 29.97) */
        rv_rational rate = params->format.frame_rate;
        if (params->skip_dropped &&
            (rv_int128)seg->frame_dur_ns * rate.num < (rv_int128)rate.den * 1000000000)
            ff_source_set_unshown(seg->src, ff_segment_unshown, seg);
    }
    if (ff_source_audio_stream(seg->src)) {
        /* said once per segment; a fallback from the preferred languages is
         * a substitution the operator should see */
        if (ff_source_audio_fell_back(seg->src))
            ff_segment_event(seg, RV_EVENT_WARNING, 0, ff_source_audio_choice(seg->src));
        else
            params->host->log(params->ctx, RV_LOG_INFO, "%s: %s", seg->req.asset_uri,
                              ff_source_audio_choice(seg->src));
        r = ff_audio_create(&params->format, seg->req.gain_db, &seg->audio);
        if (r < 0) {
            ff_segment_fail(seg, r, "opening");
            goto fail;
        }
    }
    ff_source_arm(seg->src);
    r = ff_segment_prime(seg);
    if (r < 0)
        goto fail;
    *out = seg;
    return RV_OK;

fail:
    ff_segment_close(seg);
    return r;
}

/* ---- read ---- */

/** The asset has nothing more for position @p t_ns: RV_EOF, and one event
 *  when the container promised more (a truncated file). */
static int ff_segment_ended(ff_segment *seg, int64_t t_ns)
{
    int64_t declared = ff_source_duration_ns(seg->src);
    if (!seg->ended_reported && declared > 0 && t_ns + FF_TRUNCATION_NS < declared) {
        char reason[256];
        snprintf(reason, sizeof(reason),
                 "truncated: media ends at %lld ms, the container declares %lld ms",
                 (long long)(t_ns / 1000000), (long long)(declared / 1000000));
        ff_segment_event(seg, RV_EVENT_ASSET_ERROR, RV_EOF, reason);
    }
    seg->ended_reported = 1;
    return RV_EOF;
}

/** The video has no picture for this position any more: note where it
 *  ended (the end of its last picture). */
static void ff_segment_video_ended(ff_segment *seg)
{
    if (seg->video_end_ns < 0)
        seg->video_end_ns = seg->end_ns;
}

/** The audio gave @p real of @p samples for the tick at @p t_ns. */
static void ff_segment_audio_ended(ff_segment *seg, int64_t t_ns, uint32_t real)
{
    if (seg->audio_end_ns >= 0)
        return;
    const rv_program_format *f = &seg->params->format;
    seg->audio_end_ns = t_ns + (int64_t)real * 1000000000 / f->audio_rate;
}

/** Both streams ended at @p t_ns: say which one set the length, and warn
 *  once about a held picture or silence longer than FF_STREAM_GAP_NS. */
static void ff_segment_say_length(ff_segment *seg, int64_t t_ns)
{
    if (seg->length_said)
        return;
    seg->length_said = 1;
    char reason[256];
    int64_t v = seg->video_end_ns, a = seg->audio_end_ns;
    if (seg->video && seg->audio && v >= 0 && a >= 0) {
        int audio_set = a > v;
        int64_t gap = audio_set ? a - v : v - a;
        snprintf(reason, sizeof(reason),
                 "ends at %lld ms: the %s set the length (video %lld ms, audio %lld ms)%s",
                 (long long)(t_ns / 1000000), audio_set ? "audio" : "video",
                 (long long)(v / 1000000), (long long)(a / 1000000),
                 gap <= FF_STREAM_GAP_NS ? ""
                 : audio_set         ? "; the last picture was held"
                                     : "; silence after the audio");
        if (gap > FF_STREAM_GAP_NS && !seg->gap_warned)
            ff_segment_event(seg, RV_EVENT_WARNING, 0, reason);
        else
            seg->params->host->log(seg->params->ctx, RV_LOG_INFO, "%s: %s", seg->req.asset_uri,
                                   reason);
    } else {
        seg->params->host->log(seg->params->ctx, RV_LOG_INFO,
                               "%s: ends at %lld ms: the %s set the length", seg->req.asset_uri,
                               (long long)(t_ns / 1000000), seg->video ? "video" : "audio");
    }
}

/** Warn once, while it happens, that a stream ended well before the other. */
static void ff_segment_watch_gap(ff_segment *seg, int64_t t_ns)
{
    if (seg->gap_warned || !seg->video || !seg->audio)
        return;
    int64_t v = seg->video_end_ns, a = seg->audio_end_ns;
    char reason[256];
    if (v >= 0 && a < 0 && t_ns - v > FF_STREAM_GAP_NS)
        snprintf(reason, sizeof(reason),
                 "the video ended at %lld ms and the audio goes on: the last picture is held "
                 "(the audio sets the length)",
                 (long long)(v / 1000000));
    else if (a >= 0 && v < 0 && t_ns - a > FF_STREAM_GAP_NS)
        snprintf(reason, sizeof(reason),
                 "the audio ended at %lld ms and the video goes on: silence (the video sets "
                 "the length)",
                 (long long)(a / 1000000));
    else
        return;
    seg->gap_warned = 1;
    ff_segment_event(seg, RV_EVENT_WARNING, 0, reason);
}

int ff_segment_read(ff_segment *seg, rv_produce *out)
{
    const rv_host_api *host = seg->params->host;
    out->video = NULL;
    out->asset_offset_ms = -1;
    if (seg->failed)
        return seg->failed;
    if (seg->delivered >= seg->req.frame_count || seg->ended_reported)
        return RV_EOF;
    ff_source_arm(seg->src);
    int64_t t = ff_segment_position(seg, seg->delivered);
    /* A segment airs until its longest stream ends: the last picture is
     * held while the audio goes on, silence fills while the video does. */
    int video_more = 0;
    if (seg->video) {
        int r = ff_segment_advance(seg, t);
        if (r < 0)
            return ff_segment_fail(seg, r, "reading");
        video_more = !(seg->video_eof && !seg->have_pending && t >= seg->end_ns);
        if (!video_more)
            ff_segment_video_ended(seg);
    }
    int audio_more = 0;
    uint32_t real = 0;
    if (out->audio && seg->audio) {
        int r = ff_audio_fill(seg->audio, seg->src, out->audio->data, out->audio->samples, &real);
        if (r < 0)
            return ff_segment_fail(seg, r, "reading audio");
        audio_more = real > 0 || out->audio->samples == 0;
        if (real < out->audio->samples)
            ff_segment_audio_ended(seg, t, real);
    } else if (out->audio) {
        memset(out->audio->data, 0,
               (size_t)out->audio->samples * out->audio->channels * sizeof(int16_t));
    }
    if (!video_more && !audio_more) {
        ff_segment_say_length(seg, t);
        return ff_segment_ended(seg, t);
    }
    ff_segment_watch_gap(seg, t);
    ff_segment_errors(seg, t, 0);
    rv_video_frame *pic = seg->video ? seg->shown : seg->card;
    host->video_ref(pic);
    out->video = pic;
    out->asset_offset_ms = (seg->video && video_more ? seg->shown_ns : t) / 1000000;
    seg->delivered++;
    return RV_OK;
}

void ff_segment_close(ff_segment *seg)
{
    if (!seg)
        return;
    const rv_host_api *host = seg->params->host;
    if (seg->src)
        ff_segment_errors(seg, seg->burst_last_ns, 1);
    if (seg->dr && host->log_enabled(seg->params->ctx, RV_LOG_DEBUG))
        host->log(seg->params->ctx, RV_LOG_DEBUG,
                  "%s: %lld pictures aired without a copy, %lld copied or scaled; decoder "
                  "pictures %lld in the channel's pool, %lld in libavcodec's",
                  seg->req.asset_uri, (long long)seg->shared, (long long)seg->drawn,
                  (long long)ff_dr_direct_count(seg->dr), (long long)ff_dr_fallback_count(seg->dr));
    if (seg->src && seg->video) {
        ff_source_counts c = ff_source_video_counts(seg->src);
        host->log(seg->params->ctx, RV_LOG_DEBUG,
                  "%s: %lld video packets decoded, %lld of them with AVDISCARD_NONREF "
                  "(pre-roll or never shown), %lld pictures came out",
                  seg->req.asset_uri, (long long)c.packets, (long long)c.nonref_packets,
                  (long long)c.pictures);
    }
    host->video_release(seg->shown);
    host->video_release(seg->card);
    av_frame_free(&seg->pending);
    av_frame_free(&seg->candidate);
    ff_video_destroy(seg->video);
    ff_audio_destroy(seg->audio);
    /* parked, a source keeps no decoder (ff_source_park frees them) */
    if (seg->src && !seg->failed && seg->params->park)
        ff_park_put(seg->params->park, seg->path, seg->src);
    else
        ff_source_close(seg->src);
    /* after the decoder and every frame: their buffers hold its slots (and
     * it outlives them anyway: it is freed with its last slot) */
    ff_dr_destroy(seg->dr);
    free(seg->path);
    free(seg);
}
