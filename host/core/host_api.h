/**
 * @file host/core/host_api.h
 * @short The host's implementation of rv_host_api, and rv_context: the handle
 *        that tells the host which channel and module a call comes from.
 */
#ifndef RV_HOST_HOST_API_H
#define RV_HOST_HOST_API_H

#include <stddef.h>
#include <stdint.h>

#include <retrovue/host.h>

#include "core/clock.h"
#include "core/frame_pool.h"

/** Receives a module's events. Thread: whichever module thread reported it.
 *  Every pointer borrowed for the call. */
typedef void (*host_event_fn)(void *owner, rv_context *ctx, rv_event_type type, int code,
                              const char *subject, const char *message);

/** Receives an image a module published (rv_host_api.publish_image): the
 *  sink copies what it keeps. Thread: whichever module thread published.
 *  @p ctx, @p mime and @p data borrowed for the call. RV_OK, RV_EINVAL or
 *  RV_ENOMEM. */
typedef int (*host_image_fn)(void *image_owner, rv_context *ctx, const char *mime,
                             const void *data, size_t len);

/** Receives an encoder's output (rv_host_api.stream_write): whole TS
 *  packets, @p data borrowed for the call. Thread: the encoder's. RV_OK,
 *  RV_ENOMEM or RV_ESTATE. */
typedef int (*host_stream_fn)(void *stream_owner, rv_context *ctx, const void *data, size_t len,
                              uint32_t flags);

struct rv_context {
    int32_t channel_id;       /**< -1 outside a channel (e.g. --list-modules) */
    char module[64];          /**< module name */
    frame_pool *pool;         /**< borrowed; NULL outside a channel */
    master_clock *clock;      /**< borrowed */
    host_event_fn on_event;   /**< NULL: events are only logged */
    void *owner;              /**< passed to on_event */
    host_image_fn on_image;   /**< NULL: published images are discarded */
    void *image_owner;        /**< passed to on_image */
    host_stream_fn on_stream; /**< NULL: stream_write is refused (not an encoder) */
    void *stream_owner;       /**< passed to on_stream */
};

/** The process's one const table. Thread: any. */
const rv_host_api *host_api_get(void);

/** Fill @p ctx. @p module copied; @p pool, @p clock, @p owner borrowed. */
void host_context_init(rv_context *ctx, int32_t channel_id, const char *module, frame_pool *pool,
                       master_clock *clock, host_event_fn on_event, void *owner);

/** Route @p ctx's publish_image calls to @p on_image with @p image_owner
 *  (borrowed, must outlive the context's module instance); NULL stops the
 *  routing. host_context_init leaves it unset. Call before the instance's
 *  threads can publish (control thread, before the instance is handed to a
 *  channel thread). */
void host_context_set_image_sink(rv_context *ctx, host_image_fn on_image, void *image_owner);

/** Route @p ctx's stream_write calls to @p on_stream with @p stream_owner
 *  (borrowed, must outlive the instance). Control thread, before the
 *  encoder's thread runs. */
void host_context_set_stream_sink(rv_context *ctx, host_stream_fn on_stream, void *stream_owner);

#endif
