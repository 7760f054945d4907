/**
 * @file tests/unit/test_ffmpeg_file.c
 * @short Drives the ffmpeg-file producer module (build/modules/ffmpeg-file.so)
 *        the way the host does, through the real loader and the real host
 *        services (frame pool, options, events, virtual clock).
 *
 * Media is generated at start with the `ffmpeg` command into a temporary
 * folder: every picture carries its source frame number as a 12-bit bar code
 * (top half, bit 0 on the left) over a grey lower half, so the test can tell
 * exactly which source frame the producer delivered on every tick.
 *
 * Usage: test_ffmpeg_file [group...]   groups: matrix seams sync failures
 * concurrency zerocopy (default: all). Prints TAP.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

#include <retrovue/retrovue.h>

#include "core/clock.h"
#include "core/frame_pool.h"
#include "core/host_api.h"
#include "core/log.h"
#include "core/options.h"
#include "loader/loader.h"
#include "shell.h"
#include "tap.h"

#ifndef RV_FFMPEG_FILE_SO
#error "RV_FFMPEG_FILE_SO must name the module file"
#endif

#define NS_PER_S 1000000000LL
#define NS_PER_MS 1000000LL
#define MAX_FRAMES 400

/* ------------------------------------------------------------------ */
/* harness: loader, host services, one channel per test case           */
/* ------------------------------------------------------------------ */

/** Events one channel received (filled on the module's threads). */
typedef struct events {
    pthread_mutex_t lock;
    int count;
    int asset_errors;
    int warnings;
    int last_code;
    rv_event_type last_type;
    char subject[512];
    char message[512];
} events;

typedef struct channel {
    rv_program_format format;
    frame_pool *pool;
    rv_context ctx;
    rv_options *options;
    void *state;
    events ev;
} channel;

typedef struct harness {
    module_registry *reg;
    const loaded_module *mod;
    const rv_host_api *host;      /**< what channel_open hands the module */
    master_clock *clock;
    char dir[256];
} harness;

static void on_event(void *owner, rv_context *ctx, rv_event_type type, int code,
                     const char *subject, const char *message)
{
    events *ev = owner;
    (void)ctx;
    pthread_mutex_lock(&ev->lock);
    ev->count++;
    if (type == RV_EVENT_ASSET_ERROR)
        ev->asset_errors++;
    if (type == RV_EVENT_WARNING)
        ev->warnings++;
    ev->last_code = code;
    ev->last_type = type;
    snprintf(ev->subject, sizeof(ev->subject), "%s", subject ? subject : "");
    snprintf(ev->message, sizeof(ev->message), "%s", message ? message : "");
    pthread_mutex_unlock(&ev->lock);
}

/** Options as a config would give them: "key=value" strings (ints or words). */
static int channel_open(harness *h, channel *ch, uint32_t w, uint32_t hh, rv_rational rate,
                        const char *const *opts)
{
    memset(ch, 0, sizeof(*ch));
    pthread_mutex_init(&ch->ev.lock, NULL);
    ch->format = (rv_program_format){.width = w, .height = hh, .frame_rate = rate,
                                     .audio_rate = 48000, .audio_channels = 2};
    ch->pool = frame_pool_create(&ch->format);
    if (!ch->pool)
        return RV_ENOMEM;
    host_context_init(&ch->ctx, 7, "ffmpeg-file", ch->pool, h->clock, on_event, &ch->ev);
    raw_option raw[8];
    size_t n = 0;
    char keys[8][64];
    char vals[8][64];
    for (; opts && opts[n] && n < 8; n++) {
        const char *eq = strchr(opts[n], '=');
        snprintf(keys[n], sizeof(keys[n]), "%.*s", (int)(eq - opts[n]), opts[n]);
        snprintf(vals[n], sizeof(vals[n]), "%s", eq + 1);
        char *end = NULL;
        long long v = strtoll(vals[n], &end, 10);
        raw[n] = (raw_option){.key = keys[n], .line = 0};
        if (strcmp(vals[n], "true") == 0 || strcmp(vals[n], "false") == 0) {
            raw[n].type = RAW_BOOL;
            raw[n].i = vals[n][0] == 't';
        } else if (end && *end == '\0') {
            raw[n].type = RAW_INT;
            raw[n].i = v;
        } else {
            raw[n].type = RAW_STRING;
            raw[n].s = vals[n];
        }
    }
    char err[256];
    int r = options_build(h->mod->info->options, raw, n, &ch->options, err, sizeof(err));
    if (r != RV_OK) {
        tap_diag("options_build: %s", err);
        return r;
    }
    rv_create_args args = {.struct_size = sizeof(args), .host = h->host, .ctx = &ch->ctx,
                           .options = ch->options, .format = &ch->format, .channel_id = 7,
                           .channel_name = "test"};
    return h->mod->producer.create(&args, &ch->state);
}

static void channel_close(harness *h, channel *ch)
{
    if (ch->state)
        h->mod->producer.destroy(ch->state);
    options_free(ch->options);
    frame_pool_destroy(ch->pool);
    pthread_mutex_destroy(&ch->ev.lock);
}

/* ------------------------------------------------------------------ */
/* media                                                               */
/* ------------------------------------------------------------------ */

/** lavfi graph of a bar-code clip: w x h (display SAR sar), fps, seconds. */
static void barcode_graph(char *out, size_t len, int w, int h, const char *sar, const char *fps,
                          const char *dur, const char *extra)
{
    snprintf(out, len,
             "color=c=gray:s=192x108:r=%s:d=%s,format=yuv420p,"
             "geq=lum='if(lt(Y\\,H/2)\\,if(mod(floor(N/pow(2\\,floor(X*12/W)))\\,2)\\,235\\,16)\\,126)'"
             ":cb=128:cr=128,scale=%d:%d:flags=neighbor,setsar=%s%s",
             fps, dur, w, h, sar, extra ? extra : "");
}

#define FF "ffmpeg -nostdin -hide_banner -loglevel error -y"

/** Make <dir>/<name> from a bar-code video (or none) and an audio graph (or none). */
static int make_clip(const harness *h, const char *name, int w, int hh, const char *sar,
                     const char *fps, const char *dur, const char *vextra, const char *audio,
                     const char *codecs)
{
    char v[1024] = "";
    char vin[1100] = "";
    char ain[512] = "";
    if (w > 0) {
        barcode_graph(v, sizeof(v), w, hh, sar, fps, dur, vextra);
        snprintf(vin, sizeof(vin), "-f lavfi -i \"%s\"", v);
    }
    if (audio)
        snprintf(ain, sizeof(ain), "-f lavfi -i \"%s\"", audio);
    return sh(FF " %s %s %s \"%s/%s\"", vin, ain, codecs, h->dir, name);
}

/* ------------------------------------------------------------------ */
/* reading a segment                                                   */
/* ------------------------------------------------------------------ */

/** Where the picture should land in the channel's frame (the same rule the
 *  module documents: largest centred area of the source's display aspect,
 *  even coordinates). */
typedef struct rect {
    int x, y, w, h;
} rect;

static rect fit_rect(int W, int H, int64_t dar_n, int64_t dar_d)
{
    int64_t w = W, hh = H;
    if (dar_n * H > dar_d * W)
        hh = (W * dar_d * 2 / dar_n + 1) / 2;
    else if (dar_n * H < dar_d * W)
        w = (H * dar_n * 2 / dar_d + 1) / 2;
    w &= ~1LL;
    hh &= ~1LL;
    return (rect){.x = (int)(((W - w) / 2) & ~1LL), .y = (int)(((H - hh) / 2) & ~1LL),
                  .w = (int)w, .h = (int)hh};
}

