/**
 * @file tests/modules/good_producer.c
 * @short "test-producer": a minimal, correct producer for the loader, config
 *        and conformance tests. Serves `slate:` and `test:` URIs with a flat
 *        grey picture (luma `level`) and silence.
 *
 * The instance owns its state struct; each open segment owns a small segment
 * struct freed by close(). Pictures come from the host pool.
 */
#include <stdlib.h>
#include <string.h>

#include <retrovue/retrovue.h>

typedef struct test_producer {
    const rv_host_api *host;   /**< borrowed */
    rv_context *ctx;           /**< borrowed */
    rv_program_format format;
    uint8_t level;
    int started;
} test_producer;

typedef struct test_segment {
    test_producer *owner;      /**< borrowed */
    int64_t frame_count;
    int64_t start_ms;
} test_segment;

static const char *const test_producer_schemes[] = {"slate", "test", NULL};
static const char *const test_producer_patterns[] = {"flat", "ramp", NULL};

static const rv_option test_producer_options[] = {
    {.key = "pattern", .type = RV_OPT_ENUM, .help = "picture pattern",
     .default_string = "flat", .choices = test_producer_patterns},
    {.key = "level", .type = RV_OPT_INT, .help = "luma level", .default_int = 128,
     .min_int = 16, .max_int = 235},
    {.key = "tone", .type = RV_OPT_BOOL, .help = "a tone instead of silence", .default_int = 0},
    {.key = "frequency", .type = RV_OPT_FLOAT, .help = "tone frequency, Hz",
     .default_float = 1000.0, .min_float = 20.0, .max_float = 20000.0},
    {.key = "label", .type = RV_OPT_STRING, .help = "text on the card", .default_string = "test"},
    {.key = NULL},
};

static int test_producer_create(const rv_create_args *args, void **state)
{
    test_producer *p = calloc(1, sizeof(*p));
    if (!p)
        return RV_ENOMEM;
    p->host = args->host;
    p->ctx = args->ctx;
    p->format = *args->format;
    p->level = (uint8_t)args->host->opt_int(args->options, "level");
    *state = p;
    return RV_OK;
}

static void test_producer_destroy(void *state)
{
    free(state);
}

static int test_producer_start(void *state)
{
    ((test_producer *)state)->started = 1;
    return RV_OK;
}

static void test_producer_stop(void *state)
{
    ((test_producer *)state)->started = 0;
}

static int test_producer_open(void *state, const rv_segment_request *req, void **segment)
{
    if (strncmp(req->asset_uri, "slate:", 6) != 0 && strncmp(req->asset_uri, "test:", 5) != 0)
        return RV_ENOENT;
    test_segment *s = calloc(1, sizeof(*s));
    if (!s)
        return RV_ENOMEM;
    s->owner = state;
    s->frame_count = req->frame_count;
    s->start_ms = req->asset_start_offset_ms;
    *segment = s;
    return RV_OK;
}

static int test_producer_read(void *segment, rv_produce *out)
{
    test_segment *s = segment;
    test_producer *p = s->owner;
    if (out->index >= s->frame_count)
        return RV_EOF;
    rv_video_frame *f = p->host->video_alloc(p->ctx);
    if (!f)
        return RV_ENOMEM;
    for (uint32_t y = 0; y < f->height; y++)
        memset(f->plane[0] + (size_t)y * (size_t)f->stride[0], p->level, f->width);
    for (int c = 1; c < 3; c++) {
        for (uint32_t y = 0; y < f->height / 2; y++)
            memset(f->plane[c] + (size_t)y * (size_t)f->stride[c], 128, f->width / 2);
    }
    if (out->audio)
        memset(out->audio->data, 0,
               (size_t)out->audio->samples * out->audio->channels * sizeof(int16_t));
    out->video = f;
    out->asset_offset_ms =
        s->start_ms + out->index * 1000 * p->format.frame_rate.den / p->format.frame_rate.num;
    return RV_OK;
}

static void test_producer_close(void *segment)
{
    free(segment);
}

static const rv_producer_ops test_producer_ops = {
    .struct_size = sizeof(rv_producer_ops),
    .schemes = test_producer_schemes,
    .create = test_producer_create,
    .destroy = test_producer_destroy,
    .open = test_producer_open,
    .read = test_producer_read,
    .close = test_producer_close,
    .start = test_producer_start,
    .stop = test_producer_stop,
};

RV_MODULE_DEFINE(.kind = RV_KIND_PRODUCER, .name = "test-producer", .version = "1.0.0",
                 .description = "flat grey test pictures and silence for slate: and test: URIs",
                 .options = test_producer_options, .producer = &test_producer_ops,
                 .test_uri = "test:conformance")
