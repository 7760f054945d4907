/**
 * @file tools/bench/render_bench.c
 * @short Renderer benchmark driver: loads a renderer module through the real
 *        loader and host services and calls render() once per tick, paced to
 *        the real clock's tick deadlines the way a channel's output thread
 *        is, timing each call on the calling thread.
 *
 * Usage: render_bench <module.so> <width> <height> <num/den> <seconds> [key=int ...]
 * Each tick hands the renderer a fresh pool picture (a flat grey whose level
 * changes every tick, filled outside the timed call). Prints one line:
 *   ticks=N mean_ns=.. p50_ns=.. p99_ns=.. p999_ns=.. max_ns=.. cpu_s=.. images=..
 * (cpu_s: the whole process, every thread: the renderer's own workers too;
 * images: how many the module published). Owns everything it creates.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <retrovue/retrovue.h>

#include "core/clock.h"
#include "core/frame_pool.h"
#include "core/host_api.h"
#include "core/log.h"
#include "core/options.h"
#include "loader/loader.h"

/** Counts published images. Thread: the module's worker. */
static int bench_on_image(void *owner, rv_context *ctx, const char *mime, const void *data,
                          size_t len)
{
    (void)ctx;
    (void)mime;
    (void)data;
    (void)len;
    __atomic_add_fetch((long *)owner, 1, __ATOMIC_RELAXED);
    return RV_OK;
}

static int64_t bench_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int bench_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a;
    int64_t y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/** key=int arguments as raw options. */
static raw_option *bench_raw(int argc, char **argv, size_t *count)
{
    raw_option *raw = calloc((size_t)argc + 1, sizeof(*raw));
    *count = 0;
    for (int i = 0; raw && i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq)
            continue;
        raw[*count].key = strndup(argv[i], (size_t)(eq - argv[i]));
        raw[*count].type = RAW_INT;
        raw[*count].i = atoll(eq + 1);
        (*count)++;
    }
    return raw;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: %s module.so width height num/den seconds [key=int ...]\n",
                argv[0]);
        return 2;
    }
    rv_rational rate = {30000, 1001};
    if (sscanf(argv[4], "%d/%d", &rate.num, &rate.den) != 2)
        return 2;
    rv_program_format fmt = {.width = (uint32_t)atoi(argv[2]), .height = (uint32_t)atoi(argv[3]),
                             .frame_rate = rate, .audio_rate = 48000, .audio_channels = 2};
    int64_t ticks = rv_ms_to_first_tick(rate, atoll(argv[5]) * 1000);
    char err[512];
    log_set_level(RV_LOG_ERROR);
    module_registry *reg = registry_create();
    if (registry_load_file(reg, argv[1], err, sizeof(err)) != RV_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    const loaded_module *mod = registry_at(reg, 0);
    if (mod->kind != RV_KIND_RENDERER) {
        fprintf(stderr, "%s is not a renderer\n", argv[1]);
        return 1;
    }
    master_clock *clock = clock_create_real();
    frame_pool *pool = frame_pool_create(&fmt);
    long images = 0;
    rv_context ctx;
    host_context_init(&ctx, 1, mod->name, pool, clock, NULL, NULL);
    host_context_set_image_sink(&ctx, bench_on_image, &images);
    size_t raw_count = 0;
    raw_option *raw = bench_raw(argc - 6, argv + 6, &raw_count);
    rv_options *opts = NULL;
    if (options_build(mod->info->options, raw, raw_count, &opts, err, sizeof(err)) != RV_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    rv_create_args args = {.struct_size = sizeof(args), .host = host_api_get(), .ctx = &ctx,
                           .options = opts, .format = &fmt, .channel_id = 1,
                           .channel_name = "bench"};
    int64_t *cost = calloc((size_t)ticks, sizeof(*cost));
    void *state = NULL;
    int rc = 1;
    if (!cost || mod->renderer.create(&args, &state) != RV_OK)
        goto done;
    if (mod->renderer.start && mod->renderer.start(state) != RV_OK)
        goto done;
    struct rusage ru0;
    getrusage(RUSAGE_SELF, &ru0);
    int64_t epoch_ns = clock_now_utc_ns(clock) / 1000000 * 1000000 + 10000000;
    for (int64_t n = 0; n < ticks; n++) {
        int64_t due = epoch_ns + rv_ticks_to_ns(rate, n);
        rv_tick t = {.tick = n, .utc_ns = due, .source = RV_SOURCE_REAL, .block_id = "b",
                     .segment_index = 0, .event_id = "", .asset_uri = "bench:",
                     .segment_first_tick = 0, .segment_end_tick = INT64_MAX,
                     .asset_offset_ms = -1};
        t.video = frame_pool_video_alloc(pool);
        t.audio = frame_pool_audio_alloc(pool, rv_samples_in_tick(rate, 48000, n));
        if (!t.video || !t.audio)
            goto done;
        for (uint32_t y = 0; y < fmt.height; y++)
            memset(t.video->plane[0] + (size_t)y * (size_t)t.video->stride[0],
                   (int)(16 + n % 200), fmt.width);
        for (int p = 1; p < 3; p++)
            for (uint32_t y = 0; y < fmt.height / 2; y++)
                memset(t.video->plane[p] + (size_t)y * (size_t)t.video->stride[p], 128,
                       fmt.width / 2);
        clock_sleep_until(clock, due);
        int64_t t0 = bench_mono_ns();
        mod->renderer.render(state, &t);
        cost[n] = bench_mono_ns() - t0;
        frame_pool_video_release(t.video);
        frame_pool_audio_release(t.audio);
    }
    struct rusage ru1;
    getrusage(RUSAGE_SELF, &ru1);
    if (mod->renderer.stop)
        mod->renderer.stop(state);
    double cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec + ru1.ru_stime.tv_sec -
                          ru0.ru_stime.tv_sec) +
                 (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec + ru1.ru_stime.tv_usec -
                          ru0.ru_stime.tv_usec) / 1e6;
    double sum = 0;
    for (int64_t n = 0; n < ticks; n++)
        sum += (double)cost[n];
    qsort(cost, (size_t)ticks, sizeof(*cost), bench_cmp);
    printf("ticks=%lld mean_ns=%.0f p50_ns=%lld p99_ns=%lld p999_ns=%lld max_ns=%lld cpu_s=%.3f "
           "images=%ld\n",
           (long long)ticks, sum / (double)ticks, (long long)cost[ticks / 2],
           (long long)cost[ticks * 99 / 100], (long long)cost[ticks * 999 / 1000],
           (long long)cost[ticks - 1], cpu, __atomic_load_n(&images, __ATOMIC_RELAXED));
    rc = 0;
done:
    if (state)
        mod->renderer.destroy(state);
    free(cost);
    options_free(opts);
    for (size_t i = 0; raw && i < raw_count; i++)
        raw_option_free(&raw[i]);
    free(raw);
    frame_pool_destroy(pool);
    clock_destroy(clock);
    registry_destroy(reg);
    return rc;
}
