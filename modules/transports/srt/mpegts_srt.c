/**
 * @file modules/transports/srt/mpegts_srt.c
 * @short The mpegts-srt transport: a channel's MPEG-TS rendition over SRT
 *        (Secure Reliable Transport, libsrt's live mode), as a listener that
 *        receivers call or as a caller that pushes to a receiver's listener.
 *
 * Owns the SRT sockets (the listener and its accepted receivers, or the one
 * outgoing connection, between start and stop), the bytes of a message not
 * yet full (1316 = 7 TS packets, SRT's live payload for MPEG-TS) and the
 * counters. Each receiver starts at a random access point (PAT, PMT,
 * keyframe): one that joins mid-stream waits for the next keyframe. Sockets
 * are non-blocking: a receiver whose send buffer is full loses its place
 * (counted in dropped_frames) and resumes at the next keyframe; one that
 * fails is closed (counted in disconnects). A caller that cannot connect or
 * loses its receiver tries again with a backoff (0.5 s doubling to 5 s)
 * while the channel goes on. Encryption (AES, SRT's PBKDF2 passphrase) and
 * the latency are libsrt's own (SRT RFC draft-sharabayko-srt, libsrt 1.5).
 *
 * Threads: write() on the host's transport thread (it also accepts receivers
 * and drives the caller's connection); get_stats/describe on any thread; the
 * rest on the control thread.
 */
#include <errno.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <srt/srt.h>

#include <retrovue/retrovue.h>

#define SRT_MSG_BYTES 1316          /* SRT_LIVE_DEF_PLSIZE: 7 TS packets */
#define SRT_BACKOFF_MIN_MS 500
#define SRT_BACKOFF_MAX_MS 5000

static const char *const msrt_mode_choices[] = {"listener", "caller", NULL};

static const rv_option msrt_options[] = {
    {.key = "mode", .type = RV_OPT_ENUM, .choices = msrt_mode_choices, .default_string = "listener",
     .help = "listener: receivers call host:port; caller: push to a receiver listening on host:port"},
    {.key = "host", .type = RV_OPT_STRING, .default_string = "127.0.0.1",
     .help = "listener: address to bind (0.0.0.0 = every interface); caller: receiver's host"},
    {.key = "port", .type = RV_OPT_INT, .default_int = 9000, .min_int = 0, .max_int = 65535,
     .help = "UDP port; listener: 0 = any free port (describe() names it); caller: 1-65535"},
    {.key = "latency_ms", .type = RV_OPT_INT, .default_int = 120, .min_int = 20, .max_int = 8000,
     .help = "SRT latency (receiver buffer) asked of the peer, ms; the larger side's wins"},
    {.key = "passphrase", .type = RV_OPT_STRING, .default_string = "",
     .help = "AES encryption passphrase, 10-79 characters; \"\" = unencrypted. Receivers "
             "without it are refused"},
    {.key = "pbkeylen", .type = RV_OPT_INT, .default_int = 16, .min_int = 16, .max_int = 32,
     .help = "AES key length in bytes with a passphrase: 16, 24 or 32"},
    {.key = "stream_id", .type = RV_OPT_STRING, .default_string = "",
     .help = "caller: SRT stream id sent to the receiver (e.g. a relay's publish name)"},
    {.key = "max_clients", .type = RV_OPT_INT, .default_int = 8, .min_int = 1, .max_int = 256,
     .help = "listener: receivers served at once; more are accepted and closed"},
    {.key = NULL},
};

/** One receiver: an SRT socket and whether it receives (from a keyframe). */
typedef struct msrt_peer {
    SRTSOCKET sock;
    int synced;
} msrt_peer;

typedef struct msrt_state {
    const rv_host_api *host;
    rv_context *ctx;
    int listener;                    /**< 1: listener mode, 0: caller */
    char host_name[256];
    int port;
    int latency_ms;
    char passphrase[80];
    int pbkeylen;
    char stream_id[513];
    int max_clients;
    int srt_up;                      /**< srt_startup() done (between start and stop) */
    SRTSOCKET lsock;                 /**< listener: the listening socket */
    int eid;                         /**< listener: epoll set watching lsock (-1: none) */
    SRTSOCKET pending;               /**< caller: a connection in progress */
    int64_t retry_at_ns;             /**< caller: next attempt (CLOCK_MONOTONIC) */
    int64_t backoff_ms;
    int failing;                     /**< caller: this failure was logged */
    msrt_peer *peers;                 /**< max_clients entries (1 for a caller) */
    int npeers;
    uint8_t msg[SRT_MSG_BYTES];      /**< the message being filled */
    size_t len;
    atomic_uint_fast64_t bytes;
    atomic_uint_fast64_t dropped;    /**< messages a full send buffer refused */
    atomic_uint_fast64_t disconnects;
    atomic_uint_fast32_t clients;
    char desc[320];
} msrt_state;

