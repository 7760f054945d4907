/**
 * @file tests/unit/test_ffmpeg_media.c
 * @short Media correctness of the ffmpeg-file producer (issue 13), judged by
 *        what a viewer would see and hear: the colour of each bar against
 *        FFmpeg's own decode of the source, where a marker lands in a turned
 *        picture, which tone plays, how long a segment airs.
 *
 * Drives build/modules/ffmpeg-file.so through the real loader and host
 * services, like test_ffmpeg_file.c. Media is generated at start with the
 * `ffmpeg` command into a temporary folder.
 *
 * Usage: test_ffmpeg_media [group...]   groups: colour orient audio length
 * (default: all). Prints TAP.
 */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

#define MAX_TICKS 400
#define FF "ffmpeg -nostdin -hide_banner -loglevel error -y"

/* ------------------------------------------------------------------ */
/* harness                                                             */
/* ------------------------------------------------------------------ */

typedef struct events {
    pthread_mutex_t lock;
    int warnings;
    int asset_errors;
    char text[2048];         /**< every message, ' | ' separated */
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
    const rv_host_api *host;
    master_clock *clock;
    char dir[256];
} harness;

static void on_event(void *owner, rv_context *ctx, rv_event_type type, int code,
                     const char *subject, const char *message)
{
    events *ev = owner;
    (void)ctx;
    (void)code;
    (void)subject;
    pthread_mutex_lock(&ev->lock);
    if (type == RV_EVENT_WARNING)
        ev->warnings++;
    if (type == RV_EVENT_ASSET_ERROR)
        ev->asset_errors++;
    size_t n = strlen(ev->text);
    snprintf(ev->text + n, sizeof(ev->text) - n, "%s | ", message ? message : "");
    pthread_mutex_unlock(&ev->lock);
}

