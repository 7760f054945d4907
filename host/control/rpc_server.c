/**
 * @file host/control/rpc_server.c
 * @short The generic gRPC server (see rpc_server.h). Owns the grpc_server,
 *        its completion queue, the completion-queue thread, the worker pool,
 *        the list of open streams, the acceptor (rpc_acceptor.c: listening
 *        sockets and connection caps) and the expected "Bearer <token>";
 *        the calls and streams own themselves (rpc_call.c, rpc_stream.c).
 *
 * The completion-queue thread only moves calls through their states: it
 * keeps one request_call posted, reads each message, rejects unknown
 * methods and bad payloads itself and hands the rest to the pool; it also
 * routes stream completions (rpc_stream_event). Workers run the handlers
 * and start the reply batch, open streams, and run streams' on_cancel.
 * Shutdown order (measured, see docs/control-plane.md): stop posting,
 * shutdown_and_notify, cancel open streams, wait up to the grace period,
 * cancel all calls, wait for the streams to be freed, drain the pool, wait
 * again, wait for the shutdown tag, shut the queue down, join, destroy.
 */
#include "control/rpc_server.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>

#include <retrovue/error.h>

#include "control/rpc_acceptor.h"
#include "control/rpc_call.h"
#include "control/rpc_stream.h"
#include "control/work_pool.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/secret_file.h"
#include "core/thread_name.h"

#define RPC_SERVER_MAX_LISTEN 16
#define RPC_SERVER_IDLE_MS (5 * 60 * 1000)
#define RPC_SERVER_MAX_STREAMS 100

struct rpc_server {
    grpc_server *server;
    grpc_completion_queue *cq;
    pthread_t cq_thread;
    int cq_thread_started;
    const rpc_method *methods;
    void *user;

    pthread_mutex_t lock;          /**< guards everything below */
    pthread_cond_t changed;
    work_pool *pool;               /**< NULL once stopping has drained it */
    int stopping;                  /**< no new request_call */
    int shutdown_seen;             /**< the shutdown tag came back */
    int shutdown_tag;              /**< its address is the tag */
    rpc_stream_node streams;       /**< open streams (circular list head) */
    size_t stream_count;

    rpc_acceptor *acceptor;        /**< binds, accepts, caps connections */
    unsigned char require_token[RPC_SERVER_MAX_LISTEN]; /**< per listener */
    int any_token;                 /**< some listener requires the token */
    char *authorization;           /**< "Bearer <token>", or NULL */
    atomic_uint_fast64_t unauthenticated;
};

static const rpc_method *rpc_server_find(const rpc_server *s, const grpc_slice method)
{
    for (const rpc_method *m = s->methods; m->path; m++) {
        if (grpc_slice_str_cmp(method, m->path) == 0)
            return m;
    }
    return NULL;
}

/** Post one request_call for the next client. Lock held. */
static void rpc_server_request_next(rpc_server *s)
{
    if (s->stopping)
        return;
    rpc_call *c = rpc_call_new();
    if (!c) {
        log_error("control: out of memory; no longer accepting calls");
        return;
    }
    grpc_call_error e = grpc_server_request_call(s->server, &c->call, &c->details,
                                                 &c->request_md, s->cq, s->cq, &c->tag);
    if (e != GRPC_CALL_OK) {
        log_error("control: request_call failed (%d)", (int)e);
        rpc_call_free(c);
    }
}

/** 1 when @p c may run: its listener needs no token, or the call carries
 *  "authorization: Bearer <token>". A connection the acceptor does not
 *  know is held to the token (fail closed). */
static int rpc_server_authorised(rpc_server *s, rpc_call *c)
{
    if (!s->any_token)
        return 1;
    char *peer = grpc_call_get_peer(c->call);
    int li = rpc_acceptor_listener_of(s->acceptor, peer);
    gpr_free(peer);
    if (li >= 0 && !s->require_token[li])
        return 1;
    for (size_t i = 0; i < c->request_md.count; i++) {
        const grpc_metadata *m = &c->request_md.metadata[i];
        if (grpc_slice_str_cmp(m->key, "authorization") == 0 &&
            secret_equal(GRPC_SLICE_START_PTR(m->value), GRPC_SLICE_LENGTH(m->value),
                         s->authorization))
            return 1;
    }
    return 0;
}

