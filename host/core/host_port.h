/**
 * @file host/core/host_port.h
 * @short Splitting a "HOST:PORT" address ("[V6]:PORT" too), as the config's
 *        listen addresses and AttachStream's TCP endpoints are written.
 */
#ifndef RV_HOST_HOST_PORT_H
#define RV_HOST_HOST_PORT_H

#include <stddef.h>

/** Split @p addr (borrowed) at its last ':' into @p host (brackets of an
 *  IPv6 literal removed) and @p port, both NUL-terminated within their
 *  sizes. RV_OK, or RV_EINVAL when a part is empty or does not fit. The
 *  port is not checked to be numeric. Thread: any. */
int host_port_split(const char *addr, char *host, size_t hostlen, char *port, size_t portlen);

#endif