typedef struct frame_info {
    int64_t offset_ms;
    int barcode;             /**< decoded source frame number */
    const void *picture;     /**< identity of the picture (repeats share it) */
    int bars_black;          /**< every sampled bar pixel is Y16/U128/V128 */
    int content_ok;          /**< grey lower half visible inside the rect */
    int peak_l, peak_r;      /**< audio peaks of this tick */
    int first_l;             /**< first left sample */
    uint32_t samples;        /**< audio samples the host asked for */
} frame_info;

typedef struct run_result {
    int open_code;
    int end_code;            /**< code of the read that ended the loop */
    int frames;              /**< frames delivered with RV_OK */
    frame_info f[MAX_FRAMES];
    int64_t pool_outstanding;
} run_result;

static int px(const rv_video_frame *v, int plane, int x, int y)
{
    return v->plane[plane][(size_t)y * v->stride[plane] + x];
}

static int is_black_at(const rv_video_frame *v, int x, int y)
{
    return px(v, 0, x, y) == 16 && px(v, 1, x / 2, y / 2) == 128 && px(v, 2, x / 2, y / 2) == 128;
}

static void inspect(const rv_video_frame *v, rect r, frame_info *fi)
{
    int code = 0;
    for (int b = 0; b < 12; b++) {
        int x = r.x + (2 * b + 1) * r.w / 24;
        int y = r.y + r.h / 4;
        if (px(v, 0, x, y) > 126)
            code |= 1 << b;
    }
    fi->barcode = code;
    int W = (int)v->width, H = (int)v->height;
    int ok = 1;
    if (r.x > 0) {
        ok &= is_black_at(v, 0, H / 2) && is_black_at(v, r.x - 2, H / 2);
        ok &= is_black_at(v, W - 1, H / 2) && is_black_at(v, r.x + r.w, H / 2);
    }
    if (r.y > 0) {
        ok &= is_black_at(v, W / 2, 0) && is_black_at(v, W / 2, r.y - 2);
        ok &= is_black_at(v, W / 2, H - 1) && is_black_at(v, W / 2, r.y + r.h);
    }
    fi->bars_black = ok;
    int yc = r.y + 3 * r.h / 4;
    int c0 = px(v, 0, r.x + r.w / 2, yc), c1 = px(v, 0, r.x + 4, yc), c2 = px(v, 0, r.x + r.w - 5, yc);
    fi->content_ok = c0 > 100 && c0 < 150 && c1 > 80 && c2 > 80;
}

typedef struct seg_spec {
    const char *uri;
    int64_t offset_ms;
    int64_t join_ns;
    int64_t first_tick;
    int64_t frame_count;
    double gain_db;
    rect r;                  /**< where the picture should be */
} seg_spec;

static rv_segment_request make_request(const seg_spec *s)
{
    return (rv_segment_request){
        .struct_size = sizeof(rv_segment_request),
        .asset_uri = s->uri,
        .asset_start_offset_ms = s->offset_ms,
        .join_offset_ns = s->join_ns,
        .first_tick = s->first_tick,
        .frame_count = s->frame_count,
        .type = RV_SEGMENT_CONTENT,
        .event_id = "",
        .gain_db = s->gain_db,
        .transition_in = {.type = RV_TRANSITION_NONE},
        .transition_out = {.type = RV_TRANSITION_NONE},
    };
}

/** open, read until the producer stops (at most frame_count + 3), close. */
static void run_segment(harness *h, channel *ch, const seg_spec *s, run_result *res)
{
    memset(res, 0, sizeof(*res));
    rv_segment_request req = make_request(s);
    void *seg = NULL;
    res->open_code = h->mod->producer.open(ch->state, &req, &seg);
    if (res->open_code != RV_OK) {
        res->pool_outstanding = frame_pool_outstanding(ch->pool);
        return;
    }
    rv_rational rate = ch->format.frame_rate;
    for (int64_t i = 0; i < s->frame_count + 3 && i < MAX_FRAMES; i++) {
        int64_t tick = s->first_tick + i;
        uint32_t n = rv_samples_in_tick(rate, ch->format.audio_rate, tick);
        rv_audio_buffer *a = frame_pool_audio_alloc(ch->pool, n);
        rv_produce out = {.tick = tick, .index = i, .audio = a};
        int r = h->mod->producer.read(seg, &out);
        if (r != RV_OK) {
            frame_pool_audio_release(a);
            res->end_code = r;
            break;
        }
        frame_info *fi = &res->f[res->frames++];
        fi->offset_ms = out.asset_offset_ms;
        fi->picture = out.video;
        fi->samples = a->samples;
        if (out.video)
            inspect(out.video, s->r, fi);
        for (uint32_t k = 0; k < a->samples; k++) {
            int l = abs(a->data[k * 2]), rr = abs(a->data[k * 2 + 1]);
            fi->peak_l = l > fi->peak_l ? l : fi->peak_l;
            fi->peak_r = rr > fi->peak_r ? rr : fi->peak_r;
        }
        fi->first_l = a->samples ? a->data[0] : 0;
        frame_pool_video_release(out.video);
        frame_pool_audio_release(a);
    }
    h->mod->producer.close(seg);
    res->pool_outstanding = frame_pool_outstanding(ch->pool);
}

/* ------------------------------------------------------------------ */
/* expected source frames                                              */
/* ------------------------------------------------------------------ */

/** How a clip's source frame n is timed in its container. */
typedef struct timing {
    int64_t num, den;        /**< frames per second (CFR) */
    int ms_timebase;         /**< container stores whole ms (Matroska/WebM) */
    int vfr;                 /**< 25 fps for 1 s, then 50 fps */
} timing;

static int64_t frame_time_ns(const timing *t, int64_t n)
{
    if (t->vfr)
        return n < 25 ? n * 40 * NS_PER_MS : NS_PER_S + (n - 25) * 20 * NS_PER_MS;
    if (t->ms_timebase) {
        int64_t q = n * t->den * 1000 * 2 / t->num; /* round half up, like the muxer */
        return ((q + 1) / 2) * NS_PER_MS;
    }
    return (int64_t)((rv_int128)n * t->den * NS_PER_S / t->num);
}

/** The source frame the producer must show at source time @p t_ns: the last
 *  one due (timestamps in whole ms count as due within half a ms, exact ones
 *  within 1 us). */
static int expected_frame(const timing *t, int64_t t_ns, int64_t frames_in_clip)
{
    int64_t slack = t->ms_timebase || t->vfr ? NS_PER_MS / 2 : 1000;
    int64_t n = 0;
    while (n + 1 < frames_in_clip && frame_time_ns(t, n + 1) <= t_ns + slack)
        n++;
    return (int)n;
}

/* ------------------------------------------------------------------ */
/* the matrix                                                          */
/* ------------------------------------------------------------------ */

typedef struct matrix_case {
    const char *name;        /**< file name */
    int w, h;                /**< coded size */
    const char *sar;
    int64_t dar_n, dar_d;    /**< display aspect */
    const char *fps;
    timing t;
    int64_t frames_in_clip;
    const char *vextra;      /**< extra video filters */
    const char *audio;       /**< lavfi audio graph, NULL = none */
    const char *codecs;
    uint32_t ch_w, ch_h;     /**< channel size */
    int audio_kind;          /**< 0 none, 1 stereo-ish, 2 mono (L == R) */
    const char *what;
} matrix_case;

#define SINE "sine=f=440:r=48000:d=2"

