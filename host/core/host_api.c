/**
 * @file host/core/host_api.c
 * @short The host's one const rv_host_api table, and rv_context set-up.
 *
 * Owns nothing: every service forwards to the object the calling instance's
 * rv_context names (its channel's clock and frame pool, the log, its
 * options). A NULL context is tolerated and logs without channel or module.
 */
#include "core/host_api.h"

#include <stdio.h>
#include <string.h>

#include <retrovue/error.h>
#include <retrovue/version.h>

#include "core/log.h"
#include "core/options.h"
#include "core/thread_budget.h"

static int32_t host_ctx_channel(const rv_context *ctx)
{
    return ctx != NULL ? ctx->channel_id : -1;
}

static const char *host_ctx_module(const rv_context *ctx)
{
    return ctx != NULL && ctx->module[0] != '\0' ? ctx->module : NULL;
}

static void host_vlog(rv_context *ctx, rv_log_level level, const char *fmt, va_list ap)
{
    log_vwrite(level, host_ctx_channel(ctx), host_ctx_module(ctx), fmt, ap);
}

__attribute__((format(printf, 3, 4))) static void host_log(rv_context *ctx, rv_log_level level,
                                                          const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    host_vlog(ctx, level, fmt, ap);
    va_end(ap);
}

static int host_log_enabled(rv_context *ctx, rv_log_level level)
{
    (void)ctx;
    return log_enabled(level);
}

static int64_t host_clock_now_utc_ns(rv_context *ctx)
{
    return clock_now_utc_ns(ctx != NULL ? ctx->clock : NULL);
}

static rv_video_frame *host_video_alloc(rv_context *ctx)
{
    if (ctx == NULL || ctx->pool == NULL) {
        log_write(RV_LOG_ERROR, host_ctx_channel(ctx), host_ctx_module(ctx),
                  "video_alloc called outside a channel (no frame pool)");
        return NULL;
    }
    return frame_pool_video_alloc(ctx->pool);
}

static int host_video_make_writable(rv_context *ctx, rv_video_frame **frame)
{
    (void)ctx;
    return frame_pool_video_make_writable(frame);
}

static rv_audio_buffer *host_audio_alloc(rv_context *ctx, uint32_t samples)
{
    if (ctx == NULL || ctx->pool == NULL) {
        log_write(RV_LOG_ERROR, host_ctx_channel(ctx), host_ctx_module(ctx),
                  "audio_alloc called outside a channel (no frame pool)");
        return NULL;
    }
    return frame_pool_audio_alloc(ctx->pool, samples);
}

static const char *host_event_name(rv_event_type type)
{
    switch (type) {
    case RV_EVENT_ASSET_ERROR: return "asset_error";
    case RV_EVENT_SINK_ERROR: return "sink_error";
    case RV_EVENT_CLIENT_JOIN: return "client_join";
    case RV_EVENT_CLIENT_LEAVE: return "client_leave";
    case RV_EVENT_WARNING: return "warning";
    default: return "unknown";
    }
}

static rv_log_level host_event_level(rv_event_type type)
{
    switch (type) {
    case RV_EVENT_ASSET_ERROR:
    case RV_EVENT_SINK_ERROR: return RV_LOG_ERROR;
    case RV_EVENT_CLIENT_JOIN:
    case RV_EVENT_CLIENT_LEAVE: return RV_LOG_INFO;
    case RV_EVENT_WARNING:
    default: return RV_LOG_WARN;
    }
}

__attribute__((format(printf, 5, 6))) static void host_event(rv_context *ctx, rv_event_type type,
                                                            int code, const char *subject,
                                                            const char *fmt, ...)
{
    char message[1024];
    va_list ap;
    message[0] = '\0';
    if (fmt != NULL) {
        va_start(ap, fmt);
        vsnprintf(message, sizeof(message), fmt, ap);
        va_end(ap);
    }
    const char *subj = subject != NULL ? subject : "";
    if (code != 0)
        log_write(host_event_level(type), host_ctx_channel(ctx), host_ctx_module(ctx),
                  "event %s: %s: %s (%s)", host_event_name(type), subj, message,
                  rv_strerror(code));
    else
        log_write(host_event_level(type), host_ctx_channel(ctx), host_ctx_module(ctx),
                  "event %s: %s: %s", host_event_name(type), subj, message);
    if (ctx != NULL && ctx->on_event != NULL)
        ctx->on_event(ctx->owner, ctx, type, code, subj, message);
}

/** Largest image publish_image accepts: a preview, not a video frame. */
#define HOST_IMAGE_MAX_BYTES (16u * 1024u * 1024u)

static int host_publish_image(rv_context *ctx, const char *mime, const void *data, size_t len)
{
    if (mime == NULL || mime[0] == '\0' || data == NULL || len == 0 ||
        len > HOST_IMAGE_MAX_BYTES)
        return RV_EINVAL;
    if (ctx == NULL || ctx->on_image == NULL)
        return RV_OK; /* outside a channel: nobody shows it */
    return ctx->on_image(ctx->image_owner, ctx, mime, data, len);
}

static int host_stream_write(rv_context *ctx, const void *data, size_t len, uint32_t flags)
{
    if (data == NULL || len == 0 || len % 188 != 0)
        return RV_EINVAL;
    if (ctx == NULL || ctx->on_stream == NULL)
        return RV_ENOTSUP;
    return ctx->on_stream(ctx->stream_owner, ctx, data, len, flags);
}

static int host_thread_count(rv_context *ctx, uint32_t role)
{
    (void)ctx; /* the budget is the process's; ctx is for a per-channel policy later */
    return thread_budget_suggest(role);
}

static const rv_host_api host_api_table = {
    .struct_size = sizeof(rv_host_api),
    .abi_major = RV_ABI_MAJOR,
    .abi_minor = RV_ABI_MINOR,
    .log = host_log,
    .vlog = host_vlog,
    .log_enabled = host_log_enabled,
    .clock_now_utc_ns = host_clock_now_utc_ns,
    .video_alloc = host_video_alloc,
    .video_ref = frame_pool_video_ref,
    .video_release = frame_pool_video_release,
    .video_make_writable = host_video_make_writable,
    .audio_alloc = host_audio_alloc,
    .audio_ref = frame_pool_audio_ref,
    .audio_release = frame_pool_audio_release,
    .opt_bool = options_get_bool,
    .opt_int = options_get_int,
    .opt_float = options_get_float,
    .opt_string = options_get_string,
    .opt_is_set = options_is_set,
    .event = host_event,
    .publish_image = host_publish_image,
    .stream_write = host_stream_write,
    .thread_count = host_thread_count,
    .video_plane_bytes = frame_pool_video_plane_bytes,
};

const rv_host_api *host_api_get(void)
{
    return &host_api_table;
}

void host_context_init(rv_context *ctx, int32_t channel_id, const char *module, frame_pool *pool,
                       master_clock *clock, host_event_fn on_event, void *owner)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->channel_id = channel_id;
    if (module != NULL)
        snprintf(ctx->module, sizeof(ctx->module), "%s", module);
    ctx->pool = pool;
    ctx->clock = clock;
    ctx->on_event = on_event;
    ctx->owner = owner;
}

void host_context_set_image_sink(rv_context *ctx, host_image_fn on_image, void *image_owner)
{
    ctx->on_image = on_image;
    ctx->image_owner = image_owner;
}

void host_context_set_stream_sink(rv_context *ctx, host_stream_fn on_stream, void *stream_owner)
{
    ctx->on_stream = on_stream;
    ctx->stream_owner = stream_owner;
}