/** A channel of w x h at @p rate with string options "key=value". */
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
    char keys[8][64];
    char vals[8][64];
    size_t n = 0;
    for (; opts && opts[n] && n < 8; n++) {
        const char *eq = strchr(opts[n], '=');
        snprintf(keys[n], sizeof(keys[n]), "%.*s", (int)(eq - opts[n]), opts[n]);
        snprintf(vals[n], sizeof(vals[n]), "%s", eq + 1);
        char *end = NULL;
        long long v = strtoll(vals[n], &end, 10);
        raw[n] = (raw_option){.key = keys[n], .line = 0};
        if (end && end != vals[n] && *end == '\0') {
            raw[n].type = RAW_INT;
            raw[n].i = v;
        } else {
            raw[n].type = RAW_STRING;
            raw[n].s = vals[n];
        }
    }
    char err[256];
    if (options_build(h->mod->info->options, raw, n, &ch->options, err, sizeof(err)) != RV_OK) {
        tap_diag("options_build: %s", err);
        return RV_EINVAL;
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

/** What one tick carried. */
typedef struct tick_info {
    const void *picture;     /**< identity (a held picture repeats it) */
    int64_t offset_ms;
    int luma_mid;            /**< Y at the centre of the picture */
    int peak;                /**< |sample| peak, left channel */
    int crossings;           /**< sign changes, left channel (tone frequency) */
} tick_info;

typedef struct run_result {
    int open_code;
    int end_code;
    int ticks;
    tick_info t[MAX_TICKS];
    /** Copy of the picture of tick `keep` (I420, channel size). */
    uint8_t *y, *u, *v;
    int64_t outstanding;
} run_result;

/** Open @p uri (absolute path), read up to @p frames ticks (stops at the
 *  first non-OK read), keep a copy of tick @p keep's picture, close. */
static void run_segment(harness *h, channel *ch, const char *uri, int64_t frames, int keep,
                        run_result *res)
{
    memset(res, 0, sizeof(*res));
    rv_segment_request req = {
        .struct_size = sizeof(req), .asset_uri = uri, .first_tick = 0, .frame_count = frames,
        .type = RV_SEGMENT_CONTENT, .event_id = "",
        .transition_in = {.type = RV_TRANSITION_NONE},
        .transition_out = {.type = RV_TRANSITION_NONE},
    };
    void *seg = NULL;
    res->open_code = h->mod->producer.open(ch->state, &req, &seg);
    if (res->open_code != RV_OK)
        return;
    int W = (int)ch->format.width, H = (int)ch->format.height;
    for (int64_t i = 0; i < frames && i < MAX_TICKS; i++) {
        uint32_t n = rv_samples_in_tick(ch->format.frame_rate, 48000, i);
        rv_audio_buffer *a = frame_pool_audio_alloc(ch->pool, n);
        rv_produce out = {.tick = i, .index = i, .audio = a};
        int r = h->mod->producer.read(seg, &out);
        if (r != RV_OK) {
            frame_pool_audio_release(a);
            res->end_code = r;
            break;
        }
        tick_info *ti = &res->t[res->ticks++];
        ti->picture = out.video;
        ti->offset_ms = out.asset_offset_ms;
        const rv_video_frame *v = out.video;
        ti->luma_mid = v->plane[0][(size_t)(H / 2) * v->stride[0] + W / 2];
        int prev = 0;
        for (uint32_t k = 0; k < a->samples; k++) {
            int s = a->data[k * 2];
            ti->peak = abs(s) > ti->peak ? abs(s) : ti->peak;
            int sign = s > 200 ? 1 : s < -200 ? -1 : 0;
            if (sign && prev && sign != prev)
                ti->crossings++;
            if (sign)
                prev = sign;
        }
        if (i == keep) {
            res->y = malloc((size_t)W * H);
            res->u = malloc((size_t)W * H / 4);
            res->v = malloc((size_t)W * H / 4);
            for (int row = 0; row < H; row++)
                memcpy(res->y + (size_t)row * W, v->plane[0] + (size_t)row * v->stride[0],
                       (size_t)W);
            for (int row = 0; row < H / 2; row++) {
                memcpy(res->u + (size_t)row * W / 2, v->plane[1] + (size_t)row * v->stride[1],
                       (size_t)W / 2);
                memcpy(res->v + (size_t)row * W / 2, v->plane[2] + (size_t)row * v->stride[2],
                       (size_t)W / 2);
            }
        }
        frame_pool_video_release(out.video);
        frame_pool_audio_release(a);
    }
    h->mod->producer.close(seg);
    res->outstanding = frame_pool_outstanding(ch->pool);
}

static void run_free(run_result *res)
{
    free(res->y);
    free(res->u);
    free(res->v);
}

/* ------------------------------------------------------------------ */
/* pictures                                                            */
/* ------------------------------------------------------------------ */

typedef struct rgb {
    int r, g, b;
} rgb;

static int clamp8(double v)
{
    return v < 0 ? 0 : v > 255 ? 255 : (int)lrint(v);
}

/** Limited-range Y'CbCr -> R'G'B' with the luma weights of ITU-R BT.601
 *  (kr 0.299, kb 0.114) or BT.709 (kr 0.2126, kb 0.0722). */
static rgb ycbcr_to_rgb(int y, int cb, int cr, int bt709)
{
    double kr = bt709 ? 0.2126 : 0.299, kb = bt709 ? 0.0722 : 0.114, kg = 1 - kr - kb;
    double Y = (y - 16) / 219.0, Pb = (cb - 128) / 224.0, Pr = (cr - 128) / 224.0;
    double R = Y + 2 * (1 - kr) * Pr;
    double B = Y + 2 * (1 - kb) * Pb;
    double G = (Y - kr * R - kb * B) / kg;
    return (rgb){clamp8(R * 255), clamp8(G * 255), clamp8(B * 255)};
}

/** The channel's picture at (x, y) as a viewer's decoder shows it: the
 *  channel is tagged BT.709 from 720 lines up, BT.601 below. Averages a
 *  4x4 block (away from edges) to be robust to chroma siting. */
static rgb out_pixel(const run_result *res, const channel *ch, int x, int y)
{
    int W = (int)ch->format.width;
    int sy = 0, su = 0, sv = 0;
    for (int dy = -2; dy < 2; dy++)
        for (int dx = -2; dx < 2; dx++) {
            int xx = x + dx, yy = y + dy;
            sy += res->y[(size_t)yy * W + xx];
            su += res->u[(size_t)(yy / 2) * (W / 2) + xx / 2];
            sv += res->v[(size_t)(yy / 2) * (W / 2) + xx / 2];
        }
    return ycbcr_to_rgb((sy + 8) / 16, (su + 8) / 16, (sv + 8) / 16, ch->format.height >= 720);
}

typedef struct image {
    int w, h;
    uint8_t *px;             /**< rgb24 */
} image;

/** FFmpeg's decode of the first picture of @p path through @p vf (or none)
 *  as rgb24: the reference a viewer's player shows. */
static int reference(harness *h, const char *path, const char *vf, int w, int hh, image *img)
{
    char out[512];
    snprintf(out, sizeof(out), "%s/ref.rgb", h->dir);
    if (sh(FF " -i \"%s\" -frames:v 1 %s%s%s -f rawvideo -pix_fmt rgb24 \"%s\"", path,
           vf ? "-vf \"" : "", vf ? vf : "", vf ? "\"" : "", out) != 0)
        return -1;
    FILE *f = fopen(out, "rb");
    if (!f)
        return -1;
    img->w = w;
    img->h = hh;
    img->px = malloc((size_t)w * hh * 3);
    size_t got = fread(img->px, 1, (size_t)w * hh * 3, f);
    fclose(f);
    return got == (size_t)w * hh * 3 ? 0 : -1;
}

static rgb ref_pixel(const image *img, int x, int y)
{
    int r = 0, g = 0, b = 0;
    for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) {
            const uint8_t *p = img->px + ((size_t)(y + dy) * img->w + x + dx) * 3;
            r += p[0];
            g += p[1];
            b += p[2];
        }
    return (rgb){(r + 4) / 9, (g + 4) / 9, (b + 4) / 9};
}

