/**
 * @file tests/unit/test_ffmpeg_cadence.c
 * @short Frame-rate conversion of the ffmpeg-file producer with the pictures
 *        no tick shows left undecoded (issue 14, item 2): every tick airs
 *        exactly the source picture due at it, and the pictures skipped were
 *        really not decoded.
 *
 * Each source is made at test time with the `ffmpeg` command, its frame
 * number burned into every picture as 11 black/white box pairs (a bit and
 * its complement), at a higher rate than the channel's: 59.94 on 29.97,
 * 50 on 25, 60 on 29.97 (20 s: tick 500 needs picture 1001, the one place in
 * the first 33 s where the two rates' rounding meets), with non-reference B
 * pictures (x264 `-bf 3 -b-pyramid none`), B pyramids (x264's default: the
 * middle B is a reference), no B pictures, MPEG-2 B pictures and HEVC, in
 * MP4, MPEG-TS (90 kHz: 59.94 pictures 1501.5 units apart, rounded) and
 * Matroska (whole milliseconds), with 1, 2 and 4 decoder threads.
 *
 * Drives build/modules/ffmpeg-file.so through the real loader and host
 * services, reads the picture of every tick, and compares its number with
 * the picture due: the newest whose exact time is at most the tick's
 * position (+ 1 us, the producer's least slack). The same source is read
 * with skip_dropped_pictures on and off; the producer's debug line at close
 * ("N video packets decoded, ... P pictures came out", captured from the
 * host log on stderr) says how many pictures the decoder made.
 *
 * Usage: test_ffmpeg_cadence. Prints TAP.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

#define FF "ffmpeg -nostdin -hide_banner -loglevel error -y"
#define W 640
#define H 360
#define BITS 11
#define MAX_TICKS 700

typedef struct harness {
    module_registry *reg;
    const loaded_module *mod;
    master_clock *clock;
    char dir[256];
} harness;

/** One source and the channel it airs on. */
typedef struct cadence_case {
    const char *name;
    rv_rational src_rate;
    rv_rational ch_rate;
    int seconds;
    const char *ext;        /**< container */
    const char *codec;      /**< encoder arguments */
    int threads;
    int must_skip;          /**< non-reference pictures fall on unshown ones */
} cadence_case;

/** drawbox chain: black band on top, pair j = 2b white when bit b of the
 *  frame number is set, pair 2b+1 when it is clear. */
static void burn_filter(char *out, size_t len)
{
    size_t o = (size_t)snprintf(out, len, "drawbox=x=0:y=0:w=%d:h=60:color=black:t=fill", W);
    for (int b = 0; b < BITS; b++)
        for (int c = 0; c < 2; c++)
            o += (size_t)snprintf(out + o, len - o,
                                  ",drawbox=x=%d:y=10:w=20:h=40:color=white:t=fill:"
                                  "enable='%smod(floor(n/%d),2)'",
                                  10 + (2 * b + c) * 28, c ? "1-" : "", 1 << b);
}

/** The burned-in number of a picture, or -1 when it is not one. */
static int read_number(const rv_video_frame *v)
{
    int bits[2 * BITS];
    for (int j = 0; j < 2 * BITS; j++) {
        int sum = 0;
        for (int y = 20; y < 40; y++)
            for (int x = 15; x < 25; x++)
                sum += v->plane[0][(size_t)y * v->stride[0] + (size_t)(10 + j * 28 + x - 10)];
        int m = sum / 200;
        bits[j] = m > 160 ? 1 : m < 96 ? 0 : -1;
    }
    int n = 0;
    for (int b = 0; b < BITS; b++) {
        if (bits[2 * b] < 0 || bits[2 * b + 1] < 0 || bits[2 * b] == bits[2 * b + 1])
            return -1;
        n |= bits[2 * b] << b;
    }
    return n;
}

/** The source picture due at tick @p k: the newest whose exact time
 *  (floor, ns) is at most the tick's position + 1 us. */
static int due_picture(const cadence_case *c, int64_t k)
{
    rv_segment_request req = {.struct_size = sizeof(req)};
    int64_t pos = rv_segment_position_ns(&req, c->ch_rate, k) + 1000;
    rv_int128 i = (rv_int128)(pos + 1000) * c->src_rate.num /
                  ((rv_int128)c->src_rate.den * 1000000000);
    while (i > 0 && (rv_int128)i * c->src_rate.den * 1000000000 / c->src_rate.num > pos)
        i--;
    return (int)i;
}

typedef struct cadence_run {
    int ticks;
    int numbers[MAX_TICKS];
    long long packets;
    long long nonref;
    long long pictures;
    int said;               /**< the debug line was found */
} cadence_run;

