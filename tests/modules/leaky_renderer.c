/**
 * @file tests/modules/leaky_renderer.c
 * @short A renderer that loads fine but breaks the frame contract: it takes
 *        a reference to every picture and never releases it. The conformance
 *        suite must fail it (its self-test expects that failure).
 *
 * The instance owns its state struct; the leaked references are the point.
 */
#include <stdlib.h>

#include <retrovue/retrovue.h>

typedef struct leaky_renderer {
    const rv_host_api *host; /**< borrowed */
} leaky_renderer;

static int leaky_renderer_create(const rv_create_args *args, void **state)
{
    leaky_renderer *r = calloc(1, sizeof(*r));
    if (!r)
        return RV_ENOMEM;
    r->host = args->host;
    *state = r;
    return RV_OK;
}

static void leaky_renderer_destroy(void *state)
{
    free(state);
}

static int leaky_renderer_render(void *state, rv_tick *tick)
{
    leaky_renderer *r = state;
    r->host->video_ref(tick->video); /* never released: the bug under test */
    return RV_OK;
}

static const rv_renderer_ops leaky_renderer_ops = {
    .struct_size = sizeof(rv_renderer_ops),
    .create = leaky_renderer_create,
    .destroy = leaky_renderer_destroy,
    .render = leaky_renderer_render,
};

RV_MODULE_DEFINE(.kind = RV_KIND_RENDERER, .name = "test-leaky-renderer", .version = "1.0.0",
                 .description = "keeps a reference to every picture (conformance self-test)",
                 .renderer = &leaky_renderer_ops)