static const matrix_case matrix[] = {
    {.name = "sd43.mp4", .w = 640, .h = 480, .sar = "1", .dar_n = 4, .dar_d = 3, .fps = "25",
     .t = {25, 1, 0, 0}, .frames_in_clip = 50, .audio = SINE ",aformat=channel_layouts=stereo",
     .codecs = "-c:v libx264 -preset ultrafast -g 10 -c:a aac -shortest",
     .ch_w = 1280, .ch_h = 720, .audio_kind = 1,
     .what = "640x480 4:3 H.264/AAC stereo MP4 25 fps on 720p (pillarbox)"},
    {.name = "anamorphic.ts", .w = 720, .h = 480, .sar = "32/27", .dar_n = 16, .dar_d = 9,
     .fps = "30000/1001", .t = {30000, 1001, 0, 0}, .frames_in_clip = 60, .audio = SINE,
     .codecs = "-c:v mpeg2video -q:v 3 -g 12 -c:a mp2 -ac 1 -shortest", .ch_w = 640, .ch_h = 480,
     .audio_kind = 2, .what = "720x480 SAR 32:27 MPEG-2/MP2 mono TS 29.97 on 4:3 (letterbox)"},
    {.name = "hd1080.mkv", .w = 1920, .h = 1080, .sar = "1", .dar_n = 16, .dar_d = 9, .fps = "60",
     .t = {60, 1, 1, 0}, .frames_in_clip = 120, .audio = SINE,
     .codecs = "-c:v libx264 -preset ultrafast -g 30 -c:a ac3 -ac 6 -shortest", .ch_w = 1280,
     .ch_h = 720, .audio_kind = 1, .what = "1920x1080 60 fps H.264 + AC-3 5.1 MKV on 720p"},
    {.name = "portrait.webm", .w = 360, .h = 640, .sar = "1", .dar_n = 9, .dar_d = 16,
     .fps = "30", .t = {30, 1, 1, 0}, .frames_in_clip = 60, .audio = NULL,
     .codecs = "-c:v libvpx-vp9 -deadline realtime -cpu-used 8 -b:v 300k -g 15", .ch_w = 1280,
     .ch_h = 720, .audio_kind = 0, .what = "360x640 portrait VP9 WebM 30 fps, no audio"},
    {.name = "film.mp4", .w = 640, .h = 480, .sar = "1", .dar_n = 4, .dar_d = 3,
     .fps = "24000/1001", .t = {24000, 1001, 0, 0}, .frames_in_clip = 48,
     .audio = SINE ",aformat=channel_layouts=stereo",
     .codecs = "-c:v libx264 -preset ultrafast -bf 2 -g 12 -c:a aac -shortest", .ch_w = 640,
     .ch_h = 480, .audio_kind = 1, .what = "23.976 H.264 MP4 on 29.97 (3:2 cadence)"},
    {.name = "mpeg4.avi", .w = 320, .h = 240, .sar = "1", .dar_n = 4, .dar_d = 3,
     .fps = "30000/1001", .t = {30000, 1001, 0, 0}, .frames_in_clip = 60,
     .audio = "sine=f=440:r=44100:d=2",
     .codecs = "-c:v mpeg4 -q:v 3 -g 12 -c:a pcm_s16le -shortest", .ch_w = 640, .ch_h = 480,
     .audio_kind = 2, .what = "MPEG-4 part 2 AVI 29.97, 44.1 kHz mono PCM (resampled)"},
    {.name = "interlaced.ts", .w = 720, .h = 576, .sar = "16/15", .dar_n = 4, .dar_d = 3,
     .fps = "25", .t = {25, 1, 0, 0}, .frames_in_clip = 50, .vextra = ",setfield=tff",
     .audio = SINE ",aformat=channel_layouts=stereo",
     .codecs = "-c:v mpeg2video -q:v 3 -g 12 -flags +ilme+ildct -top 1 -c:a mp2 -shortest",
     .ch_w = 640, .ch_h = 480, .audio_kind = 1,
     .what = "576i50 MPEG-2 TS, top field first (deinterlaced)"},
    {.name = "vfr.mkv", .w = 320, .h = 240, .sar = "1", .dar_n = 4, .dar_d = 3, .fps = "50",
     .t = {0, 1, 1, 1}, .frames_in_clip = 75,
     .vextra = ",setpts='if(lt(N\\,25)\\,2*N\\,N+25)'", /* time base 1/50 */
     .audio = SINE ",aformat=channel_layouts=stereo",
     .codecs = "-fps_mode passthrough -c:v libx264 -preset ultrafast -g 10 -c:a aac -shortest",
     .ch_w = 640, .ch_h = 480, .audio_kind = 1, .what = "VFR (25 then 50 fps) H.264 MKV"},
    {.name = "hevc.mp4", .w = 320, .h = 240, .sar = "1", .dar_n = 4, .dar_d = 3, .fps = "50",
     .t = {50, 1, 0, 0}, .frames_in_clip = 100, .audio = SINE ",aformat=channel_layouts=stereo",
     .codecs = "-c:v libx265 -preset ultrafast -x265-params log-level=error:keyint=25 "
               "-c:a aac -shortest",
     .ch_w = 640, .ch_h = 480, .audio_kind = 1, .what = "HEVC MP4 50 fps (drop cadence)"},
};

static int make_matrix_clip(const harness *h, const matrix_case *c)
{
    const char *dur = "2";
    if (c->t.vfr) {
        /* 75 frames at r=50 from the source, re-timed by setpts */
        return make_clip(h, c->name, c->w, c->h, c->sar, "50", "1.5", c->vextra, c->audio,
                         c->codecs);
    }
    return make_clip(h, c->name, c->w, c->h, c->sar, c->fps, dur, c->vextra, c->audio, c->codecs);
}

static void check_cadence(const char *what, const seg_spec *s, const channel *ch,
                          const timing *t, int64_t frames_in_clip, const run_result *res)
{
    int bad = -1;
    int bad_ms = -1;
    for (int k = 0; k < res->frames; k++) {
        int64_t pos = rv_segment_position_ns(&(rv_segment_request){.asset_start_offset_ms =
                                                                       s->offset_ms,
                                                                   .join_offset_ns = s->join_ns,
                                                                   .first_tick = s->first_tick},
                                             ch->format.frame_rate, k);
        int n = expected_frame(t, pos, frames_in_clip);
        if (res->f[k].barcode != n && bad < 0) {
            bad = k;
            tap_diag("%s: frame %d at %" PRId64 " ns shows source frame %d, expected %d", what, k,
                     pos, res->f[k].barcode, n);
        }
        int64_t want_ms = frame_time_ns(t, n) / NS_PER_MS;
        if (res->f[k].offset_ms != want_ms && bad_ms < 0) {
            bad_ms = k;
            tap_diag("%s: frame %d asset_offset_ms %" PRId64 ", expected %" PRId64, what, k,
                     res->f[k].offset_ms, want_ms);
        }
    }
    tap_ok(bad < 0, "%s: every tick shows the source frame due (bar code)", what);
    tap_ok(bad_ms < 0, "%s: asset_offset_ms follows the shown frame", what);
}

