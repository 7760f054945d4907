/**
 * @file host/telemetry/telemetry_server.c
 * @short The HTTP endpoint: a libmicrohttpd daemon (one thread per
 *        connection, so a live stream's reader may park while http_viewers
 *        sends its body, and a handler may wait without stalling the others)
 *        on one listening socket bound to metrics_listen, routing GET/HEAD
 *        requests through a table of paths, and the viewer outputs
 *        (`/channel/<id>.ts`, `/channels.m3u`, HLS `/channel/<id>.m3u8`)
 *        the config enables.
 *
 * The daemon's threads and the viewers' sender thread (http_viewers.h:
 * libmicrohttpd parses a viewer's request and sends its headers, one thread
 * writes every viewer's body) run TELEMETRY_NICE_DELTA nicer than the rest
 * of the engine (telemetry_daemon_thread), so HTTP load yields to the
 * channels and the control plane.
 *
 * Owns the daemon and, through it, the listening socket. Routes render into
 * a text buffer per request from the engine's status API (borrowed); nothing
 * is cached between requests. Unknown paths are 404, methods other than GET
 * and HEAD are 405 (HEAD answers like GET without the body: libmicrohttpd
 * drops it).
 */
#include "telemetry/telemetry_server.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <microhttpd.h>

#include <retrovue/error.h>

#include "core/host_port.h"
#include "core/log.h"
#include "telemetry/healthz.h"
#include "telemetry/http_guard.h"
#include "telemetry/http_channels.h"
#include "telemetry/http_page.h"
#include "telemetry/http_route.h"
#include "telemetry/http_hls.h"
#include "telemetry/http_stream.h"
#include "telemetry/http_viewers.h"
#include "telemetry/metrics.h"
#include "telemetry/text_buffer.h"

/** Connections at once: operator pages, scrapers and stream viewers. */
#define TELEMETRY_CONNECTION_LIMIT 512
/** Of which from one IP address. */
#define TELEMETRY_PER_IP_LIMIT 128
/** Seconds a connection may be silent (request or reply) before it is closed. */
#define TELEMETRY_TIMEOUT_S 10
#define TELEMETRY_BACKLOG 128
/** Descriptors the HTTP server leaves to the rest of the process, at least. */
#define TELEMETRY_FD_RESERVE 256
/** How much nicer (lower priority) than the engine the HTTP threads run: a
 *  burst of them (libmicrohttpd 0.9.75's thread per connection spins in
 *  poll() for up to a second when it closes a timed-out connection: 128 idle
 *  connections make 128 runnable threads at once) then delays the channels'
 *  and the control plane's threads by at most a few of their slices instead
 *  of one slice per HTTP thread. */
#define TELEMETRY_NICE_DELTA 10

struct telemetry_server {
    struct MHD_Daemon *daemon;
    engine *e;              /**< borrowed */
    int port;
    unsigned outputs;       /**< CONFIG_HTTP_* */
    http_hls *hls;          /**< HLS segmenters; NULL when hls is off */
    char host_port[300];    /**< "HOST:PORT" for URLs when a request has no Host */
    http_guard *guard;      /**< token, public paths, redaction */
    http_viewers *viewers;  /**< writes `/channel/<id>.ts` bodies; NULL when that is off */
};

/** A route renders its body into @p out and sets *@p http_status.
 *  Thread: one of libmicrohttpd's; @p e and @p out borrowed. */
typedef int (*telemetry_render_fn)(engine *e, text_buffer *out, unsigned *http_status);

typedef struct telemetry_route {
    const char *path;
    const char *content_type;
    telemetry_render_fn render;  /**< a text body; or: */
    http_handler_fn handle;      /**< any reply (telemetry/http_route.h) */
    int prefix;                  /**< path matches every URL it starts */
} telemetry_route;

static int route_metrics(engine *e, text_buffer *out, unsigned *http_status)
{
    *http_status = MHD_HTTP_OK;
    return metrics_render(e, out);
}

/* One line per route; the operator page and /channels arrive here later. */
static const telemetry_route telemetry_routes[] = {
    {.path = "/metrics", .content_type = METRICS_CONTENT_TYPE, .render = route_metrics},
    {.path = "/healthz", .content_type = HEALTHZ_CONTENT_TYPE, .render = healthz_render},
    {.path = "/", .handle = http_page_handle},
    {.path = "/hls.min.js", .handle = http_page_handle},
    {.path = "/channels", .handle = http_channels_handle},
    {.path = "/channels/", .handle = http_channels_handle, .prefix = 1},
    {.path = NULL},
};

static const telemetry_route *route_find(const char *url)
{
    for (const telemetry_route *r = telemetry_routes; r->path; r++)
        if (r->prefix ? strncmp(r->path, url, strlen(r->path)) == 0 : strcmp(r->path, url) == 0)
            return r;
    return NULL;
}