/** The picture area the module fits a w x h (square-pixel) picture into. */
static void fit(int W, int H, int w, int h, int *rx, int *ry, int *rw, int *rh)
{
    int64_t ow = W, oh = H;
    if ((int64_t)w * H > (int64_t)h * W)
        oh = ((int64_t)W * h * 2 / w + 1) / 2;
    else if ((int64_t)w * H < (int64_t)h * W)
        ow = ((int64_t)H * w * 2 / h + 1) / 2;
    ow &= ~1LL;
    oh &= ~1LL;
    *rw = (int)ow;
    *rh = (int)oh;
    *rx = (int)(((W - ow) / 2) & ~1LL);
    *ry = (int)(((H - oh) / 2) & ~1LL);
}


/* ------------------------------------------------------------------ */
/* colour                                                              */
/* ------------------------------------------------------------------ */

/** Largest per-channel difference (of 255) from FFmpeg's decode: scaling,
 *  4:2:0 chroma and 8-bit roundings cost at most 4 over the 33 cases (as
 *  measured); a wrong matrix costs 20-30 on green, no tone mapping 70-120. */
#define COLOUR_TOLERANCE 6

typedef struct colour_source {
    const char *name;
    int w, h;
    const char *make;        /**< ffmpeg arguments after the lavfi input */
    int hdr;                 /**< reference = FFmpeg's tone-mapping recipe */
    const char *ref_vf;      /**< reference filter for SDR (NULL: FFmpeg's own reading of the tags) */
    const char *what;
} colour_source;

#define BARS "smptebars=s=%dx%d:r=25:d=1"
#define X264 "-c:v libx264 -preset ultrafast -g 5"

