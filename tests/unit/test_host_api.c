/**
 * @file tests/unit/test_host_api.c
 * @short The log (logfmt lines, escaping, levels) and the rv_host_api table
 *        (context, clock, buffers, options, events, thread_count) as a module
 *        sees them.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <retrovue/error.h>
#include <retrovue/version.h>

#include "core/host_api.h"
#include "core/log.h"
#include "core/options.h"
#include "core/thread_budget.h"
#include "tap.h"

/* stderr captured into a temporary file while a block runs. */
static FILE *capture_file;
static int saved_stderr = -1;

static void capture_begin(void)
{
    capture_file = tmpfile();
    fflush(stderr);
    saved_stderr = dup(STDERR_FILENO);
    dup2(fileno(capture_file), STDERR_FILENO);
}

/** Stop capturing; the text (malloc'd, caller frees). */
static char *capture_end(void)
{
    fflush(stderr);
    dup2(saved_stderr, STDERR_FILENO);
    close(saved_stderr);
    long len = ftell(capture_file);
    char *text = calloc(1, (size_t)len + 1);
    rewind(capture_file);
    size_t got = fread(text, 1, (size_t)len, capture_file);
    text[got] = '\0';
    fclose(capture_file);
    return text;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void test_log(void)
{
    rv_log_level lv;
    tap_ok(log_get_level() == RV_LOG_INFO, "default level is info");
    tap_ok(log_level_parse("debug", &lv) == RV_OK && lv == RV_LOG_DEBUG &&
               log_level_parse("loud", &lv) == RV_EINVAL,
           "level names parse; unknown refused");

    capture_begin();
    log_write(RV_LOG_INFO, 1, "slate", "text with \"quotes\" escaped");
    log_write(RV_LOG_WARN, -1, NULL, "plain");
    log_write(RV_LOG_DEBUG, 3, "x", "hidden at info");
    log_write(RV_LOG_ERROR, 2, "my module", "multi\nline\\");
    char *out = capture_end();
    tap_ok(count_lines(out) == 3, "three lines (debug dropped at info)");
    tap_ok(strncmp(out, "ts=", 3) == 0 && strstr(out, "Z level=info channel=1 module=slate "
                                                      "msg=\"text with \\\"quotes\\\" escaped\"\n") != NULL,
           "logfmt line with channel, module and escaped quotes");
    tap_ok(strstr(out, "level=warn msg=\"plain\"\n") != NULL, "channel and module omitted when unset");
    tap_ok(strstr(out, "level=error channel=2 module=\"my module\" msg=\"multi\\nline\\\\\"\n") != NULL,
           "newline and backslash escaped; a module with a space quoted");
    /* ts=YYYY-MM-DDTHH:MM:SS.mmmZ */
    tap_ok(strlen(out) > 27 && out[7] == '-' && out[13] == 'T' && out[22] == '.' && out[26] == 'Z',
           "timestamp is ISO 8601 UTC with milliseconds");
    free(out);

    log_set_level(RV_LOG_ERROR);
    tap_ok(!log_enabled(RV_LOG_WARN) && log_enabled(RV_LOG_ERROR), "level error hides warn");
    tap_ok(log_cycle_level() == RV_LOG_WARN && log_cycle_level() == RV_LOG_INFO &&
               log_cycle_level() == RV_LOG_DEBUG && log_cycle_level() == RV_LOG_ERROR,
           "cycle: error -> warn -> info -> debug -> error");
    log_set_level(RV_LOG_INFO);
}

/* What the on_event callback saw. */
static int event_calls;
static int event_code;
static void *event_owner;
static char event_subject[64];

static void on_event(void *owner, rv_context *ctx, rv_event_type type, int code,
                     const char *subject, const char *message)
{
    (void)ctx;
    (void)type;
    (void)message;
    event_calls++;
    event_code = code;
    event_owner = owner;
    snprintf(event_subject, sizeof(event_subject), "%s", subject);
}

static void test_api(void)
{
    const rv_host_api *api = host_api_get();
    tap_ok(api->struct_size == sizeof(rv_host_api) && api->abi_major == RV_ABI_MAJOR &&
               api->abi_minor == RV_ABI_MINOR,
           "table carries its size and ABI version");
    int complete = api->log && api->vlog && api->log_enabled && api->clock_now_utc_ns &&
                   api->video_alloc && api->video_ref && api->video_release &&
                   api->video_make_writable && api->audio_alloc && api->audio_ref &&
                   api->audio_release && api->opt_bool && api->opt_int && api->opt_float &&
                   api->opt_string && api->opt_is_set && api->event;
    tap_ok(complete, "every service is filled in");

    rv_program_format fmt = {.width = 64, .height = 32, .frame_rate = {25, 1},
                             .audio_rate = 48000, .audio_channels = 2};
    frame_pool *pool = frame_pool_create(&fmt);
    master_clock *clk = clock_create_virtual(123456789);
    rv_context ctx;
    int owner_token = 0;
    host_context_init(&ctx, 7, "slate", pool, clk, on_event, &owner_token);
    tap_ok(ctx.channel_id == 7 && strcmp(ctx.module, "slate") == 0, "context initialised");
    tap_ok(api->clock_now_utc_ns(&ctx) == 123456789, "clock_now reads the context's clock");
    rv_context bare;
    host_context_init(&bare, -1, "lister", NULL, NULL, NULL, NULL);
    tap_ok(api->clock_now_utc_ns(&bare) > 1500000000000LL * 1000000, "no clock: CLOCK_REALTIME");

    rv_video_frame *f = api->video_alloc(&ctx);
    rv_audio_buffer *a = api->audio_alloc(&ctx, 1920);
    tap_ok(f != NULL && a != NULL && a->samples == 1920 && frame_pool_outstanding(pool) == 2,
           "buffers come from the context's pool");
    rv_video_frame *shared = f;
    api->video_ref(shared); /* a second holder */
    tap_ok(api->video_make_writable(&ctx, &f) == RV_OK && f != shared &&
               frame_pool_video_refcount(f) == 1 && frame_pool_video_refcount(shared) == 1,
           "make_writable through the table copies a shared frame");
    tap_ok(api->struct_size >= offsetof(rv_host_api, video_plane_bytes) + sizeof(void *) &&
               api->abi_minor >= 4 && api->video_plane_bytes != NULL &&
               api->video_plane_bytes(f, 0) >= (size_t)f->stride[0] * f->height &&
               api->video_plane_bytes(f, 2) >= (size_t)f->stride[2] * ((f->height + 1) / 2) &&
               api->video_plane_bytes(f, 3) == 0,
           "video_plane_bytes is in the table (ABI 1.4) and covers every row of a plane");
    api->video_release(f);
    api->video_release(shared);
    tap_ok(frame_pool_outstanding(pool) == 1, "only the audio buffer is still out");
    api->audio_release(a);

    capture_begin();
    rv_video_frame *none = api->video_alloc(&bare);
    rv_audio_buffer *none_a = api->audio_alloc(&bare, 10);
    char *out = capture_end();
    tap_ok(none == NULL && none_a == NULL && strstr(out, "level=error") != NULL &&
               strstr(out, "module=lister") != NULL,
           "no pool: NULL and an error is logged");
    free(out);

    static const rv_option opts_table[] = {
        {.key = "freq", .type = RV_OPT_INT, .default_int = 1000},
        {.key = "text", .type = RV_OPT_STRING, .default_string = "hi"},
        {.key = "on", .type = RV_OPT_BOOL, .default_int = 1},
        {.key = "level", .type = RV_OPT_FLOAT, .default_float = 0.5},
        {.key = NULL}};
    rv_options *opts = NULL;
    char err[128];
    options_defaults(opts_table, &opts, err, sizeof(err));
    tap_ok(api->opt_int(opts, "freq") == 1000 && strcmp(api->opt_string(opts, "text"), "hi") == 0 &&
               api->opt_bool(opts, "on") == 1 && api->opt_float(opts, "level") == 0.5 &&
               !api->opt_is_set(opts, "freq"),
           "opt_* read validated options");
    options_free(opts);

    capture_begin();
    api->event(&ctx, RV_EVENT_ASSET_ERROR, RV_ENOENT, "file:/media/missing.mp4", "cannot open %s",
               "it");
    api->event(&ctx, RV_EVENT_CLIENT_JOIN, 0, "127.0.0.1:5000", "joined");
    api->log(&ctx, RV_LOG_WARN, "via %s", "table");
    out = capture_end();
    tap_ok(strstr(out, "level=error channel=7 module=slate") != NULL &&
               strstr(out, "file:/media/missing.mp4") != NULL &&
               strstr(out, "no such file or entry") != NULL,
           "ASSET_ERROR logged at error with subject and rv_strerror(code)");
    tap_ok(strstr(out, "level=info channel=7 module=slate") != NULL &&
               strstr(out, "127.0.0.1:5000") != NULL,
           "CLIENT_JOIN logged at info");
    tap_ok(strstr(out, "level=warn channel=7 module=slate msg=\"via table\"") != NULL,
           "log() adds the context's channel and module");
    tap_ok(event_calls == 2 && event_owner == &owner_token && event_code == 0 &&
               strcmp(event_subject, "127.0.0.1:5000") == 0,
           "on_event called for each event with owner, code and subject");
    free(out);

    frame_pool_destroy(pool);
    clock_destroy(clk);
}

/* rv_host_api.thread_count (ABI 1.3): CPUs shared among the live channels,
 * capped per role, the config's overrides first. */
static void test_thread_count(void)
{
    const rv_host_api *api = host_api_get();
    tap_ok(api->struct_size >= offsetof(rv_host_api, thread_count) + sizeof(void *) &&
               api->thread_count != NULL && api->abi_minor >= 3,
           "thread_count is in the table (ABI 1.3)");
    thread_budget_set_cpus(2);
    thread_budget_configure(0, 0);
    int base = thread_budget_channels();
    tap_ok(api->thread_count(NULL, RV_THREADS_DECODER) == 2 &&
               api->thread_count(NULL, RV_THREADS_ENCODER) == 2,
           "2 CPUs, no channel: 2 decoder and 2 encoder threads");
    for (int i = 0; i < 10; i++)
        thread_budget_channel_add();
    tap_ok(thread_budget_channels() == base + 10 && api->thread_count(NULL, RV_THREADS_DECODER) == 1 &&
               api->thread_count(NULL, RV_THREADS_ENCODER) == 1,
           "2 CPUs, 10 channels: 1 thread each (not 10 x libx264's 3 + 2)");
    thread_budget_set_cpus(32);
    tap_ok(api->thread_count(NULL, RV_THREADS_DECODER) == 2 &&
               api->thread_count(NULL, RV_THREADS_ENCODER) == 3,
           "32 CPUs, 10 channels: decoder capped at 2, encoder 32/10 = 3");
    for (int i = 0; i < 9; i++)
        thread_budget_channel_remove();
    tap_ok(api->thread_count(NULL, RV_THREADS_ENCODER) == 8,
           "32 CPUs, 1 channel: encoder capped at 8");
    thread_budget_configure(3, 5);
    tap_ok(api->thread_count(NULL, RV_THREADS_DECODER) == 3 &&
               api->thread_count(NULL, RV_THREADS_ENCODER) == 5,
           "engine.decoder_threads / encoder_threads override the share");
    thread_budget_configure(-4, 99);
    tap_ok(api->thread_count(NULL, RV_THREADS_DECODER) == 2 &&
               api->thread_count(NULL, RV_THREADS_ENCODER) == 16,
           "overrides clamp to 0 (automatic) .. 16");
    tap_ok(api->thread_count(NULL, 0) == RV_EINVAL && api->thread_count(NULL, 7) == RV_EINVAL,
           "an unknown role is RV_EINVAL");
    thread_budget_configure(0, 0);
    thread_budget_set_cpus(8);
    thread_budget_expect_channels(4);
    tap_ok(api->thread_count(NULL, RV_THREADS_ENCODER) == 2,
           "8 CPUs, 1 live of 4 configured channels: the first is sized for 4 (2 threads)");
    thread_budget_expect_channels(0);
    thread_budget_channel_remove();
    thread_budget_configure(0, 0);
    thread_budget_set_cpus(0);
    tap_ok(thread_budget_channels() == base && api->thread_count(NULL, RV_THREADS_ENCODER) >= 1,
           "channels removed; the real CPU count gives at least 1");
}

int main(void)
{
    tap_plan(9 + 15 + 10);
    test_log();
    test_api();
    test_thread_count();
    return tap_done();
}
