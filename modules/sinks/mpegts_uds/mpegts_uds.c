/**
 * @file modules/sinks/mpegts_uds/mpegts_uds.c
 * @short The mpegts-uds transport: MPEG-TS over a Unix stream socket, serving
 *        clients on a socket file (listen) or pushing into a socket the
 *        consumer owns (connect: how RetroVue's ChannelManager attaches).
 *
 * Only the option table and the Unix-socket glue live here; the fan-out is
 * the shared ts_transport, the encoding the host's rendition (the mpegts
 * encoder module). Owns uds_glue: the path,
 * and the identity (device, inode) of the socket file it created, so stop()
 * removes that file and never a newer one someone else made.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <retrovue/retrovue.h>

#include "ts_options.h"
#include "ts_transport.h"

typedef struct uds_glue {
    const rv_host_api *host;
    rv_context *ctx;
    struct sockaddr_un addr;
    dev_t dev;              /**< the socket file we bound */
    ino_t ino;
    int bound;
} uds_glue;

static const rv_option uds_options[] = {
    TS_TRANSPORT_COMMON_OPTIONS,
    {.key = "path", .type = RV_OPT_PATH, .default_string = "",
     .help = "socket file; \"\" = /tmp/retrovue-ch<channel id>.sock"},
    {.key = "max_clients", .type = RV_OPT_INT, .default_int = 16, .min_int = 1, .max_int = 1024,
     .help = "listen: clients served at once; more are accepted and closed"},
    {.key = NULL},
};

/* Something answers on the socket file: a live sink owns it. */
static int uds_is_live(const uds_glue *g)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int live;
    if (fd < 0)
        return 0;
    live = connect(fd, (const struct sockaddr *)&g->addr, sizeof g->addr) == 0 ||
           (errno != ECONNREFUSED && errno != ENOENT);
    close(fd);
    return live;
}

static int uds_listen(void *glue, int *fd_out)
{
    uds_glue *g = glue;
    const char *path = g->addr.sun_path;
    struct stat st;
    int fd;

    *fd_out = -1;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            g->host->event(g->ctx, RV_EVENT_SINK_ERROR, RV_EBUSY, path,
                           "%s exists and is not a socket; not replacing it", path);
            return RV_EBUSY;
        }
        if (uds_is_live(g)) {
            g->host->event(g->ctx, RV_EVENT_SINK_ERROR, RV_EBUSY, path,
                           "%s is in use: a live process answers on it", path);
            return RV_EBUSY;
        }
        if (unlink(path) != 0 && errno != ENOENT) {
            g->host->event(g->ctx, RV_EVENT_SINK_ERROR, RV_EACCES, path,
                           "cannot remove stale socket %s: %s", path, strerror(errno));
            return RV_EACCES;
        }
        g->host->event(g->ctx, RV_EVENT_WARNING, 0, path,
                       "replaced stale socket %s (nothing answered on it)", path);
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto fail;
    /* Linux creates the file with the socket inode's mode (less the umask):
     * 0660 from the first instant, then chmod undoes a stricter umask. */
    if (fchmod(fd, 0660) != 0 ||
        bind(fd, (const struct sockaddr *)&g->addr, sizeof g->addr) != 0)
        goto fail;
    if (chmod(path, 0660) != 0 || lstat(path, &st) != 0 || listen(fd, 64) != 0) {
        int saved = errno;
        unlink(path);
        errno = saved;
        goto fail;
    }
    g->dev = st.st_dev;
    g->ino = st.st_ino;
    g->bound = 1;
    *fd_out = fd;
    return RV_OK;
fail: {
    int err = errno;
    int code = err == EADDRINUSE ? RV_EBUSY : err == EACCES ? RV_EACCES : RV_EIO;
    if (fd >= 0)
        close(fd);
    g->host->event(g->ctx, RV_EVENT_SINK_ERROR, code, path, "cannot listen on unix:%s: %s", path,
                   strerror(err));
    return code;
}
}

static void uds_unlisten(void *glue)
{
    uds_glue *g = glue;
    struct stat st;

    if (g->bound && lstat(g->addr.sun_path, &st) == 0 && st.st_dev == g->dev &&
        st.st_ino == g->ino)
        unlink(g->addr.sun_path);
    g->bound = 0;
}

static int uds_connect(void *glue, int *fd_out, char *err, size_t errlen)
{
    uds_glue *g = glue;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        return RV_EIO;
    }
    if (connect(fd, (const struct sockaddr *)&g->addr, sizeof g->addr) != 0 &&
        errno != EINPROGRESS) {
        snprintf(err, errlen, "%s", strerror(errno));
        close(fd);
        return errno == ENOENT ? RV_ENOENT : RV_EIO;
    }
    *fd_out = fd;
    return RV_OK;
}

static void uds_describe(void *glue, int listen_fd, char *buf, size_t len)
{
    uds_glue *g = glue;
    (void)listen_fd;
    snprintf(buf, len, "unix:%s", g->addr.sun_path);
}

static const ts_transport_ops uds_transport = {
    .listen = uds_listen,
    .unlisten = uds_unlisten,
    .connect = uds_connect,
    .describe = uds_describe,
    .free_glue = free,
};

static int uds_create(const rv_create_args *args, void **state)
{
    const rv_host_api *h = args->host;
    int connect_mode = strcmp(h->opt_string(args->options, "mode"), "connect") == 0;
    const char *path = h->opt_string(args->options, "path");
    uds_glue *g = calloc(1, sizeof *g);
    int n;

    *state = NULL;
    if (!g)
        return RV_ENOMEM;
    g->host = h;
    g->ctx = args->ctx;
    g->addr.sun_family = AF_UNIX;
    if (path && path[0])
        n = snprintf(g->addr.sun_path, sizeof g->addr.sun_path, "%s", path);
    else
        n = snprintf(g->addr.sun_path, sizeof g->addr.sun_path, "/tmp/retrovue-ch%d.sock",
                     (int)args->channel_id);
    if (n < 0 || (size_t)n >= sizeof g->addr.sun_path) {
        h->event(args->ctx, RV_EVENT_SINK_ERROR, RV_EINVAL, path ? path : "",
                 "socket path is longer than %zu bytes", sizeof g->addr.sun_path - 1);
        free(g);
        return RV_EINVAL;
    }
    return ts_transport_create(args, connect_mode ? TS_FANOUT_CONNECT : TS_FANOUT_LISTEN,
                               &uds_transport, g, state);
}

static const rv_transport_ops uds_ops = {
    .struct_size = sizeof(rv_transport_ops),
    .create = uds_create,
    .destroy = ts_transport_destroy,
    .write = ts_transport_write,
    .start = ts_transport_start,
    .stop = ts_transport_stop,
    .get_stats = ts_transport_get_stats,
    .describe = ts_transport_describe,
    .consumers = ts_transport_consumers,
};

RV_MODULE_DEFINE(.kind = RV_KIND_TRANSPORT, .name = "mpegts-uds", .version = "2.0.0",
                 .description = "MPEG-TS over a Unix socket: serve clients or push to a consumer (encoder: mpegts)",
                 .options = uds_options, .transport = &uds_ops)
