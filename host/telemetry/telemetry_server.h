/**
 * @file host/telemetry/telemetry_server.h
 * @short The HTTP endpoint (libmicrohttpd) on metrics_listen: Prometheus
 *        /metrics, /healthz, and (later) the operator page and previews.
 *
 * It reads everything through the engine's status API; collecting on the tick
 * thread is a few atomic operations there, never a lock or an allocation.
 */
#ifndef RV_HOST_TELEMETRY_SERVER_H
#define RV_HOST_TELEMETRY_SERVER_H

#include <stddef.h>

#include "config/config.h"
#include "engine/engine.h"

typedef struct telemetry_server telemetry_server;

/** Limits and access. Zero members take the defaults. */
typedef struct telemetry_options {
    unsigned max_connections;   /**< at once; default 512, and never more than half of
                                     what RLIMIT_NOFILE leaves after fd_reserve */
    unsigned max_per_peer;      /**< from one IP address; default 128 */
    unsigned timeout_s;         /**< a silent connection is closed after this; default 10 */
    unsigned fd_reserve;        /**< descriptors left to the rest of the process; default 256 */
    const char *token_file;     /**< bearer token every path but the public ones needs
                                     (telemetry/http_guard.h); NULL: none; borrowed */
    char *const *public_paths;  /**< served without the token; NULL: "/healthz",
                                     "/metrics"; borrowed, copied */
    size_t public_count;
} telemetry_options;

/** Listen on @p listen ("HOST:PORT", borrowed; port 0 picks a free port),
 *  serving the viewer outputs in @p outputs (CONFIG_HTTP_* of
 *  config/config.h) beside the telemetry routes. @p opt borrowed, NULL for
 *  the defaults. Requests without the token get 401 (but on public paths);
 *  text and JSON served without it have filesystem paths redacted.
 *  @p e borrowed, must outlive the server. RV_OK or an error with the
 *  reason in @p err. Threads: libmicrohttpd's own, one per connection. */
int telemetry_server_start(const char *listen, unsigned outputs, const telemetry_options *opt,
                           engine *e, telemetry_server **out, char *err, size_t errlen);
/** The bound TCP port. */
int telemetry_server_port(const telemetry_server *s);
void telemetry_server_stop(telemetry_server *s);

#endif
