/**
 * @file host/control/rpc_acceptor.c
 * @short The gRPC server's accept side (see rpc_acceptor.h): listening
 *        sockets, the accept thread, the per-listener and per-peer caps, the
 *        descriptor reserve, and the table of handed-over connections.
 */
#include "control/rpc_acceptor.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <stddef.h>
#include <sys/un.h>
#include <unistd.h>

#include <grpc/grpc_posix.h>
#include <grpc/grpc_security.h>

#include <retrovue/error.h>

#include "core/host_port.h"
#include "core/log.h"
#include "core/thread_name.h"

#define ACCEPTOR_MAX_LISTEN 16
#define ACCEPTOR_BACKLOG 128
#define ACCEPTOR_PEER_BYTES 64

typedef struct acceptor_conn {
    int fd;                         /**< -1: free entry */
    dev_t dev;
    ino_t ino;
    int listener;
    char peer[ACCEPTOR_PEER_BYTES]; /**< "ip:1.2.3.4" or "uid:1000" */
} acceptor_conn;

typedef struct acceptor_listener {
    int fd;
    int port;
    int is_unix;
    char path[108];                 /**< a Unix socket file this bound; "" otherwise */
    char addr[160];                 /**< for logs */
} acceptor_listener;

struct rpc_acceptor {
    acceptor_listener listeners[ACCEPTOR_MAX_LISTEN];
    size_t count;
    rpc_limits limits;
    int fd_limit;                   /**< RLIMIT_NOFILE soft at bind */
    int wake_fd;
    grpc_server *server;            /**< borrowed */
    grpc_server_credentials *creds; /**< insecure: the core's from-fd API takes no other */
    pthread_t thread;
    int thread_started;
    atomic_int stopping;

    pthread_mutex_t lock;           /**< guards the table and the counters */
    acceptor_conn *conns;
    size_t conn_cap;
    uint64_t accepted;
    uint64_t refused;
};

static void acceptor_apply_defaults(rpc_limits *l, int fd_limit)
{
    if (l->max_connections == 0)
        l->max_connections = 64;
    if (l->max_per_peer == 0)
        l->max_per_peer = 16;
    if (l->fd_reserve == 0)
        l->fd_reserve = 128;
    if (fd_limit > 0 && l->fd_reserve > (uint32_t)fd_limit / 2)
        l->fd_reserve = (uint32_t)fd_limit / 2;
}

static int acceptor_bind_unix(acceptor_listener *L, const char *path, int abstract, char *err,
                              size_t errlen)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t len = strlen(path);
    if (len == 0 || len + (abstract ? 1 : 0) >= sizeof(sa.sun_path)) {
        snprintf(err, errlen, "control: socket path of '%s' is empty or too long", L->addr);
        return RV_EINVAL;
    }
    memcpy(sa.sun_path + (abstract ? 1 : 0), path, len);
    /* A path counts its NUL; an abstract name its leading NUL instead. */
    socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, salen) != 0 || listen(fd, ACCEPTOR_BACKLOG) != 0) {
        snprintf(err, errlen, "control: cannot listen on %s: %s", L->addr, strerror(errno));
        if (fd >= 0)
            close(fd);
        return RV_EIO;
    }
    L->fd = fd;
    L->is_unix = 1;
    if (!abstract)
        snprintf(L->path, sizeof(L->path), "%s", path);
    return RV_OK;
}

static int acceptor_bind_tcp(acceptor_listener *L, const char *addr, char *err, size_t errlen)
{
    char host[256];
    char port[16];
    if (host_port_split(addr, host, sizeof(host), port, sizeof(port)) != RV_OK) {
        snprintf(err, errlen, "control: listen address '%s' is neither \"unix:PATH\" nor \"HOST:PORT\"",
                 addr);
        return RV_EINVAL;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0) {
        snprintf(err, errlen, "control: cannot listen on %s: %s", addr, gai_strerror(gai));
        return RV_EINVAL;
    }
    int fd = -1;
    int last = 0;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0) {
            last = errno;
            continue;
        }
        int on = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
        if (ai->ai_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, ACCEPTOR_BACKLOG) != 0) {
            last = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(err, errlen, "control: cannot listen on %s (in use, or bad address): %s", addr,
                 strerror(last));
        return RV_EIO;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        L->port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                           : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    L->fd = fd;
    return RV_OK;
}