static void test_matrix(harness *h)
{
    for (size_t i = 0; i < sizeof(matrix) / sizeof(matrix[0]); i++) {
        const matrix_case *c = &matrix[i];
        if (make_matrix_clip(h, c) != 0) {
            tap_ok(0, "%s: clip generated", c->what);
            continue;
        }
        channel ch;
        if (!tap_ok(channel_open(h, &ch, c->ch_w, c->ch_h, (rv_rational){30000, 1001}, NULL) ==
                        RV_OK,
                    "%s: instance created", c->what)) {
            channel_close(h, &ch);
            continue;
        }
        char uri[512];
        snprintf(uri, sizeof(uri), "%s%s/%s", i % 2 ? "file:" : "", h->dir, c->name);
        seg_spec s = {.uri = uri, .offset_ms = 0, .first_tick = 1000 + (int64_t)i * 11,
                      .frame_count = 50,
                      .r = fit_rect((int)c->ch_w, (int)c->ch_h, c->dar_n, c->dar_d)};
        static run_result res;
        run_segment(h, &ch, &s, &res);
        tap_ok(res.open_code == RV_OK, "%s: opens (%s)", c->what, rv_strerror(res.open_code));
        tap_ok(res.frames == 50 && res.end_code == RV_EOF,
               "%s: exactly 50 frames then RV_EOF (got %d, end %d)", c->what, res.frames,
               res.end_code);
        check_cadence(c->what, &s, &ch, &c->t, c->frames_in_clip, &res);
        int bars = 1, content = 1, samples = 1, audio = 1;
        for (int k = 0; k < res.frames; k++) {
            bars &= res.f[k].bars_black;
            content &= res.f[k].content_ok;
            samples &= res.f[k].samples ==
                       rv_samples_in_tick(ch.format.frame_rate, 48000, s.first_tick + k);
            if (k >= 2 && k < res.frames - 2) {
                if (c->audio_kind == 0)
                    audio &= res.f[k].peak_l == 0 && res.f[k].peak_r == 0;
                else if (c->audio_kind == 2)
                    audio &= res.f[k].peak_l > 2000 && res.f[k].peak_l == res.f[k].peak_r;
                else
                    audio &= res.f[k].peak_l > 500 && res.f[k].peak_r > 500;
            }
        }
        tap_ok(bars, "%s: bars are black (Y16/U128/V128) at rect %dx%d+%d+%d", c->what, s.r.w,
               s.r.h, s.r.x, s.r.y);
        tap_ok(content, "%s: picture content fills the rect", c->what);
        tap_ok(samples, "%s: audio sample counts exact per tick", c->what);
        tap_ok(audio, "%s: audio %s", c->what,
               c->audio_kind == 0   ? "is silence"
               : c->audio_kind == 2 ? "mono plays at full level on both channels"
                                    : "present on both channels");
        tap_ok(res.pool_outstanding == 0, "%s: every picture and buffer returned (%" PRId64 ")",
               c->what, res.pool_outstanding);
        tap_ok(ch.ev.count == 0, "%s: no events (%d: %s)", c->what, ch.ev.count, ch.ev.message);
        if (c->t.num == 24000) {
            static const int pattern[10] = {0, 0, 1, 2, 3, 4, 4, 5, 6, 7};
            int ok = res.frames >= 10;
            int shared = 1;
            for (int k = 0; ok && k < 10; k++)
                ok &= res.f[k].barcode == pattern[k];
            for (int k = 1; k < res.frames; k++)
                if (res.f[k].barcode == res.f[k - 1].barcode)
                    shared &= res.f[k].picture == res.f[k - 1].picture;
            tap_ok(ok, "%s: 23.976 -> 29.97 gives 0 0 1 2 3 4 4 5 6 7", c->what);
            tap_ok(shared, "%s: repeats are references to the same picture", c->what);
        }
        channel_close(h, &ch);
    }
}

/* ------------------------------------------------------------------ */
/* audio-only                                                          */
/* ------------------------------------------------------------------ */

static void test_audio_only(harness *h)
{
    if (sh(FF " -f lavfi -i \"" SINE "\" -c:a aac -ac 2 \"%s/audio.m4a\"", h->dir) != 0) {
        tap_ok(0, "audio-only clip generated");
        return;
    }
    char uri[512];
    snprintf(uri, sizeof(uri), "%s/audio.m4a", h->dir);
    static const char *const slate_opts[] = {"audio_only_picture=slate", NULL};
    for (int slate = 0; slate < 2; slate++) {
        channel ch;
        channel_open(h, &ch, 640, 480, (rv_rational){30000, 1001}, slate ? slate_opts : NULL);
        seg_spec s = {.uri = uri, .offset_ms = 500, .first_tick = 10, .frame_count = 30,
                      .r = {0, 0, 640, 480}};
        rv_segment_request req = make_request(&s);
        void *seg = NULL;
        int r = h->mod->producer.open(ch.state, &req, &seg);
        tap_ok(r == RV_OK, "audio-only (%s): opens", slate ? "slate" : "black");
        int frames = 0, pic_ok = 1, audio_ok = 1, offs_ok = 1;
        for (int64_t i = 0; r == RV_OK && i < 40; i++) {
            rv_audio_buffer *a = frame_pool_audio_alloc(ch.pool, 1601);
            rv_produce out = {.tick = s.first_tick + i, .index = i, .audio = a};
            int rr = h->mod->producer.read(seg, &out);
            if (rr != RV_OK) {
                frame_pool_audio_release(a);
                break;
            }
            frames++;
            const rv_video_frame *v = out.video;
            if (slate)
                pic_ok &= px(v, 0, 10, 10) == 180 && px(v, 0, 630, 470) == 32;
            else
                pic_ok &= is_black_at(v, 10, 10) && is_black_at(v, 320, 240);
            int peak = 0;
            for (uint32_t k = 0; k < a->samples * 2; k++)
                peak = abs(a->data[k]) > peak ? abs(a->data[k]) : peak;
            audio_ok &= peak > 500;
            int64_t want = rv_segment_position_ns(&req, ch.format.frame_rate, i) / NS_PER_MS;
            offs_ok &= out.asset_offset_ms == want;
            frame_pool_video_release(out.video);
            frame_pool_audio_release(a);
        }
        if (seg)
            h->mod->producer.close(seg);
        tap_ok(frames == 30, "audio-only (%s): exactly 30 frames (%d)", slate ? "slate" : "black",
               frames);
        tap_ok(pic_ok, "audio-only: the picture is %s", slate ? "the colour-bar card" : "black");
        tap_ok(audio_ok, "audio-only (%s): the asset's audio plays", slate ? "slate" : "black");
        tap_ok(offs_ok, "audio-only (%s): asset_offset_ms is the segment position",
               slate ? "slate" : "black");
        tap_ok(frame_pool_outstanding(ch.pool) == 0, "audio-only: pool balanced");
        channel_close(h, &ch);
    }
}

/* ------------------------------------------------------------------ */
/* seams: exact source frame after every seek                          */
/* ------------------------------------------------------------------ */

typedef struct seam_clip {
    const char *name;
    const char *fps;
    timing t;
    int64_t frames;
    const char *codecs;
} seam_clip;

