/**
 * @file host/telemetry/http_stream.c
 * @short `/channel/<id>.ts` and `/channels.m3u` (see http_stream.h).
 */
#include "telemetry/http_stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/stream_hub.h"
#include "telemetry/text_buffer.h"

/** How long one read waits for the next chunk before handing back (the
 *  thread-per-connection server calls again). */
#define HTTP_STREAM_WAIT_NS (500LL * 1000 * 1000)
/** The largest batch one read hands libmicrohttpd (bytes): what queues in
 *  HTTP_STREAM_COALESCE_NS up to ~4 Mb/s goes out in one send(). The
 *  connection's memory pool (telemetry_server.c) is sized to hold it. */
#define HTTP_STREAM_BLOCK_BYTES (128u * 1024u)
/** Once a viewer has caught up, it is woken at most this often: each wake
 *  sends what queued meanwhile (about 7 ticks, ~70 KB at 2 Mb/s) in one
 *  send() instead of one chunk a tick. Woken per chunk, 50 viewers' threads
 *  cost a third of an encode; batched, what is left is mostly the kernel's
 *  per-byte TCP cost (docs/PERFORMANCE.md row 12). 250 ms is far inside any
 *  player's buffer (ffplay, VLC and mpv buffer 1 s or more of a live TS).
 *  A viewer still behind (its first GOP, a burst) is sent to without pause. */
#define HTTP_STREAM_COALESCE_NS (250LL * 1000 * 1000)
/** For this long after its first byte a viewer is never made to wait: a
 *  player decodes its first picture only once the next picture's PES starts
 *  (a video PES in a TS has no length), and a channel that has just woken
 *  (encode = "on-demand") publishes its first GOP a tick at a time, so a
 *  coalescing pause here would add up to HTTP_STREAM_COALESCE_NS to the
 *  join (docs/PERFORMANCE.md row 13). */
#define HTTP_STREAM_JOIN_NS (1000LL * 1000 * 1000)
#define HTTP_M3U_GROUP "RetroVue"

/** One viewer of one channel: its place in the stream. */
typedef struct http_viewer {
    stream_sub *sub;
    stream_chunk *cur;   /**< being sent; one reference */
    size_t off;          /**< bytes of cur already sent */
    int32_t id;
    int caught_up;       /**< the last read emptied its queue */
    int64_t first_send_ns;/**< monotonic instant of the first read that sent bytes; 0 before */
    int64_t last_send_ns;/**< monotonic instant of the last read that sent bytes */
} http_viewer;

static int64_t viewer_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

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

/* Thread: the connection's. Copies queued chunks into @p buf; waits a while
 * when there is nothing yet. */
static ssize_t viewer_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    http_viewer *v = cls;
    size_t n = 0;
    (void)pos;
    if (v->caught_up && v->last_send_ns - v->first_send_ns >= HTTP_STREAM_JOIN_NS) {
        int64_t wait_ns = v->last_send_ns + HTTP_STREAM_COALESCE_NS - viewer_now_ns();
        if (wait_ns > 0) {
            struct timespec ts = {0, (long)wait_ns};
            nanosleep(&ts, NULL); /* let a few ticks queue up */
        }
    }
    v->caught_up = 0;
    while (n < max) {
        if (!v->cur) {
            int rc = stream_sub_next(v->sub, n ? 0 : HTTP_STREAM_WAIT_NS, &v->cur, NULL);
            if (rc == RV_ETIMEDOUT) {
                v->caught_up = n > 0;
                break;
            }
            if (rc == RV_EOF)
                return n ? (ssize_t)n : MHD_CONTENT_READER_END_OF_STREAM;
            if (rc != RV_OK) {
                log_write(RV_LOG_INFO, v->id, NULL,
                          "http viewer dropped: it fell more than %u bytes behind",
                          HTTP_STREAM_VIEWER_QUEUE_BYTES);
                return n ? (ssize_t)n : MHD_CONTENT_READER_END_WITH_ERROR;
            }
            v->off = 0;
        }
        size_t take = v->cur->len - v->off;
        if (take > max - n)
            take = max - n;
        memcpy(buf + n, v->cur->data + v->off, take);
        n += take;
        v->off += take;
        if (v->off == v->cur->len) {
            stream_chunk_unref(v->cur);
            v->cur = NULL;
        }
    }
    if (n > 0) {
        v->last_send_ns = viewer_now_ns();
        if (!v->first_send_ns)
            v->first_send_ns = v->last_send_ns;
    }
    return (ssize_t)n;
}

static void viewer_free(void *cls)
{
    http_viewer *v = cls;
    stream_chunk_unref(v->cur);
    stream_sub_close(v->sub);
    free(v);
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

enum MHD_Result http_stream_ts(struct MHD_Connection *conn, engine *e, int32_t id)
{
    stream_hub *hub = NULL;
    int rc = engine_channel_stream(e, id, &hub);
    if (rc == RV_ENOENT)
        return stream_text(conn, MHD_HTTP_NOT_FOUND, "channel not running\n");
    if (rc != RV_OK)
        return stream_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                           "channel has no MPEG-TS output (bind a transport)\n");
    http_viewer *v = calloc(1, sizeof(*v));
    if (v)
        v->sub = stream_hub_subscribe(hub, HTTP_STREAM_VIEWER_QUEUE_BYTES, STREAM_SUB_DROP, 0);
    stream_hub_unref(hub); /* the subscription holds its own reference */
    if (!v || !v->sub) {
        free(v);
        return stream_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "channel is stopping\n");
    }
    v->id = id;
    struct MHD_Response *resp = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, HTTP_STREAM_BLOCK_BYTES, viewer_read, v, viewer_free);
    if (!resp) {
        viewer_free(v);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "video/mp2t");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
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
