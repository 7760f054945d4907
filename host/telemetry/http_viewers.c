/**
 * @file host/telemetry/http_viewers.c
 * @short The sender thread of every `/channel/<id>.ts` viewer (see
 *        http_viewers.h).
 *
 * A viewer's life: NEW (made by the request handler) → ACTIVE (its reader
 * handed it over; only the sender thread touches its socket and batch) →
 * DONE (the sender let go of it; the reader returns). The shared lock guards
 * the state, the hand-over list and the stop flag; everything else of an
 * ACTIVE viewer belongs to the sender thread alone.
 */
#include "telemetry/http_viewers.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include <retrovue/error.h>

#include "core/log.h"
#include "core/thread_name.h"
#include "telemetry/http_stream.h"

/** Once a viewer has caught up it is sent to at the next instant of a grid
 *  shared by all viewers (multiples of this on CLOCK_MONOTONIC): about 7
 *  ticks, ~70 KB at 2 Mb/s, per viewer, every viewer one after another.
 *  250 ms is far inside any player's buffer (ffplay, VLC and mpv buffer 1 s
 *  or more of a live TS). */
#define VIEWERS_GRID_NS (250LL * 1000 * 1000)
/** For this long after its first byte (and until its first byte) a viewer
 *  is sent to as soon as bytes are there (polled every VIEWERS_JOIN_POLL_MS):
 *  a channel that has just woken (encode = "on-demand") publishes its first
 *  GOP a tick at a time, and a player needs the bytes right after the IDR
 *  to start, so a grid pause here would add up to VIEWERS_GRID_NS to the
 *  join (docs/PERFORMANCE.md row 13). */
#define VIEWERS_JOIN_NS (1000LL * 1000 * 1000)
#define VIEWERS_JOIN_POLL_MS 2
/** One batch (one HTTP chunk) holds at most this many bytes of stream
 *  chunks, or VIEWERS_BATCH_CHUNKS chunks: what a viewer that is behind
 *  sends per sendmsg(). */
#define VIEWERS_BATCH_BYTES (256u * 1024u)
#define VIEWERS_BATCH_CHUNKS 64
#define VIEWERS_EVENTS 64

typedef enum viewer_state {
    VIEWER_NEW = 1,
    VIEWER_ACTIVE = 2,
    VIEWER_DONE = 3
} viewer_state;

struct http_viewer {
    http_viewers *vs;       /**< borrowed: outlives every viewer */
    stream_sub *sub;        /**< owned */
    int fd;                 /**< borrowed from libmicrohttpd */
    int32_t id;
    pthread_cond_t done;    /**< signalled (under vs->lock) when state becomes DONE */
    viewer_state state;     /**< under vs->lock */
    ssize_t end;            /**< the reader's return value once DONE */
    http_viewer *next;      /**< hand-over list (under vs->lock), then the sender's list */
    http_viewer *prev;
    /* the sender thread's alone while ACTIVE: */
    stream_chunk *batch[VIEWERS_BATCH_CHUNKS]; /**< one reference each */
    unsigned nbatch;
    char head[16];          /**< "<hex size>\r\n" of the batch */
    size_t head_len;
    size_t batch_len;       /**< head + chunks + "\r\n" */
    size_t batch_off;       /**< bytes of the batch already sent */
    int want_out;           /**< registered for EPOLLOUT (its socket was full) */
    int64_t start_ns;       /**< when the sender took it over */
    int64_t first_ns;       /**< its first byte left; 0 before */
    int64_t progress_ns;    /**< the socket last took bytes (or start_ns) */
};

struct http_viewers {
    pthread_mutex_t lock;
    http_viewer *incoming;  /**< handed over, not yet taken (under lock) */
    int stopping;           /**< under lock */
    int started;            /**< the thread runs (create → stop) */
    int ep;
    int wake;               /**< eventfd: hand-over or stop */
    int64_t stall_ns;
    pthread_t thread;
    http_viewer *active;    /**< the sender thread's list */
};

static int64_t viewers_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void viewers_signal(http_viewers *vs)
{
    uint64_t one = 1;
    ssize_t r = write(vs->wake, &one, sizeof(one));
    (void)r; /* the counter is already non-zero when this fails (EAGAIN) */
}

