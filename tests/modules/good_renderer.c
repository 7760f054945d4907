/**
 * @file tests/modules/good_renderer.c
 * @short "test-renderer": a minimal, correct renderer for the loader, config
 *        and conformance tests. With `invert` it inverts the first luma row
 *        (after making the picture writable), otherwise it passes through.
 *
 * The instance owns only its state struct.
 */
#include <stdlib.h>

#include <retrovue/retrovue.h>

typedef struct test_renderer {
    const rv_host_api *host;   /**< borrowed */
    rv_context *ctx;           /**< borrowed */
    int invert;
    int64_t rendered_ticks;
} test_renderer;

static const rv_option test_renderer_options[] = {
    {.key = "invert", .type = RV_OPT_BOOL, .help = "invert the first luma row", .default_int = 0},
    {.key = "strength", .type = RV_OPT_INT, .help = "percent", .default_int = 50, .min_int = 0,
     .max_int = 100},
    {.key = NULL},
};

static int test_renderer_create(const rv_create_args *args, void **state)
{
    test_renderer *r = calloc(1, sizeof(*r));
    if (!r)
        return RV_ENOMEM;
    r->host = args->host;
    r->ctx = args->ctx;
    r->invert = args->host->opt_bool(args->options, "invert");
    *state = r;
    return RV_OK;
}

static void test_renderer_destroy(void *state)
{
    free(state);
}

static int test_renderer_render(void *state, rv_tick *tick)
{
    test_renderer *r = state;
    r->rendered_ticks++;
    if (!r->invert || !tick->video)
        return RV_OK;
    int rc = r->host->video_make_writable(r->ctx, &tick->video);
    if (rc != RV_OK)
        return rc;
    for (uint32_t x = 0; x < tick->video->width; x++)
        tick->video->plane[0][x] = (uint8_t)(255 - tick->video->plane[0][x]);
    return RV_OK;
}

static const rv_renderer_ops test_renderer_ops = {
    .struct_size = sizeof(rv_renderer_ops),
    .create = test_renderer_create,
    .destroy = test_renderer_destroy,
    .render = test_renderer_render,
};

RV_MODULE_DEFINE(.kind = RV_KIND_RENDERER, .name = "test-renderer", .version = "1.0.0",
                 .description = "passes frames through, or inverts the first luma row",
                 .options = test_renderer_options, .renderer = &test_renderer_ops)
