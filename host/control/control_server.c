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
#include "core/host_port.h"
#include "core/log.h"
#include "core/secret_file.h"

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

int control_read_token(const char *path, char **out, char *err, size_t errlen)
{
    char why[400];
    int rc = secret_file_read(path, out, why, sizeof(why));
    if (rc != RV_OK)
        snprintf(err, errlen, "control: %s", why);
    return rc;
}

/** 1 for a "HOST:PORT" address (not a Unix socket). */
static int control_is_tcp(const char *addr)
{
    return !control_unix_path(addr) && strncmp(addr, "unix-abstract:", 14) != 0;
}

/** 1 when the "HOST:PORT" @p addr binds a loopback address only. */
static int control_is_loopback(const char *addr)
{
    char host[256];
    char port[16];
    if (host_port_split(addr, host, sizeof(host), port, sizeof(port)) != RV_OK)
        return 0;
    return strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0 ||
           strcmp(host, "localhost") == 0;
}

/** Which listeners require the token; refuses an unauthenticated TCP
 *  listener the options do not allow. */
static int control_auth_plan(char *const *listen, size_t count, const control_options *opt,
                             const char *token, unsigned char *require, char *err, size_t errlen)
{
    for (size_t i = 0; i < count; i++) {
        require[i] = 0;
        if (!control_is_tcp(listen[i]))
            continue;
        if (token) {
            require[i] = 1;
        } else if (opt && !opt->insecure_tcp) {
            snprintf(err, errlen,
                     "control: TCP listener %s needs control_token_file (bearer token), or "
                     "control_insecure_tcp = true to accept unauthenticated calls on loopback",
                     listen[i]);
            return RV_EINVAL;
        } else if (opt && !control_is_loopback(listen[i])) {
            snprintf(err, errlen,
                     "control: TCP listener %s is not loopback: it needs control_token_file "
                     "(control_insecure_tcp allows only 127.0.0.0/8, ::1 and localhost)",
                     listen[i]);
            return RV_EINVAL;
        }
    }
    return RV_OK;
}

int control_server_start(char *const *listen, size_t count, const control_options *opt, engine *e,
                         control_server **out, char *err, size_t errlen)
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
    char *token = NULL;
    unsigned char require[CONTROL_MAX_LISTEN];
    int rc = RV_OK;
    if (opt && opt->token_file)
        rc = control_read_token(opt->token_file, &token, err, errlen);
    if (rc == RV_OK)
        rc = control_auth_plan(listen, count, opt, token, require, err, errlen);
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
        .require_token = require,
        .token = token,
        .limits = opt ? opt->limits : (rpc_limits){0},
        .max_idle_ms = opt ? opt->max_idle_ms : 0,
    };
    rc = rpc_server_start(&cfg, &s->rpc, err, errlen);
    secret_free(token);
    token = NULL;
    if (rc != RV_OK)
        goto fail;
    for (size_t i = 0; i < s->guard_count; i++) {
        rc = socket_guard_chmod(s->guards[i], CONTROL_SOCKET_MODE, err, errlen);
        if (rc != RV_OK)
            goto fail;
    }
    for (size_t i = 0; i < count; i++) {
        int port = rpc_server_bound_port(s->rpc, i);
        const char *auth = require[i]                  ? "bearer token required"
                           : control_is_tcp(listen[i]) ? "NO AUTHENTICATION"
                                                       : "socket file mode";
        if (port > 0)
            log_info("control: listening on %s (port %d; %s)", listen[i], port, auth);
        else
            log_info("control: listening on %s (%s)", listen[i], auth);
    }
    *out = s;
    return RV_OK;

fail:
    secret_free(token);
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

void control_server_get_stats(control_server *s, rpc_server_stats *out)
{
    rpc_server_get_stats(s ? s->rpc : NULL, out);
}

int control_server_port(const control_server *s, size_t i)
{
    return s ? rpc_server_bound_port(s->rpc, i) : 0;
}
