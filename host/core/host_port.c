/**
 * @file host/core/host_port.c
 * @short "HOST:PORT" splitting (see host_port.h). Owns nothing.
 */
#include "core/host_port.h"

#include <stdio.h>
#include <string.h>

#include <retrovue/error.h>

int host_port_split(const char *addr, char *host, size_t hostlen, char *port, size_t portlen)
{
    const char *colon = strrchr(addr, ':');
    if (!colon || colon == addr || !colon[1] || strlen(colon + 1) >= portlen)
        return RV_EINVAL;
    const char *h = addr;
    size_t n = (size_t)(colon - addr);
    if (h[0] == '[' && n >= 2 && h[n - 1] == ']') {
        h++;
        n -= 2;
    }
    if (n == 0 || n >= hostlen)
        return RV_EINVAL;
    memcpy(host, h, n);
    host[n] = '\0';
    snprintf(port, portlen, "%s", colon + 1);
    return RV_OK;
}