/** The message of @p c has arrived: reject it or queue it on the pool. */
static void rpc_server_dispatch(rpc_server *s, rpc_call *c)
{
    char err[256];
    if (!rpc_server_authorised(s, c)) {
        uint64_t n = atomic_fetch_add(&s->unauthenticated, 1) + 1;
        log_warn("control: refused a call without a valid bearer token (%s)",
                 n == 1 ? "first" : "again");
        rpc_call_finish(c, GRPC_STATUS_UNAUTHENTICATED,
                        "this listener needs \"authorization: Bearer <token>\" metadata", NULL);
        return;
    }
    c->method = rpc_server_find(s, c->details.method);
    if (!c->method) {
        char *path = grpc_slice_to_c_string(c->details.method);
        log_info("control: unknown method %s", path);
        snprintf(err, sizeof(err), "unknown method %s", path);
        gpr_free(path);
        rpc_call_finish(c, GRPC_STATUS_UNIMPLEMENTED, err, NULL);
        return;
    }
    if (rpc_call_unpack(c, c->method->request, err, sizeof(err)) != RV_OK) {
        log_info("control: %s: %s", c->method->path, err);
        rpc_call_finish(c, GRPC_STATUS_INVALID_ARGUMENT, err, NULL);
        return;
    }
    c->item.key = rpc_call_key(c, c->method->serialise_by);
    pthread_mutex_lock(&s->lock);
    int rc = s->pool ? work_pool_submit(s->pool, &c->item) : RV_ESTATE;
    pthread_mutex_unlock(&s->lock);
    if (rc != RV_OK)
        rpc_call_finish(c, GRPC_STATUS_UNAVAILABLE, "server shutting down", NULL);
}

static void rpc_server_event(rpc_server *s, rpc_call *c, int success)
{
    switch (c->state) {
    case RPC_CALL_REQUESTED:
        pthread_mutex_lock(&s->lock);
        rpc_server_request_next(s);
        pthread_mutex_unlock(&s->lock);
        if (!success || rpc_call_start_read(c) != RV_OK)
            rpc_call_free(c);
        return;
    case RPC_CALL_READ:
        /* No success: cancelled, deadline passed or peer gone. Send nothing. */
        if (!success) {
            rpc_call_free(c);
            return;
        }
        rpc_server_dispatch(s, c);
        return;
    case RPC_CALL_SENT:
        rpc_call_free(c);
        return;
    }
}

/** Route one completion to its call or stream. */
static void rpc_server_complete(rpc_server *s, void *tag, int success)
{
    rpc_tag *t = tag;
    if (t->kind == RPC_TAG_CALL)
        rpc_server_event(s, t->owner, success);
    else
        rpc_stream_event(t, success);
}

static void *rpc_server_cq_main(void *arg)
{
    rpc_server *s = arg;
    thread_name_self("rv-rpc-cq");
    for (;;) {
        grpc_event ev = grpc_completion_queue_next(s->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN)
            break;
        if (ev.type != GRPC_OP_COMPLETE)
            continue;
        if (ev.tag == &s->shutdown_tag) {
            pthread_mutex_lock(&s->lock);
            s->shutdown_seen = 1;
            pthread_cond_broadcast(&s->changed);
            pthread_mutex_unlock(&s->lock);
            continue;
        }
        rpc_server_complete(s, ev.tag, ev.success);
    }
    return NULL;
}

void rpc_server_stream_link(rpc_server *s, rpc_stream_node *node, int add)
{
    pthread_mutex_lock(&s->lock);
    if (add) {
        node->next = s->streams.next;
        node->prev = &s->streams;
        s->streams.next->prev = node;
        s->streams.next = node;
        s->stream_count++;
    } else {
        node->prev->next = node->next;
        node->next->prev = node->prev;
        s->stream_count--;
        pthread_cond_broadcast(&s->changed);
    }
    pthread_mutex_unlock(&s->lock);
}

