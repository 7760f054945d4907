/**
 * @file host/control/control_server.c
 * @short The control plane (see control_server.h). Owns the rpc_server and
 *        one socket_guard per "unix:" address; borrows the engine.
 */
#include "control/control_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <retrovue/error.h>

#include "control/control_methods.h"
#include "control/rpc_server.h"
#include "control/socket_guard.h"
#include "core/log.h"

#define CONTROL_MAX_LISTEN 16
#define CONTROL_MAX_WORKERS 16
#define CONTROL_SOCKET_MODE 0660

struct control_server {
    rpc_server *rpc;
    socket_guard *guards[CONTROL_MAX_LISTEN];
    size_t guard_count;
};

/** The file path of a "unix:" address ("unix:PATH" or "unix:///abs"), or
 *  NULL for any other kind. */
static const char *control_unix_path(const char *addr)
{
    if (strncmp(addr, "unix://", 7) == 0)
        return addr + 7;
    if (strncmp(addr, "unix:", 5) == 0)
        return addr + 5;
    return NULL;
}

static int control_check_address(const char *addr, char *err, size_t errlen)
{
    if (!addr || !addr[0]) {
        snprintf(err, errlen, "control: empty listen address");
        return RV_EINVAL;
    }
    if (control_unix_path(addr) || strncmp(addr, "unix-abstract:", 14) == 0)
        return RV_OK;
    const char *colon = strrchr(addr, ':');
    if (!colon || colon[1] == '\0') {
        snprintf(err, errlen,
                 "control: listen address '%s' is neither \"unix:PATH\" nor \"HOST:PORT\"", addr);
        return RV_EINVAL;
    }
    return RV_OK;
}

static void control_release_guards(control_server *s, int unlink_sockets)
{
    for (size_t i = 0; i < s->guard_count; i++)
        socket_guard_release(s->guards[i], unlink_sockets);
    s->guard_count = 0;
}

int control_server_start(char *const *listen, size_t count, engine *e, control_server **out,
                         char *err, size_t errlen)
{
    *out = NULL;
    if (count == 0 || count > CONTROL_MAX_LISTEN) {
        snprintf(err, errlen, "control: %zu listen addresses (1..%d allowed)", count,
                 CONTROL_MAX_LISTEN);
        return RV_EINVAL;
    }
    control_server *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "control: out of memory");
        return RV_ENOMEM;
    }
    int rc = RV_OK;
    for (size_t i = 0; i < count && rc == RV_OK; i++) {
        rc = control_check_address(listen[i], err, errlen);
        const char *path = rc == RV_OK ? control_unix_path(listen[i]) : NULL;
        if (path) {
            rc = socket_guard_acquire(path, &s->guards[s->guard_count], err, errlen);
            if (rc == RV_OK)
                s->guard_count++;
        }
    }
    if (rc != RV_OK)
        goto fail;
    const rpc_server_config cfg = {
        .listen = listen,
        .listen_count = count,
        .methods = control_methods,
        .user = e,
        .max_workers = CONTROL_MAX_WORKERS,
    };
    rc = rpc_server_start(&cfg, &s->rpc, err, errlen);
    if (rc != RV_OK)
        goto fail;
    for (size_t i = 0; i < s->guard_count; i++) {
        rc = socket_guard_chmod(s->guards[i], CONTROL_SOCKET_MODE, err, errlen);
        if (rc != RV_OK)
            goto fail;
    }
    for (size_t i = 0; i < count; i++) {
        int port = rpc_server_bound_port(s->rpc, i);
        if (port > 0)
            log_info("control: listening on %s (port %d)", listen[i], port);
        else
            log_info("control: listening on %s", listen[i]);
    }
    *out = s;
    return RV_OK;

fail:
    rpc_server_stop(s->rpc, 0);
    control_release_guards(s, s->rpc != NULL);
    free(s);
    return rc;
}

void control_server_stop(control_server *s, int grace_ms)
{
    if (!s)
        return;
    rpc_server_stop(s->rpc, grace_ms);
    control_release_guards(s, 1);
    free(s);
    log_info("control: stopped");
}

int control_server_port(const control_server *s, size_t i)
{
    return s ? rpc_server_bound_port(s->rpc, i) : 0;
}
