/**
 * @file retrovue/host.h
 * @short The services the host hands every module: one const table of
 *        function pointers (log, clock, buffers, options, events).
 *
 * Modules never link the host. They receive `const rv_host_api *` in
 * rv_create_args and call through it. The table is append-only: check
 * `struct_size` before using a member added after ABI 1.0.
 *
 * ABI 1.1 appended publish_image; ABI 1.2 appended stream_write; ABI 1.3
 * appended thread_count; ABI 1.4 appended video_plane_bytes.
 */
#ifndef RETROVUE_HOST_H
#define RETROVUE_HOST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <retrovue/format.h>
#include <retrovue/frame.h>
#include <retrovue/option.h>

/** The host's handle for one module instance (channel, module name). Opaque. */
typedef struct rv_context rv_context;

/** Log levels, most severe first. Never zero. */
typedef enum rv_log_level {
    RV_LOG_ERROR = 1,
    RV_LOG_WARN = 2,
    RV_LOG_INFO = 3,
    RV_LOG_DEBUG = 4
} rv_log_level;

/** Events a module reports to the host. Never zero. */
typedef enum rv_event_type {
    RV_EVENT_ASSET_ERROR = 1,   /**< an asset could not be opened or decoded */
    RV_EVENT_SINK_ERROR = 2,    /**< a sink's encoder or transport failed */
    RV_EVENT_CLIENT_JOIN = 3,   /**< a sink client connected */
    RV_EVENT_CLIENT_LEAVE = 4,  /**< a sink client left or was disconnected */
    RV_EVENT_WARNING = 5        /**< something an operator should know */
} rv_event_type;

/** Roles for rv_host_api.thread_count (ABI 1.3). Never zero. */
typedef enum rv_thread_role {
    RV_THREADS_DECODER = 1,     /**< one decoder of a producer (per open asset) */
    RV_THREADS_ENCODER = 2      /**< one video encoder of a rendition */
} rv_thread_role;