static const colour_source colour_sources[] = {
    {"sd601.mp4", 640, 360,
     "-vf scale=out_color_matrix=bt601:out_range=tv,format=yuv420p " X264
     " -colorspace smpte170m -color_primaries smpte170m -color_trc smpte170m",
     0, NULL, "BT.601 SD (SMPTE 170M tags)"},
    {"hd709.mp4", 1280, 720,
     "-vf scale=out_color_matrix=bt709:out_range=tv,format=yuv420p " X264
     " -colorspace bt709 -color_primaries bt709 -color_trc bt709",
     0, NULL, "BT.709 HD"},
    {"pq.mkv", 1280, 720,
     "-vf format=gbrp,zscale=tin=709:pin=709:t=smpte2084:p=2020:m=2020_ncl:r=tv,"
     "format=yuv420p10le " X264
     " -color_trc smpte2084 -color_primaries bt2020 -colorspace bt2020nc",
     1, NULL, "HDR10 (PQ, BT.2020, 10-bit)"},
    {"hlg.mkv", 1280, 720,
     "-vf format=gbrp,zscale=tin=709:pin=709:t=arib-std-b67:p=2020:m=2020_ncl:r=tv,"
     "format=yuv420p10le " X264
     " -color_trc arib-std-b67 -color_primaries bt2020 -colorspace bt2020nc",
     1, NULL, "HLG (BT.2020, 10-bit)"},
    {"full.mp4", 640, 360,
     "-vf scale=out_color_matrix=bt601:out_range=pc,format=yuvj420p " X264
     " -colorspace smpte170m -color_range pc",
     0, NULL, "full-range (JPEG) BT.601"},
    {"untagged709.mp4", 1280, 720,
     "-vf scale=out_color_matrix=bt709:out_range=tv,format=yuv420p " X264, 0,
     "scale=in_color_matrix=bt709", "untagged HD (BT.709 by its size)"},
    {"untagged601.mp4", 640, 360,
     "-vf scale=out_color_matrix=bt601:out_range=tv,format=yuv420p " X264, 0,
     "scale=in_color_matrix=bt601", "untagged SD (BT.601 by its size)"},
};

typedef struct colour_channel {
    uint32_t w, h;
    rv_rational rate;
    const char *zscale_p;    /**< its primaries, for the HDR reference */
    const char *zscale_m;
    const char *what;
} colour_channel;

static const colour_channel colour_channels[] = {
    {1280, 720, {25, 1}, "709", "709", "HD 1280x720 (BT.709)"},
    {640, 480, {30000, 1001}, "170m", "170m", "SD 640x480 29.97 (BT.601 525)"},
    {720, 576, {25, 1}, "bt470bg", "470bg", "SD 720x576 25 (BT.601 625)"},
};

/** Sample points (fractions of the picture): the seven 75 % bars, then
 *  -I, 100 % white, +Q and black in the bottom row of SMPTE bars. */
static const double colour_points[][2] = {
    {0.5 / 7, 0.3}, {1.5 / 7, 0.3}, {2.5 / 7, 0.3}, {3.5 / 7, 0.3}, {4.5 / 7, 0.3},
    {5.5 / 7, 0.3}, {6.5 / 7, 0.3}, {0.09, 0.9},    {0.27, 0.9},    {0.45, 0.9},
    {0.62, 0.9},
};

static void test_colour_case(harness *h, const colour_source *s, const colour_channel *c)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", h->dir, s->name);
    channel ch;
    if (!tap_ok(channel_open(h, &ch, c->w, c->h, c->rate, NULL) == RV_OK, "channel %s", c->what))
        return;
    run_result res;
    run_segment(h, &ch, path, 3, 0, &res);
    char vf[512];
    if (s->hdr)
        snprintf(vf, sizeof(vf),
                 "zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=%s,"
                 "tonemap=tonemap=mobius:desat=0,zscale=t=709:m=%s:r=tv,format=yuv420p",
                 c->zscale_p, c->zscale_m);
    image ref = {0};
    int have_ref = reference(h, path, s->hdr ? vf : s->ref_vf, s->w, s->h, &ref) == 0;
    if (!tap_ok(res.open_code == RV_OK && res.ticks == 3 && res.y && have_ref,
                "%s on %s: opens and airs (%d)", s->what, c->what, res.open_code)) {
        free(ref.px);
        run_free(&res);
        channel_close(h, &ch);
        return;
    }
    int rx, ry, rw, rh;
    fit((int)c->w, (int)c->h, s->w, s->h, &rx, &ry, &rw, &rh);
    int worst = 0;
    char detail[512] = "";
    size_t dl = 0;
    for (size_t i = 0; i < sizeof(colour_points) / sizeof(colour_points[0]); i++) {
        rgb want = ref_pixel(&ref, (int)(colour_points[i][0] * s->w),
                             (int)(colour_points[i][1] * s->h));
        rgb got = out_pixel(&res, &ch, rx + (int)(colour_points[i][0] * rw),
                            ry + (int)(colour_points[i][1] * rh));
        int d = abs(want.r - got.r);
        d = abs(want.g - got.g) > d ? abs(want.g - got.g) : d;
        d = abs(want.b - got.b) > d ? abs(want.b - got.b) : d;
        if (d > worst)
            worst = d;
        if (d > COLOUR_TOLERANCE && dl < sizeof(detail) - 64)
            dl += (size_t)snprintf(detail + dl, sizeof(detail) - dl,
                                   " [%zu want %d,%d,%d got %d,%d,%d]", i, want.r, want.g,
                                   want.b, got.r, got.g, got.b);
    }
    tap_ok(worst <= COLOUR_TOLERANCE,
           "%s on %s: every bar within %d of FFmpeg's decode (worst %d)%s", s->what, c->what,
           COLOUR_TOLERANCE, worst, detail);
    if (s->hdr) {
        /* what the issue saw: 75 % grey 190 -> 111, white 255 -> 129 */
        rgb grey = out_pixel(&res, &ch, rx + rw / 14, ry + (int)(0.3 * rh));
        tap_ok(grey.g >= 170, "%s on %s: 75%% grey is not washed out (G %d, was 111)", s->what,
               c->what, grey.g);
        tap_ok(strstr(ch.ev.text, "tone-mapped") != NULL && ch.ev.warnings == 1,
               "%s on %s: one warning says it was tone-mapped (%s)", s->what, c->what,
               ch.ev.text);
    }
    tap_ok(res.outstanding == 0, "%s on %s: no picture leaked", s->what, c->what);
    free(ref.px);
    run_free(&res);
    channel_close(h, &ch);
}

