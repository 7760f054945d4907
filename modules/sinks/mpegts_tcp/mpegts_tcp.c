/**
 * @file modules/sinks/mpegts_tcp/mpegts_tcp.c
 * @short The mpegts-tcp transport: a channel's MPEG-TS rendition over TCP,
 *        serving clients on host:port (listen) or pushing to a consumer's
 *        host:port (connect).
 *
 * Only the option table and the TCP glue live here; the fan-out is the
 * shared ts_transport (modules/sinks/mpegts_common) and the encoding is the
 * host's rendition (the mpegts encoder module), shared with every other
 * transport of the channel that has the same encoder settings.
 * Owns tcp_glue: the configured address.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <retrovue/retrovue.h>

#include "ts_options.h"
#include "ts_transport.h"

typedef struct tcp_glue {
    const rv_host_api *host;
    rv_context *ctx;
    char host_name[256];
    int64_t port;
} tcp_glue;

static const rv_option tcp_options[] = {
    TS_TRANSPORT_COMMON_OPTIONS,
    {.key = "host", .type = RV_OPT_STRING, .default_string = "127.0.0.1",
     .help = "listen: address to bind (0.0.0.0 = every interface); connect: consumer's host"},
    {.key = "port", .type = RV_OPT_INT, .default_int = 5001, .min_int = 0, .max_int = 65535,
     .help = "listen: port to bind (0 = any free port); connect: consumer's port"},
    {.key = "max_clients", .type = RV_OPT_INT, .default_int = 16, .min_int = 1, .max_int = 1024,
     .help = "listen: clients served at once; more are accepted and closed"},
    {.key = "max_clients_per_peer", .type = RV_OPT_INT, .default_int = 8, .min_int = 1,
     .max_int = 1024,
     .help = "listen: clients from one IP address at once, so one host cannot take every "
             "slot; more are accepted and closed"},
    {.key = NULL},
};

static int tcp_resolve(const tcp_glue *g, int passive, struct addrinfo **res)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = passive ? AI_PASSIVE : 0};
    char port[16];
    snprintf(port, sizeof port, "%lld", (long long)g->port);
    return getaddrinfo(g->host_name, port, &hints, res);
}

static int tcp_listen(void *glue, int *fd_out)
{
    tcp_glue *g = glue;
    struct addrinfo *res = NULL;
    int err = 0;
    int fd = -1;
    int one = 1;
    int grc = tcp_resolve(g, 1, &res);

    *fd_out = -1;
    if (grc != 0) {
        g->host->event(g->ctx, RV_EVENT_SINK_ERROR, RV_EINVAL, g->host_name,
                       "cannot resolve listen address %s: %s", g->host_name, gai_strerror(grc));
        return RV_EINVAL;
    }
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            err = errno;
            continue;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 64) == 0)
            break;
        err = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        int code = err == EADDRINUSE ? RV_EBUSY : err == EACCES ? RV_EACCES : RV_EIO;
        g->host->event(g->ctx, RV_EVENT_SINK_ERROR, code, g->host_name,
                       "cannot listen on tcp://%s:%lld: %s", g->host_name, (long long)g->port,
                       strerror(err));
        return code;
    }
    *fd_out = fd;
    return RV_OK;
}

static int tcp_connect(void *glue, int *fd_out, char *err, size_t errlen)
{
    tcp_glue *g = glue;
    struct addrinfo *res = NULL;
    int grc = tcp_resolve(g, 0, &res);
    int fd = -1;

    if (grc != 0) {
        snprintf(err, errlen, "cannot resolve %s: %s", g->host_name, gai_strerror(grc));
        return RV_EIO;
    }
    fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) != 0 && errno != EINPROGRESS) {
        snprintf(err, errlen, "%s", strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return RV_EIO;
    *fd_out = fd;
    return RV_OK;
}

static void tcp_describe(void *glue, int listen_fd, char *buf, size_t len)
{
    tcp_glue *g = glue;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char ip[INET6_ADDRSTRLEN];

    if (listen_fd >= 0 && getsockname(listen_fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET6) {
            const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
            snprintf(buf, len, "tcp://[%s]:%u", ip, (unsigned)ntohs(a->sin6_port));
        } else {
            const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
            snprintf(buf, len, "tcp://%s:%u", ip, (unsigned)ntohs(a->sin_port));
        }
        return;
    }
    if (strchr(g->host_name, ':'))
        snprintf(buf, len, "tcp://[%s]:%lld", g->host_name, (long long)g->port);
    else
        snprintf(buf, len, "tcp://%s:%lld", g->host_name, (long long)g->port);
}

static const ts_transport_ops tcp_transport = {
    .listen = tcp_listen,
    .unlisten = NULL,
    .connect = tcp_connect,
    .describe = tcp_describe,
    .free_glue = free,
};

static int tcp_create(const rv_create_args *args, void **state)
{
    const rv_host_api *h = args->host;
    int connect_mode = strcmp(h->opt_string(args->options, "mode"), "connect") == 0;
    tcp_glue *g = calloc(1, sizeof *g);

    *state = NULL;
    if (!g)
        return RV_ENOMEM;
    g->host = h;
    g->ctx = args->ctx;
    g->port = h->opt_int(args->options, "port");
    snprintf(g->host_name, sizeof g->host_name, "%s", h->opt_string(args->options, "host"));
    if (connect_mode && g->port == 0)
        h->event(args->ctx, RV_EVENT_WARNING, RV_EINVAL, "",
                 "mode=connect with port 0: no consumer can be reached there");
    return ts_transport_create(args, connect_mode ? TS_FANOUT_CONNECT : TS_FANOUT_LISTEN,
                               &tcp_transport, g, state);
}

static const rv_transport_ops tcp_ops = {
    .struct_size = sizeof(rv_transport_ops),
    .create = tcp_create,
    .destroy = ts_transport_destroy,
    .write = ts_transport_write,
    .start = ts_transport_start,
    .stop = ts_transport_stop,
    .get_stats = ts_transport_get_stats,
    .describe = ts_transport_describe,
    .consumers = ts_transport_consumers,
};

RV_MODULE_DEFINE(.kind = RV_KIND_TRANSPORT, .name = "mpegts-tcp", .version = "2.0.0",
                 .description = "MPEG-TS over TCP: serve clients or push to a consumer (encoder: mpegts)",
                 .options = tcp_options, .transport = &tcp_ops)