/** Close and free everything; @p unlink_files: remove the socket files this
 *  bound (a failed bind leaves nothing behind). */
static void acceptor_free(rpc_acceptor *a, int unlink_files)
{
    for (size_t i = 0; i < a->count; i++) {
        if (a->listeners[i].fd >= 0)
            close(a->listeners[i].fd);
        if (unlink_files && a->listeners[i].fd >= 0 && a->listeners[i].path[0])
            unlink(a->listeners[i].path);
    }
    if (a->wake_fd >= 0)
        close(a->wake_fd);
    if (a->creds)
        grpc_server_credentials_release(a->creds);
    pthread_mutex_destroy(&a->lock);
    free(a->conns);
    free(a);
}

int rpc_acceptor_bind(char *const *addrs, size_t count, const rpc_limits *limits,
                      rpc_acceptor **out, char *err, size_t errlen)
{
    *out = NULL;
    if (count == 0 || count > ACCEPTOR_MAX_LISTEN) {
        snprintf(err, errlen, "control: %zu listen addresses (1..%d allowed)", count,
                 ACCEPTOR_MAX_LISTEN);
        return RV_EINVAL;
    }
    rpc_acceptor *a = calloc(1, sizeof(*a));
    if (!a) {
        snprintf(err, errlen, "control: out of memory");
        return RV_ENOMEM;
    }
    pthread_mutex_init(&a->lock, NULL);
    a->wake_fd = -1;
    for (size_t i = 0; i < ACCEPTOR_MAX_LISTEN; i++)
        a->listeners[i].fd = -1;
    struct rlimit rl;
    a->fd_limit = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
                          rl.rlim_cur < (rlim_t)1 << 30
                      ? (int)rl.rlim_cur
                      : 1 << 30;
    if (limits)
        a->limits = *limits;
    acceptor_apply_defaults(&a->limits, a->fd_limit);
    a->conn_cap = (size_t)a->limits.max_connections * count;
    a->conns = calloc(a->conn_cap, sizeof(*a->conns));
    a->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (!a->conns || a->wake_fd < 0) {
        snprintf(err, errlen, "control: out of memory");
        acceptor_free(a, 0);
        return RV_ENOMEM;
    }
    for (size_t i = 0; i < a->conn_cap; i++)
        a->conns[i].fd = -1;
    int rc = RV_OK;
    for (size_t i = 0; i < count && rc == RV_OK; i++) {
        const char *addr = addrs[i];
        acceptor_listener *L = &a->listeners[i];
        a->count = i + 1;
        snprintf(L->addr, sizeof(L->addr), "%s", addr ? addr : "");
        if (!addr || !addr[0]) {
            snprintf(err, errlen, "control: empty listen address");
            rc = RV_EINVAL;
        } else if (strncmp(addr, "unix://", 7) == 0) {
            rc = acceptor_bind_unix(L, addr + 7, 0, err, errlen);
        } else if (strncmp(addr, "unix-abstract:", 14) == 0) {
            rc = acceptor_bind_unix(L, addr + 14, 1, err, errlen);
        } else if (strncmp(addr, "unix:", 5) == 0) {
            rc = acceptor_bind_unix(L, addr + 5, 0, err, errlen);
        } else {
            rc = acceptor_bind_tcp(L, addr, err, errlen);
        }
    }
    if (rc != RV_OK) {
        acceptor_free(a, 1);
        return rc;
    }
    *out = a;
    return RV_OK;
}

int rpc_acceptor_port(const rpc_acceptor *a, size_t i)
{
    return a && i < a->count ? a->listeners[i].port : 0;
}