/** Read the producer's debug line about the segment out of @p path. */
static void read_counts(const char *path, cadence_run *run)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[1024];
    while (fgets(line, sizeof(line), f)) {
        const char *p = strstr(line, ": ");
        const char *q = strstr(line, "video packets decoded");
        if (!q)
            continue;
        while (p && strstr(p + 2, ": ") && strstr(p + 2, ": ") < q)
            p = strstr(p + 2, ": ");
        if (p && sscanf(p + 2, "%lld video packets decoded, %lld of them", &run->packets,
                        &run->nonref) == 2) {
            const char *r = strstr(q, "), ");
            if (r && sscanf(r + 3, "%lld pictures", &run->pictures) == 1)
                run->said = 1;
        }
    }
    fclose(f);
}

/** Air @p path on a channel of @p c's rate for its whole length. */
static int air(harness *h, const cadence_case *c, const char *path, int skip, cadence_run *run)
{
    memset(run, 0, sizeof(*run));
    rv_program_format fmt = {.width = W, .height = H, .frame_rate = c->ch_rate,
                             .audio_rate = 48000, .audio_channels = 2};
    frame_pool *pool = frame_pool_create(&fmt);
    rv_context ctx;
    host_context_init(&ctx, 9, "ffmpeg-file", pool, h->clock, NULL, NULL);
    char k_threads[] = "threads", k_skip[] = "skip_dropped_pictures";
    raw_option raw[2] = {
        {.key = k_threads, .type = RAW_INT, .i = c->threads},
        {.key = k_skip, .type = RAW_BOOL, .i = skip},
    };
    rv_options *opts = NULL;
    char err[256];
    void *state = NULL;
    void *seg = NULL;
    int rc = RV_EINVAL;
    if (options_build(h->mod->info->options, raw, 2, &opts, err, sizeof(err)) != RV_OK) {
        tap_diag("options: %s", err);
        goto done;
    }
    rv_create_args args = {.struct_size = sizeof(args), .host = host_api_get(), .ctx = &ctx,
                           .options = opts, .format = &fmt, .channel_id = 9,
                           .channel_name = "cadence"};
    rc = h->mod->producer.create(&args, &state);
    if (rc != RV_OK)
        goto done;
    int64_t frames = (int64_t)c->seconds * c->ch_rate.num / c->ch_rate.den;
    if (frames > MAX_TICKS)
        frames = MAX_TICKS;
    rv_segment_request req = {.struct_size = sizeof(req), .asset_uri = path,
                              .frame_count = frames, .type = RV_SEGMENT_CONTENT, .event_id = "",
                              .transition_in = {.type = RV_TRANSITION_NONE},
                              .transition_out = {.type = RV_TRANSITION_NONE}};
    /* the host log (stderr) into a file, to read the producer's debug line */
    char logpath[300];
    snprintf(logpath, sizeof(logpath), "%s/log-%s-%d.txt", h->dir, c->name, skip);
    fflush(stderr);
    int saved = dup(2);
    int fd = open(logpath, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    if (saved < 0 || fd < 0) {
        rc = RV_EIO;
        goto done;
    }
    dup2(fd, 2);
    close(fd);
    rc = h->mod->producer.open(state, &req, &seg);
    for (int64_t k = 0; rc == RV_OK && k < frames; k++) {
        rv_audio_buffer *a = frame_pool_audio_alloc(pool, rv_samples_in_tick(c->ch_rate, 48000, k));
        rv_produce out = {.tick = k, .index = k, .audio = a};
        int r = h->mod->producer.read(seg, &out);
        frame_pool_audio_release(a);
        if (r != RV_OK)
            break;
        run->numbers[run->ticks++] = read_number(out.video);
        frame_pool_video_release(out.video);
    }
    if (seg)
        h->mod->producer.close(seg);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    read_counts(logpath, run);
done:
    if (state)
        h->mod->producer.destroy(state);
    options_free(opts);
    frame_pool_destroy(pool);
    return rc;
}

static void test_case(harness *h, const cadence_case *c)
{
    char path[300];
    char filter[4096];
    burn_filter(filter, sizeof(filter));
    snprintf(path, sizeof(path), "%s/%s.%s", h->dir, c->name, c->ext);
    if (access(path, F_OK) != 0 &&
        sh(FF " -f lavfi -i testsrc2=s=%dx%d:r=%d/%d:d=%d.1 -vf \"%s\" %s -pix_fmt yuv420p "
              "\"%s\"",
           W, H, c->src_rate.num, c->src_rate.den, c->seconds, filter, c->codec, path) != 0) {
        tap_ok(0, "%s: source made", c->name);
        return;
    }
    int64_t frames = (int64_t)c->seconds * c->ch_rate.num / c->ch_rate.den;
    if (frames > MAX_TICKS)
        frames = MAX_TICKS;
    for (int skip = 1; skip >= 0; skip--) {
        cadence_run *run = calloc(1, sizeof(*run));
        int rc = air(h, c, path, skip, run);
        int bad = 0, first_bad = -1;
        for (int k = 0; k < run->ticks; k++) {
            if (run->numbers[k] != due_picture(c, k)) {
                if (first_bad < 0)
                    first_bad = k;
                bad++;
            }
        }
        const char *mode = skip ? "skip on" : "skip off";
        tap_ok(rc == RV_OK && run->ticks == frames && bad == 0,
               "%s, %s: all %d ticks air the picture due (%lld ticks read, %d wrong%s)", c->name,
               mode, (int)frames, (long long)run->ticks, bad, bad ? ", see below" : "");
        if (bad)
            tap_diag("first wrong tick %d: picture %d, due %d", first_bad,
                     run->numbers[first_bad], due_picture(c, first_bad));
        tap_diag("%s, %s: %lld packets, %lld with AVDISCARD_NONREF, %lld pictures decoded",
                 c->name, mode, run->packets, run->nonref, run->pictures);
        if (skip && c->must_skip)
            tap_ok(run->said && run->pictures * 10 < run->packets * 8,
                   "%s: at least a fifth of the pictures were not decoded (%lld of %lld)",
                   c->name, run->pictures, run->packets);
        else if (skip)
            tap_ok(run->said && run->pictures + 8 >= run->packets,
                   "%s: every picture is a reference: all decoded (%lld of %lld)", c->name,
                   run->pictures, run->packets);
        else
            tap_ok(run->said && run->nonref == 0 && run->pictures + 8 >= run->packets,
                   "%s: skip off decodes every picture (%lld of %lld)", c->name,
                   run->pictures, run->packets);
        free(run);
    }
}

int main(void)
{
    harness h = {0};
    log_set_level(RV_LOG_DEBUG);
    snprintf(h.dir, sizeof(h.dir), "/tmp/rv-cadence-XXXXXX");
    if (!mkdtemp(h.dir)) {
        tap_ok(0, "mkdtemp");
        return tap_done();
    }
    /* linked so unloading the module does not unload FFmpeg (LeakSanitizer) */
    tap_diag("FFmpeg libavformat %u.%u", avformat_version() >> 16,
             (avformat_version() >> 8) & 0xff);
    h.reg = registry_create();
    char err[512] = "";
    if (!tap_ok(registry_load_file(h.reg, RV_FFMPEG_FILE_SO, err, sizeof(err)) == RV_OK,
                "the loader accepts %s (%s)", RV_FFMPEG_FILE_SO, err))
        return tap_done();
    h.mod = registry_find(h.reg, "ffmpeg-file");
    h.clock = clock_create_virtual(0);
    const rv_rational ntsc = {30000, 1001}, ntsc2 = {60000, 1001};
    const char *nonref_b = "-c:v libx264 -preset ultrafast -bf 3 -b-pyramid none -g 60";
    const cadence_case cases[] = {
        {"5994-bf3-mp4", ntsc2, ntsc, 10, "mp4", nonref_b, 2, 1},
        {"5994-bf3-ts-t1", ntsc2, ntsc, 10, "ts", nonref_b, 1, 1},
        {"5994-bf3-ts-t4", ntsc2, ntsc, 10, "ts", nonref_b, 4, 1},
        {"5994-pyramid-mkv", ntsc2, ntsc, 10, "mkv",
         "-c:v libx264 -preset ultrafast -bf 3 -g 60", 2, 1},
        {"5994-nob-mp4", ntsc2, ntsc, 10, "mp4", "-c:v libx264 -preset ultrafast -bf 0", 2, 0},
        {"50-bf3-mkv", {50, 1}, {25, 1}, 10, "mkv", nonref_b, 2, 1},
        {"60-bf3-mp4", {60, 1}, ntsc, 20, "mp4", nonref_b, 2, 1},
        {"5994-mpeg2-ts", ntsc2, ntsc, 10, "ts", "-c:v mpeg2video -bf 2 -g 30 -q:v 4", 2, 1},
        {"5994-hevc-mp4", ntsc2, ntsc, 10, "mp4",
         "-c:v libx265 -preset ultrafast -x265-params log-level=error:bframes=3:b-pyramid=0",
         2, 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        test_case(&h, &cases[i]);
    clock_destroy(h.clock);
    registry_destroy(h.reg);
    if (!getenv("RV_KEEP_MEDIA"))
        sh("rm -rf \"%s\"", h.dir);
    return tap_done();
}
