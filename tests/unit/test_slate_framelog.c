/**
 * @file tests/unit/test_slate_framelog.c
 * @short Drives the slate producer, the framelog sink and the null and tint
 *        renderers through their module entry, with a tiny host written
 *        here (no host library): malloc-backed reference-counted pictures
 *        and audio buffers, and option accessors over a key/value array.
 *
 * The module paths come from the build (SLATE_SO, FRAMELOG_SO, NULL_SO,
 * TINT_SO). Everything this file allocates is counted and must be back at
 * the end. Test-local globals only (the counters and the clock value).
 */
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <retrovue/retrovue.h>

#include "tap.h"

/* ---- the test host ------------------------------------------------------ */

static int test_live_pictures;
static int test_picture_allocs;
static int test_live_audio;
static int test_events;
static int64_t test_now_ns;

/** One configured value; a NULL key ends the list. */
typedef struct test_kv {
    const char *key;
    const char *s;
    int64_t i;
    double f;
} test_kv;

/* Opaque to modules; the test's own layout. */
struct rv_options {
    const rv_option *table;
    const test_kv *kv;
};

struct rv_context {
    int unused;
};

typedef struct test_picture {
    rv_video_frame frame;
    int refs;
    uint8_t *mem;
} test_picture;

typedef struct test_audio {
    rv_audio_buffer buf;
    int refs;
} test_audio;

static uint32_t test_width = 160;
static uint32_t test_height = 90;
#define TEST_AUDIO_SENTINEL 0x7777
#define TEST_AUDIO_SLACK 16