/** Queue @p body (ownership passes here; freed by libmicrohttpd). */
static enum MHD_Result reply_owned(struct MHD_Connection *conn, unsigned status,
                                   const char *content_type, char *body, size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/** An HLS reply: CORS open (a player page on another origin may fetch it)
 *  and the handler's Cache-Control. */
static enum MHD_Result reply_hls(struct MHD_Connection *conn, http_reply *out)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(out->len, out->body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(out->body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, out->content_type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
                            out->cache_control ? out->cache_control : "no-store");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN, "*");
    enum MHD_Result ret = MHD_queue_response(conn, out->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/** 1 for a text body a redaction may rewrite (not HTML, scripts or media). */
static int telemetry_redactable(const char *content_type)
{
    return content_type && (strncmp(content_type, "text/plain", 10) == 0 ||
                            strncmp(content_type, "application/json", 16) == 0);
}

/** 401 with the challenge of RFC 6750. */
static enum MHD_Result reply_unauthorised(struct MHD_Connection *conn)
{
    static const char text[] = "this path needs \"Authorization: Bearer <token>\"\n";
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(sizeof(text) - 1, (void *)text, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"retrovue\"");
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_UNAUTHORIZED, resp);
    MHD_destroy_response(resp);
    return ret;
}

/** A short plain-text reply (404, 405, 500). */
static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
    char *body = strdup(text);
    if (!body)
        return MHD_NO;
    return reply_owned(conn, status, "text/plain; charset=utf-8", body, strlen(body));
}

static enum MHD_Result reply_route(struct MHD_Connection *conn, engine *e,
                                   const telemetry_route *r, int redact)
{
    text_buffer out;
    text_buffer_init(&out);
    unsigned status = MHD_HTTP_INTERNAL_SERVER_ERROR;
    int rc = r->render(e, &out, &status);
    size_t len = 0;
    char *body = rc == RV_OK ? text_buffer_take(&out, &len) : NULL;
    text_buffer_free(&out);
    if (!body) {
        log_write(RV_LOG_WARN, -1, NULL, "telemetry: %s: %s", r->path,
                  rv_strerror(rc == RV_OK ? RV_ENOMEM : rc));
        return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error\n");
    }
    if (redact && telemetry_redactable(r->content_type))
        http_guard_redact(body, &len);
    return reply_owned(conn, status, r->content_type, body, len);
}

/** A route with a handler: headers (ETag, Cache-Control) and status as the
 *  handler filled them; 304 and empty bodies are sent without content. */
static enum MHD_Result reply_handler(struct MHD_Connection *conn, engine *e,
                                     const telemetry_route *r, const char *url, int redact)
{
    http_request req = {
        .url = url,
        .if_none_match = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_IF_NONE_MATCH),
    };
    http_reply out;
    memset(&out, 0, sizeof(out));
    int rc = r->handle(e, &req, &out);
    if (rc != RV_OK) {
        free(out.body);
        log_write(RV_LOG_WARN, -1, NULL, "telemetry: %s: %s", url, rv_strerror(rc));
        return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error\n");
    }
    if (redact && out.body && telemetry_redactable(out.content_type))
        http_guard_redact(out.body, &out.len);
    struct MHD_Response *resp =
        out.body ? MHD_create_response_from_buffer(out.len, out.body, MHD_RESPMEM_MUST_FREE)
                 : MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(out.body);
        return MHD_NO;
    }
    if (out.content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, out.content_type);
    if (out.etag[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, out.etag);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
                            out.cache_control ? out.cache_control : "no-store");
    if (out.extra_name)
        MHD_add_response_header(resp, out.extra_name, out.extra_value);
    enum MHD_Result ret = MHD_queue_response(conn, out.status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* Thread: one of libmicrohttpd's. The first call of a request only marks it
 * seen; a request body (never expected) is read and discarded; the reply is
 * queued once the request is complete. */
static enum MHD_Result telemetry_handle(void *cls, struct MHD_Connection *conn, const char *url,
                                        const char *method, const char *version,
                                        const char *upload_data, size_t *upload_data_size,
                                        void **req_cls)
{
    static const int request_seen = 1;  /* its address marks a request seen; never written */
    telemetry_server *s = cls;
    (void)version;
    (void)upload_data;
    if (*req_cls == NULL) {
        *req_cls = (void *)&request_seen;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    http_access access = http_guard_check(
        s->guard, url,
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
        MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "access_token"));
    if (access == HTTP_ACCESS_DENIED)
        return reply_unauthorised(conn);
    int redact = access != HTTP_ACCESS_FULL;
    int32_t id = 0;
    int is_get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    if ((s->outputs & CONFIG_HTTP_TS) && http_stream_parse(url, "ts", &id))
        return is_get ? http_stream_ts(conn, s->e, s->viewers, id)
                      : reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
    uint64_t seq = 0;
    if (s->hls && is_get &&
        (http_stream_parse(url, "m3u8", &id) || http_hls_parse_segment(url, &id, &seq))) {
        http_reply out;
        memset(&out, 0, sizeof(out));
        int rc = http_stream_parse(url, "m3u8", &id) ? http_hls_playlist(s->hls, id, &out)
                                                      : http_hls_segment(s->hls, id, seq, &out);
        if (rc != RV_OK) {
            free(out.body);
            return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error\n");
        }
        return reply_hls(conn, &out);
    }
    if ((s->outputs & CONFIG_HTTP_M3U) && strcmp(url, "/channels.m3u") == 0 && is_get) {
        http_reply out;
        memset(&out, 0, sizeof(out));
        const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
        if (http_stream_m3u(s->e, host, s->host_port, &out) != RV_OK)
            return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error\n");
        return reply_owned(conn, out.status, out.content_type, out.body, out.len);
    }
    const telemetry_route *r = route_find(url);
    if (!r)
        return reply_text(conn, MHD_HTTP_NOT_FOUND, "not found\n");
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
    if (r->handle)
        return reply_handler(conn, s->e, r, url, redact);
    return reply_route(conn, s->e, r, redact);
}

/* Thread: any of libmicrohttpd's. */
static void telemetry_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char text[512];
    vsnprintf(text, sizeof(text), fmt, ap);
    size_t n = strlen(text);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
        text[--n] = '\0';
    log_write(RV_LOG_WARN, -1, NULL, "telemetry: %s", text);
}

