/**
 * @file host/config/config_engine.c
 * @short The config file's engine section: module_dir (one folder or a search
 *        path), plans_dir, media_roots, asrun_dir, log_level, control_listen
 *        (one address or a list), metrics_listen, http_outputs and
 *        decoder_threads / encoder_threads; the access keys are
 *        config_access.c's.
 *
 * Owns nothing itself: what it reads goes into the config it is given, which
 * owns it. Thread: the main thread.
 */
#include "config/config_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

static const char *const config_engine_keys[] = {
    "module_dir", "plans_dir", "media_roots", "log_level", "control_listen", "metrics_listen",
    "asrun_dir", "http_outputs", "decoder_threads", "encoder_threads", NULL};

/** Every engine key: this file's and config_access.c's. */
static int config_check_engine_keys(const config_parse *p, const config_setting_t *eng)
{
    const char *all[32];
    size_t n = 0;
    for (size_t i = 0; config_engine_keys[i]; i++)
        all[n++] = config_engine_keys[i];
    for (size_t i = 0; config_access_keys[i] && n + 1 < sizeof(all) / sizeof(all[0]); i++)
        all[n++] = config_access_keys[i];
    all[n] = NULL;
    return config_check_keys(p, eng, "engine", all);
}

/* "HOST:PORT" with a non-empty host and a port 0..65535 (config.h). */
int config_host_port_valid(const char *s)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s || !colon[1])
        return 0;
    long port = 0;
    for (const char *c = colon + 1; *c; c++) {
        if (*c < '0' || *c > '9')
            return 0;
        port = port * 10 + (*c - '0');
        if (port > 65535)
            return 0;
    }
    return 1;
}

/** One control_listen address, resolved ("unix:" paths against the file's
 *  folder) into a new string in *@p out. */
static int config_listen_address(const config_parse *p, const config_setting_t *s, const char *key,
                                 char **out)
{
    if (config_setting_type(s) != CONFIG_TYPE_STRING)
        return config_fail(p, config_line(s), key,
                           "must be a string (\"unix:PATH\" or \"HOST:PORT\")");
    const char *v = config_setting_get_string(s);
    if (strncmp(v, "unix:", 5) == 0) {
        if (!v[5])
            return config_fail(p, config_line(s), key, "'%s' has no socket path", v);
        char *path = config_resolve(p->dir, v + 5);
        if (!path || asprintf(out, "unix:%s", path) < 0) {
            free(path);
            return config_oom(p, config_line(s), key);
        }
        free(path);
        return RV_OK;
    }
    if (!config_host_port_valid(v))
        return config_fail(p, config_line(s), key,
                           "'%s' is neither \"unix:PATH\" nor \"HOST:PORT\"", v);
    *out = strdup(v);
    return *out ? RV_OK : config_oom(p, config_line(s), key);
}

static int config_read_listen(const config_parse *p, const config_setting_t *eng, config *cfg)
{
    const config_setting_t *s = config_setting_get_member(eng, "control_listen");
    if (!s)
        return RV_OK;
    int rc;
    if (config_setting_type(s) == CONFIG_TYPE_STRING) {
        cfg->control_listen = calloc(1, sizeof(char *));
        if (!cfg->control_listen)
            return config_oom(p, config_line(s), "engine.control_listen");
        if ((rc = config_listen_address(p, s, "engine.control_listen", &cfg->control_listen[0])))
            return rc;
        cfg->control_listen_count = 1;
        return RV_OK;
    }
    if (!config_setting_is_array(s) && !config_setting_is_list(s))
        return config_fail(p, config_line(s), "engine.control_listen",
                           "must be a string or a list of strings");
    int n = config_setting_length(s);
    cfg->control_listen = calloc((size_t)n + 1, sizeof(char *));
    if (!cfg->control_listen)
        return config_oom(p, config_line(s), "engine.control_listen");
    for (int i = 0; i < n; i++) {
        char key[CONFIG_KEY_MAX];
        config_key_index(key, sizeof(key), "engine.control_listen", i);
        rc = config_listen_address(p, config_setting_get_elem(s, (unsigned)i), key,
                                   &cfg->control_listen[i]);
        if (rc)
            return rc;
        cfg->control_listen_count++;
    }
    return RV_OK;
}