static void batch_release(http_viewer *v)
{
    for (unsigned i = 0; i < v->nbatch; i++)
        stream_chunk_unref(v->batch[i]);
    v->nbatch = 0;
    v->batch_len = 0;
    v->batch_off = 0;
}

/** Let go of @p v: out of epoll and the sender's list, its batch dropped,
 *  then DONE and its reader woken. @p v must not be touched afterwards (its
 *  reader returns and libmicrohttpd frees it). Sender thread. */
static void viewer_finish(http_viewers *vs, http_viewer *v, ssize_t end)
{
    epoll_ctl(vs->ep, EPOLL_CTL_DEL, v->fd, NULL);
    if (v->prev)
        v->prev->next = v->next;
    else
        vs->active = v->next;
    if (v->next)
        v->next->prev = v->prev;
    batch_release(v);
    pthread_mutex_lock(&vs->lock);
    v->state = VIEWER_DONE;
    v->end = end;
    pthread_cond_signal(&v->done);
    pthread_mutex_unlock(&vs->lock);
}

static void viewer_drop(http_viewers *vs, http_viewer *v, const char *why)
{
    log_write(RV_LOG_INFO, v->id, NULL, "http viewer dropped: %s", why);
    viewer_finish(vs, v, MHD_CONTENT_READER_END_WITH_ERROR);
}

/** Fill the next batch from the queue: RV_OK, or what stream_sub_next said
 *  when there was nothing (RV_ETIMEDOUT: nothing yet). */
static int batch_fill(http_viewer *v)
{
    size_t bytes = 0;
    int rc = RV_OK;
    while (v->nbatch < VIEWERS_BATCH_CHUNKS && bytes < VIEWERS_BATCH_BYTES) {
        stream_chunk *c = NULL;
        rc = stream_sub_next(v->sub, 0, &c, NULL);
        if (rc != RV_OK)
            break;
        if (c->len == 0) {
            stream_chunk_unref(c);
            continue;
        }
        v->batch[v->nbatch++] = c;
        bytes += c->len;
    }
    if (v->nbatch == 0)
        return rc;
    v->head_len = (size_t)snprintf(v->head, sizeof(v->head), "%zx\r\n", bytes);
    v->batch_len = v->head_len + bytes + 2;
    v->batch_off = 0;
    return RV_OK;
}

/** Send what is left of the batch: bytes sent, or -1 with errno. */
static ssize_t batch_send(http_viewer *v)
{
    struct iovec iov[VIEWERS_BATCH_CHUNKS + 2];
    int n = 0;
    size_t skip = v->batch_off;
    const void *base[VIEWERS_BATCH_CHUNKS + 2];
    size_t len[VIEWERS_BATCH_CHUNKS + 2];
    base[0] = v->head;
    len[0] = v->head_len;
    for (unsigned i = 0; i < v->nbatch; i++) {
        base[i + 1] = v->batch[i]->data;
        len[i + 1] = v->batch[i]->len;
    }
    base[v->nbatch + 1] = "\r\n";
    len[v->nbatch + 1] = 2;
    for (unsigned i = 0; i < v->nbatch + 2; i++) {
        if (skip >= len[i]) {
            skip -= len[i];
            continue;
        }
        iov[n].iov_base = (char *)base[i] + skip;
        iov[n].iov_len = len[i] - skip;
        skip = 0;
        n++;
    }
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)n};
    return sendmsg(v->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void viewer_want_out(http_viewers *vs, http_viewer *v, int on)
{
    if (v->want_out == on)
        return;
    struct epoll_event ev = {.events = on ? EPOLLOUT : 0, .data.ptr = v};
    epoll_ctl(vs->ep, EPOLL_CTL_MOD, v->fd, &ev);
    v->want_out = on;
}

/** Send @p v everything queued until its queue is empty or its socket is
 *  full. Ends the viewer when it should end. Sender thread. */
static void viewer_pump(http_viewers *vs, http_viewer *v, int64_t now)
{
    for (;;) {
        if (v->nbatch == 0) {
            int rc = batch_fill(v);
            if (rc == RV_ETIMEDOUT) {
                viewer_want_out(vs, v, 0);
                return;
            }
            if (rc == RV_EOF) {
                viewer_finish(vs, v, MHD_CONTENT_READER_END_OF_STREAM);
                return;
            }
            if (rc != RV_OK) {
                char why[96];
                snprintf(why, sizeof(why), "it fell more than %u bytes behind",
                         HTTP_STREAM_VIEWER_QUEUE_BYTES);
                viewer_drop(vs, v, why);
                return;
            }
        }
        ssize_t sent = batch_send(v);
        if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            viewer_want_out(vs, v, 1);
            return;
        }
        if (sent < 0) {
            /* the viewer hung up (EPIPE, ECONNRESET): nothing to log */
            viewer_finish(vs, v, MHD_CONTENT_READER_END_WITH_ERROR);
            return;
        }
        v->progress_ns = now;
        if (!v->first_ns && sent > 0)
            v->first_ns = now;
        v->batch_off += (size_t)sent;
        if (v->batch_off < v->batch_len) {
            viewer_want_out(vs, v, 1);
            return;
        }
        batch_release(v);
    }
}