static void test_log(rv_context *ctx, rv_log_level level, const char *fmt, ...)
{
    va_list ap;
    (void)ctx;
    printf("# log %d: ", (int)level);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

static void test_vlog(rv_context *ctx, rv_log_level level, const char *fmt, va_list ap)
{
    (void)ctx;
    printf("# log %d: ", (int)level);
    vprintf(fmt, ap);
    printf("\n");
}

static int test_log_enabled(rv_context *ctx, rv_log_level level)
{
    (void)ctx;
    (void)level;
    return 1;
}

static int64_t test_clock_now(rv_context *ctx)
{
    (void)ctx;
    return test_now_ns;
}

static rv_video_frame *test_picture_new(uint32_t w, uint32_t h)
{
    test_picture *p = calloc(1, sizeof(*p));
    int32_t ys = (int32_t)((w + 31) / 32 * 32 + 32); /* stride wider than the picture */
    int32_t cs = (int32_t)(((w + 1) / 2 + 31) / 32 * 32 + 32);
    size_t bytes = (size_t)ys * h + 2 * (size_t)cs * ((h + 1) / 2);

    p->mem = malloc(bytes);
    memset(p->mem, 0xAB, bytes); /* contents undefined: make them visible */
    p->frame.plane[0] = p->mem;
    p->frame.plane[1] = p->mem + (size_t)ys * h;
    p->frame.plane[2] = p->frame.plane[1] + (size_t)cs * ((h + 1) / 2);
    p->frame.stride[0] = ys;
    p->frame.stride[1] = cs;
    p->frame.stride[2] = cs;
    p->frame.width = w;
    p->frame.height = h;
    p->frame.host_private = p;
    p->refs = 1;
    test_live_pictures++;
    test_picture_allocs++;
    return &p->frame;
}

static rv_video_frame *test_video_alloc(rv_context *ctx)
{
    (void)ctx;
    return test_picture_new(test_width, test_height);
}

static void test_video_ref(rv_video_frame *f)
{
    ((test_picture *)f->host_private)->refs++;
}

static void test_video_release(rv_video_frame *f)
{
    if (f == NULL)
        return;
    test_picture *p = f->host_private;
    if (--p->refs == 0) {
        free(p->mem);
        free(p);
        test_live_pictures--;
    }
}

static int test_refs(const rv_video_frame *f)
{
    return ((const test_picture *)f->host_private)->refs;
}

static int test_video_make_writable(rv_context *ctx, rv_video_frame **frame)
{
    rv_video_frame *old = *frame;
    (void)ctx;
    if (test_refs(old) == 1)
        return RV_OK;
    rv_video_frame *copy = test_picture_new(old->width, old->height);
    for (int pl = 0; pl < 3; pl++) {
        uint32_t w = pl ? (old->width + 1) / 2 : old->width;
        uint32_t h = pl ? (old->height + 1) / 2 : old->height;
        for (uint32_t y = 0; y < h; y++)
            memcpy(copy->plane[pl] + (size_t)y * copy->stride[pl],
                   old->plane[pl] + (size_t)y * old->stride[pl], w);
    }
    test_video_release(old);
    *frame = copy;
    return RV_OK;
}

static rv_audio_buffer *test_audio_alloc(rv_context *ctx, uint32_t samples)
{
    (void)ctx;
    test_audio *a = calloc(1, sizeof(*a));
    uint32_t cap = samples + TEST_AUDIO_SLACK;
    a->buf.data = malloc(sizeof(int16_t) * cap * 2);
    for (uint32_t i = 0; i < cap * 2; i++)
        a->buf.data[i] = TEST_AUDIO_SENTINEL;
    a->buf.samples = samples;
    a->buf.capacity = cap;
    a->buf.channels = 2;
    a->buf.host_private = a;
    a->refs = 1;
    test_live_audio++;
    return &a->buf;
}

static void test_audio_ref(rv_audio_buffer *b)
{
    ((test_audio *)b->host_private)->refs++;
}

static void test_audio_release(rv_audio_buffer *b)
{
    if (b == NULL)
        return;
    test_audio *a = b->host_private;
    if (--a->refs == 0) {
        free(a->buf.data);
        free(a);
        test_live_audio--;
    }
}

static const test_kv *test_find(const rv_options *o, const char *key, const rv_option **decl)
{
    *decl = NULL;
    for (const rv_option *d = o->table; d && d->key; d++)
        if (strcmp(d->key, key) == 0)
            *decl = d;
    for (const test_kv *kv = o->kv; kv && kv->key; kv++)
        if (strcmp(kv->key, key) == 0)
            return kv;
    if (*decl == NULL)
        printf("# BUG: undeclared option %s\n", key);
    return NULL;
}

static int test_opt_bool(const rv_options *o, const char *key)
{
    const rv_option *d;
    const test_kv *kv = test_find(o, key, &d);
    return kv ? (int)kv->i : d ? (int)d->default_int : 0;
}

static int64_t test_opt_int(const rv_options *o, const char *key)
{
    const rv_option *d;
    const test_kv *kv = test_find(o, key, &d);
    return kv ? kv->i : d ? d->default_int : 0;
}

static double test_opt_float(const rv_options *o, const char *key)
{
    const rv_option *d;
    const test_kv *kv = test_find(o, key, &d);
    return kv ? kv->f : d ? d->default_float : 0.0;
}

static const char *test_opt_string(const rv_options *o, const char *key)
{
    const rv_option *d;
    const test_kv *kv = test_find(o, key, &d);
    return kv ? kv->s : d ? d->default_string : NULL;
}

static int test_opt_is_set(const rv_options *o, const char *key)
{
    const rv_option *d;
    return test_find(o, key, &d) != NULL;
}

static void test_event(rv_context *ctx, rv_event_type type, int code, const char *subject,
                       const char *fmt, ...)
{
    va_list ap;
    (void)ctx;
    test_events++;
    printf("# event %d (%s) %s: ", (int)type, rv_strerror(code), subject ? subject : "");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

static const rv_host_api test_host = {
    .struct_size = sizeof(rv_host_api),
    .abi_major = RV_ABI_MAJOR,
    .abi_minor = RV_ABI_MINOR,
    .log = test_log,
    .vlog = test_vlog,
    .log_enabled = test_log_enabled,
    .clock_now_utc_ns = test_clock_now,
    .video_alloc = test_video_alloc,
    .video_ref = test_video_ref,
    .video_release = test_video_release,
    .video_make_writable = test_video_make_writable,
    .audio_alloc = test_audio_alloc,
    .audio_ref = test_audio_ref,
    .audio_release = test_audio_release,
    .opt_bool = test_opt_bool,
    .opt_int = test_opt_int,
    .opt_float = test_opt_float,
    .opt_string = test_opt_string,
    .opt_is_set = test_opt_is_set,
    .event = test_event,
};

static rv_context test_ctx;
static const rv_program_format test_format = {
    .width = 160, .height = 90, .frame_rate = {30000, 1001}, .audio_rate = 48000,
    .audio_channels = 2};

static const rv_module_info *test_load(const char *path, void **handle)
{
    *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (*handle == NULL) {
        printf("# dlopen %s: %s\n", path, dlerror());
        return NULL;
    }
    rv_module_entry_fn entry = (rv_module_entry_fn)dlsym(*handle, RV_MODULE_ENTRY_SYMBOL);
    return entry ? entry() : NULL;
}

static int test_create(int (*create)(const rv_create_args *, void **), const rv_module_info *m,
                       const test_kv *kv, const char *channel_name, void **state)
{
    rv_options opts = {.table = m->options, .kv = kv};
    rv_create_args args = {
        .struct_size = sizeof(args),
        .host = &test_host,
        .ctx = &test_ctx,
        .options = &opts,
        .format = &test_format,
        .channel_id = 1,
        .channel_name = channel_name,
    };
    /* The options set only needs to live during create for these modules'
     * strings that they copy; the test keeps kv alive for the whole run. */
    return create(&args, state);
}

static int test_has_option(const rv_module_info *m, const char *key, rv_option_type type)
{
    for (const rv_option *o = m->options; o && o->key; o++)
        if (strcmp(o->key, key) == 0)
            return o->type == type;
    return 0;
}

/* ---- slate -------------------------------------------------------------- */

typedef struct test_read {
    int rc;
    rv_video_frame *video;
    rv_audio_buffer *audio;
    int64_t offset_ms;
} test_read;

static test_read test_slate_read(const rv_producer_ops *ops, void *seg, int64_t tick, int64_t index)
{
    rv_produce out = {
        .tick = tick,
        .index = index,
        .audio = test_audio_alloc(&test_ctx, rv_samples_in_tick(test_format.frame_rate,
                                                                test_format.audio_rate, tick)),
        .video = NULL,
        .asset_offset_ms = -7,
    };
    test_read r = {.audio = out.audio};
    r.rc = ops->read(seg, &out);
    r.video = out.video;
    r.offset_ms = out.asset_offset_ms;
    return r;
}

static void test_read_free(test_read *r)
{
    test_video_release(r->video);
    test_audio_release(r->audio);
    r->video = NULL;
    r->audio = NULL;
}

static rv_segment_request test_request(const char *uri, int64_t first_tick, int64_t frames)
{
    return (rv_segment_request){
        .struct_size = sizeof(rv_segment_request),
        .asset_uri = uri,
        .asset_start_offset_ms = 0,
        .join_offset_ns = 0,
        .first_tick = first_tick,
        .frame_count = frames,
        .type = RV_SEGMENT_FILLER,
        .event_id = "",
        .gain_db = 0.0,
        .transition_in = {.type = RV_TRANSITION_NONE},
        .transition_out = {.type = RV_TRANSITION_NONE},
    };
}

/* Every sample of @p a zero and the slack past `samples` untouched. */
static int test_audio_silent(const rv_audio_buffer *a)
{
    for (uint32_t i = 0; i < a->samples * a->channels; i++)
        if (a->data[i] != 0)
            return 0;
    for (uint32_t i = a->samples * a->channels; i < a->capacity * a->channels; i++)
        if (a->data[i] != TEST_AUDIO_SENTINEL)
            return 0;
    return 1;
}

/* Every visible pixel of the picture has this Y, U and V. */
static int test_picture_is(const rv_video_frame *f, int y, int u, int v)
{
    for (uint32_t row = 0; row < f->height; row++)
        for (uint32_t x = 0; x < f->width; x++)
            if (f->plane[0][row * f->stride[0] + x] != y)
                return 0;
    for (uint32_t row = 0; row < (f->height + 1) / 2; row++)
        for (uint32_t x = 0; x < (f->width + 1) / 2; x++)
            if (f->plane[1][row * f->stride[1] + x] != u ||
                f->plane[2][row * f->stride[2] + x] != v)
                return 0;
    return 1;
}

static int test_count_luma(const rv_video_frame *f, int value)
{
    int n = 0;
    for (uint32_t row = 0; row < f->height; row++)
        for (uint32_t x = 0; x < f->width; x++)
            n += f->plane[0][row * f->stride[0] + x] == value;
    return n;
}

static int test_luma_equal(const rv_video_frame *a, const rv_video_frame *b)
{
    for (uint32_t row = 0; row < a->height; row++)
        if (memcmp(a->plane[0] + row * a->stride[0], b->plane[0] + row * b->stride[0], a->width))
            return 0;
    return 1;
}

static void test_snapshot_luma(const rv_video_frame *f, uint8_t *out)
{
    for (uint32_t row = 0; row < f->height; row++)
        memcpy(out + row * f->width, f->plane[0] + row * f->stride[0], f->width);
}

/* Frames released at once (a host that keeps up): two pictures serve every
 * second, each repainted only when nobody else holds it. */
static void test_slate_recycle(const rv_module_info *m)
{
    const rv_producer_ops *ops = m->producer;
    void *state = NULL;
    void *seg = NULL;
    test_kv none[] = {{.key = NULL}};
    static uint8_t luma_0[160 * 90];
    static uint8_t luma_60[160 * 90];

    test_create(ops->create, m, none, "Recycle", &state);
    rv_segment_request req = test_request("slate:", 0, 300);
    tap_ok(ops->open(state, &req, &seg) == RV_OK, "slate recycle: open");
    int allocs = test_picture_allocs;
    rv_video_frame *seen[2] = {NULL, NULL};
    int distinct = 0;
    int ok = 1;
    for (int k = 0; k < 300; k++) {
        test_read r = test_slate_read(ops, seg, k, k);
        ok &= r.rc == RV_OK;
        if (r.video != seen[0] && r.video != seen[1] && distinct < 2)
            seen[distinct++] = r.video;
        else if (r.video != seen[0] && r.video != seen[1])
            distinct++;
        if (k == 0)
            test_snapshot_luma(r.video, luma_0);
        if (k == 60)
            test_snapshot_luma(r.video, luma_60);
        test_read_free(&r);
    }
    tap_ok(ok && distinct == 2 && test_picture_allocs - allocs == 2,
           "slate recycle: 10 seconds served by 2 pictures (%d allocated)",
           test_picture_allocs - allocs);
    tap_ok(memcmp(luma_0, luma_60, sizeof(luma_0)) != 0,
           "slate recycle: a reused picture shows the new clock");
    ops->close(seg);
    ops->destroy(state);
}

static void test_slate_defaults(const rv_module_info *m)
{
    const rv_producer_ops *ops = m->producer;
    void *state = NULL;
    void *seg = NULL;
    test_kv none[] = {{.key = NULL}};
    enum { HELD = 31, FRAMES = 100 };
    test_read held[HELD];
    static uint8_t first_luma[160 * 90];

    test_now_ns = 1763712000LL * 1000000000LL; /* 08:00:00 UTC, a whole second */
    tap_ok(test_create(ops->create, m, none, "Test Channel", &state) == RV_OK,
           "slate: create with default options");
    rv_segment_request req = test_request("slate:", 0, FRAMES);
    tap_ok(ops->open(state, &req, &seg) == RV_OK, "slate: open slate:");

    int ok_reads = 0;
    int exact_audio = 1;
    int silent = 1;
    int offsets_ok = 1;
    for (int k = 0; k < FRAMES; k++) {
        test_read r = test_slate_read(ops, seg, k, k);
        uint32_t want = rv_samples_in_tick(test_format.frame_rate, test_format.audio_rate, k);
        ok_reads += r.rc == RV_OK && r.video != NULL;
        exact_audio &= r.audio->samples == want;
        silent &= test_audio_silent(r.audio);
        offsets_ok &= r.offset_ms == rv_ticks_to_ns(test_format.frame_rate, k) / 1000000;
        if (k == 0)
            test_snapshot_luma(r.video, first_luma);
        if (k < HELD)
            held[k] = r;
        else
            test_read_free(&r);
    }
    tap_ok(ok_reads == FRAMES, "slate: %d of %d frames delivered", ok_reads, FRAMES);
    test_read eof = test_slate_read(ops, seg, FRAMES, FRAMES);
    tap_ok(eof.rc == RV_EOF && eof.video == NULL, "slate: RV_EOF after frame_count frames");
    test_read_free(&eof);
    eof = test_slate_read(ops, seg, FRAMES + 1, FRAMES + 1);
    tap_ok(eof.rc == RV_EOF, "slate: RV_EOF again on the next read");
    test_read_free(&eof);
    tap_ok(exact_audio, "slate: audio sample counts left as preset (1601/1602 pattern)");
    tap_ok(silent, "slate: tone_hz 0 gives silence, nothing written past the samples");
    tap_ok(offsets_ok, "slate: asset_offset_ms is the position in the segment");

    int same = 1;
    for (int k = 1; k < 30; k++)
        same &= held[k].video == held[0].video;
    tap_ok(same, "slate: one picture reused for ticks 0..29 (same second)");
    tap_ok(held[30].video != held[29].video, "slate: a new picture at tick 30 (clock changed)");
    tap_ok(!test_luma_equal(held[30].video, held[29].video),
           "slate: the new picture's clock text differs");
    tap_ok(test_refs(held[0].video) == 30,
           "slate: the first card has exactly the 30 references handed out (slate dropped its own)");
    tap_ok(test_count_luma(held[0].video, 235) > 50, "slate: text drawn in white (Y 235)");
    tap_ok(held[0].video->plane[0][0] == 180 && held[0].video->plane[1][0] == 128,
           "slate: default pattern is bars (top-left 75%% white)");
    uint8_t *now_luma = malloc(160 * 90);
    test_snapshot_luma(held[0].video, now_luma);
    tap_ok(memcmp(now_luma, first_luma, 160 * 90) == 0,
           "slate: a card is never written while the host holds it");
    free(now_luma);
    for (int k = 0; k < HELD; k++)
        test_read_free(&held[k]);
    tap_ok(test_live_pictures == 2, "slate: only the current card and its spare are alive (%d)",
           test_live_pictures);
    ops->close(seg);
    ops->destroy(state);
    tap_ok(test_live_pictures == 0 && test_live_audio == 0,
           "slate: every picture and buffer back after close/destroy");
}

static void test_slate_tone(const rv_module_info *m)
{
    const rv_producer_ops *ops = m->producer;
    void *state = NULL;
    void *seg = NULL;
    test_kv kv[] = {{.key = "tone_hz", .i = 1000}, {.key = "tone_db", .f = -20.0},
                    {.key = "show_clock", .i = 0}, {.key = NULL}};

    tap_ok(test_create(ops->create, m, kv, "T", &state) == RV_OK, "slate tone: create");
    rv_segment_request req = test_request("slate:default", 100, 10);
    tap_ok(ops->open(state, &req, &seg) == RV_OK, "slate tone: open slate:default at tick 100");

    double amp = 32767.0 * pow(10.0, -20.0 / 20.0);
    int64_t n = rv_ticks_to_samples(test_format.frame_rate, test_format.audio_rate, 100);
    int match = 1;
    int stereo = 1;
    int slack = 1;
    int nonzero = 0;
    int peak = 0;
    for (int k = 0; k < 10; k++) {
        test_read r = test_slate_read(ops, seg, 100 + k, k);
        match &= r.rc == RV_OK;
        for (uint32_t i = 0; i < r.audio->samples; i++, n++) {
            int16_t l = r.audio->data[2 * i];
            double want = amp * sin(2.0 * M_PI * (double)((n * 1000) % 48000) / 48000.0);
            match &= fabs(l - want) <= 1.0;
            stereo &= r.audio->data[2 * i + 1] == l;
            nonzero += l != 0;
            peak = abs(l) > peak ? abs(l) : peak;
        }
        for (uint32_t i = r.audio->samples * 2; i < r.audio->capacity * 2; i++)
            slack &= r.audio->data[i] == TEST_AUDIO_SENTINEL;
        test_read_free(&r);
    }
    tap_ok(match, "slate tone: 1 kHz sine, phase continuous across ticks from the channel's "
                  "sample clock");
    tap_ok(stereo && slack, "slate tone: same on both channels, exact sample count");
    tap_ok(nonzero > 10000 && peak >= 3276 && peak <= 3277, "slate tone: -20 dBFS (peak %d)",
           peak);
    ops->close(seg);

    /* slate:black: pure black and silence even with a tone configured */
    tap_ok(ops->open(state, &(rv_segment_request){.struct_size = sizeof(rv_segment_request),
                                                  .asset_uri = "slate:black",
                                                  .frame_count = 2},
                     &seg) == RV_OK,
           "slate:black: open");
    test_read r = test_slate_read(ops, seg, 0, 0);
    tap_ok(r.rc == RV_OK && test_picture_is(r.video, 16, 128, 128),
           "slate:black: every pixel Y16 U128 V128, no text");
    tap_ok(test_audio_silent(r.audio), "slate:black: silence");
    test_read_free(&r);
    ops->close(seg);
    ops->destroy(state);
}

static void test_slate_solid(const rv_module_info *m)
{
    const rv_producer_ops *ops = m->producer;
    void *state = NULL;
    void *seg = NULL;
    test_kv kv[] = {{.key = "pattern", .s = "solid"}, {.key = "color", .s = "#FF0000"},
                    {.key = "show_clock", .i = 0}, {.key = NULL}};

    tap_ok(test_create(ops->create, m, kv, "", &state) == RV_OK, "slate solid: create");
    rv_segment_request req = test_request("slate:", 0, 3);
    tap_ok(ops->open(state, &req, &seg) == RV_OK, "slate solid: open");
    test_read a = test_slate_read(ops, seg, 0, 0);
    test_read b = test_slate_read(ops, seg, 1, 1);
    tap_ok(a.rc == RV_OK && test_picture_is(a.video, 82, 90, 240),
           "slate solid: #FF0000 is Y82 U90 V240 everywhere (no title, no clock)");
    tap_ok(b.video == a.video, "slate solid: without the clock one picture serves the segment");
    test_read_free(&a);
    test_read_free(&b);
    ops->close(seg);

    req = test_request("slate:bars", 0, 1);
    tap_ok(ops->open(state, &req, &seg) == RV_OK, "slate:bars overrides pattern=solid: open");
    a = test_slate_read(ops, seg, 0, 0);
    const rv_video_frame *f = a.video;
    tap_ok(f->plane[0][0] == 180 && f->plane[0][f->width - 1] == 35 &&
               f->plane[1][(f->width - 1) / 2] == 212,
           "slate:bars: white bar at the left, blue at the right");
    test_read_free(&a);
    ops->close(seg);

    seg = NULL;
    req = test_request("file:/x.mp4", 0, 1);
    int events = test_events;
    tap_ok(ops->open(state, &req, &seg) == RV_EINVAL && seg == NULL && test_events == events + 1,
           "slate: a file: URI is refused with an event");
    req = test_request("slate:nope", 0, 1);
    tap_ok(ops->open(state, &req, &seg) == RV_EINVAL, "slate: an unknown variant is refused");
    req = test_request("slate:", 0, 0);
    tap_ok(ops->open(state, &req, &seg) == RV_OK, "slate: open a zero-frame segment");
    a = test_slate_read(ops, seg, 0, 0);
    tap_ok(a.rc == RV_EOF, "slate: zero-frame budget reads RV_EOF at once");
    test_read_free(&a);
    ops->close(seg);
    ops->destroy(state);

    test_kv bad[] = {{.key = "color", .s = "red"}, {.key = NULL}};
    state = NULL;
    tap_ok(test_create(ops->create, m, bad, "x", &state) == RV_EINVAL && state == NULL,
           "slate: color 'red' refused");
}

static void test_slate(void)
{
    void *handle = NULL;
    const rv_module_info *m = test_load(SLATE_SO, &handle);

    if (!tap_ok(m != NULL && m->kind == RV_KIND_PRODUCER && strcmp(m->name, "slate") == 0 &&
                    m->producer != NULL,
                "slate: entry symbol returns a producer named slate"))
        return;
    int scheme = 0;
    for (const char *const *s = m->producer->schemes; s && *s; s++)
        scheme |= strcmp(*s, "slate") == 0;
    tap_ok(scheme, "slate: serves the slate scheme");
    tap_ok(test_has_option(m, "pattern", RV_OPT_ENUM) && test_has_option(m, "color", RV_OPT_STRING) &&
               test_has_option(m, "text", RV_OPT_STRING) &&
               test_has_option(m, "show_clock", RV_OPT_BOOL) &&
               test_has_option(m, "tone_hz", RV_OPT_INT) &&
               test_has_option(m, "tone_db", RV_OPT_FLOAT),
           "slate: declares pattern, color, text, show_clock, tone_hz, tone_db");
    test_slate_defaults(m);
    test_slate_recycle(m);
    test_slate_tone(m);
    test_slate_solid(m);
    tap_ok(test_live_pictures == 0 && test_live_audio == 0, "slate: nothing leaked");
    dlclose(handle);
}

/* ---- renderers ---------------------------------------------------------- */

static void test_renderers(void)
{
    void *handle = NULL;
    const rv_module_info *m = test_load(NULL_SO, &handle);
    void *state = NULL;
    test_kv none[] = {{.key = NULL}};

    if (tap_ok(m != NULL && m->kind == RV_KIND_RENDERER && strcmp(m->name, "null") == 0,
               "null: a renderer named null")) {
        rv_video_frame *f = test_picture_new(16, 8);
        uint8_t before[16 * 8 + 32];
        memcpy(before, f->plane[0], sizeof(before));
        rv_tick tick = {.tick = 5, .video = f, .source = RV_SOURCE_REAL};
        rv_tick copy = tick;
        tap_ok(test_create(m->renderer->create, m, none, "x", &state) == RV_OK, "null: create");
        tap_ok(m->renderer->render(state, &tick) == RV_OK && memcmp(&tick, &copy, sizeof(tick)) == 0 &&
                   memcmp(before, f->plane[0], sizeof(before)) == 0 && test_refs(f) == 1,
               "null: render returns RV_OK and touches nothing");
        m->renderer->destroy(state);
        test_video_release(f);
    }
    dlclose(handle);

    m = test_load(TINT_SO, &handle);
    if (tap_ok(m != NULL && m->kind == RV_KIND_RENDERER && strcmp(m->name, "tint") == 0,
               "tint: the guide's example loads as a renderer named tint")) {
        test_kv kv[] = {{.key = "u", .i = 100}, {.key = "v", .i = 200}, {.key = "strength", .i = 50},
                        {.key = NULL}};
        rv_video_frame *f = test_picture_new(16, 8);
        memset(f->plane[1], 128, (size_t)f->stride[1] * 4);
        memset(f->plane[2], 128, (size_t)f->stride[2] * 4);
        test_video_ref(f); /* shared: like the slate card */
        rv_tick tick = {.tick = 1, .video = f};
        tap_ok(test_create(m->renderer->create, m, kv, "x", &state) == RV_OK, "tint: create");
        int rc = m->renderer->render(state, &tick);
        tap_ok(rc == RV_OK && tick.video != f && f->plane[1][0] == 128 && test_refs(f) == 1,
               "tint: a shared picture is copied, the original left alone");
        tap_ok(tick.video->plane[1][0] == 114 && tick.video->plane[2][7] == 164,
               "tint: chroma pulled half way to the target (U %d, V %d)", tick.video->plane[1][0],
               tick.video->plane[2][7]);
        rv_video_frame *mine = tick.video;
        rc = m->renderer->render(state, &tick);
        tap_ok(rc == RV_OK && tick.video == mine && tick.video->plane[1][0] == 107,
               "tint: an exclusive picture is modified in place");
        test_video_release(tick.video);
        test_video_release(f);
        m->renderer->destroy(state);
    }
    dlclose(handle);
    tap_ok(test_live_pictures == 0, "renderers: nothing leaked");
}

/* ---- framelog ----------------------------------------------------------- */

/* Bitwise CRC-32 (IEEE, reflected), independent of the module's tables. */
static uint32_t test_crc32(uint32_t crc, const uint8_t *p, size_t n)
{
    crc = ~crc;
    while (n--) {
        crc ^= *p++;
        for (int b = 0; b < 8; b++)
            crc = (crc & 1) ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
    }
    return ~crc;
}

static char *test_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = calloc(1, (size_t)n + 1);
    if (fread(s, 1, (size_t)n, f) != (size_t)n)
        s[0] = '\0';
    fclose(f);
    return s;
}

/* Line @p i (0-based) of @p text into @p out; 0 if there is none. */
static int test_line(const char *text, int i, char *out, size_t len)
{
    const char *p = text;
    for (; i > 0 && p; i--) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    if (p == NULL || *p == '\0')
        return 0;
    const char *e = strchr(p, '\n');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    if (n >= len)
        n = len - 1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 1;
}

static int test_count_lines(const char *text)
{
    int n = 0;
    for (const char *p = text; *p; p++)
        n += *p == '\n';
    return n;
}

static int test_json_valid(const char *path)
{
    char cmd[512];
    if (access("/usr/bin/python3", X_OK) != 0)
        return -1;
    snprintf(cmd, sizeof(cmd),
             "/usr/bin/python3 -c 'import json,sys\nfor l in open(sys.argv[1]): json.loads(l)' "
             "'%s'",
             path);
    return system(cmd) == 0;
}

static rv_tick test_tick(int64_t n, rv_tick_source src, const char *block, int32_t index,
                         int64_t first, int64_t end, rv_video_frame *video, rv_audio_buffer *audio)
{
    return (rv_tick){
        .tick = n,
        .utc_ns = 1763712000000000000LL + rv_ticks_to_ns(test_format.frame_rate, n),
        .source = src,
        .video = video,
        .audio = audio,
        .block_id = block,
        .segment_index = index,
        .event_id = "EV-1",
        .asset_uri = "slate:",
        .segment_first_tick = first,
        .segment_end_tick = end,
        .asset_offset_ms = 0,
    };
}

static void test_framelog_ticks(const rv_module_info *m, const char *dir)
{
    const rv_sink_ops *ops = m->sink;
    char path[256];
    void *state = NULL;

    snprintf(path, sizeof(path), "%s/ticks.jsonl", dir);
    test_kv kv[] = {{.key = "path", .s = path}, {.key = "mode", .s = "ticks"}, {.key = NULL}};
    tap_ok(test_create(ops->create, m, kv, "x", &state) == RV_OK, "framelog ticks: create");
    rv_tick early = test_tick(0, RV_SOURCE_REAL, "b1", 0, 0, 10, NULL, NULL);
    tap_ok(ops->write(state, &early) == RV_ESTATE, "framelog: write before start is RV_ESTATE");
    tap_ok(ops->start(state) == RV_OK, "framelog ticks: start");
    tap_ok(ops->start(state) == RV_ESTATE, "framelog: a second start is RV_ESTATE");

    /* Tick 0: a 9x1 picture "123456789": CRC-32 0xCBF43926. */
    rv_video_frame *digits = test_picture_new(9, 1);
    memcpy(digits->plane[0], "123456789", 9);
    rv_audio_buffer *audio = test_audio_alloc(&test_ctx, 1601);
    rv_tick t = test_tick(0, RV_SOURCE_REAL, "b1", 0, 0, 10, digits, audio);
    t.utc_ns = 1763712000123999999LL;
    t.event_id = "EV\"1\\";
    t.asset_uri = "file:/x.mp4";
    t.asset_offset_ms = 4100;
    tap_ok(ops->write(state, &t) == RV_OK, "framelog ticks: write tick 0");

    /* Tick 1: a constant plane with garbage in the stride padding. */
    rv_video_frame *flat = test_picture_new(64, 8);
    for (int y = 0; y < 8; y++)
        memset(flat->plane[0] + y * flat->stride[0], 0x80, 64);
    uint8_t ref[64 * 8];
    memset(ref, 0x80, sizeof(ref));
    uint32_t flat_crc = test_crc32(0, ref, sizeof(ref));
    t = test_tick(1, RV_SOURCE_FREEZE, "b1", 0, 0, 10, flat, audio);
    tap_ok(ops->write(state, &t) == RV_OK, "framelog ticks: write tick 1");
    /* Ticks 2, 3, 5 (4 missing), 5 again (repeated). */
    int64_t seq[] = {2, 3, 5, 5};
    int writes_ok = 1;
    for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
        t = test_tick(seq[i], RV_SOURCE_PAD, "b1", 1, 2, 10, flat, audio);
        writes_ok &= ops->write(state, &t) == RV_OK;
    }
    tap_ok(writes_ok, "framelog ticks: write ticks 2, 3, 5, 5");
    ops->stop(state);

    char *text = test_read_file(path);
    char line[1024];
    char want[1024];
    tap_ok(text != NULL && test_count_lines(text) == 6, "framelog ticks: one line per tick (6)");
    test_line(text ? text : "", 0, line, sizeof(line));
    snprintf(want, sizeof(want),
             "{\"tick\":0,\"utc_ms\":1763712000123,\"source\":\"real\",\"block_id\":\"b1\","
             "\"segment_index\":0,\"event_id\":\"EV\\\"1\\\\\",\"asset_uri\":\"file:/x.mp4\","
             "\"asset_offset_ms\":4100,\"audio_samples\":1601,\"y_crc32\":%u}",
             0xCBF43926u);
    tap_ok(strcmp(line, want) == 0, "framelog ticks: exact keys, order, escaping, CRC of "
                                    "\"123456789\" = 0xCBF43926");
    if (strcmp(line, want) != 0)
        tap_diag("got  %s\n# want %s", line, want);
    test_line(text ? text : "", 1, line, sizeof(line));
    snprintf(want, sizeof(want), "\"source\":\"freeze\"");
    char crc_field[64];
    snprintf(crc_field, sizeof(crc_field), "\"y_crc32\":%u}", flat_crc);
    tap_ok(strstr(line, want) && strstr(line, crc_field),
           "framelog ticks: CRC over width bytes of each row, not the stride (%u)", flat_crc);
    test_line(text ? text : "", 4, line, sizeof(line));
    tap_ok(strncmp(line, "{\"tick\":5,", 10) == 0 && strstr(line, "\"source\":\"pad\""),
           "framelog ticks: line 5 is tick 5, pad");
    tap_ok(test_json_valid(path) != 0, "framelog ticks: every line parses as JSON");

    rv_sink_stats stats = {.struct_size = sizeof(stats), .dropped_frames = 99};
    int stats_rc = ops->get_stats(state, &stats);
    tap_ok(stats_rc == RV_OK && text &&
               stats.bytes == (uint64_t)strlen(text) && stats.dropped_frames == 0,
           "framelog: get_stats counts the bytes written (%llu)",
           (unsigned long long)stats.bytes);
    char where[300];
    char want_where[300];
    snprintf(want_where, sizeof(want_where), "file:%s", path);
    tap_ok(ops->describe(state, where, sizeof(where)) == RV_OK && strcmp(where, want_where) == 0,
           "framelog: describe gives file:<path>");

    /* A restart (the host after an error) appends. */
    t = test_tick(6, RV_SOURCE_REAL, "b1", 1, 2, 10, flat, audio);
    tap_ok(ops->start(state) == RV_OK && ops->write(state, &t) == RV_OK,
           "framelog: restart and write");
    ops->stop(state);
    free(text);
    text = test_read_file(path);
    tap_ok(text && test_count_lines(text) == 7, "framelog: a restart appends, losing nothing");
    free(text);
    ops->destroy(state);

    /* crc = false */
    kv[1] = (test_kv){.key = "crc", .i = 0};
    state = NULL;
    tap_ok(test_create(ops->create, m, kv, "x", &state) == RV_OK && ops->start(state) == RV_OK,
           "framelog crc=false: create, start");
    /* a block id with a control character and a byte that is not UTF-8 */
    t = test_tick(0, RV_SOURCE_SLATE, "b\x01\xff", -1, 0, INT64_MAX, flat, audio);
    tap_ok(ops->write(state, &t) == RV_OK, "framelog crc=false: write");
    ops->stop(state);
    ops->destroy(state);
    text = test_read_file(path);
    const char *last = NULL;   /* the last line */
    if (text && strlen(text) >= 2) {
        last = text + strlen(text) - 2;
        while (last > text && last[-1] != '\n')
            last--;
    }
    tap_ok(text && test_count_lines(text) == 8 && last &&
               strstr(last, "\"y_crc32\":null}\n") && strstr(last, "\"segment_index\":-1,"),
           "framelog crc=false: a new instance appends (8 lines), y_crc32 is null");
    tap_ok(last && strstr(last, "\"block_id\":\"b\\u0001\xef\xbf\xbd\"") &&
               test_json_valid(path) != 0,
           "framelog: a control character escaped, \\xff as U+FFFD; every line valid UTF-8 JSON");
    free(text);

    /* A folder that does not exist. */
    snprintf(path, sizeof(path), "%s/no/such/dir/x.jsonl", dir);
    kv[1] = (test_kv){.key = NULL};
    state = NULL;
    tap_ok(test_create(ops->create, m, kv, "x", &state) == RV_OK &&
               ops->start(state) == RV_ENOENT,
           "framelog: start in a missing folder is RV_ENOENT");
    ops->destroy(state);

    test_video_release(digits);
    test_video_release(flat);
    test_audio_release(audio);
    snprintf(path, sizeof(path), "%s/ticks.jsonl", dir);
    unlink(path);
}