/** A listening TCP socket bound to exactly @p host : @p port; -1 with the
 *  reason in @p err. */
static int listen_socket(const char *listen_addr, const char *host, const char *port, char *err,
                         size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0) {
        snprintf(err, errlen, "cannot resolve '%s': %s", listen_addr, gai_strerror(gai));
        return -1;
    }
    int fd = -1;
    int last_errno = 0;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            last_errno = errno;
            continue;
        }
        int on = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
        if (ai->ai_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, TELEMETRY_BACKLOG) != 0) {
            last_errno = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        snprintf(err, errlen, "cannot listen on %s: %s%s", listen_addr, strerror(last_errno),
                 last_errno == EADDRINUSE ? " (is another process using the port?)" : "");
    return fd;
}

static int bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return -1;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return -1;
}

/** The connection limit: the configured one (0: the default), at most half
 *  of the descriptors RLIMIT_NOFILE leaves after the reserve
 *  (TELEMETRY_FD_RESERVE unless @p reserve), so
 *  viewers and scrapers can never take the control plane's, the stream
 *  clients' or the plans' descriptors. */
static unsigned telemetry_connection_limit(unsigned configured, unsigned reserve)
{
    unsigned want = configured ? configured : TELEMETRY_CONNECTION_LIMIT;
    rlim_t keep = reserve ? reserve : TELEMETRY_FD_RESERVE;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return want;
    rlim_t room = rl.rlim_cur > 2 * keep ? (rl.rlim_cur - keep) / 2 : rl.rlim_cur / 4;
    if (room < 4)
        room = 4;
    return (rlim_t)want > room ? (unsigned)room : want;
}

/** What the daemon is started with (telemetry_daemon_thread). */
typedef struct telemetry_daemon_job {
    telemetry_server *s;
    int fd;
    unsigned limit;
    unsigned per_ip;
    unsigned timeout_s;
    struct MHD_Daemon *daemon;   /**< out */
    int nice_rc;                 /**< out: 0, or the errno of setpriority */
    int viewers_rc;              /**< out: http_viewers_create's result */
} telemetry_daemon_job;

/** Start the viewers' sender and the daemon from a thread of lower
 *  priority. The sender's thread starts here, libmicrohttpd creates its
 *  listening thread from here and every connection's thread from that one,
 *  and Linux threads inherit their creator's nice value: so all the HTTP
 *  server's threads run TELEMETRY_NICE_DELTA nicer than the engine, and the
 *  rest of the engine keeps its own. Thread: a short-lived one of its own. */
static void *telemetry_daemon_thread(void *arg)
{
    telemetry_daemon_job *job = arg;
    pid_t tid = (pid_t)syscall(SYS_gettid);
    errno = 0;
    int nice_now = getpriority(PRIO_PROCESS, (id_t)tid);
    int want = (errno ? 0 : nice_now) + TELEMETRY_NICE_DELTA;
    job->nice_rc = setpriority(PRIO_PROCESS, (id_t)tid, want > 19 ? 19 : want) == 0 ? 0 : errno;
    if (job->s->outputs & CONFIG_HTTP_TS) {
        job->viewers_rc = http_viewers_create(job->timeout_s, &job->s->viewers);
        if (job->viewers_rc != RV_OK)
            return NULL;
    }
    job->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_AUTO |
            MHD_USE_ERROR_LOG,
        0, NULL, NULL,
        telemetry_handle, job->s, MHD_OPTION_EXTERNAL_LOGGER, telemetry_mhd_log, NULL,
        MHD_OPTION_LISTEN_SOCKET, (MHD_socket)job->fd,
        MHD_OPTION_CONNECTION_LIMIT, job->limit,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, job->per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, job->timeout_s,
        MHD_OPTION_END);
    return NULL;
}