int rpc_server_defer(rpc_server *s, work_item *item)
{
    pthread_mutex_lock(&s->lock);
    int rc = s->pool ? work_pool_submit(s->pool, item) : RV_ESTATE;
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/** Wait until every stream is freed. Lock held. */
static void rpc_server_wait_streams(rpc_server *s)
{
    while (s->stream_count > 0)
        pthread_cond_wait(&s->changed, &s->lock);
}

/** Worker thread: run a stream's on_cancel, or the call's handler (or
 *  refuse it while stopping). */
static void rpc_server_work(void *user, void *job, int cancelled)
{
    rpc_server *s = user;
    rpc_tag *t = job;
    if (t->kind == RPC_TAG_STREAM_CANCEL) {
        rpc_stream_cancel_job(t); /* even when cancelled: the owner must let go */
        return;
    }
    rpc_call *c = t->owner;
    if (cancelled) {
        rpc_call_finish(c, GRPC_STATUS_UNAVAILABLE, "server shutting down", NULL);
        return;
    }
    /* Waited in the queue past the client's deadline: the client has gone
     * with DEADLINE_EXCEEDED, so do not act on its behalf. */
    gpr_timespec now = gpr_now(c->details.deadline.clock_type);
    if (gpr_time_cmp(now, c->details.deadline) > 0) {
        rpc_call_finish(c, GRPC_STATUS_DEADLINE_EXCEEDED, "deadline passed before the call ran",
                        NULL);
        return;
    }
    if (c->method->stream)
        rpc_stream_open(s, c, s->user);
    else
        rpc_call_run(c, s->user);
}

/** Wait for the shutdown tag, at most until @p until (NULL: forever). Lock held. */
static void rpc_server_wait_shutdown(rpc_server *s, const struct timespec *until)
{
    while (!s->shutdown_seen) {
        if (!until) {
            pthread_cond_wait(&s->changed, &s->lock);
        } else if (pthread_cond_timedwait(&s->changed, &s->lock, until) == ETIMEDOUT) {
            return;
        }
    }
}

/** Tear down a server that never started (a bind failed). */
static void rpc_server_abort(rpc_server *s)
{
    grpc_server_shutdown_and_notify(s->server, s->cq, &s->shutdown_tag);
    for (;;) {
        grpc_event ev = grpc_completion_queue_next(s->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (ev.type == GRPC_OP_COMPLETE && ev.tag == &s->shutdown_tag)
            break;
    }
    grpc_server_destroy(s->server);
    grpc_completion_queue_shutdown(s->cq);
    while (grpc_completion_queue_next(s->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
           GRPC_QUEUE_SHUTDOWN) {
    }
    grpc_completion_queue_destroy(s->cq);
}

int rpc_server_start(const rpc_server_config *cfg, rpc_server **out, char *err, size_t errlen)
{
    *out = NULL;
    rpc_server *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "control: out of memory");
        return RV_ENOMEM;
    }
    if (cfg->listen_count > RPC_SERVER_MAX_LISTEN) {
        snprintf(err, errlen, "control: %zu listen addresses (1..%d allowed)", cfg->listen_count,
                 RPC_SERVER_MAX_LISTEN);
        free(s);
        return RV_EINVAL;
    }
    for (size_t i = 0; i < cfg->listen_count; i++) {
        s->require_token[i] = cfg->require_token ? cfg->require_token[i] : 0;
        s->any_token |= s->require_token[i];
    }
    if (s->any_token && (!cfg->token || !cfg->token[0])) {
        snprintf(err, errlen, "control: a listener requires a token but none is set");
        free(s);
        return RV_EINVAL;
    }
    if (s->any_token && asprintf(&s->authorization, "Bearer %s", cfg->token) < 0) {
        snprintf(err, errlen, "control: out of memory");
        free(s);
        return RV_ENOMEM;
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->changed, NULL);
    s->streams.next = &s->streams;
    s->streams.prev = &s->streams;
    s->methods = cfg->methods;
    s->user = cfg->user;

    int rc = rpc_acceptor_bind(cfg->listen, cfg->listen_count, &cfg->limits, &s->acceptor, err,
                               errlen);
    if (rc != RV_OK) {
        secret_free(s->authorization);
        pthread_cond_destroy(&s->changed);
        pthread_mutex_destroy(&s->lock);
        free(s);
        return rc;
    }

    grpc_init();
    grpc_arg args[3] = {
        {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_ALLOW_REUSEPORT, .value.integer = 0},
        /* A connection with no call for this long is closed (GOAWAY). */
        {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MAX_CONNECTION_IDLE_MS,
         .value.integer = cfg->max_idle_ms > 0 ? cfg->max_idle_ms : RPC_SERVER_IDLE_MS},
        {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MAX_CONCURRENT_STREAMS,
         .value.integer = cfg->max_streams > 0 ? cfg->max_streams : RPC_SERVER_MAX_STREAMS},
    };
    grpc_channel_args chargs = {.num_args = 3, .args = args};
    s->server = grpc_server_create(&chargs, NULL);
    s->cq = grpc_completion_queue_create_for_next(NULL);
    grpc_server_register_completion_queue(s->server, s->cq, NULL);
    s->pool = work_pool_create(cfg->max_workers, rpc_server_work, s);
    if (!s->pool) {
        snprintf(err, errlen, "control: cannot start worker threads");
        rpc_server_abort(s);
        rc = RV_ENOMEM;
        goto fail;
    }
    grpc_server_start(s->server);
    if (rpc_acceptor_run(s->acceptor, s->server) != RV_OK) {
        snprintf(err, errlen, "control: cannot start the accept thread");
        rpc_server_stop(s, 0);
        return RV_ENOMEM;
    }
    pthread_mutex_lock(&s->lock);
    rpc_server_request_next(s);
    pthread_mutex_unlock(&s->lock);

    sigset_t all;
    sigset_t old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int prc = pthread_create(&s->cq_thread, NULL, rpc_server_cq_main, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (prc != 0) {
        /* Nothing polls the queue: stop synchronously on this thread. */
        snprintf(err, errlen, "control: cannot start the completion-queue thread");
        rpc_server_stop(s, 0);
        return RV_ENOMEM;
    }
    s->cq_thread_started = 1;
    *out = s;
    return RV_OK;

fail:
    grpc_shutdown();
    rpc_acceptor_destroy(s->acceptor);
    secret_free(s->authorization);
    pthread_cond_destroy(&s->changed);
    pthread_mutex_destroy(&s->lock);
    free(s);
    return rc;
}

int rpc_server_bound_port(const rpc_server *s, size_t i)
{
    return s ? rpc_acceptor_port(s->acceptor, i) : 0;
}

void rpc_server_get_stats(rpc_server *s, rpc_server_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (!s)
        return;
    rpc_acceptor_stats a;
    rpc_acceptor_get_stats(s->acceptor, &a);
    out->connections_accepted = a.accepted;
    out->connections_refused = a.refused;
    out->connections_open = a.open;
    out->unauthenticated = atomic_load(&s->unauthenticated);
}

void rpc_server_stop(rpc_server *s, int grace_ms)
{
    if (!s)
        return;
    /* No new connection reaches the core from here on (the table stays for
     * calls still being authorised). */
    rpc_acceptor_stop(s->acceptor);
    pthread_mutex_lock(&s->lock);
    s->stopping = 1;
    grpc_server_shutdown_and_notify(s->server, s->cq, &s->shutdown_tag);
    /* Streams are open-ended: end them now rather than wait out the grace. */
    for (rpc_stream_node *n = s->streams.next; n != &s->streams; n = n->next)
        grpc_call_cancel_with_status(n->call, GRPC_STATUS_UNAVAILABLE, "server shutting down",
                                     NULL);
    if (grace_ms > 0) {
        struct timespec until = clock_wait_deadline(CLOCK_REALTIME, (int64_t)grace_ms * 1000000);
        rpc_server_wait_shutdown(s, &until);
    }
    pthread_mutex_unlock(&s->lock);

    grpc_server_cancel_all_calls(s->server);

    /* Every stream's close completes (cancelled); its on_cancel runs on the
     * pool, still alive here, and the stream is freed. */
    if (s->cq_thread_started) {
        pthread_mutex_lock(&s->lock);
        rpc_server_wait_streams(s);
        pthread_mutex_unlock(&s->lock);
    }

    /* Queued calls get UNAVAILABLE; running handlers finish their engine
     * call (it cannot be interrupted) and reply into the cancelled call. A
     * stream opened meanwhile runs its on_cancel on the CQ thread. */
    pthread_mutex_lock(&s->lock);
    work_pool *pool = s->pool;
    s->pool = NULL;
    pthread_mutex_unlock(&s->lock);
    work_pool_destroy(pool);
    if (s->cq_thread_started) {
        pthread_mutex_lock(&s->lock);
        rpc_server_wait_streams(s);
        pthread_mutex_unlock(&s->lock);
    }

    if (s->cq_thread_started) {
        pthread_mutex_lock(&s->lock);
        rpc_server_wait_shutdown(s, NULL);
        pthread_mutex_unlock(&s->lock);
        grpc_completion_queue_shutdown(s->cq);
        pthread_join(s->cq_thread, NULL);
    } else {
        for (;;) {
            grpc_event ev = grpc_completion_queue_next(s->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
            if (ev.type == GRPC_OP_COMPLETE && ev.tag == &s->shutdown_tag)
                break;
            if (ev.type == GRPC_OP_COMPLETE)
                rpc_server_complete(s, ev.tag, ev.success);
        }
        grpc_completion_queue_shutdown(s->cq);
        for (;;) {
            grpc_event ev = grpc_completion_queue_next(s->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
            if (ev.type == GRPC_QUEUE_SHUTDOWN)
                break;
            if (ev.type == GRPC_OP_COMPLETE)
                rpc_server_complete(s, ev.tag, ev.success);
        }
    }
    rpc_acceptor_destroy(s->acceptor);
    grpc_server_destroy(s->server);
    grpc_completion_queue_destroy(s->cq);
    grpc_shutdown();
    secret_free(s->authorization);
    pthread_cond_destroy(&s->changed);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
