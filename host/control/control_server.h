/**
 * @file host/control/control_server.h
 * @short The gRPC control plane (retrovue.playout.PlayoutControl) of the
 *        engine: listens on the configured addresses and turns each call
 *        into an engine_* call (host/engine/engine.h).
 *
 * Addresses are "unix:PATH" (mode 0660, guarded by PATH.lock against a
 * second instance; a stale socket nobody answers on is replaced),
 * "unix-abstract:NAME" or "HOST:PORT" (SO_REUSEPORT off, so a port in use
 * is an error). Handlers run on a small worker pool; calls on one channel
 * are serialised, calls on different channels run in parallel.
 *
 * Block SIGTERM/SIGINT with pthread_sigmask before control_server_start so
 * gRPC's threads inherit the mask; never call these from a signal handler.
 */
#ifndef RV_CONTROL_SERVER_H
#define RV_CONTROL_SERVER_H

#include <stddef.h>

#include "control/rpc_server.h"
#include "engine/engine.h"

typedef struct control_server control_server;

/** Who may call, and how many may connect. All members optional (zero). */
typedef struct control_options {
    const char *token_file;  /**< file holding the bearer token TCP listeners require
                                  (borrowed; read once at start; must not be
                                  world-accessible); NULL: none */
    int insecure_tcp;        /**< 1: a loopback TCP listener without a token file
                                  accepts unauthenticated calls (RetroVue Core's --port
                                  mode); a non-loopback one is refused all the same */
    rpc_limits limits;       /**< per listener and per peer caps, descriptor reserve */
    int max_idle_ms;         /**< close connections idle this long; 0 = 5 min */
} control_options;

/** Bind every address in @p listen (@p count entries, borrowed) and serve
 *  @p e (borrowed; must outlive the server), or bind none and return a
 *  negative rv_error with a sentence naming the address in @p err.
 *  @p opt (borrowed, may be NULL: no token, TCP allowed unauthenticated).
 *  A "HOST:PORT" listener requires the bearer token when opt->token_file is
 *  set; without one it is refused (RV_EINVAL) unless opt->insecure_tcp and
 *  it binds a loopback address.
 *  Unix sockets never require it (their mode 0660 and group guard them). */
int control_server_start(char *const *listen, size_t count, const control_options *opt, engine *e,
                         control_server **out, char *err, size_t errlen);

/** Read a bearer token from @p path (borrowed), as core/secret_file.h says
 *  (16..1024 visible ASCII characters, no access for other users). On RV_OK
 *  *@p out is a new string (free with secret_free); else RV_EINVAL/RV_EIO
 *  with a sentence in @p err. */
int control_read_token(const char *path, char **out, char *err, size_t errlen);

/** Stop accepting calls; in-flight calls get up to @p grace_ms to finish,
 *  then are cancelled; join every thread, remove the socket files, free.
 *  Call before engine_destroy(). NULL is a no-op. */
void control_server_stop(control_server *s, int grace_ms);

/** Connection and authentication counters (rpc_server.h). */
void control_server_get_stats(control_server *s, rpc_server_stats *out);

/** The TCP port bound for listen[@p i] ("HOST:0" picks one), 0 for Unix
 *  sockets. (Added for tests and logs.) */
int control_server_port(const control_server *s, size_t i);

#endif