static int64_t msrt_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int msrt_opts_check(msrt_state *s, const char *mode)
{
    size_t plen = strlen(s->passphrase);
    if (plen != 0 && (plen < 10 || plen > 79)) {
        s->host->event(s->ctx, RV_EVENT_SINK_ERROR, RV_EINVAL, "",
                       "passphrase is %zu characters; SRT takes 10 to 79 (or \"\" for none)", plen);
        return RV_EINVAL;
    }
    if (s->pbkeylen != 16 && s->pbkeylen != 24 && s->pbkeylen != 32) {
        s->host->event(s->ctx, RV_EVENT_SINK_ERROR, RV_EINVAL, "",
                       "pbkeylen %d is not an AES key length (16, 24 or 32)", s->pbkeylen);
        return RV_EINVAL;
    }
    if (!s->listener && s->port == 0) {
        s->host->event(s->ctx, RV_EVENT_SINK_ERROR, RV_EINVAL, "",
                       "mode \"%s\" needs the receiver's port (1-65535), not 0", mode);
        return RV_EINVAL;
    }
    if (!s->host_name[0]) {
        s->host->event(s->ctx, RV_EVENT_SINK_ERROR, RV_EINVAL, "", "host is empty");
        return RV_EINVAL;
    }
    return RV_OK;
}

static int msrt_create_state(const rv_create_args *args, void **state)
{
    const rv_host_api *h = args->host;
    const char *mode = h->opt_string(args->options, "mode");
    const char *host = h->opt_string(args->options, "host");
    const char *pass = h->opt_string(args->options, "passphrase");
    const char *sid = h->opt_string(args->options, "stream_id");
    msrt_state *s;

    *state = NULL;
    s = calloc(1, sizeof *s);
    if (!s)
        return RV_ENOMEM;
    s->host = h;
    s->ctx = args->ctx;
    s->listener = !mode || strcmp(mode, "caller") != 0;
    s->port = (int)h->opt_int(args->options, "port");
    s->latency_ms = (int)h->opt_int(args->options, "latency_ms");
    s->pbkeylen = (int)h->opt_int(args->options, "pbkeylen");
    s->max_clients = s->listener ? (int)h->opt_int(args->options, "max_clients") : 1;
    s->lsock = SRT_INVALID_SOCK;
    s->eid = -1;
    s->pending = SRT_INVALID_SOCK;
    if (strlen(host ? host : "") >= sizeof s->host_name ||
        strlen(pass ? pass : "") >= sizeof s->passphrase ||
        strlen(sid ? sid : "") >= sizeof s->stream_id) {
        h->event(args->ctx, RV_EVENT_SINK_ERROR, RV_EINVAL, "",
                 "host (255), passphrase (79) or stream_id (512 characters) is too long");
        free(s);
        return RV_EINVAL;
    }
    snprintf(s->host_name, sizeof s->host_name, "%s", host ? host : "");
    snprintf(s->passphrase, sizeof s->passphrase, "%s", pass ? pass : "");
    snprintf(s->stream_id, sizeof s->stream_id, "%s", sid ? sid : "");
    int rc = msrt_opts_check(s, mode ? mode : "");
    if (rc == RV_OK) {
        s->peers = calloc((size_t)s->max_clients, sizeof *s->peers);
        rc = s->peers ? RV_OK : RV_ENOMEM;
    }
    if (rc != RV_OK) {
        free(s);
        return rc;
    }
    snprintf(s->desc, sizeof s->desc, "srt://%s:%d?mode=%s", s->host_name, s->port,
             s->listener ? "listener" : "caller");
    *state = s;
    return RV_OK;
}

/* Options every socket of this transport carries (set before bind/connect;
 * a listener's accepted sockets inherit them). */
