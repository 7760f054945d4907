/**
 * @file docs/examples/tint/tint.c
 * @short The "tint" renderer, the SDK guide's example module: pulls the
 *        colour of every output picture towards one hue, like a sepia filter.
 *
 * An instance owns a lookup table per chroma plane, built once in create()
 * from the options and read-only afterwards. Luma is left alone.
 */
#include <stdlib.h>

#include <retrovue/retrovue.h>

typedef struct tint_state {
    const rv_host_api *host;   /* borrowed, valid until destroy */
    rv_context *ctx;           /* borrowed, valid until destroy */
    int strength_pct;          /* 0: leave pictures alone */
    uint8_t lut[2][256];       /* new U, new V for each old value */
} tint_state;

/* Declared options: the host validates the config against this table,
 * fills in defaults and prints it for --list-modules. */
static const rv_option tint_options[] = {
    {.key = "u", .type = RV_OPT_INT, .help = "target U (Cb) value",
     .default_int = 100, .min_int = 16, .max_int = 240},
    {.key = "v", .type = RV_OPT_INT, .help = "target V (Cr) value",
     .default_int = 150, .min_int = 16, .max_int = 240},
    {.key = "strength", .type = RV_OPT_INT, .help = "percent of the way to the target",
     .default_int = 50, .min_int = 0, .max_int = 100},
    {.key = NULL},
};

/** Control thread. @p args borrowed (its pointers outlive the instance);
 *  *@p state receives the instance, owned by the host until destroy(). */
static int tint_create(const rv_create_args *args, void **state)
{
    tint_state *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return RV_ENOMEM;
    s->host = args->host;
    s->ctx = args->ctx;
    s->strength_pct = (int)args->host->opt_int(args->options, "strength");
    int target[2] = {
        (int)args->host->opt_int(args->options, "u"),
        (int)args->host->opt_int(args->options, "v"),
    };
    for (int p = 0; p < 2; p++)
        for (int c = 0; c < 256; c++)
            s->lut[p][c] = (uint8_t)(c + (target[p] - c) * s->strength_pct / 100);
    *state = s;
    return RV_OK;
}

/** Control thread, after the last render. @p state: ownership returns. */
static void tint_destroy(void *state)
{
    free(state);
}

/** Output thread, once per tick; never blocks. @p tick borrowed. The
 *  picture may be shared (a frozen frame, the slate card), so it is made
 *  writable first: the host swaps in a private copy and releases the
 *  reference tick->video held. */
static int tint_render(void *state, rv_tick *tick)
{
    tint_state *s = state;

    if (s->strength_pct == 0 || tick->video == NULL)
        return RV_OK;
    int rc = s->host->video_make_writable(s->ctx, &tick->video);
    if (rc != RV_OK)
        return rc; /* logged by the host; the tick airs unmodified */

    rv_video_frame *f = tick->video;
    uint32_t cw = (f->width + 1) / 2;
    uint32_t ch = (f->height + 1) / 2;
    for (int p = 0; p < 2; p++) {
        const uint8_t *lut = s->lut[p];
        for (uint32_t y = 0; y < ch; y++) {
            uint8_t *row = f->plane[1 + p] + (size_t)y * (size_t)f->stride[1 + p];
            for (uint32_t x = 0; x < cw; x++)
                row[x] = lut[row[x]];
        }
    }
    return RV_OK;
}

static const rv_renderer_ops tint_ops = {
    .struct_size = sizeof(rv_renderer_ops),
    .create = tint_create,
    .destroy = tint_destroy,
    .render = tint_render,
    /* start and stop are optional: left NULL */
};

RV_MODULE_DEFINE(.kind = RV_KIND_RENDERER, .name = "tint", .version = "1.0.0",
                 .description = "pulls every picture's colour towards one hue",
                 .options = tint_options, .renderer = &tint_ops)