/** 1 when table entry @p c still names the socket handed over. Lock held. */
static int acceptor_conn_alive(const acceptor_conn *c)
{
    struct stat st;
    return c->fd >= 0 && fstat(c->fd, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == c->dev &&
           st.st_ino == c->ino;
}

/** Forget the connections the core has closed. Lock held. */
static void acceptor_sweep(rpc_acceptor *a)
{
    for (size_t i = 0; i < a->conn_cap; i++)
        if (a->conns[i].fd >= 0 && !acceptor_conn_alive(&a->conns[i]))
            a->conns[i].fd = -1;
}

/** Connections of @p listener, and of those, from @p peer. Lock held. */
static void acceptor_count(const rpc_acceptor *a, int listener, const char *peer, uint32_t *all,
                           uint32_t *of_peer)
{
    *all = 0;
    *of_peer = 0;
    for (size_t i = 0; i < a->conn_cap; i++) {
        const acceptor_conn *c = &a->conns[i];
        if (c->fd < 0 || c->listener != listener)
            continue;
        (*all)++;
        if (strcmp(c->peer, peer) == 0)
            (*of_peer)++;
    }
}

static void acceptor_peer_key(int fd, const struct sockaddr_storage *ss, char *out, size_t len)
{
    if (ss->ss_family == AF_INET) {
        char ip[INET_ADDRSTRLEN] = "?";
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, ip, sizeof(ip));
        snprintf(out, len, "ip:%s", ip);
    } else if (ss->ss_family == AF_INET6) {
        char ip[INET6_ADDRSTRLEN] = "?";
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, ip, sizeof(ip));
        snprintf(out, len, "ip:%s", ip);
    } else {
        struct ucred cr;
        socklen_t cl = sizeof(cr);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) == 0)
            snprintf(out, len, "uid:%u", (unsigned)cr.uid);
        else
            snprintf(out, len, "uid:?");
    }
}

/** Keep (hand to the core) or refuse the connection @p fd from listener
 *  @p li. Accept thread. */
static void acceptor_admit(rpc_acceptor *a, int li, int fd, const struct sockaddr_storage *ss)
{
    acceptor_listener *L = &a->listeners[li];
    char peer[ACCEPTOR_PEER_BYTES];
    acceptor_peer_key(fd, ss, peer, sizeof(peer));
    const char *why = NULL;
    struct stat st;
    pthread_mutex_lock(&a->lock);
    if (fd >= a->fd_limit - (int)a->limits.fd_reserve) {
        why = "descriptor reserve reached";
    } else if (fstat(fd, &st) != 0) {
        why = "cannot stat the socket";
    } else {
        uint32_t all;
        uint32_t of_peer;
        acceptor_count(a, li, peer, &all, &of_peer);
        if (all >= a->limits.max_connections || of_peer >= a->limits.max_per_peer) {
            acceptor_sweep(a);
            acceptor_count(a, li, peer, &all, &of_peer);
        }
        if (all >= a->limits.max_connections)
            why = "max_connections reached";
        else if (of_peer >= a->limits.max_per_peer)
            why = "max_connections_per_peer reached";
    }
    acceptor_conn *slot = NULL;
    for (size_t i = 0; !why && i < a->conn_cap && !slot; i++)
        if (a->conns[i].fd < 0)
            slot = &a->conns[i];
    if (!why && !slot)
        why = "connection table full";
    if (why) {
        a->refused++;
        pthread_mutex_unlock(&a->lock);
        close(fd);
        /* No port or descriptor number in the text: a flood repeats one line,
         * which the log then rate-limits. */
        log_warn("control: %s: refused a connection from %s: %s", L->addr, peer, why);
        return;
    }
    *slot = (acceptor_conn){.fd = fd, .dev = st.st_dev, .ino = st.st_ino, .listener = li};
    memcpy(slot->peer, peer, sizeof(peer));
    a->accepted++;
    pthread_mutex_unlock(&a->lock);
    /* From here the core owns fd (and closes it when the connection ends). */
    grpc_server_add_channel_from_fd(a->server, fd, a->creds);
}