static void test_colour(harness *h)
{
    size_t ns = sizeof(colour_sources) / sizeof(colour_sources[0]);
    for (size_t i = 0; i < ns; i++) {
        const colour_source *s = &colour_sources[i];
        char cmd[1024];
        snprintf(cmd, sizeof(cmd), BARS, s->w, s->h);
        sh(FF " -f lavfi -i %s %s \"%s/%s\"", cmd, s->make, h->dir, s->name);
    }
    for (size_t i = 0; i < ns; i++)
        for (size_t j = 0; j < sizeof(colour_channels) / sizeof(colour_channels[0]); j++)
            test_colour_case(h, &colour_sources[i], &colour_channels[j]);
}

/* ------------------------------------------------------------------ */
/* orientation                                                         */
/* ------------------------------------------------------------------ */

typedef struct centroid {
    double x, y;             /**< fraction of the picture area */
    int n;
} centroid;

/** Where the white box is in a 360x640 portrait (reference, rgb24). */
static centroid ref_box(const image *img)
{
    double sx = 0, sy = 0;
    int n = 0;
    for (int y = 0; y < img->h; y++)
        for (int x = 0; x < img->w; x++)
            if (img->px[((size_t)y * img->w + x) * 3] > 128) {
                sx += x;
                sy += y;
                n++;
            }
    return (centroid){n ? sx / n / img->w : -1, n ? sy / n / img->h : -1, n};
}

/** Where the white box is inside the picture area of our output (luma). */
static centroid out_box(const run_result *res, const channel *ch, int rx, int ry, int rw, int rh)
{
    int W = (int)ch->format.width;
    double sx = 0, sy = 0;
    int n = 0;
    for (int y = 0; y < (int)ch->format.height; y++)
        for (int x = 0; x < W; x++)
            if (res->y[(size_t)y * W + x] > 128) {
                sx += x;
                sy += y;
                n++;
            }
    return (centroid){n ? (sx / n - rx) / rw : -1, n ? (sy / n - ry) / rh : -1, n};
}

