/**
 * @file host/control/rpc_acceptor.h
 * @short The accept side of the gRPC server: binds every listening socket
 *        itself, accepts on one thread, and hands each connection it keeps
 *        to the gRPC core (grpc_server_add_channel_from_fd). The gRPC C core
 *        (1.51) has no cap on connections, so the caps live here.
 *
 * A connection is refused (accepted, then closed at once) when its
 * listener holds max_connections, when its peer holds max_per_peer on that
 * listener (peer: the IP address for TCP, the user id for a Unix socket),
 * or when the descriptor it got is within fd_reserve of the process's
 * RLIMIT_NOFILE (the kernel hands out the lowest free number, so a number
 * that high means that many are open). Refusals are counted and logged
 * (identical lines are rate-limited by the log). On EMFILE/ENFILE the
 * listeners are not polled for ACCEPTOR_EMFILE_PAUSE_MS, so the thread never
 * spins. The reserve keeps descriptors for the Unix control socket's own
 * listener, plan and media files, stream clients and the HTTP server.
 *
 * The gRPC core owns and closes each handed-over socket; this object
 * notices a closed one by its (device, inode) no longer matching, checked
 * lazily when a cap is reached and when a call's listener is looked up.
 *
 * Owns the listening sockets, the accept thread, its wake eventfd and the
 * connection table. Thread: start/stop on the caller's; the accept thread;
 * rpc_acceptor_listener_of from any (the CQ thread).
 */
#ifndef RV_CONTROL_RPC_ACCEPTOR_H
#define RV_CONTROL_RPC_ACCEPTOR_H

#include <stddef.h>
#include <stdint.h>

#include <grpc/grpc.h>

#define ACCEPTOR_EMFILE_PAUSE_MS 100

typedef struct rpc_acceptor rpc_acceptor;

/** Connection limits for each listener. Zero members take the defaults. */
typedef struct rpc_limits {
    uint32_t max_connections;  /**< per listener; default 64 */
    uint32_t max_per_peer;     /**< per peer per listener; default 16 */
    uint32_t fd_reserve;       /**< descriptors kept free; default 128 (capped at
                                    half of RLIMIT_NOFILE) */
} rpc_limits;

typedef struct rpc_acceptor_stats {
    uint64_t accepted;
    uint64_t refused;          /**< by any limit */
    uint32_t open;             /**< connections the table holds now (may lag) */
} rpc_acceptor_stats;

/** Bind and listen on each of @p addrs (@p count, borrowed: "unix:PATH",
 *  "unix:///PATH", "unix-abstract:NAME" or "HOST:PORT"; a Unix path must
 *  not exist: socket_guard removes stale files first). Nothing is accepted
 *  before rpc_acceptor_run. RV_OK; RV_EINVAL, RV_EIO or RV_ENOMEM with a
 *  sentence naming the address in @p err, nothing bound. */
int rpc_acceptor_bind(char *const *addrs, size_t count, const rpc_limits *limits,
                      rpc_acceptor **out, char *err, size_t errlen);

/** The TCP port bound for address @p i (0 for Unix sockets). */
int rpc_acceptor_port(const rpc_acceptor *a, size_t i);

/** Start the accept thread handing connections to @p server (borrowed,
 *  started; must outlive rpc_acceptor_stop). RV_OK or RV_ENOMEM. */
int rpc_acceptor_run(rpc_acceptor *a, grpc_server *server);

/** Which listener the call with gRPC peer string @p peer ("fd:N", as the
 *  core names a handed-over socket; borrowed) came through: its index, or
 *  -1 when unknown. Thread: any. */
int rpc_acceptor_listener_of(rpc_acceptor *a, const char *peer);

void rpc_acceptor_get_stats(rpc_acceptor *a, rpc_acceptor_stats *out);

/** Stop accepting, join the thread, close the listening sockets (Unix
 *  socket files stay: their guard removes them). Handed-over connections
 *  are the gRPC core's; rpc_acceptor_listener_of still answers. NULL is a
 *  no-op. Thread: the owner's. */
void rpc_acceptor_stop(rpc_acceptor *a);

/** Stop (if not yet) and free. NULL is a no-op. */
void rpc_acceptor_destroy(rpc_acceptor *a);

#endif
