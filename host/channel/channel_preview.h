/**
 * @file host/channel/channel_preview.h
 * @short The latest still image of one channel's output (the preview a
 *        renderer publishes through rv_host_api.publish_image), kept for the
 *        HTTP endpoint: its MIME type, its bytes, a version used as the ETag
 *        and the channel's tick when it was published.
 *
 * Owns one copy of the image under its own mutex. Publishing replaces it;
 * readers get a copy of their own, so neither side ever waits on the other
 * for longer than a memcpy of one small image.
 */
#ifndef RV_HOST_CHANNEL_PREVIEW_H
#define RV_HOST_CHANNEL_PREVIEW_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "core/host_api.h"

typedef struct channel_preview channel_preview;

/** A preview with no image yet. @p last_tick (borrowed, must outlive the
 *  preview) is the channel's last emitted tick, read at each publish. NULL
 *  when out of memory. Control thread. */
channel_preview *channel_preview_create(const atomic_llong *last_tick);
/** Free the preview and its image. NULL is a no-op. Control thread, once no
 *  module can publish any more. */
void channel_preview_destroy(channel_preview *p);

/** host_image_fn: replace the image with a copy of @p data (@p len bytes) of
 *  type @p mime. @p image_owner is the channel_preview; every pointer is
 *  borrowed for the call. RV_OK, RV_EINVAL (a MIME type longer than 63
 *  bytes) or RV_ENOMEM (the previous image stays). Thread: any. */
int channel_preview_publish(void *image_owner, rv_context *ctx, const char *mime,
                            const void *data, size_t len);

/** Copy the latest image out: @p mime receives its type (@p mimelen bytes,
 *  NUL-terminated), *@p data a malloc'd copy of its bytes that the caller
 *  frees, *@p len its size, *@p version its version (grows with every
 *  publish and never repeats for the process, so it serves as an ETag) and
 *  *@p tick the channel's last emitted tick when it was published (the
 *  sampled picture is at most a few ticks older). Any output pointer may be
 *  NULL except @p data and @p len. RV_OK, RV_ENOENT (nothing published yet)
 *  or RV_ENOMEM. Thread: any. */
int channel_preview_copy(channel_preview *p, char *mime, size_t mimelen, void **data,
                         size_t *len, uint64_t *version, int64_t *tick);

#endif
