/**
 * @file tests/unit/test_channel_preview.c
 * @short channel_preview (host/channel/channel_preview.c) and the ABI 1.1
 *        service publish_image: copies, versions, the tick, errors, and the
 *        routing from rv_host_api through an rv_context's image sink.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <retrovue/retrovue.h>

#include "channel/channel_preview.h"
#include "core/host_api.h"
#include "tap.h"

int main(void)
{
    tap_plan(16);
    const rv_host_api *host = host_api_get();
    tap_ok(host->abi_minor >= 1 &&
               host->struct_size >= offsetof(rv_host_api, publish_image) + sizeof(void *) &&
               host->publish_image != NULL,
           "the host table is ABI 1.1 and has publish_image");

    atomic_llong last_tick = 41;
    channel_preview *p = channel_preview_create(&last_tick);
    void *data = NULL;
    size_t len = 0;
    char mime[64] = "";
    uint64_t v1 = 0;
    uint64_t v2 = 0;
    int64_t tick = 0;
    tap_ok(channel_preview_copy(p, mime, sizeof(mime), &data, &len, &v1, &tick) == RV_ENOENT &&
               data == NULL && len == 0,
           "no image yet: RV_ENOENT");

    rv_context ctx;
    host_context_init(&ctx, 7, "preview", NULL, NULL, NULL, NULL);
    tap_ok(host->publish_image(&ctx, "image/jpeg", "abc", 3) == RV_OK,
           "publish without an image sink (outside a channel) is accepted and dropped");
    tap_ok(channel_preview_copy(p, mime, sizeof(mime), &data, &len, &v1, &tick) == RV_ENOENT,
           "... and reaches no preview");

    host_context_set_image_sink(&ctx, channel_preview_publish, p);
    char image[] = "\xff\xd8 first image";
    tap_ok(host->publish_image(&ctx, "image/jpeg", image, sizeof(image)) == RV_OK,
           "publish through the host table: RV_OK");
    image[0] = 'X'; /* the host copied it */
    int rc = channel_preview_copy(p, mime, sizeof(mime), &data, &len, &v1, &tick);
    tap_ok(rc == RV_OK && len == sizeof(image) && memcmp(data, "\xff\xd8 first", 8) == 0,
           "copy out: the bytes as published (a copy, not the caller's buffer)");
    tap_ok(strcmp(mime, "image/jpeg") == 0 && tick == 41, "mime and the channel's tick (%lld)",
           (long long)tick);
    free(data);

    last_tick = 99;
    tap_ok(host->publish_image(&ctx, "image/png", "second", 6) == RV_OK, "publish a second image");
    rc = channel_preview_copy(p, mime, sizeof(mime), &data, &len, &v2, &tick);
    tap_ok(rc == RV_OK && len == 6 && memcmp(data, "second", 6) == 0 &&
               strcmp(mime, "image/png") == 0 && tick == 99,
           "the second replaces the first");
    free(data);
    tap_ok(v2 == v1 + 1, "versions grow by one per image (%llu -> %llu)", (unsigned long long)v1,
           (unsigned long long)v2);

    channel_preview *q = channel_preview_create(&last_tick);
    host_context_set_image_sink(&ctx, channel_preview_publish, q);
    host->publish_image(&ctx, "image/jpeg", "x", 1);
    uint64_t v3 = 0;
    rc = channel_preview_copy(q, NULL, 0, &data, &len, &v3, NULL);
    free(data);
    tap_ok(rc == RV_OK && v3 > v2, "a new preview (a restarted channel) never repeats a version");
    channel_preview_destroy(q);
    host_context_set_image_sink(&ctx, channel_preview_publish, p);

    tap_ok(host->publish_image(&ctx, NULL, "x", 1) == RV_EINVAL, "NULL mime: RV_EINVAL");
    tap_ok(host->publish_image(&ctx, "", "x", 1) == RV_EINVAL, "empty mime: RV_EINVAL");
    tap_ok(host->publish_image(&ctx, "image/jpeg", NULL, 1) == RV_EINVAL &&
               host->publish_image(&ctx, "image/jpeg", "x", 0) == RV_EINVAL,
           "no data: RV_EINVAL");
    char long_mime[100];
    memset(long_mime, 'a', sizeof(long_mime) - 1);
    long_mime[sizeof(long_mime) - 1] = '\0';
    tap_ok(host->publish_image(&ctx, long_mime, "x", 1) == RV_EINVAL,
           "a MIME type longer than 63 bytes: RV_EINVAL");
    rc = channel_preview_copy(p, mime, sizeof(mime), &data, &len, &v1, &tick);
    tap_ok(rc == RV_OK && len == 6 && v1 == v2, "refused images leave the last one in place");
    free(data);
    channel_preview_destroy(p);
    return tap_done();
}
