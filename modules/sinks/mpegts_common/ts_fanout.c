/**
 * @file modules/sinks/mpegts_common/ts_fanout.c
 * @short ts_fanout: GOP cache, per-client bounded send queues and the
 *        network thread of an MPEG-TS sink (see ts_fanout.h).
 *
 * Locking: one mutex guards the client table (queues, flags) and the GOP
 * cache. Only the network thread opens and closes client sockets; the sink
 * thread appends into free queue space and flags a client whose queue would
 * overflow. A send copies from the occupied part of a queue while the sink
 * thread may append into its free part, so the lock is never held across a
 * system call that can block.
 *
 * Queues grow on demand: a client starts with TS_QUEUE_INITIAL_BYTES and the
 * sink thread doubles its ring (up to cfg.client_queue_bytes, the bound) when
 * an append does not fit, so idle or fast clients cost kilobytes, not the
 * bound. A ring the network thread is sending from when it grows is retired,
 * not freed, and the network thread frees it when its send returns.
 */
#include "ts_fanout.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <retrovue/error.h>

/** How long a connect() may stay in progress before it counts as failed. */
#define TS_CONNECT_TIMEOUT_MS 5000
/** Largest kernel send buffer per client (the kernel doubles it). */
#define TS_MAX_SNDBUF_BYTES (512 * 1024)
/** On stop, how long queued bytes may still be sent before sockets close. */
#define TS_DRAIN_MS 250
/** A new client's send queue; it doubles on demand up to the bound. */
#define TS_QUEUE_INITIAL_BYTES (64 * 1024)
/** A client whose descriptor number comes this close to RLIMIT_NOFILE is
 *  refused: the rest of the engine (control plane, plans, media) keeps them. */
#define TS_FD_RESERVE 64
/** Out of descriptors (EMFILE): the listening socket is not polled this long. */
#define TS_ACCEPT_PAUSE_MS 100

typedef struct ts_client {
    int fd;                  /**< -1: free slot */
    int connecting;          /**< connect mode: connect() in progress */
    int synced;              /**< receives appended bytes (joined at a keyframe) */
    const char *kill_reason; /**< static string set by the sink thread */
    uint8_t *queue;          /**< ring of cap bytes (owned) */
    size_t cap;              /**< ring size, <= cfg.client_queue_bytes */
    size_t head;             /**< first queued byte */
    size_t len;              /**< queued bytes */
    const uint8_t *sending;  /**< the ring a send in progress reads, or NULL */
    uint8_t *retired;        /**< a grown-out ring that send still reads (owned) */
    int64_t since_ns;        /**< connect start (connect timeout) */
    char peer[80];
} ts_client;

/** A GOP cache older than this (no bytes since) is not given to joiners. */
#define TS_FANOUT_CACHE_STALE_NS (1000LL * 1000 * 1000)

struct ts_fanout {
    ts_fanout_config cfg;    /**< copy; target points at target_buf */
    char target_buf[160];
    pthread_t thread;
    int thread_started;
    int wake_fd;             /**< eventfd: sink thread and stop wake the network thread */
    atomic_int stopping;

    pthread_mutex_t lock;
    ts_client *clients;      /**< slot table */
    uint32_t slots;
    uint8_t *cache;          /**< GOP cache: bytes since the last keyframe mark */
    size_t cache_len;
    size_t cache_cap;
    int cache_valid;         /**< a keyframe mark started the cache and it fits */
    int64_t last_append_ns;  /**< monotonic instant bytes last arrived */

    size_t queue_bytes;      /**< lock: bytes of every client ring allocated now */

    /* Counters, any thread */
    atomic_uint_fast64_t bytes;
    atomic_uint_fast64_t disconnects;
    atomic_uint_fast64_t refused;
    atomic_uint clients_now;

    /* Network thread only */
    uint64_t serial;
    int64_t next_attempt_ns;
    int64_t backoff_ms;
    int connect_failing;     /**< a failure was already reported */
    int64_t drain_until_ns;  /**< stop: queued bytes may be sent until then */
    int64_t accept_paused_until_ns; /**< EMFILE: listen socket not polled until then */
};