static void test_seams(harness *h)
{
    static const seam_clip clips[] = {
        {"seam25.mp4", "25", {25, 1, 0, 0}, 75,
         "-c:v libx264 -preset ultrafast -bf 2 -g 10 -an"},
        {"seam23976.mkv", "24000/1001", {24000, 1001, 1, 0}, 72,
         "-c:v libx264 -preset ultrafast -bf 2 -g 12 -an"},
        {"seam2997.ts", "30000/1001", {30000, 1001, 0, 0}, 90,
         "-c:v libx264 -preset ultrafast -bf 2 -g 15 -an"},
    };
    int seams = 0, exact = 0, counts = 0;
    for (size_t c = 0; c < 3; c++) {
        if (make_clip(h, clips[c].name, 320, 240, "1", clips[c].fps, "3", NULL, NULL,
                      clips[c].codecs) != 0) {
            tap_ok(0, "seam clip %s generated", clips[c].name);
            continue;
        }
        channel ch;
        channel_open(h, &ch, 320, 240, (rv_rational){30000, 1001}, NULL);
        char uri[512];
        snprintf(uri, sizeof(uri), "file://%s/%s", h->dir, clips[c].name);
        for (int i = 0; i < 20; i++) {
            /* offsets spread over the clip, some between source frames, some
             * with a join-in-progress offset, first ticks of every phase */
            seg_spec s = {.uri = uri,
                          .offset_ms = (i * 113) % 2400,
                          .join_ns = (i % 3 == 1) ? (int64_t)i * 7654321 : 0,
                          .first_tick = 5000 + i * 7,
                          .frame_count = 6,
                          .r = {0, 0, 320, 240}};
            static run_result res;
            run_segment(h, &ch, &s, &res);
            seams++;
            int ok = res.open_code == RV_OK && res.frames == 6;
            counts += res.frames == 6 && res.end_code == RV_EOF;
            for (int k = 0; ok && k < res.frames; k++) {
                int64_t pos = rv_segment_position_ns(&(rv_segment_request){
                    .asset_start_offset_ms = s.offset_ms, .join_offset_ns = s.join_ns,
                    .first_tick = s.first_tick}, (rv_rational){30000, 1001}, k);
                int n = expected_frame(&clips[c].t, pos, clips[c].frames);
                if (res.f[k].barcode != n) {
                    ok = 0;
                    tap_diag("%s offset %" PRId64 " ms join %" PRId64 " ns frame %d: got %d want %d",
                             clips[c].name, s.offset_ms, s.join_ns, k, res.f[k].barcode, n);
                }
            }
            exact += ok;
        }
        tap_ok(ch.ev.count == 0 && frame_pool_outstanding(ch.pool) == 0,
               "seams %s: no events, pool balanced", clips[c].name);
        channel_close(h, &ch);
    }
    tap_ok(seams >= 50 && exact == seams, "%d of %d seams start on the exact source frame "
           "and keep the cadence for 6 frames", exact, seams);
    tap_ok(counts == seams, "every seam segment gives exactly its 6 frames then RV_EOF (%d)",
           counts);
}

/* ------------------------------------------------------------------ */
/* the park: a join back into the asset closed last                    */
/* ------------------------------------------------------------------ */

/** Run @p s with the log (info) going to @p logpath; 1 when the log says the
 *  kept demuxer was reused. */
static int run_logged(harness *h, channel *ch, const seg_spec *s, run_result *res,
                      const char *logpath)
{
    fflush(stderr);
    int saved = dup(2);
    int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (saved < 0 || fd < 0) {
        if (fd >= 0)
            close(fd);
        if (saved >= 0)
            close(saved);
        run_segment(h, ch, s, res);
        return -1;
    }
    dup2(fd, 2);
    close(fd);
    log_set_level(RV_LOG_INFO);
    run_segment(h, ch, s, res);
    log_set_level(RV_LOG_ERROR);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char text[8192] = "";
    FILE *f = fopen(logpath, "r");
    size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
    text[n] = '\0';
    if (f)
        fclose(f);
    return strstr(text, "demuxer kept since its last close") != NULL;
}

static int exact_frames(const seg_spec *s, const timing *t, int64_t frames, rv_rational rate,
                        const run_result *res)
{
    if (res->open_code != RV_OK || res->frames != s->frame_count)
        return 0;
    for (int k = 0; k < res->frames; k++) {
        int64_t pos = rv_segment_position_ns(
            &(rv_segment_request){.asset_start_offset_ms = s->offset_ms,
                                  .join_offset_ns = s->join_ns, .first_tick = s->first_tick},
            rate, k);
        int n = expected_frame(t, pos, frames);
        if (res->f[k].barcode != n) {
            tap_diag("park: offset %" PRId64 " ms frame %d shows %d, expected %d", s->offset_ms,
                     k, res->f[k].barcode, n);
            return 0;
        }
    }
    return 1;
}

static void test_park(harness *h)
{
    const timing t25 = {25, 1, 0, 0}, t50 = {50, 1, 0, 0};
    const rv_rational rate = {25, 1};
    char uri[512], logpath[512];
    snprintf(uri, sizeof(uri), "file://%s/park.mp4", h->dir);
    snprintf(logpath, sizeof(logpath), "%s/park.log", h->dir);
    if (!tap_ok(make_clip(h, "park.mp4", 320, 240, "1", "25", "4", NULL, "sine=f=440:r=48000:d=4",
                          "-c:v libx264 -preset ultrafast -bf 2 -g 25 -c:a aac -shortest") == 0,
                "park: 4 s clip generated"))
        return;
    channel ch;
    channel_open(h, &ch, 320, 240, rate, NULL);
    static run_result res;
    seg_spec s = {.uri = uri, .offset_ms = 1300, .first_tick = 100, .frame_count = 8,
                  .r = {0, 0, 320, 240}};
    int reused = run_logged(h, &ch, &s, &res, logpath);
    tap_ok(reused == 0 && exact_frames(&s, &t25, 100, rate, &res),
           "park: the first join opens the file and shows the frames due");
    s.offset_ms = 2700;
    s.join_ns = 13 * NS_PER_MS;
    reused = run_logged(h, &ch, &s, &res, logpath);
    tap_ok(reused == 1 && exact_frames(&s, &t25, 100, rate, &res),
           "park: a join back into the same asset reuses the kept demuxer, frames exact");
    s.offset_ms = 0;
    s.join_ns = 0;
    reused = run_logged(h, &ch, &s, &res, logpath);
    tap_ok(reused == 0 && exact_frames(&s, &t25, 100, rate, &res),
           "park: a segment from the asset's start opens the file afresh");
    /* the file replaced under the same name: 50 fps now */
    struct timespec pause = {0, 20 * 1000 * 1000};
    nanosleep(&pause, NULL);
    make_clip(h, "park.mp4", 320, 240, "1", "50", "4", NULL, "sine=f=440:r=48000:d=4",
              "-c:v libx264 -preset ultrafast -g 25 -c:a aac -shortest");
    s.offset_ms = 1900;
    reused = run_logged(h, &ch, &s, &res, logpath);
    tap_ok(reused == 0 && exact_frames(&s, &t50, 200, rate, &res),
           "park: a file replaced since its close is opened afresh (its new frames shown)");
    tap_ok(frame_pool_outstanding(ch.pool) == 0 && ch.ev.asset_errors == 0,
           "park: pool balanced, no asset error");
    channel_close(h, &ch);
}

/* ------------------------------------------------------------------ */
/* audio/video alignment                                               */
/* ------------------------------------------------------------------ */