static void test_framelog_summary(const rv_module_info *m, const char *dir)
{
    const rv_sink_ops *ops = m->sink;
    char path[256];
    void *state = NULL;

    snprintf(path, sizeof(path), "%s/summary.jsonl", dir);
    test_kv kv[] = {{.key = "path", .s = path}, {.key = "mode", .s = "summary"},
                    {.key = "flush", .s = "line"}, {.key = NULL}};
    tap_ok(test_create(ops->create, m, kv, "x", &state) == RV_OK && ops->start(state) == RV_OK,
           "framelog summary: create, start");
    rv_video_frame *pic = test_picture_new(16, 8);

    /* b1/0 ticks 0-9; b1/1 ticks 10-19 (half real, half pad); tick 20 missing;
     * b2/0 ticks 21-24 slate, 24 repeated; b1/0 again (a loop) ticks 25-29. */
    struct {
        int64_t from, to;
        const char *block;
        int32_t index;
        int64_t first, end;
        rv_tick_source src;
    } runs[] = {
        {0, 9, "b1", 0, 0, 10, RV_SOURCE_REAL},   {10, 14, "b1", 1, 10, 20, RV_SOURCE_REAL},
        {15, 19, "b1", 1, 10, 20, RV_SOURCE_PAD}, {21, 24, "b2", 0, 20, 25, RV_SOURCE_SLATE},
        {24, 24, "b2", 0, 20, 25, RV_SOURCE_SLATE}, {25, 29, "b1", 0, 25, 35, RV_SOURCE_REAL},
    };
    int64_t samples[6] = {0};
    int writes_ok = 1;
    for (size_t r = 0; r < sizeof(runs) / sizeof(runs[0]); r++)
        for (int64_t n = runs[r].from; n <= runs[r].to; n++) {
            uint32_t s = rv_samples_in_tick(test_format.frame_rate, test_format.audio_rate, n);
            rv_audio_buffer *a = test_audio_alloc(&test_ctx, s);
            rv_tick t = test_tick(n, runs[r].src, runs[r].block, runs[r].index, runs[r].first,
                                  runs[r].end, pic, a);
            writes_ok &= ops->write(state, &t) == RV_OK;
            samples[r] += s;
            test_audio_release(a);
        }
    tap_ok(writes_ok, "framelog summary: 30 writes");
    char *mid = test_read_file(path);
    tap_ok(mid && test_count_lines(mid) == 3,
           "framelog summary: flush=line: the 3 ended segments are on disk before stop");
    free(mid);
    ops->stop(state);
    ops->destroy(state);

    char *text = test_read_file(path);
    char line[1024];
    char want[1024];
    int64_t total_samples = 0;
    for (int r = 0; r < 6; r++)
        total_samples += samples[r];
    tap_ok(text && test_count_lines(text) == 5, "framelog summary: 4 segment lines and a total");

    test_line(text ? text : "", 0, line, sizeof(line));
    snprintf(want, sizeof(want),
             "{\"type\":\"segment\",\"block_id\":\"b1\",\"segment_index\":0,\"event_id\":\"EV-1\","
             "\"asset_uri\":\"slate:\",\"first_tick\":0,\"last_tick\":9,\"ticks\":10,\"real\":10,"
             "\"freeze\":0,\"slate\":0,\"pad\":0,\"audio_samples\":%lld,\"expected_first_tick\":0,"
             "\"expected_end_tick\":10}",
             (long long)samples[0]);
    tap_ok(strcmp(line, want) == 0, "framelog summary: first segment line exact");
    if (strcmp(line, want) != 0)
        tap_diag("got  %s\n# want %s", line, want);

    test_line(text ? text : "", 1, line, sizeof(line));
    snprintf(want, sizeof(want),
             "\"first_tick\":10,\"last_tick\":19,\"ticks\":10,\"real\":5,\"freeze\":0,\"slate\":0,"
             "\"pad\":5,\"audio_samples\":%lld,\"expected_first_tick\":10,\"expected_end_tick\":20}",
             (long long)(samples[1] + samples[2]));
    tap_ok(strstr(line, want) != NULL, "framelog summary: b1/1 counts real and pad");

    test_line(text ? text : "", 2, line, sizeof(line));
    tap_ok(strstr(line, "\"block_id\":\"b2\"") &&
               strstr(line, "\"first_tick\":21,\"last_tick\":24,\"ticks\":5,\"real\":0,"
                            "\"freeze\":0,\"slate\":5,") &&
               strstr(line, "\"expected_first_tick\":20,\"expected_end_tick\":25}"),
           "framelog summary: b2/0 seen from 21 (20 missing), expected from 20");

    test_line(text ? text : "", 3, line, sizeof(line));
    tap_ok(strstr(line, "\"block_id\":\"b1\",\"segment_index\":0,") &&
               strstr(line, "\"first_tick\":25,\"last_tick\":29,\"ticks\":5,") &&
               strstr(line, "\"expected_first_tick\":25,\"expected_end_tick\":35}"),
           "framelog summary: a loop's second iteration is its own line");

    test_line(text ? text : "", 4, line, sizeof(line));
    snprintf(want, sizeof(want),
             "{\"type\":\"total\",\"ticks\":30,\"first_tick\":0,\"last_tick\":29,\"real\":20,"
             "\"freeze\":0,\"slate\":5,\"pad\":5,\"audio_samples\":%lld,\"missing\":1,"
             "\"repeated\":1}",
             (long long)total_samples);
    tap_ok(strcmp(line, want) == 0, "framelog summary: total counts 1 missing, 1 repeated");
    if (strcmp(line, want) != 0)
        tap_diag("got  %s\n# want %s", line, want);
    tap_ok(test_json_valid(path) != 0, "framelog summary: every line parses as JSON");
    free(text);
    test_video_release(pic);
    unlink(path);
}