static int64_t fanout_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void fanout_wake(ts_fanout *f)
{
    uint64_t one = 1;
    ssize_t r = write(f->wake_fd, &one, sizeof one);
    (void)r; /* a full eventfd is already awake */
}

/* Make room for @p need more bytes in @p c's ring, growing it (doubling, at
 * most to the bound). RV_OK, RV_EBUSY when the bound would be passed,
 * RV_ENOMEM. Lock held; sink or network thread. */
static int client_reserve_locked(ts_fanout *f, ts_client *c, size_t need)
{
    size_t bound = f->cfg.client_queue_bytes;
    if (need > bound - c->len)
        return RV_EBUSY;
    if (need <= c->cap - c->len)
        return RV_OK;
    size_t cap = c->cap ? c->cap : TS_QUEUE_INITIAL_BYTES;
    while (cap < c->len + need && cap < bound)
        cap = cap > bound / 2 ? bound : cap * 2;
    if (cap > bound)
        cap = bound;
    uint8_t *ring = malloc(cap);
    if (!ring)
        return RV_ENOMEM;
    /* the queued bytes, oldest first, at the start of the new ring */
    size_t first = c->cap - c->head < c->len ? c->cap - c->head : c->len;
    if (c->len) {
        memcpy(ring, c->queue + c->head, first);
        memcpy(ring + first, c->queue, c->len - first);
    }
    if (c->queue && c->queue == c->sending) {
        free(c->retired); /* never the one being read: that is c->queue */
        c->retired = c->queue;
    } else {
        free(c->queue);
    }
    f->queue_bytes += cap - c->cap;
    c->queue = ring;
    c->cap = cap;
    c->head = 0;
    return RV_OK;
}

/* Copy @p len bytes into the client's ring after what is queued; the room
 * was reserved. Lock held. */
static void client_push(ts_client *c, const uint8_t *data, size_t len)
{
    size_t tail = (c->head + c->len) % c->cap;
    size_t first = c->cap - tail < len ? c->cap - tail : len;
    memcpy(c->queue + tail, data, first);
    memcpy(c->queue, data + first, len - first);
    c->len += len;
}

/* Give a newly connected client the GOP cache. Lock held. */
static void client_join_locked(ts_fanout *f, ts_client *c)
{
    c->head = 0;
    c->len = 0;
    c->synced = 0;
    c->kill_reason = NULL;
    /* A cache the stream stopped feeding (an on-demand channel gone idle, an
     * encoder restarting) is a stale picture: wait for the next keyframe. */
    int flowing = fanout_now_ns() - f->last_append_ns <= TS_FANOUT_CACHE_STALE_NS;
    if (f->cache_valid && flowing && client_reserve_locked(f, c, f->cache_len) == RV_OK) {
        client_push(c, f->cache, f->cache_len);
        c->synced = 1;
    } /* else it joins at the next keyframe mark */
}

/* Close a client's socket and free its slot. Network thread. */
static void client_drop(ts_fanout *f, ts_client *c, int code, const char *reason)
{
    int was_connected;
    char peer[sizeof c->peer];

    pthread_mutex_lock(&f->lock);
    was_connected = !c->connecting;
    close(c->fd);
    c->fd = -1;
    c->connecting = 0;
    c->synced = 0;
    c->kill_reason = NULL;
    c->head = 0;
    c->len = 0;
    free(c->queue);
    free(c->retired);
    f->queue_bytes -= c->cap;
    c->queue = NULL;
    c->retired = NULL;
    c->sending = NULL;
    c->cap = 0;
    memcpy(peer, c->peer, sizeof peer);
    pthread_mutex_unlock(&f->lock);

    if (!was_connected)
        return;
    atomic_fetch_sub(&f->clients_now, 1);
    atomic_fetch_add(&f->disconnects, 1);
    f->cfg.host->event(f->cfg.ctx, RV_EVENT_CLIENT_LEAVE, code, peer, "%s: %s", f->cfg.target,
                       reason);
}