static void test_orient(harness *h)
{
    static const struct {
        const char *name;
        const char *coded_vf;  /**< how the 360x640 portrait was stored */
        int rotate;            /**< the rotate tag written with it */
    } cases[] = {
        {"rot90.mp4", "transpose=clock", 90},
        {"rot270.mp4", "transpose=cclock", 270},
        {"rot180.mp4", "hflip,vflip", 180},
        /* a wrong tag: FFmpeg shows it upside down, and so do we */
        {"upside-down.mp4", "transpose=clock", 270},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char coded[512], path[512];
        snprintf(coded, sizeof(coded), "%s/coded-%s", h->dir, cases[i].name);
        snprintf(path, sizeof(path), "%s/%s", h->dir, cases[i].name);
        sh(FF " -f lavfi -i \"color=black:s=360x640:r=25:d=1,drawbox=x=20:y=20:w=100:h=100:"
              "color=white:t=fill,format=yuv420p\" -vf %s " X264 " \"%s\"",
           cases[i].coded_vf, coded);
        sh(FF " -i \"%s\" -c copy -metadata:s:v:0 rotate=%d \"%s\"", coded, cases[i].rotate,
           path);
        int dw = 360, dh = 640;  /* every case displays as a portrait */
        image ref = {0};
        int have_ref = reference(h, path, NULL, dw, dh, &ref) == 0;
        centroid want = have_ref ? ref_box(&ref) : (centroid){-1, -1, 0};
        channel ch;
        channel_open(h, &ch, 1280, 720, (rv_rational){25, 1}, NULL);
        run_result res;
        run_segment(h, &ch, path, 3, 0, &res);
        if (!tap_ok(res.open_code == RV_OK && res.y && have_ref && want.n > 0,
                    "%s (rotate=%d): opens, reference decoded", cases[i].name,
                    cases[i].rotate)) {
            free(ref.px);
            run_free(&res);
            channel_close(h, &ch);
            continue;
        }
        int rx, ry, rw, rh;
        fit(1280, 720, dw, dh, &rx, &ry, &rw, &rh);
        centroid got = out_box(&res, &ch, rx, ry, rw, rh);
        int W = 1280;
        int pillar = res.y[(size_t)360 * W + 8] == 16 && res.y[(size_t)360 * W + W - 8] == 16;
        tap_ok(pillar && rw < rh, "%s: portrait, upright, pillarboxed (%dx%d at x %d)",
               cases[i].name, rw, rh, rx);
        tap_ok(fabs(got.x - want.x) < 0.03 && fabs(got.y - want.y) < 0.03,
               "%s: the white box where FFmpeg shows it (want %.2f,%.2f got %.2f,%.2f)",
               cases[i].name, want.x, want.y, got.x, got.y);
        free(ref.px);
        run_free(&res);
        channel_close(h, &ch);
    }
}

/* ------------------------------------------------------------------ */
/* audio stream choice                                                 */
/* ------------------------------------------------------------------ */

/** The tone a tick carries, Hz, from its zero crossings (25 fps ticks). */
static int tone_hz(const tick_info *t)
{
    return t->crossings * 25 / 2;
}

/** Which of @p n tones (Hz) is nearest to what tick @p t carries. */
static int nearest_tone(const tick_info *t, const int *tones, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (abs(tone_hz(t) - tones[i]) < abs(tone_hz(t) - tones[best]))
            best = i;
    return tones[best];
}

static void test_programmes(harness *h)
{
    /* programme 1: grey picture + 440 Hz; programme 2: black + 1000 Hz.
     * FFmpeg's best picture is programme 1's, its best sound (stereo,
     * 384 kb/s) programme 2's: the pair the issue saw airing together. */
    char path[512];
    snprintf(path, sizeof(path), "%s/two-programmes.ts", h->dir);
    sh(FF " -f lavfi -i color=gray:s=320x240:r=25:d=3 -f lavfi -i sine=f=440:r=48000:d=3"
          " -f lavfi -i color=black:s=640x480:r=25:d=3 -f lavfi -i sine=f=1000:r=48000:d=3"
          " -map 0 -map 1 -map 2 -map 3 -c:v mpeg2video -b:v:0 500k -b:v:1 4M -c:a mp2"
          " -b:a:0 64k -ac:a:0 1 -b:a:1 384k -ac:a:1 2"
          " -program title=one:st=0:st=1 -program title=two:st=2:st=3 \"%s\"",
          path);
    channel ch;
    channel_open(h, &ch, 640, 480, (rv_rational){25, 1}, NULL);
    run_result res;
    run_segment(h, &ch, path, 20, 0, &res);
    static const int tones[] = {440, 1000};
    if (tap_ok(res.open_code == RV_OK && res.ticks == 20, "two-programme TS airs")) {
        int grey = res.t[10].luma_mid > 60;
        int tone = nearest_tone(&res.t[10], tones, 2);
        tap_ok(tone == (grey ? 440 : 1000),
               "the sound is the picture's programme: %s picture, %d Hz (%d crossings)",
               grey ? "programme 1 (grey)" : "programme 2 (black)", tone, res.t[10].crossings);
        tap_ok(strstr(ch.ev.text, "fell back") == NULL && ch.ev.warnings == 0,
               "a plain choice is no warning (%s)", ch.ev.text);
    }
    run_free(&res);
    channel_close(h, &ch);
}

