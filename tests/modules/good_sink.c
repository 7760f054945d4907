/**
 * @file tests/modules/good_sink.c
 * @short "test-sink": a minimal, correct sink for the loader, config and
 *        conformance tests. Counts ticks and, when `path` is set, writes one
 *        line per tick (mode "ticks") or one line at stop (mode "summary").
 *
 * The instance owns its state struct and the open file (between start and
 * stop).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <retrovue/retrovue.h>

typedef struct test_sink {
    const rv_host_api *host;   /**< borrowed */
    const rv_options *options; /**< borrowed */
    const char *path;          /**< borrowed from options; "" = no file */
    int per_tick;
    FILE *file;                /**< owned, open between start and stop */
    uint64_t ticks;
    uint64_t luma_sum;
} test_sink;

static const char *const test_sink_modes[] = {"ticks", "summary", NULL};

static const rv_option test_sink_options[] = {
    {.key = "path", .type = RV_OPT_PATH, .help = "file to write; empty: none",
     .default_string = ""},
    {.key = "mode", .type = RV_OPT_ENUM, .help = "one line per tick, or one at the end",
     .default_string = "ticks", .choices = test_sink_modes},
    {.key = "flush", .type = RV_OPT_BOOL, .help = "flush after every line", .default_int = 1},
    {.key = "ratio", .type = RV_OPT_FLOAT, .help = "unused ratio", .default_float = 0.5,
     .min_float = 0.0, .max_float = 1.0},
    {.key = NULL},
};

static int test_sink_create(const rv_create_args *args, void **state)
{
    test_sink *s = calloc(1, sizeof(*s));
    if (!s)
        return RV_ENOMEM;
    s->host = args->host;
    s->options = args->options;
    s->path = args->host->opt_string(args->options, "path");
    s->per_tick = strcmp(args->host->opt_string(args->options, "mode"), "ticks") == 0;
    *state = s;
    return RV_OK;
}

static void test_sink_destroy(void *state)
{
    test_sink *s = state;
    if (s->file)
        fclose(s->file);
    free(s);
}

static int test_sink_start(void *state)
{
    test_sink *s = state;
    if (!s->path || !s->path[0] || s->file)
        return RV_OK;
    s->file = fopen(s->path, "w");
    return s->file ? RV_OK : RV_EIO;
}

static void test_sink_stop(void *state)
{
    test_sink *s = state;
    if (!s->file)
        return;
    if (!s->per_tick)
        fprintf(s->file, "{\"ticks\":%llu}\n", (unsigned long long)s->ticks);
    fclose(s->file);
    s->file = NULL;
}

static int test_sink_write(void *state, const rv_tick *tick)
{
    test_sink *s = state;
    if (!tick->video || !tick->audio)
        return RV_EINVAL;
    s->ticks++;
    s->luma_sum += tick->video->plane[0][0];
    if (s->file && s->per_tick) {
        fprintf(s->file, "{\"tick\":%lld,\"samples\":%u}\n", (long long)tick->tick,
                (unsigned)tick->audio->samples);
        if (s->host->opt_bool(s->options, "flush"))
            fflush(s->file);
    }
    return RV_OK;
}

static int test_sink_get_stats(void *state, rv_sink_stats *out)
{
    (void)state;
    out->bytes = 0;
    out->clients = 0;
    return RV_OK;
}

static int test_sink_describe(void *state, char *buf, size_t len)
{
    test_sink *s = state;
    snprintf(buf, len, "file:%s", s->path ? s->path : "");
    return RV_OK;
}

static const rv_sink_ops test_sink_ops = {
    .struct_size = sizeof(rv_sink_ops),
    .create = test_sink_create,
    .destroy = test_sink_destroy,
    .write = test_sink_write,
    .start = test_sink_start,
    .stop = test_sink_stop,
    .get_stats = test_sink_get_stats,
    .describe = test_sink_describe,
};

RV_MODULE_DEFINE(.kind = RV_KIND_SINK, .name = "test-sink", .version = "1.0.0",
                 .description = "counts ticks, optionally logs them to a file",
                 .options = test_sink_options, .sink = &test_sink_ops)