static void fanout_peer_name(ts_fanout *f, int fd, char *buf, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char ip[INET6_ADDRSTRLEN];

    f->serial++;
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0 && ss.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
        snprintf(buf, len, "%s:%u", ip, (unsigned)ntohs(in->sin_port));
    } else if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0 && ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
        snprintf(buf, len, "[%s]:%u", ip, (unsigned)ntohs(in6->sin6_port));
    } else {
        snprintf(buf, len, "%s#%llu", f->cfg.target, (unsigned long long)f->serial);
    }
}

/* Make @p c a receiving client on socket @p fd. Network thread. */
static int client_open(ts_fanout *f, ts_client *c, int fd, int connecting)
{
    size_t cap = f->cfg.client_queue_bytes < TS_QUEUE_INITIAL_BYTES ? f->cfg.client_queue_bytes
                                                                    : TS_QUEUE_INITIAL_BYTES;
    uint8_t *queue = malloc(cap);
    /* the kernel's send buffer is part of the client's bound */
    int sndbuf = f->cfg.client_queue_bytes < TS_MAX_SNDBUF_BYTES ? (int)f->cfg.client_queue_bytes
                                                                 : TS_MAX_SNDBUF_BYTES;
    if (!queue)
        return RV_ENOMEM;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    pthread_mutex_lock(&f->lock);
    c->queue = queue;
    c->cap = cap;
    f->queue_bytes += cap;
    c->fd = fd;
    c->connecting = connecting;
    c->since_ns = fanout_now_ns();
    if (!connecting)
        client_join_locked(f, c);
    pthread_mutex_unlock(&f->lock);
    if (connecting)
        return RV_OK;
    atomic_fetch_add(&f->clients_now, 1);
    f->cfg.host->event(f->cfg.ctx, RV_EVENT_CLIENT_JOIN, 0, c->peer, "%s: client joined",
                       f->cfg.target);
    return RV_OK;
}

/** The peer's address without its port: refusals of one address then log
 *  one identical line, which the host's log rate-limits. */
static void fanout_peer_ip(const char *peer, char *buf, size_t len)
{
    snprintf(buf, len, "%s", peer);
    char *colon = strrchr(buf, ':');
    if (colon && strchr(buf, '#') == NULL)
        *colon = '\0';
}

/** Clients now connected from the address of @p peer. Network thread (the
 *  only one that opens and closes clients, so no lock is needed to read). */
static uint32_t fanout_peer_count(const ts_fanout *f, const char *peer)
{
    char ip[80];
    char other[80];
    uint32_t n = 0;
    fanout_peer_ip(peer, ip, sizeof ip);
    for (uint32_t i = 0; i < f->slots; i++) {
        if (f->clients[i].fd < 0)
            continue;
        fanout_peer_ip(f->clients[i].peer, other, sizeof other);
        n += strcmp(ip, other) == 0;
    }
    return n;
}

/** 1 when descriptor @p fd is within TS_FD_RESERVE of the soft limit. */
static int fanout_fd_reserved(int fd)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return 0;
    return (rlim_t)fd + TS_FD_RESERVE >= rl.rlim_cur;
}

static void fanout_refuse(ts_fanout *f, int fd, const char *peer, int code, const char *why)
{
    char ip[80];
    close(fd);
    atomic_fetch_add(&f->refused, 1);
    atomic_fetch_add(&f->disconnects, 1);
    fanout_peer_ip(peer, ip, sizeof ip);
    f->cfg.host->event(f->cfg.ctx, RV_EVENT_CLIENT_LEAVE, code, ip, "%s: refused: %s",
                       f->cfg.target, why);
}

/* Accept every pending client. Returns 1 when out of descriptors (the
 * caller pauses accepting, so the thread never spins on EMFILE). Network
 * thread. */