static int msrt_sock_setup(msrt_state *s, SRTSOCKET sock)
{
    int no = 0;
    int live = SRTT_LIVE;
    int lat = s->latency_ms;
    int rc = srt_setsockflag(sock, SRTO_TRANSTYPE, &live, sizeof live);
    if (rc == 0)
        rc = srt_setsockflag(sock, SRTO_SNDSYN, &no, sizeof no);
    if (rc == 0)
        rc = srt_setsockflag(sock, SRTO_RCVSYN, &no, sizeof no);
    if (rc == 0)
        rc = srt_setsockflag(sock, SRTO_PEERLATENCY, &lat, sizeof lat);
    if (rc == 0)
        rc = srt_setsockflag(sock, SRTO_RCVLATENCY, &lat, sizeof lat);
    if (rc == 0 && s->passphrase[0]) {
        rc = srt_setsockflag(sock, SRTO_PASSPHRASE, s->passphrase, (int)strlen(s->passphrase));
        if (rc == 0)
            rc = srt_setsockflag(sock, SRTO_PBKEYLEN, &s->pbkeylen, sizeof s->pbkeylen);
    }
    if (rc == 0 && !s->listener && s->stream_id[0])
        rc = srt_setsockflag(sock, SRTO_STREAMID, s->stream_id, (int)strlen(s->stream_id));
    return rc;
}

static int msrt_resolve(const msrt_state *s, struct addrinfo **res)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM,
                             .ai_flags = s->listener ? AI_PASSIVE : 0};
    char port[16];
    snprintf(port, sizeof port, "%d", s->port);
    return getaddrinfo(s->host_name, port, &hints, res);
}

static int msrt_fail(msrt_state *s, const char *what)
{
    s->host->event(s->ctx, RV_EVENT_SINK_ERROR, RV_EIO, s->desc, "%s %s: %s", what, s->desc,
                   srt_getlasterror_str());
    return RV_EIO;
}

static int msrt_start_listener(msrt_state *s)
{
    struct addrinfo *res = NULL;
    int grc = msrt_resolve(s, &res);
    if (grc != 0) {
        s->host->event(s->ctx, RV_EVENT_SINK_ERROR, RV_EINVAL, s->host_name,
                       "cannot resolve listen address %s: %s", s->host_name, gai_strerror(grc));
        return RV_EINVAL;
    }
    SRTSOCKET l = srt_create_socket();
    int rc = l == SRT_INVALID_SOCK ? -1 : msrt_sock_setup(s, l);
    if (rc == 0)
        rc = srt_bind(l, res->ai_addr, (int)res->ai_addrlen);
    freeaddrinfo(res);
    if (rc == 0)
        rc = srt_listen(l, s->max_clients + 4);
    /* readiness to accept comes from an epoll set: a bare non-blocking
     * srt_accept() with nobody waiting logs an error line every tick */
    int eid = rc == 0 ? srt_epoll_create() : -1;
    int events = SRT_EPOLL_IN | SRT_EPOLL_ERR;
    if (rc == 0 && (eid < 0 || srt_epoll_add_usock(eid, l, &events) != 0))
        rc = -1;
    if (rc != 0) {
        int err = msrt_fail(s, "cannot listen on");
        if (eid >= 0)
            srt_epoll_release(eid);
        if (l != SRT_INVALID_SOCK)
            srt_close(l);
        return err;
    }
    s->eid = eid;
    struct sockaddr_storage ss;
    int sl = sizeof ss;
    char hbuf[NI_MAXHOST];
    char pbuf[NI_MAXSERV];
    if (srt_getsockname(l, (struct sockaddr *)&ss, &sl) == 0 &&
        getnameinfo((struct sockaddr *)&ss, (socklen_t)sl, hbuf, sizeof hbuf, pbuf, sizeof pbuf,
                    NI_NUMERICHOST | NI_NUMERICSERV) == 0)
        snprintf(s->desc, sizeof s->desc, "srt://%s:%s?mode=listener", hbuf, pbuf);
    s->lsock = l;
    s->host->log(s->ctx, RV_LOG_INFO, "streaming MPEG-TS on %s (latency %d ms%s)", s->desc,
                 s->latency_ms, s->passphrase[0] ? ", encrypted" : "");
    return RV_OK;
}

static int msrt_start(void *state)
{
    msrt_state *s = state;
    if (srt_startup() < 0)
        return msrt_fail(s, "cannot start libsrt for");
    s->srt_up = 1;
    s->len = 0;
    s->npeers = 0;
    s->backoff_ms = SRT_BACKOFF_MIN_MS;
    s->retry_at_ns = 0;
    s->failing = 0;
    if (!s->listener) {
        s->host->log(s->ctx, RV_LOG_INFO, "pushing MPEG-TS to %s (latency %d ms%s)", s->desc,
                     s->latency_ms, s->passphrase[0] ? ", encrypted" : "");
        return RV_OK; /* write() connects, without blocking the channel */
    }
    int rc = msrt_start_listener(s);
    if (rc != RV_OK) {
        srt_cleanup();
        s->srt_up = 0;
    }
    return rc;
}

