/**
 * @file host/control/rpc_server.h
 * @short A generic gRPC server on the gRPC C core and protobuf-c: a method
 *        table {path, request, response, handler or stream}, one completion
 *        queue thread, handlers on a keyed worker pool, unary and
 *        server-streaming methods.
 *
 * The server owns the grpc_server, its completion queue and thread, the
 * worker pool and every call's state. A handler sees an unpacked request and
 * fills a zeroed, initialised response; packing, statuses and cleanup are
 * done here. Unknown method: UNIMPLEMENTED. Missing or malformed payload:
 * INVALID_ARGUMENT (also for a NUL byte in any string field). Calls whose
 * `serialise_by` int32 field (a channel id) is equal run one at a time in
 * arrival order; others run in parallel. A server-streaming method's
 * function runs the same way but only opens the stream and returns; the
 * stream then lives without a thread (rpc_stream.h), so it never delays
 * later calls of its key. At shutdown open streams end with UNAVAILABLE.
 *
 * Listening sockets are bound and accepted by rpc_acceptor (connection
 * caps per listener and per peer, a descriptor reserve) and handed to the
 * core. A listener may require a bearer token (metadata "authorization:
 * Bearer <token>"); a call without it gets UNAUTHENTICATED before its
 * payload is read. Connections idle for max_idle_ms are closed.
 *
 * The caller must have blocked SIGTERM/SIGINT (pthread_sigmask) before the
 * first rpc_server_start, so gRPC's own threads inherit the mask.
 */
#ifndef RV_CONTROL_RPC_SERVER_H
#define RV_CONTROL_RPC_SERVER_H

#include <stddef.h>

#include <stdint.h>

#include <grpc/status.h>
#include <protobuf-c/protobuf-c.h>

#include "control/rpc_acceptor.h"

typedef struct rpc_server rpc_server;

/** Per-call allocations for a handler's response; freed after packing. */
typedef struct rpc_reply rpc_reply;

/** Zeroed memory owned by the call (NULL when out of memory). Thread: the
 *  handler's. */
void *rpc_reply_alloc(rpc_reply *r, size_t bytes);
/** A copy of @p s (borrowed) owned by the call; "" on failure, never NULL. */
char *rpc_reply_strdup(rpc_reply *r, const char *s);
/** A new message of type @p desc, initialised, owned by the call; NULL when
 *  out of memory. */
ProtobufCMessage *rpc_reply_message(rpc_reply *r, const ProtobufCMessageDescriptor *desc);
/** Status details for a non-OK status (copied). */
void rpc_reply_set_detail(rpc_reply *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** Runs on a worker thread. @p user is the server's user pointer; @p request
 *  is borrowed for the call; @p response is zeroed and initialised, owned by
 *  the server; nested messages and strings come from @p reply. Returns the
 *  gRPC status (GRPC_STATUS_OK sends @p response). */
typedef grpc_status_code (*rpc_handler_fn)(void *user, const ProtobufCMessage *request,
                                           ProtobufCMessage *response, rpc_reply *reply);

/** An open server stream (rpc_stream.h). */
typedef struct rpc_stream rpc_stream;

/** Opens a server stream; runs on a worker thread and must return at once.
 *  @p request is borrowed for the call; @p stream is borrowed: to keep it,
 *  attach an owner with rpc_stream_set_owner(). GRPC_STATUS_OK leaves the
 *  stream open; any other status ends it with that status and the details
 *  set on @p reply (the owner's on_cancel is then never called). */
typedef grpc_status_code (*rpc_stream_fn)(void *user, const ProtobufCMessage *request,
                                          rpc_stream *stream, rpc_reply *reply);

typedef struct rpc_method {
    const char *path;                             /**< "/pkg.Service/Method" */
    const ProtobufCMessageDescriptor *request;
    const ProtobufCMessageDescriptor *response;   /**< the reply, or each streamed message */
    rpc_handler_fn handler;                       /**< unary; NULL for a stream */
    const char *serialise_by;                     /**< int32 request field, or NULL */
    rpc_stream_fn stream;                         /**< server-streaming; NULL for unary */
} rpc_method;

typedef struct rpc_server_config {
    char *const *listen;         /**< "unix:PATH" or "HOST:PORT"; borrowed */
    size_t listen_count;
    const rpc_method *methods;   /**< ends with a {.path = NULL} sentinel; borrowed, must outlive the server */
    void *user;                  /**< passed to handlers; borrowed */
    size_t max_workers;          /**< handler threads at most (>= 1) */
    const unsigned char *require_token; /**< per listen address: 1 = every call through it
                                             must carry "authorization: Bearer <token>"
                                             (else UNAUTHENTICATED); NULL = none; borrowed */
    const char *token;           /**< the bearer token; copied; required when any listener
                                      requires it */
    rpc_limits limits;           /**< connection caps and descriptor reserve (rpc_acceptor.h) */
    int max_idle_ms;             /**< close a connection without calls after this; 0 = 5 min */
    int max_streams;             /**< concurrent calls per connection; 0 = 100 */
} rpc_server_config;

typedef struct rpc_server_stats {
    uint64_t connections_accepted;
    uint64_t connections_refused;  /**< by a connection cap or the descriptor reserve */
    uint32_t connections_open;
    uint64_t unauthenticated;      /**< calls refused with UNAUTHENTICATED */
} rpc_server_stats;

/** Counters since start. Thread: any. NULL @p s gives zeros. */
void rpc_server_get_stats(rpc_server *s, rpc_server_stats *out);

/** Bind every address and start serving, or bind nothing and fail with a
 *  message naming the address. RV_OK, RV_EINVAL or RV_EIO. Thread: any. */
int rpc_server_start(const rpc_server_config *cfg, rpc_server **out, char *err, size_t errlen);

/** The TCP port bound for listen[@p i] (useful with port 0); 0 for Unix
 *  sockets or an out-of-range index. */
int rpc_server_bound_port(const rpc_server *s, size_t i);

/** Stop accepting, end open streams (UNAVAILABLE, each owner's on_cancel
 *  runs), let in-flight unary calls finish for up to @p grace_ms, cancel the
 *  rest, join every thread, free everything. Calls queued behind a busy
 *  channel get UNAVAILABLE. Thread: any but a handler. NULL is a no-op. */
void rpc_server_stop(rpc_server *s, int grace_ms);

#endif