int telemetry_server_start(const char *listen_addr, unsigned outputs,
                           const telemetry_options *opt, engine *e, telemetry_server **out,
                           char *err, size_t errlen)
{
    char host[256];
    char port[16];
    *out = NULL;
    static const telemetry_options no_options;
    if (!opt)
        opt = &no_options;
    if (!listen_addr ||
        host_port_split(listen_addr, host, sizeof(host), port, sizeof(port)) != RV_OK) {
        snprintf(err, errlen, "'%s' is not \"HOST:PORT\"", listen_addr ? listen_addr : "");
        return RV_EINVAL;
    }
    telemetry_server *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return RV_ENOMEM;
    }
    s->e = e;
    int rc = http_guard_create(opt->token_file, opt->public_paths, opt->public_count, &s->guard,
                               err, errlen);
    if (rc != RV_OK) {
        free(s);
        return rc;
    }
    int fd = listen_socket(listen_addr, host, port, err, errlen);
    if (fd < 0) {
        http_guard_destroy(s->guard);
        free(s);
        return RV_EIO;
    }
    s->port = bound_port(fd);
    s->outputs = outputs;
    if ((outputs & CONFIG_HTTP_HLS) && !(s->hls = http_hls_create(e))) {
        close(fd);
        http_guard_destroy(s->guard);
        free(s);
        snprintf(err, errlen, "out of memory");
        return RV_ENOMEM;
    }
    snprintf(s->host_port, sizeof(s->host_port), "%s%s%s:%d", strchr(host, ':') ? "[" : "", host,
             strchr(host, ':') ? "]" : "", s->port);
    unsigned limit = telemetry_connection_limit(opt->max_connections, opt->fd_reserve);
    unsigned per_ip = opt->max_per_peer ? opt->max_per_peer : TELEMETRY_PER_IP_LIMIT;
    if (per_ip > limit)
        per_ip = limit;
    /* From here the daemon owns fd and closes it in MHD_stop_daemon. If the
     * start itself fails the fd may leak; the process is exiting anyway. */
    telemetry_daemon_job job = {.s = s,
                                .fd = fd,
                                .limit = limit,
                                .per_ip = per_ip,
                                .timeout_s = opt->timeout_s ? opt->timeout_s : TELEMETRY_TIMEOUT_S};
    pthread_t starter;
    if (pthread_create(&starter, NULL, telemetry_daemon_thread, &job) == 0)
        pthread_join(starter, NULL);
    else
        job.viewers_rc = RV_EIO;
    s->daemon = job.daemon;
    if (s->daemon && job.nice_rc)
        log_write(RV_LOG_WARN, -1, NULL,
                  "telemetry: HTTP threads keep the engine's priority (setpriority: %s)",
                  strerror(job.nice_rc));
    if (!s->daemon) {
        if (job.viewers_rc != RV_OK)
            snprintf(err, errlen, "cannot start the HTTP viewers' sender on %s: %s", listen_addr,
                     rv_strerror(job.viewers_rc));
        else
            snprintf(err, errlen, "cannot start the HTTP server on %s", listen_addr);
        http_viewers_destroy(s->viewers);
        http_hls_destroy(s->hls);
        http_guard_destroy(s->guard);
        free(s);
        return RV_EIO;
    }
    const char *open = strchr(host, ':') ? "[" : "";
    const char *close_ = strchr(host, ':') ? "]" : "";
    log_write(RV_LOG_INFO, -1, NULL,
              "telemetry: listening on http://%s%s%s:%d (%u connections, %u per address, %s)",
              open, host, close_, s->port, limit, per_ip,
              opt->token_file ? "token required but on public paths" : "no token");
    *out = s;
    return RV_OK;
}

int telemetry_server_port(const telemetry_server *s)
{
    return s ? s->port : -1;
}

void telemetry_server_stop(telemetry_server *s)
{
    if (!s)
        return;
    /* the viewers' readers return first: MHD_stop_daemon joins their threads */
    http_viewers_stop(s->viewers);
    MHD_stop_daemon(s->daemon);
    http_viewers_destroy(s->viewers);
    http_hls_destroy(s->hls);
    http_guard_destroy(s->guard);
    free(s);
}
