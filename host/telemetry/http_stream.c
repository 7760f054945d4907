/**
 * @file host/telemetry/http_stream.c
 * @short `/channel/<id>.ts` and `/channels.m3u` (see http_stream.h).
 */
#include "telemetry/http_stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/stream_hub.h"
#include "telemetry/http_viewers.h"
#include "telemetry/text_buffer.h"

#define HTTP_M3U_GROUP "RetroVue"

int http_stream_parse(const char *url, const char *ext, int32_t *id)
{
    const char *prefix = "/channel/";
    size_t plen = strlen(prefix);
    if (strncmp(url, prefix, plen) != 0)
        return 0;
    const char *p = url + plen;
    long long v = 0;
    int digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 10) {
        v = v * 10 + (*p - '0');
        p++;
        digits++;
    }
    if (!digits || v <= 0 || v > INT32_MAX || *p != '.' || strcmp(p + 1, ext) != 0)
        return 0;
    *id = (int32_t)v;
    return 1;
}

static enum MHD_Result stream_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

enum MHD_Result http_stream_ts(struct MHD_Connection *conn, engine *e, http_viewers *vs,
                               int32_t id)
{
    stream_hub *hub = NULL;
    int rc = engine_channel_stream(e, id, &hub);
    if (rc == RV_ENOENT)
        return stream_text(conn, MHD_HTTP_NOT_FOUND, "channel not running\n");
    if (rc != RV_OK)
        return stream_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                           "channel has no MPEG-TS output (bind a transport)\n");
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    stream_sub *sub = ci ? stream_hub_subscribe(hub, HTTP_STREAM_VIEWER_QUEUE_BYTES,
                                                STREAM_SUB_DROP, 0)
                         : NULL;
    stream_hub_unref(hub); /* the subscription holds its own reference */
    if (!sub)
        return stream_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "channel is stopping\n");
    http_viewer *v = http_viewer_create(vs, sub, (int)ci->connect_fd, id);
    if (!v)
        return MHD_NO;
    /* The body is written by http_viewers' thread while this connection's
     * thread waits in http_viewer_read, so libmicrohttpd sees no traffic:
     * its idle timeout is off for this connection, and the sender applies
     * its own (a viewer whose socket takes nothing for that long is
     * dropped). */
    MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
    struct MHD_Response *resp = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, 4096, http_viewer_read, v, http_viewer_free);
    if (!resp) {
        http_viewer_free(v);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "video/mp2t");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    /* no keep-alive after a stream ends: the connection has no idle timeout */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* A Host header that is safe to put in a URL: host[:port] characters only. */
static int m3u_host_ok(const char *h)
{
    if (!h || !h[0] || strlen(h) > 255)
        return 0;
    for (const char *p = h; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr(".-:[]_", *p)))
            return 0;
    return 1;
}

/* An attribute value: no quotes or line breaks (M3U has no escaping). */
static void m3u_clean(char *dst, size_t len, const char *src)
{
    size_t i = 0;
    for (; src && *src && i + 1 < len; src++)
        dst[i++] = (*src == '"' || *src == '\n' || *src == '\r') ? '\'' : *src;
    dst[i] = '\0';
}

static void m3u_entry(text_buffer *out, const char *host, int32_t id, const char *name)
{
    char clean[ENGINE_TEXT];
    m3u_clean(clean, sizeof(clean), name && name[0] ? name : "Channel");
    text_buffer_printf(out,
                       "#EXTINF:-1 tvg-id=\"%d\" tvg-name=\"%s\" tvg-chno=\"%d\" "
                       "group-title=\"%s\",%s\nhttp://%s/channel/%d.ts\n",
                       id, clean, id, HTTP_M3U_GROUP, clean, host, id);
}

int http_stream_m3u(engine *e, const char *host_header, const char *fallback_host,
                    http_reply *out)
{
    const char *host = m3u_host_ok(host_header) ? host_header : fallback_host;
    channel_status *running = NULL;
    size_t running_count = 0;
    engine_configured_channel *configured = NULL;
    size_t configured_count = 0;
    int rc = engine_list_channels(e, &running, &running_count);
    if (rc == RV_OK)
        rc = engine_list_configured(e, &configured, &configured_count);
    text_buffer tb;
    text_buffer_init(&tb);
    text_buffer_printf(&tb, "#EXTM3U\n");
    for (size_t i = 0; rc == RV_OK && i < configured_count; i++)
        m3u_entry(&tb, host, configured[i].id, configured[i].name);
    for (size_t i = 0; rc == RV_OK && i < running_count; i++) {
        int listed = 0;
        for (size_t j = 0; j < configured_count && !listed; j++)
            listed = configured[j].id == running[i].id;
        if (!listed)
            m3u_entry(&tb, host, running[i].id, running[i].name);
    }
    free(running);
    free(configured);
    size_t len = 0;
    char *body = rc == RV_OK ? text_buffer_take(&tb, &len) : NULL;
    text_buffer_free(&tb);
    if (!body)
        return rc == RV_OK ? RV_ENOMEM : rc;
    out->status = 200;
    out->content_type = "audio/x-mpegurl; charset=utf-8";
    out->body = body;
    out->len = len;
    return RV_OK;
}
