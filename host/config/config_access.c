/**
 * @file host/config/config_access.c
 * @short The engine section's access keys: who may call the control plane
 *        and read the HTTP server (token files, the explicit opt-in to an
 *        unauthenticated loopback TCP listener, public HTTP paths) and how
 *        many connections each listener takes (issue 16).
 *
 *   control_token_file        path: bearer token TCP control listeners require
 *   control_insecure_tcp      bool: a TCP listener may run without one (loopback only)
 *   control_max_connections   per control listener (default 64)
 *   control_max_connections_per_peer   per IP / Unix user id (default 16)
 *   control_idle_timeout_ms   connection without calls closed (default 300000)
 *   fd_reserve                descriptors never given to clients (default 128)
 *   http_token_file           path: bearer token for every HTTP path but the public ones
 *   http_public_paths         list: paths served without it (default /healthz, /metrics)
 *   http_max_connections      (default 512), http_max_connections_per_peer (128),
 *   http_timeout_s            silent HTTP connection closed (default 10)
 *
 * Owns nothing itself: what it reads goes into cfg->access. Thread: main.
 */
#include "config/config_internal.h"

#include <stdlib.h>
#include <string.h>

const char *const config_access_keys[] = {
    "control_token_file", "control_insecure_tcp", "control_max_connections",
    "control_max_connections_per_peer", "control_idle_timeout_ms", "fd_reserve",
    "http_token_file", "http_public_paths", "http_max_connections",
    "http_max_connections_per_peer", "http_timeout_s", NULL};

void config_access_clear(config_access *a)
{
    free(a->control_token_file);
    free(a->http_token_file);
    for (size_t i = 0; a->http_public_paths && i < a->http_public_count; i++)
        free(a->http_public_paths[i]);
    free(a->http_public_paths);
    memset(a, 0, sizeof(*a));
}

static int config_access_bool(const config_parse *p, const config_setting_t *eng,
                              const char *name, int *out)
{
    const config_setting_t *s = config_setting_get_member(eng, name);
    *out = 0;
    if (!s)
        return RV_OK;
    if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
        char key[CONFIG_KEY_MAX];
        config_key(key, sizeof(key), "engine", name);
        return config_fail(p, config_line(s), key, "must be true or false");
    }
    *out = config_setting_get_bool(s) ? 1 : 0;
    return RV_OK;
}

static int config_access_u32(const config_parse *p, const config_setting_t *eng,
                             const char *name, int64_t def, int64_t min, int64_t max,
                             uint32_t *out)
{
    int64_t v = 0;
    int rc = config_get_int(p, eng, "engine", name, 0, def, min, max, &v);
    *out = (uint32_t)v;
    return rc;
}

static int config_access_public(const config_parse *p, const config_setting_t *eng,
                                config_access *a)
{
    const char *key = "engine.http_public_paths";
    const config_setting_t *s = config_setting_get_member(eng, "http_public_paths");
    if (!s)
        return RV_OK;
    if (!config_setting_is_array(s) && !config_setting_is_list(s))
        return config_fail(p, config_line(s), key,
                           "must be a list of paths (e.g. [ \"/healthz\", \"/metrics\" ])");
    int n = config_setting_length(s);
    if (n > 32)
        return config_fail(p, config_line(s), key, "%d paths (at most 32)", n);
    a->http_public_paths = calloc((size_t)n + 1, sizeof(char *));
    if (!a->http_public_paths)
        return config_oom(p, config_line(s), key);
    for (int i = 0; i < n; i++) {
        const char *v = config_setting_get_string_elem(s, (unsigned)i);
        if (!v || v[0] != '/')
            return config_fail(p, config_line(s), key, "'%s' is not a path starting with '/'",
                               v ? v : "(not a string)");
        if (!(a->http_public_paths[i] = strdup(v)))
            return config_oom(p, config_line(s), key);
        a->http_public_count++;
    }
    return RV_OK;
}

int config_read_access(const config_parse *p, const config_setting_t *eng, config *cfg)
{
    config_access *a = &cfg->access;
    int64_t idle = 0;
    int rc;
    if ((rc = config_get_path(p, eng, "control_token_file", 0, &a->control_token_file)) ||
        (rc = config_access_bool(p, eng, "control_insecure_tcp", &a->control_insecure_tcp)) ||
        (rc = config_access_u32(p, eng, "control_max_connections", 64, 1, 65536,
                                &a->control_max_connections)) ||
        (rc = config_access_u32(p, eng, "control_max_connections_per_peer", 16, 1, 65536,
                                &a->control_max_per_peer)) ||
        (rc = config_get_int(p, eng, "engine", "control_idle_timeout_ms", 0, 300000, 1000,
                             86400000, &idle)) ||
        (rc = config_access_u32(p, eng, "fd_reserve", 128, 16, 1 << 20, &a->fd_reserve)) ||
        (rc = config_get_path(p, eng, "http_token_file", 0, &a->http_token_file)) ||
        (rc = config_access_public(p, eng, a)) ||
        (rc = config_access_u32(p, eng, "http_max_connections", 512, 1, 65536,
                                &a->http_max_connections)) ||
        (rc = config_access_u32(p, eng, "http_max_connections_per_peer", 128, 1, 65536,
                                &a->http_max_per_peer)) ||
        (rc = config_access_u32(p, eng, "http_timeout_s", 10, 1, 3600, &a->http_timeout_s)))
        return rc;
    a->control_idle_timeout_ms = (int)idle;
    return RV_OK;
}
