/**
 * @file modules/transports/ts_file/ts_file.c
 * @short The ts-file transport: records a channel's MPEG-TS rendition into a
 *        file, starting at a random access point. The SDK guide's example of
 *        a transport written against sdk/ alone.
 *
 * Owns the file descriptor (between start and stop) and the byte counter.
 * A transport never encodes: the host hands it the rendition's bytes, the
 * first chunk after start() beginning with PAT/PMT and a keyframe.
 * Threads: write() on the host's transport thread; get_stats/describe on any
 * thread; the rest on the control thread (retrovue/transport.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <retrovue/retrovue.h>

static const rv_option ts_file_options[] = {
    {.key = "path", .type = RV_OPT_PATH, .default_string = "",
     .help = "file to record into (truncated at start); \"\" = channel-<id>.ts"},
    {.key = NULL},
};

typedef struct ts_file {
    const rv_host_api *host;
    rv_context *ctx;
    char path[4096];
    int fd;                       /**< -1 outside start..stop */
    atomic_uint_fast64_t bytes;   /**< read by get_stats on any thread */
} ts_file;

static int ts_file_create(const rv_create_args *args, void **state)
{
    const char *path = args->host->opt_string(args->options, "path");
    ts_file *f = calloc(1, sizeof *f);
    int n;

    *state = NULL;
    if (!f)
        return RV_ENOMEM;
    f->host = args->host;
    f->ctx = args->ctx;
    f->fd = -1;
    if (path && path[0])
        n = snprintf(f->path, sizeof f->path, "%s", path);
    else
        n = snprintf(f->path, sizeof f->path, "channel-%d.ts", (int)args->channel_id);
    if (n < 0 || (size_t)n >= sizeof f->path) {
        free(f);
        return RV_EINVAL;
    }
    *state = f;
    return RV_OK;
}

static int ts_file_start(void *state)
{
    ts_file *f = state;
    f->fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (f->fd < 0) {
        int code = errno == EACCES ? RV_EACCES : errno == ENOENT ? RV_ENOENT : RV_EIO;
        f->host->event(f->ctx, RV_EVENT_SINK_ERROR, code, f->path, "cannot open %s: %s",
                       f->path, strerror(errno));
        return code;
    }
    return RV_OK;
}

static int ts_file_write(void *state, const rv_chunk *chunk)
{
    ts_file *f = state;
    size_t done = 0;

    if (f->fd < 0)
        return RV_ESTATE;
    while (done < chunk->len) {
        ssize_t w = write(f->fd, chunk->data + done, chunk->len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            f->host->event(f->ctx, RV_EVENT_SINK_ERROR, RV_EIO, f->path, "write to %s: %s",
                           f->path, strerror(errno));
            return RV_EIO;
        }
        done += (size_t)w;
    }
    atomic_fetch_add(&f->bytes, (uint64_t)chunk->len);
    return RV_OK;
}

static void ts_file_stop(void *state)
{
    ts_file *f = state;
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
}

static void ts_file_destroy(void *state)
{
    ts_file *f = state;
    if (!f)
        return;
    ts_file_stop(f);
    free(f);
}

static int ts_file_get_stats(void *state, rv_sink_stats *out)
{
    ts_file *f = state;
    out->bytes = atomic_load(&f->bytes);
    return RV_OK;
}

static int ts_file_describe(void *state, char *buf, size_t len)
{
    ts_file *f = state;
    if (!buf || len == 0)
        return RV_EINVAL;
    snprintf(buf, len, "file:%s", f->path);
    return RV_OK;
}

static const rv_transport_ops ts_file_ops = {
    .struct_size = sizeof(rv_transport_ops),
    .create = ts_file_create,
    .destroy = ts_file_destroy,
    .write = ts_file_write,
    .start = ts_file_start,
    .stop = ts_file_stop,
    .get_stats = ts_file_get_stats,
    .describe = ts_file_describe,
};

RV_MODULE_DEFINE(.kind = RV_KIND_TRANSPORT, .name = "ts-file", .version = "1.0.0",
                 .description = "records the channel's MPEG-TS rendition into a file",
                 .options = ts_file_options, .transport = &ts_file_ops)