static void test_framelog(void)
{
    void *handle = NULL;
    const rv_module_info *m = test_load(FRAMELOG_SO, &handle);
    char dir[] = "/tmp/rv-framelog-test-XXXXXX";

    if (!tap_ok(m != NULL && m->kind == RV_KIND_SINK && strcmp(m->name, "framelog") == 0 &&
                    m->sink != NULL,
                "framelog: entry symbol returns a sink named framelog"))
        return;
    tap_ok(test_has_option(m, "path", RV_OPT_PATH) && test_has_option(m, "mode", RV_OPT_ENUM) &&
               test_has_option(m, "crc", RV_OPT_BOOL) && test_has_option(m, "flush", RV_OPT_ENUM),
           "framelog: declares path, mode, crc, flush");
    if (mkdtemp(dir) == NULL) {
        tap_ok(0, "framelog: a temporary folder");
        return;
    }
    test_framelog_ticks(m, dir);
    test_framelog_summary(m, dir);
    rmdir(dir);
    tap_ok(test_live_pictures == 0 && test_live_audio == 0, "framelog: nothing leaked");
    dlclose(handle);
}

int main(void)
{
    uint32_t check = test_crc32(0, (const uint8_t *)"123456789", 9);
    tap_ok(check == 0xCBF43926u, "test's own CRC-32 of \"123456789\" is 0xCBF43926");
    test_slate();
    test_renderers();
    test_framelog();
    return tap_done();
}