static void msrt_peer_drop(msrt_state *s, int i, const char *why)
{
    s->host->log(s->ctx, RV_LOG_INFO, "receiver %d of %s gone: %s", (int)s->peers[i].sock,
                 s->desc, why);
    srt_close(s->peers[i].sock);
    s->peers[i] = s->peers[--s->npeers];
    atomic_fetch_add(&s->disconnects, 1);
    atomic_store(&s->clients, (uint_fast32_t)s->npeers);
}

static void msrt_peer_add(msrt_state *s, SRTSOCKET sock)
{
    int no = 0;
    srt_setsockflag(sock, SRTO_SNDSYN, &no, sizeof no);
    s->peers[s->npeers].sock = sock;
    s->peers[s->npeers].synced = 0; /* from the next keyframe */
    s->npeers++;
    atomic_store(&s->clients, (uint_fast32_t)s->npeers);
}

/* Listener: take every receiver that has called since the last tick. */
static void msrt_accept_all(msrt_state *s)
{
    for (;;) {
        SRT_EPOLL_EVENT ev;
        if (srt_epoll_uwait(s->eid, &ev, 1, 0) <= 0)
            return; /* nobody waiting */
        struct sockaddr_storage ss;
        int sl = sizeof ss;
        SRTSOCKET c = srt_accept(s->lsock, (struct sockaddr *)&ss, &sl);
        if (c == SRT_INVALID_SOCK)
            return; /* gone meanwhile (or an error: try next tick) */
        if (s->npeers >= s->max_clients) {
            s->host->log(s->ctx, RV_LOG_WARN, "%s: refused a receiver (max_clients %d)", s->desc,
                         s->max_clients);
            srt_close(c);
            atomic_fetch_add(&s->disconnects, 1);
            continue;
        }
        msrt_peer_add(s, c);
        s->host->log(s->ctx, RV_LOG_INFO, "receiver %d joined %s", (int)c, s->desc);
    }
}

static void msrt_caller_retry(msrt_state *s, const char *why)
{
    if (!s->failing)
        s->host->log(s->ctx, RV_LOG_WARN, "cannot reach %s: %s (retrying every %d-%d ms)",
                     s->desc, why, SRT_BACKOFF_MIN_MS, SRT_BACKOFF_MAX_MS);
    s->failing = 1;
    s->retry_at_ns = msrt_now_ns() + s->backoff_ms * 1000000LL;
    s->backoff_ms = s->backoff_ms * 2 > SRT_BACKOFF_MAX_MS ? SRT_BACKOFF_MAX_MS : s->backoff_ms * 2;
}

/* Caller: start a connection when due, and watch the one in progress. */
static void msrt_caller_drive(msrt_state *s)
{
    if (s->npeers)
        return;
    if (s->pending == SRT_INVALID_SOCK) {
        if (msrt_now_ns() < s->retry_at_ns)
            return;
        struct addrinfo *res = NULL;
        int grc = msrt_resolve(s, &res);
        if (grc != 0) {
            msrt_caller_retry(s, gai_strerror(grc));
            return;
        }
        SRTSOCKET c = srt_create_socket();
        int rc = c == SRT_INVALID_SOCK ? -1 : msrt_sock_setup(s, c);
        if (rc == 0)
            rc = srt_connect(c, res->ai_addr, (int)res->ai_addrlen);
        freeaddrinfo(res);
        if (rc != 0) {
            msrt_caller_retry(s, srt_getlasterror_str());
            if (c != SRT_INVALID_SOCK)
                srt_close(c);
            return;
        }
        s->pending = c;
    }
    SRT_SOCKSTATUS st = srt_getsockstate(s->pending);
    if (st == SRTS_CONNECTING || st == SRTS_OPENED || st == SRTS_INIT)
        return;
    if (st == SRTS_CONNECTED) {
        msrt_peer_add(s, s->pending);
        s->pending = SRT_INVALID_SOCK;
        s->backoff_ms = SRT_BACKOFF_MIN_MS;
        s->failing = 0;
        s->host->log(s->ctx, RV_LOG_INFO, "connected to %s", s->desc);
        return;
    }
    srt_close(s->pending);
    s->pending = SRT_INVALID_SOCK;
    msrt_caller_retry(s, "the receiver refused or did not answer");
}