static int fanout_accept(ts_fanout *f)
{
    for (;;) {
        int fd = accept4(f->cfg.listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        ts_client *slot = NULL;
        char peer[80];
        char why[64];

        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                f->cfg.host->event(f->cfg.ctx, RV_EVENT_CLIENT_LEAVE, RV_EIO, f->cfg.target,
                                   "%s: cannot accept: %s; pausing accepts", f->cfg.target,
                                   strerror(errno));
                return 1;
            }
            return 0; /* EAGAIN, or a transient error: poll again */
        }
        fanout_peer_name(f, fd, peer, sizeof peer);
        if (fanout_fd_reserved(fd)) {
            fanout_refuse(f, fd, peer, RV_EBUSY, "descriptor reserve reached");
            continue;
        }
        if (f->cfg.max_per_peer && fanout_peer_count(f, peer) >= f->cfg.max_per_peer) {
            snprintf(why, sizeof why, "max_clients_per_peer (%u) reached", f->cfg.max_per_peer);
            fanout_refuse(f, fd, peer, RV_EBUSY, why);
            continue;
        }
        for (uint32_t i = 0; i < f->slots && !slot; i++)
            if (f->clients[i].fd < 0)
                slot = &f->clients[i];
        if (!slot) {
            snprintf(why, sizeof why, "max_clients (%u) reached", f->cfg.max_clients);
            fanout_refuse(f, fd, peer, RV_EBUSY, why);
            continue;
        }
        memcpy(slot->peer, peer, sizeof peer);
        if (client_open(f, slot, fd, 0) != RV_OK) {
            close(fd);
            atomic_fetch_add(&f->disconnects, 1);
            f->cfg.host->event(f->cfg.ctx, RV_EVENT_CLIENT_LEAVE, RV_ENOMEM, peer,
                               "%s: refused: no memory for the send queue", f->cfg.target);
        }
    }
}

/* Connect mode: start a connection attempt when it is due. Network thread. */
static void fanout_try_connect(ts_fanout *f)
{
    ts_client *c = &f->clients[0];
    char err[160] = "";
    int fd = -1;
    int rc;

    if (c->fd >= 0 || fanout_now_ns() < f->next_attempt_ns)
        return;
    rc = f->cfg.connect(f->cfg.connect_opaque, &fd, err, sizeof err);
    if (rc == RV_OK) {
        snprintf(c->peer, sizeof c->peer, "%s", f->cfg.target);
        rc = client_open(f, c, fd, 1);
        if (rc != RV_OK)
            close(fd);
    }
    if (rc == RV_OK)
        return;
    if (!f->connect_failing) {
        f->connect_failing = 1;
        f->cfg.host->event(f->cfg.ctx, RV_EVENT_WARNING, rc, f->cfg.target,
                           "cannot connect to %s: %s; retrying every %lld..%lld ms",
                           f->cfg.target, err[0] ? err : rv_strerror(rc),
                           (long long)f->cfg.backoff_min_ms, (long long)f->cfg.backoff_max_ms);
    }
    f->next_attempt_ns = fanout_now_ns() + f->backoff_ms * 1000000;
    f->backoff_ms = f->backoff_ms * 2 > f->cfg.backoff_max_ms ? f->cfg.backoff_max_ms
                                                              : f->backoff_ms * 2;
}

/* Connect mode: the connection in progress finished (or timed out). */
static void fanout_connect_done(ts_fanout *f, ts_client *c, int timed_out)
{
    int soerr = 0;
    socklen_t sl = sizeof soerr;

    if (timed_out)
        soerr = ETIMEDOUT;
    else if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
        soerr = errno;
    if (soerr != 0) {
        client_drop(f, c, RV_EIO, "connect failed");
        if (!f->connect_failing) {
            f->connect_failing = 1;
            f->cfg.host->event(f->cfg.ctx, RV_EVENT_WARNING, RV_EIO, f->cfg.target,
                               "cannot connect to %s: %s; retrying", f->cfg.target,
                               strerror(soerr));
        }
        f->next_attempt_ns = fanout_now_ns() + f->backoff_ms * 1000000;
        f->backoff_ms = f->backoff_ms * 2 > f->cfg.backoff_max_ms ? f->cfg.backoff_max_ms
                                                                  : f->backoff_ms * 2;
        return;
    }
    pthread_mutex_lock(&f->lock);
    c->connecting = 0;
    client_join_locked(f, c);
    pthread_mutex_unlock(&f->lock);
    f->connect_failing = 0;
    f->backoff_ms = f->cfg.backoff_min_ms;
    atomic_fetch_add(&f->clients_now, 1);
    f->cfg.host->event(f->cfg.ctx, RV_EVENT_CLIENT_JOIN, 0, c->peer, "connected to %s",
                       f->cfg.target);
}

