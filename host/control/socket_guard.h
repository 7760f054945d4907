/**
 * @file host/control/socket_guard.h
 * @short Guard for a Unix socket path against a second instance: an
 *        exclusive flock on "PATH.lock" held for the server's life, plus a
 *        connect probe. gRPC itself silently unlinks and re-binds an existing
 *        path, which would let a second engine steal the first one's socket
 *        (and later unlink it); this refuses instead.
 *
 * A guard owns the lock file descriptor and a copy of the path.
 */
#ifndef RV_CONTROL_SOCKET_GUARD_H
#define RV_CONTROL_SOCKET_GUARD_H

#include <stddef.h>

typedef struct socket_guard socket_guard;

/** Take the guard of @p path (borrowed; the socket's file path, no
 *  "unix:"). Refuses (RV_EBUSY) when another process holds the lock or a
 *  server answers on the path; removes a stale socket file nobody answers
 *  on. RV_OK, RV_EBUSY, RV_EINVAL or RV_EIO with a sentence in @p err. */
int socket_guard_acquire(const char *path, socket_guard **out, char *err, size_t errlen);

/** After the bind: set the socket's mode to @p mode (e.g. 0660). */
int socket_guard_chmod(socket_guard *g, unsigned mode, char *err, size_t errlen);

/** Remove the socket file when @p unlink_socket, then release the lock
 *  (the lock file stays: unlinking it would race with a waiting process).
 *  NULL is a no-op. */
void socket_guard_release(socket_guard *g, int unlink_socket);

#endif