/* One message to every receiver that is in step. */
static void msrt_send_all(msrt_state *s, const uint8_t *data, size_t len)
{
    for (int i = 0; i < s->npeers;) {
        msrt_peer *p = &s->peers[i];
        if (!p->synced) {
            i++;
            continue;
        }
        int w = srt_sendmsg2(p->sock, (const char *)data, (int)len, NULL);
        if (w == (int)len) {
            atomic_fetch_add(&s->bytes, (uint64_t)len);
            i++;
        } else if (w == SRT_ERROR && srt_getlasterror(NULL) == SRT_EASYNCSND) {
            p->synced = 0; /* send buffer full: resume at the next keyframe */
            atomic_fetch_add(&s->dropped, 1);
            i++;
        } else {
            msrt_peer_drop(s, i, srt_getlasterror_str()); /* peers[i] is now another */
        }
    }
}

static int msrt_write(void *state, const rv_chunk *chunk)
{
    msrt_state *s = state;
    size_t off = 0;
    if (!s->srt_up)
        return RV_ESTATE;
    if (s->listener)
        msrt_accept_all(s);
    else
        msrt_caller_drive(s);
    if (chunk->resync)
        s->len = 0; /* bytes were skipped: do not glue across the gap */
    if (chunk->flags & RV_STREAM_RANDOM_ACCESS) {
        if (s->len)
            msrt_send_all(s, s->msg, s->len); /* a short message: the keyframe starts the next */
        s->len = 0;
        for (int i = 0; i < s->npeers; i++)
            s->peers[i].synced = 1;
    }
    if (s->len) {
        size_t take = SRT_MSG_BYTES - s->len < chunk->len ? SRT_MSG_BYTES - s->len : chunk->len;
        memcpy(s->msg + s->len, chunk->data, take);
        s->len += take;
        off = take;
        if (s->len == SRT_MSG_BYTES) {
            msrt_send_all(s, s->msg, s->len);
            s->len = 0;
        }
    }
    for (; chunk->len - off >= SRT_MSG_BYTES; off += SRT_MSG_BYTES)
        msrt_send_all(s, chunk->data + off, SRT_MSG_BYTES);
    memcpy(s->msg + s->len, chunk->data + off, chunk->len - off);
    s->len += chunk->len - off;
    return RV_OK;
}

static void msrt_stop(void *state)
{
    msrt_state *s = state;
    if (!s->srt_up)
        return;
    if (s->len)
        msrt_send_all(s, s->msg, s->len); /* the last whole TS packets */
    s->len = 0;
    while (s->npeers) {
        srt_close(s->peers[s->npeers - 1].sock);
        s->npeers--;
    }
    atomic_store(&s->clients, 0);
    if (s->pending != SRT_INVALID_SOCK)
        srt_close(s->pending);
    if (s->eid >= 0)
        srt_epoll_release(s->eid);
    s->eid = -1;
    if (s->lsock != SRT_INVALID_SOCK)
        srt_close(s->lsock);
    s->pending = SRT_INVALID_SOCK;
    s->lsock = SRT_INVALID_SOCK;
    srt_cleanup();
    s->srt_up = 0;
}

static void msrt_destroy(void *state)
{
    msrt_state *s = state;
    if (!s)
        return;
    msrt_stop(s);
    free(s->peers);
    free(s);
}

static int msrt_get_stats(void *state, rv_sink_stats *out)
{
    msrt_state *s = state;
    out->bytes = atomic_load(&s->bytes);
    out->clients = (uint32_t)atomic_load(&s->clients);
    out->disconnects = atomic_load(&s->disconnects);
    out->dropped_frames = atomic_load(&s->dropped);
    return RV_OK;
}

static int msrt_describe(void *state, char *buf, size_t len)
{
    msrt_state *s = state;
    if (!buf || len == 0)
        return RV_EINVAL;
    snprintf(buf, len, "%s", s->desc);
    return RV_OK;
}

/* Any thread: a listener's receivers are pull consumers (an on-demand channel
 * wakes for the first); a caller pushes whether anyone listens. */
static int msrt_consumers(void *state)
{
    msrt_state *s = state;
    if (!s->listener)
        return RV_ENOTSUP;
    return (int)atomic_load(&s->clients);
}

static const rv_transport_ops msrt_ops = {
    .struct_size = sizeof(rv_transport_ops),
    .create = msrt_create_state,
    .destroy = msrt_destroy,
    .write = msrt_write,
    .start = msrt_start,
    .stop = msrt_stop,
    .get_stats = msrt_get_stats,
    .describe = msrt_describe,
    .consumers = msrt_consumers,
};

RV_MODULE_DEFINE(.kind = RV_KIND_TRANSPORT, .name = "mpegts-srt", .version = "1.0.0",
                 .description = "MPEG-TS over SRT (libsrt live mode), listener or caller, "
                                "latency and AES passphrase",
                 .options = msrt_options, .transport = &msrt_ops)