/* After a connect-mode client went away: retry after the current backoff. */
static void fanout_schedule_retry(ts_fanout *f)
{
    if (f->cfg.mode != TS_FANOUT_CONNECT)
        return;
    f->next_attempt_ns = fanout_now_ns() + f->backoff_ms * 1000000;
}

/* Send what is queued for @p c without blocking. Network thread. */
static void client_send(ts_fanout *f, ts_client *c)
{
    for (;;) {
        const uint8_t *chunk;
        size_t n;
        ssize_t sent;

        pthread_mutex_lock(&f->lock);
        chunk = c->queue + c->head;
        n = c->len;
        if (c->head + n > c->cap)
            n = c->cap - c->head;
        c->sending = n ? c->queue : NULL; /* a grow retires it instead of freeing */
        pthread_mutex_unlock(&f->lock);
        if (n == 0)
            return;
        sent = send(c->fd, chunk, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        int send_errno = errno;
        pthread_mutex_lock(&f->lock);
        c->sending = NULL;
        free(c->retired);
        c->retired = NULL;
        /* a grow in between moved the queued bytes, oldest first, to the
         * start of the new ring: head + sent still names the next byte */
        if (sent > 0) {
            c->head = (c->head + (size_t)sent) % c->cap;
            c->len -= (size_t)sent;
        }
        pthread_mutex_unlock(&f->lock);
        errno = send_errno;
        if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        if (sent <= 0) {
            char reason[96];
            snprintf(reason, sizeof reason, "send failed: %s", strerror(errno));
            client_drop(f, c, RV_EIO, reason);
            fanout_schedule_retry(f);
            return;
        }
        atomic_fetch_add(&f->bytes, (uint64_t)sent);
    }
}

/* A client socket is readable: discard input, notice a closed peer. */
static void client_read(ts_fanout *f, ts_client *c)
{
    uint8_t scratch[4096];
    ssize_t r = recv(c->fd, scratch, sizeof scratch, MSG_DONTWAIT);
    if (r > 0 || (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)))
        return;
    if (r == 0) {
        client_drop(f, c, 0, "closed by peer");
    } else {
        char reason[96];
        snprintf(reason, sizeof reason, "receive failed: %s", strerror(errno));
        client_drop(f, c, RV_EIO, reason);
    }
    fanout_schedule_retry(f);
}

/* Any connected client still has bytes to send. Network thread. */
static int fanout_has_queued(ts_fanout *f)
{
    int queued = 0;
    pthread_mutex_lock(&f->lock);
    for (uint32_t i = 0; i < f->slots && !queued; i++)
        queued = f->clients[i].fd >= 0 && !f->clients[i].connecting &&
                 !f->clients[i].kill_reason && f->clients[i].len > 0;
    pthread_mutex_unlock(&f->lock);
    return queued;
}