/** Still joining: sent to without waiting for the grid. */
static int viewer_joining(const http_viewer *v, int64_t now)
{
    return !v->first_ns || now - v->first_ns < VIEWERS_JOIN_NS;
}

/** Take the viewers their readers handed over; pump each at once (a
 *  running channel's cached GOP leaves without waiting). */
static void viewers_adopt(http_viewers *vs, int64_t now)
{
    pthread_mutex_lock(&vs->lock);
    http_viewer *list = vs->incoming;
    vs->incoming = NULL;
    pthread_mutex_unlock(&vs->lock);
    while (list) {
        http_viewer *v = list;
        list = v->next;
        struct epoll_event ev = {.events = 0, .data.ptr = v};
        v->prev = NULL;
        v->next = vs->active;
        if (vs->active)
            vs->active->prev = v;
        vs->active = v;
        v->start_ns = v->progress_ns = now;
        if (epoll_ctl(vs->ep, EPOLL_CTL_ADD, v->fd, &ev) != 0) {
            viewer_drop(vs, v, "cannot watch its socket");
            continue;
        }
        viewer_pump(vs, v, now);
    }
}

/** The sender thread: epoll for sockets that drained and hand-overs; every
 *  grid instant, every caught-up viewer in turn; joiners every few ms. */
static void *viewers_main(void *arg)
{
    http_viewers *vs = arg;
    thread_name_self("rv-http-tx");
    struct epoll_event evs[VIEWERS_EVENTS];
    int64_t next_grid = (viewers_now_ns() / VIEWERS_GRID_NS + 1) * VIEWERS_GRID_NS;
    for (;;) {
        int64_t now = viewers_now_ns();
        int joining = 0;
        for (http_viewer *v = vs->active; v && !joining; v = v->next)
            joining = !v->want_out && viewer_joining(v, now);
        int64_t wait_ms = (next_grid - now + 999999) / 1000000;
        if (wait_ms < 0)
            wait_ms = 0;
        if (joining && wait_ms > VIEWERS_JOIN_POLL_MS)
            wait_ms = VIEWERS_JOIN_POLL_MS;
        int n = epoll_wait(vs->ep, evs, VIEWERS_EVENTS, (int)wait_ms);
        now = viewers_now_ns();
        for (int i = 0; i < n; i++) {
            http_viewer *v = evs[i].data.ptr;
            if (!v) {
                uint64_t count;
                ssize_t r = read(vs->wake, &count, sizeof(count));
                (void)r;
                continue;
            }
            if (evs[i].events & (EPOLLERR | EPOLLHUP))
                viewer_finish(vs, v, MHD_CONTENT_READER_END_WITH_ERROR);
            else if (evs[i].events & EPOLLOUT)
                viewer_pump(vs, v, now);
        }
        pthread_mutex_lock(&vs->lock);
        int stopping = vs->stopping;
        pthread_mutex_unlock(&vs->lock);
        if (stopping)
            break;
        viewers_adopt(vs, now);
        int grid = now >= next_grid;
        if (grid)
            next_grid = (now / VIEWERS_GRID_NS + 1) * VIEWERS_GRID_NS;
        for (http_viewer *v = vs->active, *next; v; v = next) {
            next = v->next;
            if (v->want_out) {
                if (grid && stream_sub_lagged(v->sub))
                    viewer_drop(vs, v, "it fell behind its queue while its socket was full");
                else if (grid && now - v->progress_ns > vs->stall_ns)
                    viewer_drop(vs, v, "it stopped reading");
            } else if (grid || viewer_joining(v, now)) {
                if (!v->first_ns && now - v->start_ns > vs->stall_ns)
                    viewer_drop(vs, v, "its channel sent nothing");
                else
                    viewer_pump(vs, v, now);
            }
        }
    }
    while (vs->active)
        viewer_finish(vs, vs->active, MHD_CONTENT_READER_END_WITH_ERROR);
    return NULL;
}