static void test_sync(harness *h)
{
    /* audio is a ramp: sample value = 0.9 * t / 4 * 32767, so the value of a
     * tick's first sample tells the source time it came from */
    if (make_clip(h, "ramp.mkv", 320, 240, "1", "25", "3", NULL,
                  "aevalsrc=0.9*t/4:s=48000:d=3",
                  "-c:v libx264 -preset ultrafast -g 10 -c:a pcm_s16le -shortest") != 0) {
        tap_ok(0, "ramp clip generated");
        return;
    }
    channel ch;
    channel_open(h, &ch, 320, 240, (rv_rational){30000, 1001}, NULL);
    char uri[512];
    snprintf(uri, sizeof(uri), "%s/ramp.mkv", h->dir);
    static const int64_t offsets_ms[] = {0, 700, 1234, 2000};
    for (size_t i = 0; i < 4; i++) {
        seg_spec s = {.uri = uri, .offset_ms = offsets_ms[i], .join_ns = i == 2 ? 3333333 : 0,
                      .first_tick = 77, .frame_count = 20, .r = {0, 0, 320, 240}};
        static run_result res;
        run_segment(h, &ch, &s, &res);
        int ok = res.frames == 20;
        for (int k = 0; ok && k < res.frames; k++) {
            int64_t pos = rv_segment_position_ns(&(rv_segment_request){
                .asset_start_offset_ms = s.offset_ms, .join_offset_ns = s.join_ns,
                .first_tick = s.first_tick}, ch.format.frame_rate, k);
            double want = 0.9 * ((double)pos / 1e9) / 4 * 32767;
            if (res.f[k].first_l < want - 12 || res.f[k].first_l > want + 12) {
                ok = 0;
                tap_diag("offset %" PRId64 " frame %d: first sample %d, want %.0f", s.offset_ms,
                         k, res.f[k].first_l, want);
            }
        }
        tap_ok(ok, "audio starts with the video at %" PRId64 " ms (+%" PRId64
                   " ns) and stays aligned over 20 ticks", s.offset_ms, s.join_ns);
    }
    /* gain: -6 dB halves the ramp */
    seg_spec s = {.uri = uri, .offset_ms = 2000, .first_tick = 0, .frame_count = 5,
                  .gain_db = -6.0206, .r = {0, 0, 320, 240}};
    static run_result res;
    run_segment(h, &ch, &s, &res);
    double want = 0.5 * 0.9 * 2.0 / 4 * 32767;
    tap_ok(res.frames == 5 && res.f[0].first_l > want - 10 && res.f[0].first_l < want + 10,
           "gain_db -6 halves the samples (%d, want %.0f)", res.f[0].first_l, want);
    channel_close(h, &ch);
}

/* ------------------------------------------------------------------ */
/* failures                                                            */
/* ------------------------------------------------------------------ */

static void expect_open_failure(harness *h, const char *what, const char *uri, int want_code,
                                const char *const *opts)
{
    channel ch;
    channel_open(h, &ch, 320, 240, (rv_rational){30000, 1001}, opts);
    seg_spec s = {.uri = uri, .first_tick = 0, .frame_count = 10, .r = {0, 0, 320, 240}};
    static run_result res;
    run_segment(h, &ch, &s, &res);
    tap_ok(res.open_code == want_code, "%s: open fails with %s (got %s)", what,
           rv_strerror(want_code), rv_strerror(res.open_code));
    tap_ok(ch.ev.count == 1 && ch.ev.asset_errors == 1 && ch.ev.last_code == want_code &&
               strcmp(ch.ev.subject, uri) == 0 && ch.ev.message[0] != '\0',
           "%s: exactly one asset error event naming the asset and reason (%d: %s)", what,
           ch.ev.count, ch.ev.message);
    tap_ok(res.pool_outstanding == 0, "%s: nothing leaked from the pool", what);
    channel_close(h, &ch);
}

/** Permission denied. Root bypasses permission bits, so as root the check
 *  runs in a child process that drops to user nobody first; the file has
 *  mode 000 inside a folder everyone may search. */
static void test_permission(harness *h)
{
    char sub[400], path[512];
    snprintf(sub, sizeof(sub), "%s/perm", h->dir);
    snprintf(path, sizeof(path), "%s/secret.mp4", sub);
    mkdir(sub, 0755);
    chmod(h->dir, 0755);
    sh("cp \"%s/sd43.mp4\" \"%s\" 2>/dev/null || " FF
       " -f lavfi -i testsrc=d=1:s=64x48 -c:v libx264 \"%s\"", h->dir, path, path);
    chmod(path, 0);
    if (geteuid() != 0) {
        expect_open_failure(h, "permission denied (chmod 000)", path, RV_EACCES, NULL);
        return;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0)
            _exit(3);
        channel ch;
        channel_open(h, &ch, 320, 240, (rv_rational){30000, 1001}, NULL);
        seg_spec s = {.uri = path, .frame_count = 10, .r = {0, 0, 320, 240}};
        static run_result res;
        run_segment(h, &ch, &s, &res);
        int ok = res.open_code == RV_EACCES && ch.ev.count == 1 && ch.ev.asset_errors == 1 &&
                 ch.ev.last_code == RV_EACCES && strcmp(ch.ev.subject, path) == 0;
        channel_close(h, &ch);
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
           "permission denied (chmod 000, checked as user nobody since we run as root): "
           "RV_EACCES and one event naming the asset (child status %d)", status);
}

/** A FIFO that trickles bytes: every read returns a little, so only the
 *  io_timeout_ms deadline can stop the probe. */