static void *fanout_thread(void *arg)
{
    ts_fanout *f = arg;
    (void)pthread_setname_np(pthread_self(), "rv-ts-fanout"); /* for top -H */
    struct pollfd *pfd = calloc(f->slots + 2, sizeof *pfd);
    int32_t *who = calloc(f->slots + 2, sizeof *who);

    if (!pfd || !who) {
        free(pfd);
        free(who);
        return NULL;
    }
    for (;;) {
        nfds_t n = 0;
        int timeout_ms = -1;
        int64_t now = fanout_now_ns();

        if (atomic_load(&f->stopping)) {
            /* stop: send what is queued, for a short while, then leave */
            if (!f->drain_until_ns)
                f->drain_until_ns = now + (int64_t)TS_DRAIN_MS * 1000000;
            if (now >= f->drain_until_ns || !fanout_has_queued(f))
                break;
            timeout_ms = 10;
        }

        pfd[n] = (struct pollfd){.fd = f->wake_fd, .events = POLLIN};
        who[n++] = -1;
        if (f->cfg.mode == TS_FANOUT_LISTEN) {
            if (now >= f->accept_paused_until_ns) {
                pfd[n] = (struct pollfd){.fd = f->cfg.listen_fd, .events = POLLIN};
                who[n++] = -2;
            } else {
                int64_t wait_ms = (f->accept_paused_until_ns - now) / 1000000 + 1;
                if (timeout_ms < 0 || wait_ms < timeout_ms)
                    timeout_ms = (int)wait_ms;
            }
        } else if (f->clients[0].fd < 0 && timeout_ms < 0) {
            int64_t wait_ms = (f->next_attempt_ns - now) / 1000000;
            timeout_ms = wait_ms < 0 ? 0 : (int)wait_ms + 1;
        } else if (f->clients[0].connecting && timeout_ms < 0) {
            timeout_ms = TS_CONNECT_TIMEOUT_MS;
        }
        pthread_mutex_lock(&f->lock);
        for (uint32_t i = 0; i < f->slots; i++) {
            ts_client *c = &f->clients[i];
            short ev;
            if (c->fd < 0)
                continue;
            ev = c->connecting ? POLLOUT : (short)(POLLIN | (c->len ? POLLOUT : 0));
            if (c->kill_reason)
                timeout_ms = 0;
            pfd[n] = (struct pollfd){.fd = c->fd, .events = ev};
            who[n++] = (int32_t)i;
        }
        pthread_mutex_unlock(&f->lock);

        if (poll(pfd, n, timeout_ms) < 0 && errno != EINTR)
            break;
        for (nfds_t k = 0; k < n; k++) {
            ts_client *c;
            const char *kill;

            if (who[k] == -1) {
                uint64_t v;
                if (pfd[k].revents & POLLIN) {
                    ssize_t r = read(f->wake_fd, &v, sizeof v);
                    (void)r;
                }
                continue;
            }
            if (who[k] == -2) {
                if ((pfd[k].revents & POLLIN) && fanout_accept(f))
                    f->accept_paused_until_ns =
                        fanout_now_ns() + (int64_t)TS_ACCEPT_PAUSE_MS * 1000000;
                continue;
            }
            c = &f->clients[who[k]];
            if (c->fd < 0)
                continue;
            pthread_mutex_lock(&f->lock);
            kill = c->kill_reason;
            pthread_mutex_unlock(&f->lock);
            if (kill) {
                client_drop(f, c, RV_ETIMEDOUT, kill);
                fanout_schedule_retry(f);
                continue;
            }
            if (c->connecting) {
                if (pfd[k].revents)
                    fanout_connect_done(f, c, 0);
                else if (fanout_now_ns() - c->since_ns > (int64_t)TS_CONNECT_TIMEOUT_MS * 1000000)
                    fanout_connect_done(f, c, 1);
                continue;
            }
            if (pfd[k].revents & POLLOUT)
                client_send(f, c);
            if (c->fd >= 0 && (pfd[k].revents & (POLLIN | POLLHUP | POLLERR)))
                client_read(f, c);
        }
        if (f->cfg.mode == TS_FANOUT_CONNECT && !atomic_load(&f->stopping))
            fanout_try_connect(f);
    }
    free(pfd);
    free(who);
    return NULL;
}

