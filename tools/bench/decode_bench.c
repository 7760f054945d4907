/**
 * @file tools/bench/decode_bench.c
 * @short Decode benchmark driver: loads a producer module through the real
 *        loader and host services and reads one segment of an asset as fast
 *        as possible (no clock pacing), the way the producer thread would.
 *
 * Usage: decode_bench <module.so> <asset> <width> <height> <rate num/den> <frames>
 *                     [start_ms] [key=integer ...]
 * start_ms opens the segment that far into the asset (a seek: decode from
 * the keyframe before it); key=integer sets a module option (an integer or
 * a boolean 0/1, e.g. skip_dropped_pictures=0). Prints "frames=N" on stdout. Owns everything it creates; exits non-zero
 * on any error. CPU time is measured from outside (tools/bench/decode.sh).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <retrovue/retrovue.h>

#include "core/clock.h"
#include "core/frame_pool.h"
#include "core/host_api.h"
#include "core/log.h"
#include "core/options.h"
#include "loader/loader.h"

int main(int argc, char **argv)
{
    if (argc < 7) {
        fprintf(stderr,
                "usage: %s module.so asset width height num/den frames [start_ms] [key=int ...]\n",
                argv[0]);
        return 2;
    }
    int64_t start_ms = argc > 7 && !strchr(argv[7], '=') ? atoll(argv[7]) : 0;
    rv_rational rate = {30000, 1001};
    if (sscanf(argv[5], "%d/%d", &rate.num, &rate.den) != 2)
        return 2;
    rv_program_format fmt = {.width = (uint32_t)atoi(argv[3]), .height = (uint32_t)atoi(argv[4]),
                             .frame_rate = rate, .audio_rate = 48000, .audio_channels = 2};
    int64_t frames = atoll(argv[6]);
    char err[512];
    log_set_level(RV_LOG_ERROR);
    module_registry *reg = registry_create();
    if (registry_load_file(reg, argv[1], err, sizeof(err)) != RV_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    const loaded_module *mod = registry_at(reg, 0);
    master_clock *clock = clock_create_virtual(0);
    frame_pool *pool = frame_pool_create(&fmt);
    rv_context ctx;
    host_context_init(&ctx, 1, mod->name, pool, clock, NULL, NULL);
    rv_options *opts = NULL;
    raw_option raw[16];
    size_t nraw = 0;
    for (int i = 7; i < argc && nraw < 16; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq)
            continue;
        *eq = '\0';
        const rv_option *o = mod->info->options;
        while (o && o->key && strcmp(o->key, argv[i]) != 0)
            o++;
        raw_value_type t = o && o->key && o->type == RV_OPT_BOOL ? RAW_BOOL : RAW_INT;
        raw[nraw++] = (raw_option){.key = argv[i], .type = t, .i = atoll(eq + 1)};
    }
    if (options_build(mod->info->options, raw, nraw, &opts, err, sizeof(err)) != RV_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    rv_create_args args = {.struct_size = sizeof(args), .host = host_api_get(), .ctx = &ctx,
                           .options = opts, .format = &fmt, .channel_id = 1,
                           .channel_name = "bench"};
    void *state = NULL;
    void *seg = NULL;
    int rc = 1;
    if (mod->producer.create(&args, &state) != RV_OK)
        goto done;
    rv_segment_request req = {.struct_size = sizeof(req), .asset_uri = argv[2],
                              .asset_start_offset_ms = start_ms,
                              .frame_count = frames, .type = RV_SEGMENT_CONTENT,
                              .event_id = "",
                              .transition_in = {.type = RV_TRANSITION_NONE},
                              .transition_out = {.type = RV_TRANSITION_NONE}};
    if (mod->producer.open(state, &req, &seg) != RV_OK)
        goto done;
    int64_t n = 0;
    for (; n < frames; n++) {
        rv_audio_buffer *a = frame_pool_audio_alloc(pool, rv_samples_in_tick(rate, 48000, n));
        rv_produce out = {.tick = n, .index = n, .audio = a};
        int r = mod->producer.read(seg, &out);
        frame_pool_audio_release(a);
        if (r != RV_OK)
            break;
        frame_pool_video_release(out.video);
    }
    printf("frames=%lld\n", (long long)n);
    rc = 0;
done:
    if (seg)
        mod->producer.close(seg);
    if (state)
        mod->producer.destroy(state);
    options_free(opts);
    frame_pool_destroy(pool);
    clock_destroy(clock);
    registry_destroy(reg);
    return rc;
}