static void test_timeout(harness *h)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/slow.fifo", h->dir);
    if (mkfifo(path, 0644) != 0) {
        tap_ok(0, "mkfifo: %s", strerror(errno));
        return;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL);
        int fd = open(path, O_WRONLY);
        unsigned char junk[64];
        for (int i = 0; i < 64; i++)
            junk[i] = (unsigned char)(i * 37 + 11);
        for (int i = 0; i < 3000; i++) {
            if (write(fd, junk, sizeof(junk)) < 0)
                _exit(0);
            usleep(20000);
        }
        _exit(0);
    }
    static const char *const opts[] = {"io_timeout_ms=300", NULL};
    expect_open_failure(h, "a source that never finishes probing (io_timeout_ms 300)", path,
                        RV_ETIMEDOUT, opts);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static void test_failures(harness *h)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/does-not-exist.mp4", h->dir);
    expect_open_failure(h, "missing file", path, RV_ENOENT, NULL);

    test_permission(h);

    snprintf(path, sizeof(path), "%s/notes.txt", h->dir);
    FILE *f = fopen(path, "w");
    for (int i = 0; f && i < 200; i++)
        fprintf(f, "line %d: this is a text file, not media at all\n", i);
    if (f)
        fclose(f);
    expect_open_failure(h, "not media (a text file)", path, RV_EFORMAT, NULL);

    snprintf(path, sizeof(path), "%s/empty.mp4", h->dir);
    f = fopen(path, "w");
    if (f)
        fclose(f);
    expect_open_failure(h, "zero length", path, RV_EFORMAT, NULL);

    char srt[512];
    snprintf(srt, sizeof(srt), "%s/subs.srt", h->dir);
    f = fopen(srt, "w");
    if (f) {
        fprintf(f, "1\n00:00:00,000 --> 00:00:01,000\nhello\n\n2\n00:00:01,000 --> "
                   "00:00:02,000\nworld\n\n");
        fclose(f);
    }
    snprintf(path, sizeof(path), "%s/subtitles-only.mkv", h->dir);
    sh(FF " -i \"%s\" -c:s srt \"%s\"", srt, path);
    expect_open_failure(h, "no decodable stream (subtitle-only MKV)", path, RV_EFORMAT, NULL);

    test_timeout(h);

    /* corruption in the middle of a TS: skipped, the frame count stays exact */
    if (make_clip(h, "corrupt.ts", 320, 240, "1", "30000/1001", "3", NULL,
                  SINE ",aformat=channel_layouts=stereo",
                  "-c:v libx264 -preset ultrafast -g 15 -c:a mp2 -t 3") == 0) {
        snprintf(path, sizeof(path), "%s/corrupt.ts", h->dir);
        struct stat sb;
        stat(path, &sb);
        int fd = open(path, O_WRONLY);
        unsigned char junk[8192];
        uint32_t x = 2463534242u;
        for (size_t i = 0; i < sizeof(junk); i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            junk[i] = (unsigned char)x;
        }
        for (int i = 0; i < 3; i++)
            if (pwrite(fd, junk, sizeof(junk), sb.st_size / 2 + i * sizeof(junk)) < 0)
                tap_diag("pwrite: %s", strerror(errno));
        close(fd);
        channel ch;
        channel_open(h, &ch, 320, 240, (rv_rational){30000, 1001}, NULL);
        seg_spec s = {.uri = path, .first_tick = 0, .frame_count = 85, .r = {0, 0, 320, 240}};
        static run_result res;
        run_segment(h, &ch, &s, &res);
        tap_ok(res.open_code == RV_OK && res.frames == 85 && res.end_code == RV_EOF,
               "corrupt TS: skips the damage, exactly 85 frames then RV_EOF (%d, end %d)",
               res.frames, res.end_code);
        int tail_ok = res.frames == 85;
        for (int k = 80; tail_ok && k < 85; k++)
            tail_ok &= res.f[k].barcode == k;
        tap_ok(tail_ok, "corrupt TS: frames after the damage are exact again");
        tap_ok(ch.ev.count == 1 && ch.ev.asset_errors == 0 && strcmp(ch.ev.subject, path) == 0,
               "corrupt TS: exactly one warning event naming the asset and reason (%d: %s)",
               ch.ev.count, ch.ev.message);
        tap_ok(res.pool_outstanding == 0, "corrupt TS: pool balanced");
        channel_close(h, &ch);
    }

    /* truncated: an MP4 with its index up front, cut in half */
    if (make_clip(h, "full.mp4", 320, 240, "1", "25", "3", NULL, NULL,
                  "-c:v libx264 -preset ultrafast -g 10 -movflags +faststart") == 0) {
        char full[512];
        snprintf(full, sizeof(full), "%s/full.mp4", h->dir);
        snprintf(path, sizeof(path), "%s/truncated.mp4", h->dir);
        struct stat sb;
        stat(full, &sb);
        sh("head -c %lld \"%s\" > \"%s\"", (long long)sb.st_size / 2, full, path);
        channel ch;
        channel_open(h, &ch, 320, 240, (rv_rational){30000, 1001}, NULL);
        seg_spec s = {.uri = path, .first_tick = 0, .frame_count = 85, .r = {0, 0, 320, 240}};
        static run_result res;
        run_segment(h, &ch, &s, &res);
        tap_ok(res.open_code == RV_OK && res.frames > 5 && res.frames < 85 && res.end_code < 0,
               "truncated MP4: plays what is there, stops early (%d frames, %s)", res.frames,
               rv_strerror(res.end_code));
        tap_ok(ch.ev.count == 1 && ch.ev.asset_errors == 1 && strcmp(ch.ev.subject, path) == 0,
               "truncated MP4: exactly one asset error event naming the asset (%d: %s)",
               ch.ev.count, ch.ev.message);
        tap_ok(res.pool_outstanding == 0, "truncated MP4: pool balanced");
        channel_close(h, &ch);
    }
}

/* ------------------------------------------------------------------ */
/* several channels at once                                            */
/* ------------------------------------------------------------------ */

typedef struct worker {
    harness *h;
    int id;
    int ok;
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    channel ch;
    w->ok = channel_open(w->h, &ch, 320, 240, (rv_rational){30000, 1001}, NULL) == RV_OK;
    char uri[512];
    snprintf(uri, sizeof(uri), "%s/%s", w->h->dir,
             w->id % 2 ? "seam25.mp4" : "seam2997.ts");
    timing t25 = {25, 1, 0, 0}, t30 = {30000, 1001, 0, 0};
    for (int i = 0; i < 6 && w->ok; i++) {
        seg_spec s = {.uri = uri, .offset_ms = 100 * i + 37 * w->id, .first_tick = 3 * i,
                      .frame_count = 4, .r = {0, 0, 320, 240}};
        run_result *res = malloc(sizeof(*res));
        run_segment(w->h, &ch, &s, res);
        w->ok &= res->frames == 4;
        for (int k = 0; w->ok && k < 4; k++) {
            int64_t pos = rv_segment_position_ns(&(rv_segment_request){
                .asset_start_offset_ms = s.offset_ms, .first_tick = s.first_tick},
                ch.format.frame_rate, k);
            w->ok &= res->f[k].barcode == expected_frame(w->id % 2 ? &t25 : &t30, pos, 75);
        }
        free(res);
    }
    w->ok &= ch.ev.count == 0;
    channel_close(w->h, &ch);
    return NULL;
}

static void test_concurrency(harness *h)
{
    pthread_t th[4];
    worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){.h = h, .id = i};
        pthread_create(&th[i], NULL, worker_main, &w[i]);
    }
    int ok = 1;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        ok &= w[i].ok;
    }
    tap_ok(ok, "4 channels open, seek and read at once, every frame exact");
}

/* ------------------------------------------------------------------ */

static int want_group(int argc, char **argv, const char *group)
{
    if (argc < 2)
        return 1;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], group) == 0)
            return 1;
    return 0;
}

/* ------------------------------------------------------------------ */
/* zero copy: pictures decoded straight into the channel's pool        */
/* ------------------------------------------------------------------ */

/** What a host-side writer does to each picture the producer hands out. */
typedef enum zc_writer {
    ZC_READ_ONLY = 1,   /**< look only (an encoder) */
    ZC_COW = 2,         /**< make_writable, then paint it black (a fade) */
    ZC_RECKLESS = 3     /**< paint it black in place: the bug copy-on-write prevents */
} zc_writer;

typedef struct zc_result {
    int open_code;
    int frames;
    int right;              /**< pictures showing their own source frame number */
    int first_wrong;        /**< index of the first wrong one, -1 if none */
    int shared;             /**< pictures libavcodec still held when handed out */
    int copies;             /**< make_writable gave a copy */
    int64_t outstanding;    /**< pool buffers out after close */
} zc_result;

/** Read @p frames ticks of @p uri (25 fps on a 25 fps channel: tick k shows
 *  source frame k) with @p writer applied to every picture. */
static void zc_run(harness *h, channel *ch, const char *uri, int frames, zc_writer writer,
                   zc_result *res)
{
    memset(res, 0, sizeof(*res));
    res->first_wrong = -1;
    seg_spec spec = {.uri = uri, .frame_count = frames, .r = {0, 0, (int)ch->format.width,
                                                              (int)ch->format.height}};
    rv_segment_request req = make_request(&spec);
    void *seg = NULL;
    res->open_code = h->mod->producer.open(ch->state, &req, &seg);
    if (res->open_code != RV_OK)
        return;
    for (int i = 0; i < frames; i++) {
        uint32_t n = rv_samples_in_tick(ch->format.frame_rate, ch->format.audio_rate, i);
        rv_audio_buffer *a = frame_pool_audio_alloc(ch->pool, n);
        rv_produce out = {.tick = i, .index = i, .audio = a};
        int r = h->mod->producer.read(seg, &out);
        frame_pool_audio_release(a);
        if (r != RV_OK)
            break;
        res->frames++;
        frame_info fi;
        inspect(out.video, spec.r, &fi);
        if (fi.barcode == i && fi.content_ok)
            res->right++;
        else if (res->first_wrong < 0)
            res->first_wrong = i;
        /* the producer's reference (the picture on air) and ours: more means
         * the decoder holds it too, i.e. it was decoded in place */
        res->shared += frame_pool_video_refcount(out.video) > 2;
        rv_video_frame *v = out.video;
        if (writer == ZC_COW) {
            rv_video_frame *before = v;
            if (h->host->video_make_writable(&ch->ctx, &v) != RV_OK)
                break;
            res->copies += v != before;
        }
        if (writer != ZC_READ_ONLY)
            for (uint32_t y = 0; y < v->height; y++)
                memset(v->plane[0] + (size_t)y * v->stride[0], 16, v->width);
        frame_pool_video_release(v);
    }
    h->mod->producer.close(seg);
    res->outstanding = frame_pool_outstanding(ch->pool);
}