static void test_languages(harness *h)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/languages.mkv", h->dir);
    sh(FF " -f lavfi -i color=gray:s=320x240:r=25:d=3 -f lavfi -i sine=f=1000:r=48000:d=3"
          " -f lavfi -i sine=f=440:r=48000:d=3 -f lavfi -i sine=f=660:r=48000:d=3"
          " -map 0 -map 1 -map 2 -map 3 -c:v libx264 -preset ultrafast -c:a aac"
          " -metadata:s:a:0 language=fra -metadata:s:a:1 language=eng"
          " -metadata:s:a:2 language=spa -disposition:a:0 0 -disposition:a:1 0"
          " -disposition:a:2 default \"%s\"",
          path);
    static const int tones[] = {1000, 440, 660};
    static const struct {
        const char *opt;
        int tone;
        int warning;
        const char *what;
    } cases[] = {
        {NULL, 660, 0, "no preference: the default-flagged track (spa)"},
        {"audio_languages=eng,und", 440, 0, "audio_languages eng,und: the English track"},
        {"audio_languages=FRA", 1000, 0, "audio_languages FRA (any case): the French track"},
        {"audio_languages=deu,jpn", 660, 1,
         "audio_languages deu,jpn (absent): the default track, with one warning"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *opts[] = {cases[i].opt, NULL};
        channel ch;
        if (!tap_ok(channel_open(h, &ch, 320, 240, (rv_rational){25, 1},
                                 cases[i].opt ? opts : NULL) == RV_OK,
                    "%s: channel", cases[i].what)) {
            channel_close(h, &ch);
            continue;
        }
        run_result res;
        run_segment(h, &ch, path, 20, 0, &res);
        int tone = res.ticks == 20 ? nearest_tone(&res.t[10], tones, 3) : 0;
        tap_ok(tone == cases[i].tone, "%s: %d Hz plays (want %d)", cases[i].what, tone,
               cases[i].tone);
        tap_ok(ch.ev.warnings == cases[i].warning,
               "%s: %d warning(s) (%s)", cases[i].what, ch.ev.warnings, ch.ev.text);
        run_free(&res);
        channel_close(h, &ch);
    }
    const char *bad[] = {"audio_languages=english", NULL};
    channel ch;
    tap_ok(channel_open(h, &ch, 320, 240, (rv_rational){25, 1}, bad) == RV_EINVAL,
           "audio_languages 'english' (not ISO 639-2) is refused at create");
    channel_close(h, &ch);
}

/* ------------------------------------------------------------------ */
/* which stream ends a clip                                            */
/* ------------------------------------------------------------------ */

