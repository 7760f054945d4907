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

#include "engine/engine.h"

typedef struct control_server control_server;

/** Bind every address in @p listen (@p count entries, borrowed) and serve
 *  @p e (borrowed; must outlive the server), or bind none and return a
 *  negative rv_error with a sentence naming the address in @p err. */
int control_server_start(char *const *listen, size_t count, engine *e, control_server **out,
                         char *err, size_t errlen);

/** Stop accepting calls; in-flight calls get up to @p grace_ms to finish,
 *  then are cancelled; join every thread, remove the socket files, free.
 *  Call before engine_destroy(). NULL is a no-op. */
void control_server_stop(control_server *s, int grace_ms);

/** The TCP port bound for listen[@p i] ("HOST:0" picks one), 0 for Unix
 *  sockets. (Added for tests and logs.) */
int control_server_port(const control_server *s, size_t i);

#endif
