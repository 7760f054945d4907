/**
 * @file tests/modules/greedy_producer.c
 * @short A producer that loads fine but ignores its segment's frame budget
 *        (frame_count) and never returns RV_EOF. The conformance suite must
 *        fail it (its self-test expects that failure).
 *
 * The instance owns its state struct; each segment is a small struct freed
 * by close().
 */
#include <stdlib.h>
#include <string.h>

#include <retrovue/retrovue.h>

typedef struct greedy_producer {
    const rv_host_api *host; /**< borrowed */
    rv_context *ctx;         /**< borrowed */
} greedy_producer;

static const char *const greedy_producer_schemes[] = {"slate", NULL};

static int greedy_producer_create(const rv_create_args *args, void **state)
{
    greedy_producer *p = calloc(1, sizeof(*p));
    if (!p)
        return RV_ENOMEM;
    p->host = args->host;
    p->ctx = args->ctx;
    *state = p;
    return RV_OK;
}

static void greedy_producer_destroy(void *state)
{
    free(state);
}

static int greedy_producer_open(void *state, const rv_segment_request *req, void **segment)
{
    (void)req;
    *segment = state;
    return RV_OK;
}

static int greedy_producer_read(void *segment, rv_produce *out)
{
    greedy_producer *p = segment;
    rv_video_frame *f = p->host->video_alloc(p->ctx);
    if (!f)
        return RV_ENOMEM;
    memset(f->plane[0], 16, (size_t)f->stride[0] * f->height);
    memset(f->plane[1], 128, (size_t)f->stride[1] * (f->height / 2));
    memset(f->plane[2], 128, (size_t)f->stride[2] * (f->height / 2));
    if (out->audio)
        memset(out->audio->data, 0,
               (size_t)out->audio->samples * out->audio->channels * sizeof(int16_t));
    out->video = f; /* even past frame_count: the bug under test */
    return RV_OK;
}

static void greedy_producer_close(void *segment)
{
    (void)segment;
}

static const rv_producer_ops greedy_producer_ops = {
    .struct_size = sizeof(rv_producer_ops),
    .schemes = greedy_producer_schemes,
    .create = greedy_producer_create,
    .destroy = greedy_producer_destroy,
    .open = greedy_producer_open,
    .read = greedy_producer_read,
    .close = greedy_producer_close,
};

RV_MODULE_DEFINE(.kind = RV_KIND_PRODUCER, .name = "test-greedy-producer", .version = "1.0.0",
                 .description = "delivers frames past its budget (conformance self-test)",
                 .producer = &greedy_producer_ops,
                 .test_uri = "slate:")