static void test_length(harness *h)
{
    static const struct {
        const char *name;
        const char *make;      /**< ffmpeg inputs and codecs */
        int end_tick;          /**< 25 fps: the longer stream's end */
        int video_ticks;       /**< ticks with a new picture */
        int audio_ticks;       /**< ticks with sound */
        const char *says;      /**< in the warning */
        const char *what;
    } cases[] = {
        {"long-audio.mp4",
         "-f lavfi -i testsrc2=s=320x240:r=25:d=2 -f lavfi -i sine=f=440:r=48000:d=6"
         " -c:v libx264 -preset ultrafast -c:a aac",
         150, 50, 150, "the last picture is held (the audio sets the length)",
         "2 s video, 6 s audio (MP4)"},
        {"still-song.mkv",
         "-i still.mkv -f lavfi -i sine=f=440:r=48000:d=6 -c:v copy -c:a ac3",
         150, 1, 150, "the last picture is held (the audio sets the length)",
         "one still picture + a 6 s song (MKV)"},
        {"long-video.mp4",
         "-f lavfi -i testsrc2=s=320x240:r=25:d=6 -f lavfi -i sine=f=440:r=48000:d=2"
         " -c:v libx264 -preset ultrafast -c:a aac",
         150, 150, 50, "silence (the video sets the length)", "6 s video, 2 s audio (MP4)"},
    };
    /* one picture, made apart: -frames:v would end the song with it */
    sh("cd \"%s\" && " FF " -f lavfi -i color=gray:s=320x240:r=25 -frames:v 1 -c:v libx264"
       " still.mkv", h->dir);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", h->dir, cases[i].name);
        sh("cd \"%s\" && " FF " %s \"%s\"", h->dir, cases[i].make, path);
        channel ch;
        channel_open(h, &ch, 320, 240, (rv_rational){25, 1}, NULL);
        run_result res;
        run_segment(h, &ch, path, 250, 0, &res);
        int pictures = 0, sound = 0, last_sound = -1;
        for (int k = 0; k < res.ticks; k++) {
            pictures += k == 0 || res.t[k].picture != res.t[k - 1].picture;
            if (res.t[k].peak > 1000) {
                sound++;
                last_sound = k;
            }
        }
        const char *what = cases[i].what;
        tap_ok(res.open_code == RV_OK && res.end_code == RV_EOF &&
                   abs(res.ticks - cases[i].end_tick) <= 1,
               "%s: airs until the longer stream ends: %d ticks (want %d +- 1), then ends",
               what, res.ticks, cases[i].end_tick);
        tap_ok(abs(pictures - cases[i].video_ticks) <= 2 && res.ticks > 0 &&
                   res.t[res.ticks - 1].luma_mid != 16,
               "%s: %d pictures, the last one held to the end (not black: Y %d)", what,
               pictures, res.ticks ? res.t[res.ticks - 1].luma_mid : -1);
        tap_ok(abs(sound - cases[i].audio_ticks) <= 2 && last_sound >= sound - 1,
               "%s: sound on %d ticks (want %d), none lost", what, sound, cases[i].audio_ticks);
        tap_ok(ch.ev.warnings >= 1 && strstr(ch.ev.text, cases[i].says) != NULL,
               "%s: one warning says '%s' (%s)", what, cases[i].says, ch.ev.text);
        run_free(&res);
        channel_close(h, &ch);
    }
}

/* ------------------------------------------------------------------ */

static int want_group(int argc, char **argv, const char *g)
{
    if (argc < 2)
        return 1;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], g) == 0)
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    harness h = {0};
    log_set_level(RV_LOG_ERROR);
    snprintf(h.dir, sizeof(h.dir), "/tmp/rv-ffmedia-XXXXXX");
    if (!mkdtemp(h.dir)) {
        tap_ok(0, "mkdtemp");
        return tap_done();
    }
    /* linked so unloading the module does not unload FFmpeg (LeakSanitizer) */
    tap_diag("FFmpeg libavformat %u.%u", avformat_version() >> 16,
             (avformat_version() >> 8) & 0xff);
    h.reg = registry_create();
    char err[512] = "";
    int r = registry_load_file(h.reg, RV_FFMPEG_FILE_SO, err, sizeof(err));
    if (!tap_ok(r == RV_OK, "the loader accepts %s (%s)", RV_FFMPEG_FILE_SO, err))
        return tap_done();
    h.mod = registry_find(h.reg, "ffmpeg-file");
    h.host = host_api_get();
    h.clock = clock_create_virtual(0);
    if (want_group(argc, argv, "colour"))
        test_colour(&h);
    if (want_group(argc, argv, "orient"))
        test_orient(&h);
    if (want_group(argc, argv, "audio")) {
        test_programmes(&h);
        test_languages(&h);
    }
    if (want_group(argc, argv, "length"))
        test_length(&h);
    clock_destroy(h.clock);
    registry_destroy(h.reg);
    if (!getenv("RV_KEEP_MEDIA"))
        sh("rm -rf \"%s\"", h.dir);
    return tap_done();
}