int config_get_path(const config_parse *p, const config_setting_t *eng, const char *name,
                    int required, char **out)
{
    const char *v;
    char key[CONFIG_KEY_MAX];
    config_key(key, sizeof(key), "engine", name);
    int rc = config_get_string(p, eng, "engine", name, required, &v);
    if (rc || !v)
        return rc;
    if (!v[0])
        return config_fail(p, config_line(config_setting_get_member(eng, name)), key,
                           "must not be empty");
    *out = config_resolve(p->dir, v);
    return *out ? RV_OK : config_oom(p, config_line(eng), key);
}

/** One module_dir folder, resolved, appended to the ':'-joined search path
 *  in *@p out (owned, grown with realloc). */
static int config_append_module_dir(const config_parse *p, const config_setting_t *s,
                                    const char *key, char **out)
{
    if (config_setting_type(s) != CONFIG_TYPE_STRING)
        return config_fail(p, config_line(s), key, "must be a string (a folder)");
    const char *v = config_setting_get_string(s);
    if (!v[0])
        return config_fail(p, config_line(s), key, "must not be empty");
    if (strchr(v, ':'))
        return config_fail(p, config_line(s), key,
                           "'%s' contains ':', which separates the folders of the search path",
                           v);
    char *dir = config_resolve(p->dir, v);
    if (!dir)
        return config_oom(p, config_line(s), key);
    size_t old = *out ? strlen(*out) : 0;
    char *grown = realloc(*out, old + 1 + strlen(dir) + 1);
    if (!grown) {
        free(dir);
        return config_oom(p, config_line(s), key);
    }
    snprintf(grown + old, 1 + strlen(dir) + 1, "%s%s", old ? ":" : "", dir);
    *out = grown;
    free(dir);
    return RV_OK;
}

/** module_dir: one folder (a string) or a search path (a non-empty list of
 *  folders, searched in order), stored ':'-joined in cfg->module_dir. */
static int config_read_module_dirs(const config_parse *p, const config_setting_t *eng,
                                   config *cfg)
{
    const config_setting_t *s = config_setting_get_member(eng, "module_dir");
    if (!s)
        return config_fail(p, config_line(eng), "engine.module_dir", "missing (required)");
    if (config_setting_type(s) == CONFIG_TYPE_STRING)
        return config_append_module_dir(p, s, "engine.module_dir", &cfg->module_dir);
    if (!config_setting_is_array(s) && !config_setting_is_list(s))
        return config_fail(p, config_line(s), "engine.module_dir",
                           "must be a string or a list of strings (folders)");
    int n = config_setting_length(s);
    if (n == 0)
        return config_fail(p, config_line(s), "engine.module_dir", "must not be empty");
    for (int i = 0; i < n; i++) {
        char key[CONFIG_KEY_MAX];
        config_key_index(key, sizeof(key), "engine.module_dir", i);
        int rc = config_append_module_dir(p, config_setting_get_elem(s, (unsigned)i), key,
                                          &cfg->module_dir);
        if (rc)
            return rc;
    }
    return RV_OK;
}

/** engine.media_roots: one folder (a string) or a non-empty list of folders,
 *  each resolved against the config's folder. Left out: no restriction. */
static int config_read_media_roots(const config_parse *p, const config_setting_t *eng,
                                   config *cfg)
{
    const config_setting_t *s = config_setting_get_member(eng, "media_roots");
    if (!s)
        return RV_OK;
    int single = config_setting_type(s) == CONFIG_TYPE_STRING;
    if (!single && !config_setting_is_array(s) && !config_setting_is_list(s))
        return config_fail(p, config_line(s), "engine.media_roots",
                           "must be a string or a list of strings (folders)");
    int n = single ? 1 : config_setting_length(s);
    if (n == 0)
        return config_fail(p, config_line(s), "engine.media_roots",
                           "must not be empty (leave it out for no restriction)");
    cfg->media_roots = calloc((size_t)n, sizeof(*cfg->media_roots));
    if (!cfg->media_roots)
        return config_oom(p, config_line(s), "engine.media_roots");
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = single ? s : config_setting_get_elem(s, (unsigned)i);
        char key[CONFIG_KEY_MAX];
        config_key_index(key, sizeof(key), "engine.media_roots", i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING)
            return config_fail(p, config_line(e), single ? "engine.media_roots" : key,
                               "must be a string (a folder)");
        const char *v = config_setting_get_string(e);
        if (!v[0])
            return config_fail(p, config_line(e), single ? "engine.media_roots" : key,
                               "must not be empty");
        if (!(cfg->media_roots[i] = config_resolve(p->dir, v)))
            return config_oom(p, config_line(e), key);
        cfg->media_root_count = (size_t)i + 1;
    }
    return RV_OK;
}

