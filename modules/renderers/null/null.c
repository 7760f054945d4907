/**
 * @file modules/renderers/null/null.c
 * @short The "null" renderer: passes every tick through untouched. Owns
 *        nothing; its state is a placeholder so create() has something to
 *        return.
 */
#include <stddef.h>

#include <retrovue/retrovue.h>

/* The one state every instance shares: null keeps nothing, and this object
 * is never written. */
static const char null_instance = 0;

/** Control thread. @p args borrowed; *@p state receives a placeholder that
 *  destroy() ignores. */
static int null_create(const rv_create_args *args, void **state)
{
    (void)args;
    *state = (void *)&null_instance;
    return RV_OK;
}

/** Control thread. @p state is the placeholder; nothing to free. */
static void null_destroy(void *state)
{
    (void)state;
}

/** Output thread. @p tick borrowed; neither it nor its buffers are touched. */
static int null_render(void *state, rv_tick *tick)
{
    (void)state;
    (void)tick;
    return RV_OK;
}

static const rv_renderer_ops null_ops = {
    .struct_size = sizeof(rv_renderer_ops),
    .create = null_create,
    .destroy = null_destroy,
    .render = null_render,
};

RV_MODULE_DEFINE(.kind = RV_KIND_RENDERER, .name = "null", .version = "1.0.0",
                 .description = "passes frames through untouched", .options = NULL,
                 .renderer = &null_ops)