/** Accept everything pending on listener @p li. Returns 0, or the errno of
 *  a descriptor shortage (EMFILE, ENFILE, ENOBUFS, ENOMEM). */
static int acceptor_drain(rpc_acceptor *a, int li)
{
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        memset(&ss, 0, sizeof(ss));
        int fd = accept4(a->listeners[li].fd, (struct sockaddr *)&ss, &sl,
                         SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                return errno;
            return 0; /* EAGAIN, or the peer gave up (ECONNABORTED): poll again */
        }
        acceptor_admit(a, li, fd, &ss);
    }
}

static void *acceptor_main(void *arg)
{
    rpc_acceptor *a = arg;
    thread_name_self("rv-rpc-accept");
    struct pollfd pfd[ACCEPTOR_MAX_LISTEN + 1];
    int paused = 0;
    while (!atomic_load(&a->stopping)) {
        nfds_t n = 0;
        pfd[n++] = (struct pollfd){.fd = a->wake_fd, .events = POLLIN};
        for (size_t i = 0; i < a->count && !paused; i++)
            pfd[n++] = (struct pollfd){.fd = a->listeners[i].fd, .events = POLLIN};
        int r = poll(pfd, n, paused ? ACCEPTOR_EMFILE_PAUSE_MS : -1);
        paused = 0;
        if (r < 0 && errno != EINTR)
            break;
        if (r <= 0)
            continue;
        for (nfds_t k = 1; k < n; k++) {
            if (!(pfd[k].revents & POLLIN))
                continue;
            int e = acceptor_drain(a, (int)k - 1);
            if (e) {
                log_warn("control: %s: cannot accept: %s; pausing accepts",
                         a->listeners[k - 1].addr, strerror(e));
                paused = 1;
            }
        }
    }
    return NULL;
}

int rpc_acceptor_run(rpc_acceptor *a, grpc_server *server)
{
    a->server = server;
    a->creds = grpc_insecure_server_credentials_create();
    sigset_t all;
    sigset_t old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int prc = pthread_create(&a->thread, NULL, acceptor_main, a);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (prc != 0)
        return RV_ENOMEM;
    a->thread_started = 1;
    return RV_OK;
}

int rpc_acceptor_listener_of(rpc_acceptor *a, const char *peer)
{
    if (!a || !peer || strncmp(peer, "fd:", 3) != 0)
        return -1;
    char *end = NULL;
    long fd = strtol(peer + 3, &end, 10);
    if (end == peer + 3 || *end != '\0' || fd < 0)
        return -1;
    int li = -1;
    pthread_mutex_lock(&a->lock);
    for (size_t i = 0; i < a->conn_cap; i++) {
        if (a->conns[i].fd == (int)fd && acceptor_conn_alive(&a->conns[i])) {
            li = a->conns[i].listener;
            break;
        }
    }
    pthread_mutex_unlock(&a->lock);
    return li;
}

void rpc_acceptor_get_stats(rpc_acceptor *a, rpc_acceptor_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (!a)
        return;
    pthread_mutex_lock(&a->lock);
    out->accepted = a->accepted;
    out->refused = a->refused;
    for (size_t i = 0; i < a->conn_cap; i++)
        out->open += a->conns[i].fd >= 0;
    pthread_mutex_unlock(&a->lock);
}

void rpc_acceptor_stop(rpc_acceptor *a)
{
    if (!a)
        return;
    atomic_store(&a->stopping, 1);
    if (a->thread_started) {
        uint64_t one = 1;
        ssize_t w = write(a->wake_fd, &one, sizeof(one));
        (void)w;
        pthread_join(a->thread, NULL);
        a->thread_started = 0;
    }
    for (size_t i = 0; i < a->count; i++) {
        if (a->listeners[i].fd >= 0)
            close(a->listeners[i].fd);
        a->listeners[i].fd = -1;
    }
}

void rpc_acceptor_destroy(rpc_acceptor *a)
{
    if (!a)
        return;
    rpc_acceptor_stop(a);
    acceptor_free(a, 0);
}
