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

/** Listen on @p listen ("HOST:PORT", borrowed; port 0 picks a free port),
 *  serving the viewer outputs in @p outputs (CONFIG_HTTP_* of
 *  config/config.h) beside the telemetry routes. @p e borrowed, must outlive
 *  the server. RV_OK or an error with the reason in @p err. Threads:
 *  libmicrohttpd's own, one per connection. */
int telemetry_server_start(const char *listen, unsigned outputs, engine *e,
                           telemetry_server **out, char *err, size_t errlen);
/** The bound TCP port. */
int telemetry_server_port(const telemetry_server *s);
void telemetry_server_stop(telemetry_server *s);

#endif