/** engine.http_outputs: a list of "ts", "m3u", "hls"; all when left out. */
static int config_read_http_outputs(const config_parse *p, const config_setting_t *eng,
                                    config *cfg)
{
    static const struct {
        const char *name;
        unsigned flag;
    } names[] = {{"ts", CONFIG_HTTP_TS}, {"m3u", CONFIG_HTTP_M3U}, {"hls", CONFIG_HTTP_HLS}};
    const config_setting_t *s = config_setting_get_member(eng, "http_outputs");
    cfg->http_outputs = CONFIG_HTTP_ALL;
    if (!s)
        return RV_OK;
    if (!config_setting_is_array(s) && !config_setting_is_list(s))
        return config_fail(p, config_line(s), "engine.http_outputs",
                           "must be a list of \"ts\", \"m3u\", \"hls\" (e.g. [ \"ts\", \"m3u\" ])");
    cfg->http_outputs = 0;
    for (int i = 0; i < config_setting_length(s); i++) {
        const char *v = config_setting_get_string_elem(s, (unsigned)i);
        unsigned flag = 0;
        for (size_t k = 0; v && k < sizeof(names) / sizeof(names[0]); k++)
            if (strcmp(v, names[k].name) == 0)
                flag = names[k].flag;
        if (!flag)
            return config_fail(p, config_line(s), "engine.http_outputs",
                               "'%s' is not one of ts, m3u, hls", v ? v : "(not a string)");
        cfg->http_outputs |= flag;
    }
    return RV_OK;
}

int config_read_engine(const config_parse *p, const config_setting_t *root, config *cfg)
{
    const config_setting_t *eng = config_setting_get_member(root, "engine");
    if (!eng)
        return config_fail(p, 1, "engine", "missing (required)");
    if (!config_setting_is_group(eng))
        return config_fail(p, config_line(eng), "engine", "must be a group { ... }");
    int rc = config_check_engine_keys(p, eng);
    if (rc)
        return rc;
    if ((rc = config_read_module_dirs(p, eng, cfg)) ||
        (rc = config_get_path(p, eng, "plans_dir", 0, &cfg->plans_dir)) ||
        (rc = config_read_media_roots(p, eng, cfg)) ||
        (rc = config_get_path(p, eng, "asrun_dir", 0, &cfg->asrun_dir)))
        return rc;

    const char *level;
    if ((rc = config_get_string(p, eng, "engine", "log_level", 0, &level)))
        return rc;
    cfg->log_level = RV_LOG_INFO;
    if (level && log_level_parse(level, &cfg->log_level) != RV_OK)
        return config_fail(p, config_line(config_setting_get_member(eng, "log_level")),
                           "engine.log_level", "'%s' is not one of error, warn, info, debug",
                           level);

    const char *metrics;
    if ((rc = config_get_string(p, eng, "engine", "metrics_listen", 0, &metrics)))
        return rc;
    if (metrics) {
        if (!config_host_port_valid(metrics))
            return config_fail(p, config_line(config_setting_get_member(eng, "metrics_listen")),
                               "engine.metrics_listen", "'%s' is not \"HOST:PORT\"", metrics);
        if (!(cfg->metrics_listen = strdup(metrics)))
            return config_oom(p, config_line(eng), "engine.metrics_listen");
    }
    /* 0 = sized by the host from the CPUs and the channel count (thread_budget.h) */
    int64_t dec_threads, enc_threads;
    if ((rc = config_get_int(p, eng, "engine", "decoder_threads", 0, 0, 0, 16, &dec_threads)) ||
        (rc = config_get_int(p, eng, "engine", "encoder_threads", 0, 0, 0, 16, &enc_threads)))
        return rc;
    cfg->decoder_threads = (int)dec_threads;
    cfg->encoder_threads = (int)enc_threads;
    if ((rc = config_read_http_outputs(p, eng, cfg)) || (rc = config_read_access(p, eng, cfg)))
        return rc;
    return config_read_listen(p, eng, cfg);
}
