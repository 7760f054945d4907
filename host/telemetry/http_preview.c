/**
 * @file host/telemetry/http_preview.c
 * @short The preview image route (see http_preview.h): copies the channel's
 *        latest image out of the engine and answers with it, or 304 / 404.
 *        Owns nothing between requests.
 */
#include "telemetry/http_preview.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/** Cache-Control for previews: a browser may keep the bytes but must ask
 *  again (with If-None-Match) before showing them. */
#define HTTP_PREVIEW_CACHE "no-cache"
/** The channel's last emitted tick when the image was published (the
 *  sampled picture is that tick or one of the few before it). */
#define HTTP_PREVIEW_TICK_HEADER "X-RetroVue-Tick"

/** 1 when the If-None-Match value @p header (borrowed, may be NULL) lists
 *  @p etag or is "*". Weak validators (W/"...") match too. */
static int http_etag_matches(const char *header, const char *etag)
{
    if (!header)
        return 0;
    size_t n = strlen(etag);
    const char *p = header;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '*')
            return 1;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (strncmp(p, etag, n) == 0 && (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
            return 1;
        while (*p && *p != ',')
            p++;
    }
    return 0;
}

int http_preview_reply(engine *e, int32_t id, const http_request *req, http_reply *out)
{
    char mime[64] = "";
    void *data = NULL;
    size_t len = 0;
    uint64_t version = 0;
    int64_t tick = -1;
    int rc = engine_channel_preview(e, id, mime, sizeof(mime), &data, &len, &version, &tick);
    if (rc == RV_ENOENT)
        return http_reply_text(out, 404, "no preview for this channel yet\n");
    if (rc != RV_OK)
        return rc;
    snprintf(out->etag, sizeof(out->etag), "\"%" PRIu64 "\"", version);
    out->cache_control = HTTP_PREVIEW_CACHE;
    out->extra_name = HTTP_PREVIEW_TICK_HEADER;
    snprintf(out->extra_value, sizeof(out->extra_value), "%" PRId64, tick);
    if (http_etag_matches(req->if_none_match, out->etag)) {
        free(data);
        out->status = 304;
        return RV_OK;
    }
    /* Only image types come through here; anything else is served as bytes. */
    out->content_type = strcmp(mime, "image/jpeg") == 0 ? "image/jpeg"
                        : strcmp(mime, "image/png") == 0 ? "image/png"
                                                          : "application/octet-stream";
    out->status = 200;
    out->body = data;
    out->len = len;
    return RV_OK;
}