int http_viewers_create(unsigned stall_timeout_s, http_viewers **out)
{
    *out = NULL;
    if (stall_timeout_s < 1 || stall_timeout_s > 3600)
        return RV_EINVAL;
    http_viewers *vs = calloc(1, sizeof(*vs));
    if (!vs)
        return RV_ENOMEM;
    pthread_mutex_init(&vs->lock, NULL);
    vs->stall_ns = (int64_t)stall_timeout_s * 1000000000;
    vs->ep = epoll_create1(EPOLL_CLOEXEC);
    vs->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (vs->ep < 0 || vs->wake < 0 || epoll_ctl(vs->ep, EPOLL_CTL_ADD, vs->wake, &ev) != 0 ||
        pthread_create(&vs->thread, NULL, viewers_main, vs) != 0) {
        if (vs->ep >= 0)
            close(vs->ep);
        if (vs->wake >= 0)
            close(vs->wake);
        pthread_mutex_destroy(&vs->lock);
        free(vs);
        return RV_EIO;
    }
    vs->started = 1;
    *out = vs;
    return RV_OK;
}

void http_viewers_stop(http_viewers *vs)
{
    if (!vs || !vs->started)
        return;
    pthread_mutex_lock(&vs->lock);
    vs->stopping = 1;
    pthread_mutex_unlock(&vs->lock);
    viewers_signal(vs);
    pthread_join(vs->thread, NULL);
    vs->started = 0;
    /* readers that handed over after the thread's last look */
    pthread_mutex_lock(&vs->lock);
    while (vs->incoming) {
        http_viewer *v = vs->incoming;
        vs->incoming = v->next;
        v->state = VIEWER_DONE;
        v->end = MHD_CONTENT_READER_END_WITH_ERROR;
        pthread_cond_signal(&v->done);
    }
    pthread_mutex_unlock(&vs->lock);
}

void http_viewers_destroy(http_viewers *vs)
{
    if (!vs)
        return;
    http_viewers_stop(vs);
    close(vs->ep);
    close(vs->wake);
    pthread_mutex_destroy(&vs->lock);
    free(vs);
}

http_viewer *http_viewer_create(http_viewers *vs, stream_sub *sub, int fd, int32_t channel_id)
{
    http_viewer *v = calloc(1, sizeof(*v));
    if (!v) {
        stream_sub_close(sub);
        return NULL;
    }
    v->vs = vs;
    v->sub = sub;
    v->fd = fd;
    v->id = channel_id;
    v->state = VIEWER_NEW;
    pthread_cond_init(&v->done, NULL);
    return v;
}

ssize_t http_viewer_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    http_viewer *v = cls;
    http_viewers *vs = v->vs;
    (void)pos;
    (void)buf;
    (void)max;
    pthread_mutex_lock(&vs->lock);
    if (v->state == VIEWER_NEW) {
        if (vs->stopping) {
            v->state = VIEWER_DONE;
            v->end = MHD_CONTENT_READER_END_WITH_ERROR;
        } else {
            v->state = VIEWER_ACTIVE;
            v->next = vs->incoming;
            vs->incoming = v;
            viewers_signal(vs);
        }
    }
    while (v->state != VIEWER_DONE)
        pthread_cond_wait(&v->done, &vs->lock);
    ssize_t end = v->end;
    pthread_mutex_unlock(&vs->lock);
    return end;
}

void http_viewer_free(void *cls)
{
    http_viewer *v = cls;
    if (!v)
        return;
    stream_sub_close(v->sub);
    pthread_cond_destroy(&v->done);
    free(v);
}