int ts_fanout_start(const ts_fanout_config *cfg, ts_fanout **out)
{
    ts_fanout *f;

    *out = NULL;
    if (cfg->client_queue_bytes < 188 || (cfg->mode == TS_FANOUT_LISTEN && cfg->listen_fd < 0) ||
        (cfg->mode == TS_FANOUT_CONNECT && !cfg->connect))
        return RV_EINVAL;
    f = calloc(1, sizeof *f);
    if (!f)
        return RV_ENOMEM;
    f->cfg = *cfg;
    snprintf(f->target_buf, sizeof f->target_buf, "%s", cfg->target ? cfg->target : "");
    f->cfg.target = f->target_buf;
    f->wake_fd = -1;
    f->slots = cfg->mode == TS_FANOUT_LISTEN ? cfg->max_clients : 1;
    f->cache_cap = cfg->client_queue_bytes;
    f->backoff_ms = cfg->backoff_min_ms;
    f->clients = calloc(f->slots, sizeof *f->clients);
    f->cache = malloc(f->cache_cap);
    if (!f->clients || !f->cache || f->slots == 0)
        goto fail;
    for (uint32_t i = 0; i < f->slots; i++)
        f->clients[i].fd = -1;
    f->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (f->wake_fd < 0)
        goto fail;
    if (pthread_mutex_init(&f->lock, NULL) != 0)
        goto fail;
    if (pthread_create(&f->thread, NULL, fanout_thread, f) != 0) {
        pthread_mutex_destroy(&f->lock);
        goto fail;
    }
    f->thread_started = 1;
    *out = f;
    return RV_OK;
fail:
    if (f->wake_fd >= 0)
        close(f->wake_fd);
    free(f->cache);
    free(f->clients);
    free(f);
    return RV_ENOMEM;
}

void ts_fanout_stop(ts_fanout *f, ts_fanout_stats *final_stats)
{
    if (!f)
        return;
    atomic_store(&f->stopping, 1);
    fanout_wake(f);
    pthread_join(f->thread, NULL);
    for (uint32_t i = 0; i < f->slots; i++)
        if (f->clients[i].fd >= 0)
            client_drop(f, &f->clients[i], 0, "sink stopped");
    if (f->cfg.mode == TS_FANOUT_LISTEN)
        close(f->cfg.listen_fd);
    if (final_stats)
        ts_fanout_get_stats(f, final_stats);
    close(f->wake_fd);
    pthread_mutex_destroy(&f->lock);
    free(f->cache);
    free(f->clients);
    free(f);
}

void ts_fanout_append(ts_fanout *f, const uint8_t *data, size_t len)
{
    pthread_mutex_lock(&f->lock);
    f->last_append_ns = fanout_now_ns();
    if (f->cache_valid) {
        if (f->cache_len + len <= f->cache_cap) {
            memcpy(f->cache + f->cache_len, data, len);
            f->cache_len += len;
        } else {
            f->cache_valid = 0; /* GOP too large: joiners wait for the next keyframe */
        }
    }
    for (uint32_t i = 0; i < f->slots; i++) {
        ts_client *c = &f->clients[i];
        if (c->fd < 0 || c->connecting || !c->synced || c->kill_reason)
            continue;
        int rc = client_reserve_locked(f, c, len);
        if (rc == RV_OK)
            client_push(c, data, len);
        else
            c->kill_reason = rc == RV_EBUSY ? "send queue full: client too slow"
                                            : "no memory to grow the send queue";
    }
    pthread_mutex_unlock(&f->lock);
}

void ts_fanout_mark_keyframe(ts_fanout *f)
{
    pthread_mutex_lock(&f->lock);
    f->cache_len = 0;
    f->cache_valid = 1;
    for (uint32_t i = 0; i < f->slots; i++) {
        ts_client *c = &f->clients[i];
        if (c->fd >= 0 && !c->connecting && !c->synced && !c->kill_reason)
            c->synced = 1; /* a late joiner starts at this keyframe */
    }
    pthread_mutex_unlock(&f->lock);
}

uint32_t ts_fanout_commit(ts_fanout *f)
{
    uint32_t receiving = 0;

    pthread_mutex_lock(&f->lock);
    for (uint32_t i = 0; i < f->slots; i++) {
        const ts_client *c = &f->clients[i];
        if (c->fd >= 0 && !c->connecting && c->synced && !c->kill_reason)
            receiving++;
    }
    pthread_mutex_unlock(&f->lock);
    fanout_wake(f);
    return receiving;
}

void ts_fanout_get_stats(ts_fanout *f, ts_fanout_stats *out)
{
    out->bytes = atomic_load(&f->bytes);
    out->clients = atomic_load(&f->clients_now);
    out->disconnects = atomic_load(&f->disconnects);
    out->refused = atomic_load(&f->refused);
    pthread_mutex_lock(&f->lock);
    out->queue_bytes = f->queue_bytes;
    pthread_mutex_unlock(&f->lock);
}
