/**
 * @file tests/integration/testsrc/testsrc.c
 * @short "testsrc": a producer for the executor's integration tests. It serves
 *        `test:` URIs describing a finite, failing or hanging asset, so the
 *        host's pad, slate, recovery and watchdog paths can be driven exactly.
 *
 * URI: test:[frames=N][&fail_at=K][&open_fail=CODE][&hang_at=K|&hang_after=K][&hang_ms=M]
 *  frames=N      the asset has N frames from its start (then RV_EOF)
 *  fail_at=K     read of source frame K returns RV_EIO (once per open)
 *  open_fail=1   open fails with RV_ENOENT
 *  hang_at=K     read of source frame K blocks for hang_ms (default 2000)
 *  hang_after=K  the K-th read (from 0) of the first segment opened with it
 *                blocks for hang_ms, once per producer instance: a hang that
 *                does not depend on where the channel joined the asset
 * Each picture is a flat grey whose level encodes the source frame number
 * (so the framelog's Y CRC differs per frame) and asset_offset_ms is the
 * position the host asked for. Built only for tests, never into build/modules.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <retrovue/retrovue.h>

typedef struct testsrc {
    const rv_host_api *host;
    rv_context *ctx;
    rv_program_format format;
    int hung;           /**< a hang_after hang has happened (producer thread) */
} testsrc;

typedef struct testsrc_segment {
    testsrc *src;
    rv_segment_request req;
    int64_t frames;     /**< asset length in frames, -1 = unlimited */
    int64_t fail_at;
    int64_t hang_at;
    int64_t hang_ms;
    int64_t hang_after;
    int64_t reads;      /**< reads served by this segment so far */
    int failed_once;
} testsrc_segment;

static const char *const testsrc_schemes[] = {"test", NULL};

static int64_t testsrc_param(const char *uri, const char *key, int64_t dflt)
{
    size_t klen = strlen(key);
    const char *p = strchr(uri, ':');
    p = p ? p + 1 : uri;
    while (*p) {
        if (strncmp(p, key, klen) == 0 && p[klen] == '=')
            return strtoll(p + klen + 1, NULL, 10);
        p = strchr(p, '&');
        if (!p)
            break;
        p++;
    }
    return dflt;
}

/* Control thread. @p args borrowed; pointers inside valid until destroy. */
static int testsrc_create(const rv_create_args *args, void **state)
{
    testsrc *s = calloc(1, sizeof(*s));
    if (!s)
        return RV_ENOMEM;
    s->host = args->host;
    s->ctx = args->ctx;
    s->format = *args->format;
    *state = s;
    return RV_OK;
}

/* Control thread. */
static void testsrc_destroy(void *state)
{
    free(state);
}

/* Preload thread. @p req borrowed until close. */
static int testsrc_open(void *state, const rv_segment_request *req, void **segment)
{
    testsrc *s = state;
    if (testsrc_param(req->asset_uri, "open_fail", 0)) {
        s->host->event(s->ctx, RV_EVENT_ASSET_ERROR, RV_ENOENT, req->asset_uri,
                       "test asset refuses to open");
        return RV_ENOENT;
    }
    testsrc_segment *seg = calloc(1, sizeof(*seg));
    if (!seg)
        return RV_ENOMEM;
    seg->src = s;
    seg->req = *req;
    seg->frames = testsrc_param(req->asset_uri, "frames", -1);
    seg->fail_at = testsrc_param(req->asset_uri, "fail_at", -1);
    seg->hang_at = testsrc_param(req->asset_uri, "hang_at", -1);
    seg->hang_ms = testsrc_param(req->asset_uri, "hang_ms", 2000);
    seg->hang_after = testsrc_param(req->asset_uri, "hang_after", -1);
    *segment = seg;
    return RV_OK;
}

/* Producer thread. */
static int testsrc_read(void *segment, rv_produce *out)
{
    testsrc_segment *seg = segment;
    testsrc *s = seg->src;
    if (out->index >= seg->req.frame_count)
        return RV_EOF;
    int64_t pos_ns = rv_segment_position_ns(&seg->req, s->format.frame_rate, out->index);
    int64_t frame = rv_ms_to_first_tick(s->format.frame_rate, pos_ns / 1000000);
    if (seg->frames >= 0 && frame >= seg->frames)
        return RV_EOF;
    if (frame == seg->fail_at && !seg->failed_once) {
        seg->failed_once = 1;
        s->host->event(s->ctx, RV_EVENT_ASSET_ERROR, RV_EIO, seg->req.asset_uri,
                       "test asset fails at frame %lld", (long long)frame);
        return RV_EIO;
    }
    if (frame == seg->hang_at) {
        struct timespec ts = {seg->hang_ms / 1000, (seg->hang_ms % 1000) * 1000000};
        nanosleep(&ts, NULL);
        seg->hang_at = -1;
    }
    if (seg->hang_after >= 0 && !s->hung && seg->reads == seg->hang_after) {
        struct timespec ts = {seg->hang_ms / 1000, (seg->hang_ms % 1000) * 1000000};
        s->hung = 1;
        nanosleep(&ts, NULL);
    }
    seg->reads++;
    rv_video_frame *v = s->host->video_alloc(s->ctx);
    if (!v)
        return RV_ENOMEM;
    uint8_t level = (uint8_t)(16 + frame % 200);
    for (uint32_t y = 0; y < v->height; y++)
        memset(v->plane[0] + (size_t)y * (size_t)v->stride[0], level, v->width);
    for (uint32_t y = 0; y < v->height / 2; y++) {
        memset(v->plane[1] + (size_t)y * (size_t)v->stride[1], 128, v->width / 2);
        memset(v->plane[2] + (size_t)y * (size_t)v->stride[2], 128, v->width / 2);
    }
    memset(out->audio->data, 0,
           (size_t)out->audio->samples * out->audio->channels * sizeof(int16_t));
    out->video = v;
    out->asset_offset_ms = pos_ns / 1000000;
    return RV_OK;
}

/* Producer or preload thread. */
static void testsrc_close(void *segment)
{
    free(segment);
}

static const rv_producer_ops testsrc_ops = {
    .struct_size = sizeof(rv_producer_ops),
    .schemes = testsrc_schemes,
    .create = testsrc_create,
    .destroy = testsrc_destroy,
    .open = testsrc_open,
    .read = testsrc_read,
    .close = testsrc_close,
};

RV_MODULE_DEFINE(
    .kind = RV_KIND_PRODUCER,
    .name = "testsrc",
    .version = "1.0.0",
    .description = "test producer: finite, failing or hanging assets from test: URIs",
    .options = NULL,
    .producer = &testsrc_ops)