/** Host services. Every function is safe to call from any module thread. */
typedef struct rv_host_api {
    uint32_t struct_size;   /**< sizeof(rv_host_api) the host was built with */
    uint32_t abi_major;
    uint32_t abi_minor;

    /** Log one line for @p ctx (channel and module are added). @p fmt borrowed. */
    void (*log)(rv_context *ctx, rv_log_level level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
    /** Same as log() with a va_list. */
    void (*vlog)(rv_context *ctx, rv_log_level level, const char *fmt, va_list ap);
    /** True when @p level would be written (skip expensive formatting). */
    int (*log_enabled)(rv_context *ctx, rv_log_level level);

    /** The MasterClock's current time, UTC nanoseconds. */
    int64_t (*clock_now_utc_ns)(rv_context *ctx);

    /** A picture from the channel's pool, one reference owned by the caller;
     *  contents undefined. NULL only when memory is exhausted. */
    rv_video_frame *(*video_alloc)(rv_context *ctx);
    /** Add a reference to @p frame (borrowed). */
    void (*video_ref)(rv_video_frame *frame);
    /** Drop one reference; the frame returns to its pool at zero. NULL is a no-op. */
    void (*video_release)(rv_video_frame *frame);
    /** Make *@p frame exclusively owned: if shared, replace it with a copy
     *  (the caller's reference to the old one is released). RV_OK or RV_ENOMEM. */
    int (*video_make_writable)(rv_context *ctx, rv_video_frame **frame);

    /** An audio buffer from the channel's pool, one reference owned by the
     *  caller, `samples` set to @p samples, contents undefined. */
    rv_audio_buffer *(*audio_alloc)(rv_context *ctx, uint32_t samples);
    void (*audio_ref)(rv_audio_buffer *buf);
    void (*audio_release)(rv_audio_buffer *buf);

    /** Typed option values. @p opts and @p key borrowed. The host validated
     *  every value against the module's table, so a declared key always has
     *  a value (its default if not configured). An undeclared key returns
     *  0 / 0.0 / NULL and logs a bug. Strings live as long as @p opts. */
    int (*opt_bool)(const rv_options *opts, const char *key);
    int64_t (*opt_int)(const rv_options *opts, const char *key);
    double (*opt_float)(const rv_options *opts, const char *key);
    const char *(*opt_string)(const rv_options *opts, const char *key);
    /** True when the key was set in the config (not defaulted). */
    int (*opt_is_set)(const rv_options *opts, const char *key);

    /** Report an event. @p subject (asset URI, peer address) and the message
     *  are borrowed. @p code is an rv_error or 0. The host logs it once and
     *  updates the channel's state and counters. */
    void (*event)(rv_context *ctx, rv_event_type type, int code, const char *subject,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

    /* ---- members added in ABI 1.1 or later go below this line ---- */

    /** ABI 1.1. Publish the latest still image of the channel's output (a
     *  preview the operator page and `/channels/<id>/preview.jpg` serve).
     *  @p mime (e.g. "image/jpeg") and @p data (@p len bytes) are borrowed
     *  for the call: the host copies them. The image replaces the channel's
     *  previous one. Thread: any. RV_OK, RV_EINVAL (NULL or empty @p mime or
     *  @p data, or an implausibly large image) or RV_ENOMEM. A module built
     *  against ABI 1.1 may be loaded by a 1.0 host, which lacks this member:
     *  check `host->struct_size >= offsetof(rv_host_api, publish_image) +
     *  sizeof(void *)` before calling it. */
    int (*publish_image)(rv_context *ctx, const char *mime, const void *data, size_t len);

    /** ABI 1.2. An encoder (retrovue/encoder.h) hands its output to the host:
     *  @p len bytes of whole 188-byte MPEG-TS packets at @p data (borrowed
     *  for the call: the host copies them once, then shares the copy with
     *  every transport and viewer). @p flags: RV_STREAM_RANDOM_ACCESS when the
     *  bytes begin with PAT, PMT and a video keyframe. Thread: the encoder's,
     *  inside encode() or stop(). RV_OK, RV_EINVAL (NULL, empty or not a
     *  multiple of 188 bytes), RV_ENOTSUP (@p ctx is not an encoder's) or
     *  RV_ENOMEM. Check `host->struct_size` covers it before calling. */
    int (*stream_write)(rv_context *ctx, const void *data, size_t len, uint32_t flags);

    /** ABI 1.3. How many threads one decoder or encoder (@p role, an
     *  rv_thread_role) of @p ctx's channel should use: the host divides the
     *  CPUs it may run on among the channels alive now (a channel counts
     *  itself), caps a decoder at 2 and an encoder at 8, and honours the
     *  engine-wide `decoder_threads` / `encoder_threads` of the config
     *  (docs/config.md). A module's own explicit option still wins; call this
     *  when the operator left the count to the host. Ask when a decoder or
     *  encoder is opened (the answer follows the channel count). Thread: any.
     *  Returns 1..16, or RV_EINVAL for an unknown role. A 1.2 host lacks it:
     *  check `host->struct_size >= offsetof(rv_host_api, thread_count) +
     *  sizeof(void *)` first (and fall back to your own default). */
    int (*thread_count)(rv_context *ctx, uint32_t role);

    /** ABI 1.4. How many bytes from @p frame->plane[@p plane] (Y 0, U 1,
     *  V 2) belong to the picture: its rows at their stride, padding rows
     *  below the visible ones and a tail. A module that lets a decoder write
     *  straight into a picture from video_alloc (libavcodec's get_buffer2)
     *  checks the decoder's needs against it. This host gives every plane
     *  64-byte alignment, a chroma stride of half the width rounded up to 64,
     *  a luma stride of twice that, the height aligned to 32 plus 2 luma
     *  rows (half as many chroma rows, rounded up) and 128 tail bytes: what
     *  libavcodec's own pool gives a 4:2:0 picture. @p frame is borrowed.
     *  Thread: any. Returns 0 for NULL or @p plane > 2. A 1.3 host lacks it:
     *  check `host->struct_size >= offsetof(rv_host_api, video_plane_bytes) +
     *  sizeof(void *)` first, and write only stride * height (luma) rows
     *  when it is absent. */
    size_t (*video_plane_bytes)(const rv_video_frame *frame, uint32_t plane);
} rv_host_api;

/** The thread count @p host advises for @p role (rv_thread_role) of @p ctx's
 *  channel, or @p fallback when the host predates ABI 1.3 (no thread_count)
 *  or gives no count. @p host and @p ctx are borrowed. Thread: any. */
static inline int rv_host_thread_count(const rv_host_api *host, rv_context *ctx, uint32_t role,
                                       int fallback)
{
    if (!host || host->struct_size < offsetof(rv_host_api, thread_count) + sizeof(void *) ||
        !host->thread_count)
        return fallback;
    int n = host->thread_count(ctx, role);
    return n >= 1 ? n : fallback;
}

#endif