static void test_zerocopy(harness *h)
{
    /* H.264 with 3 reference pictures and no B-frames: every P picture is
     * predicted from pictures the producer has already handed out, so a
     * writer that paints a shared picture would show in the next ones */
    if (make_clip(h, "zc.mp4", 640, 480, "1", "25", "3", NULL, NULL,
                  "-c:v libx264 -preset veryfast -refs 3 -bf 0 -g 100 -pix_fmt yuv420p") != 0) {
        tap_ok(0, "zero copy: make the clip");
        return;
    }
    /* 4:2:2 at the same size: the decoder's pictures are not the channel's
     * format, so they take libavcodec's buffers and are converted */
    if (make_clip(h, "zc422.mp4", 640, 480, "1", "25", "3", NULL, NULL,
                  "-c:v libx264 -preset veryfast -refs 3 -bf 0 -g 100 -pix_fmt yuv422p") != 0) {
        tap_ok(0, "zero copy: make the 4:2:2 clip");
        return;
    }
    char uri[512];
    char uri422[512];
    snprintf(uri, sizeof(uri), "%s/zc.mp4", h->dir);
    snprintf(uri422, sizeof(uri422), "%s/zc422.mp4", h->dir);
    static const char *const off[] = {"zero_copy=false", NULL};
    const struct {
        const char *what;
        const char *uri;
        const char *const *opts;
        zc_writer writer;
        int expect_shared;
    } cases[] = {
        {"zero copy, read only", uri, NULL, ZC_READ_ONLY, 1},
        {"zero copy, a fade on every picture", uri, NULL, ZC_COW, 1},
        {"zero_copy = false, read only", uri, off, ZC_READ_ONLY, 0},
        {"zero copy, a 4:2:2 source (converted)", uri422, NULL, ZC_READ_ONLY, 0},
        {"zero copy, writing in place (the hazard)", uri, NULL, ZC_RECKLESS, 1},
        {"zero copy under an ABI 1.3 host (no video_plane_bytes)", uri, NULL, ZC_READ_ONLY, 0},
    };
    /* a 1.3 host's table: everything up to thread_count */
    rv_host_api old_host = *h->host;
    old_host.struct_size = (uint32_t)offsetof(rv_host_api, video_plane_bytes);
    old_host.abi_minor = 3;
    old_host.video_plane_bytes = NULL;
    const rv_host_api *real_host = h->host;
    enum { FRAMES = 60 };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        channel ch;
        h->host = strstr(cases[c].what, "ABI 1.3") ? &old_host : real_host;
        int opened = channel_open(h, &ch, 640, 480, (rv_rational){25, 1}, cases[c].opts);
        h->host = real_host;
        if (!tap_ok(opened == RV_OK, "%s: channel", cases[c].what)) {
            channel_close(h, &ch);
            continue;
        }
        zc_result res;
        zc_run(h, &ch, cases[c].uri, FRAMES, cases[c].writer, &res);
        switch (cases[c].writer) {
        case ZC_READ_ONLY:
            tap_ok(res.open_code == RV_OK && res.frames == FRAMES && res.right == FRAMES,
                   "%s: %d/%d pictures show their own frame number (first wrong %d)",
                   cases[c].what, res.right, res.frames, res.first_wrong);
            if (!cases[c].expect_shared)
                tap_ok(res.shared == 0, "%s: no picture is shared with the decoder (%d)",
                       cases[c].what, res.shared);
            else
                tap_ok(res.shared >= FRAMES / 2,
                       "%s: pictures go on air straight from the decoder (%d of %d still "
                       "held by it)", cases[c].what, res.shared, res.frames);
            break;
        case ZC_COW:
            tap_ok(res.open_code == RV_OK && res.frames == FRAMES && res.right == FRAMES,
                   "%s: every picture after a painted one is still right (%d/%d, first "
                   "wrong %d): the decoder's references are untouched", cases[c].what,
                   res.right, res.frames, res.first_wrong);
            tap_ok(res.copies >= res.shared && res.copies > 0,
                   "%s: make_writable copied each picture the decoder shared (%d copies, %d "
                   "shared)", cases[c].what, res.copies, res.shared);
            break;
        case ZC_RECKLESS:
            /* the control: the test above can fail */
            tap_ok(res.open_code == RV_OK && res.first_wrong > 0 && res.right < res.frames,
                   "%s: painting a shared picture in place corrupts the pictures decoded "
                   "from it (first wrong %d): why writers must call make_writable",
                   cases[c].what, res.first_wrong);
            break;
        }
        tap_ok(res.outstanding == 0, "%s: every pool picture came back (%lld out)", cases[c].what,
               (long long)res.outstanding);
        channel_close(h, &ch);
    }
}

int main(int argc, char **argv)
{
    harness h = {0};
    log_set_level(RV_LOG_ERROR);
    snprintf(h.dir, sizeof(h.dir), "/tmp/rv-ffprod-XXXXXX");
    if (!mkdtemp(h.dir)) {
        tap_ok(0, "mkdtemp");
        return tap_done();
    }
    /* The test links FFmpeg itself (only to print its version) so unloading
     * the module does not unload FFmpeg: codec libraries keep global data
     * that LeakSanitizer would report once it became unreachable. */
    tap_diag("FFmpeg libavformat %u.%u, libavcodec %u.%u", avformat_version() >> 16,
             (avformat_version() >> 8) & 0xff, avcodec_version() >> 16,
             (avcodec_version() >> 8) & 0xff);
    h.reg = registry_create();
    char err[512] = "";
    int r = registry_load_file(h.reg, RV_FFMPEG_FILE_SO, err, sizeof(err));
    if (!tap_ok(r == RV_OK, "the loader accepts %s (%s)", RV_FFMPEG_FILE_SO, err))
        return tap_done();
    h.mod = registry_find(h.reg, "ffmpeg-file");
    tap_ok(h.mod && h.mod->kind == RV_KIND_PRODUCER, "module ffmpeg-file is a producer");
    h.host = host_api_get();
    h.clock = clock_create_virtual(0);
    const char *const *sc = h.mod->producer.schemes;
    tap_ok(sc && sc[0] && strcmp(sc[0], "file") == 0 && sc[1] && sc[1][0] == '\0' && !sc[2],
           "serves schemes {\"file\", \"\"}");

    if (want_group(argc, argv, "matrix")) {
        test_matrix(&h);
        test_audio_only(&h);
    }
    if (want_group(argc, argv, "failures"))
        test_failures(&h);
    if (want_group(argc, argv, "seams")) {
        test_seams(&h);
        test_park(&h);
    }
    if (want_group(argc, argv, "sync"))
        test_sync(&h);
    if (want_group(argc, argv, "concurrency") && want_group(argc, argv, "seams"))
        test_concurrency(&h);
    if (want_group(argc, argv, "zerocopy"))
        test_zerocopy(&h);

    clock_destroy(h.clock);
    registry_destroy(h.reg);
    if (!getenv("RV_KEEP_MEDIA"))
        sh("rm -rf \"%s\"", h.dir);
    return tap_done();
}
