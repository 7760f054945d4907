/**
 * @file host/config/config.c
 * @short The engine's configuration: parse a libconfig file into a config
 *        (engine settings, profiles, channel bindings), check its shape, then
 *        bind every channel's modules against the registry and build their
 *        typed options.
 *
 * A config owns every string and array it holds; each binding owns its raw
 * options and, after config_bind, its rv_options (whose table lives in the
 * module's .so, so the registry must outlive the config). Every error names
 * "<file>:<line>: <key path>: <reason>". Thread: the main thread (start-up);
 * read-only after.
 */
#include "config/config.h"

#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

/** Longest key path we build ("channels.[12].sinks.[3].options.path"). */
#define CONFIG_KEY_MAX 256

/** State of one config_load: where errors go and the file's folder. */
typedef struct config_parse {
    const char *file; /**< the path as given, borrowed */
    const char *dir;  /**< the file's folder, "" when none; borrowed */
    char *err;        /**< borrowed, may be NULL */
    size_t errlen;
} config_parse;

static const char *const config_root_keys[] = {"engine", "profiles", "channels", "channel_defaults",
                                               NULL};
static const char *const config_engine_keys[] = {
    "module_dir", "plans_dir", "log_level", "control_listen", "metrics_listen", "asrun_dir",
    "http_outputs", NULL};


static const char *const config_profile_keys[] = {"width",      "height",         "frame_rate",
                                                  "audio_rate", "audio_channels", NULL};
static const char *const config_channel_keys[] = {
    "id",   "name",     "profile", "autostart_plan", "producers", "slate", "renderer",
    "sinks", "encode", NULL};
static const char *const config_defaults_keys[] = {"profile",  "producers", "slate",
                                                   "renderer", "sinks",     "encode", NULL};
static const char *const config_binding_keys[] = {"module", "options", "encoder", NULL};

/** The encoder a transport binding uses when it names none. */
#define CONFIG_DEFAULT_ENCODER "mpegts"

/* ------------------------------------------------------------------------ */
/* errors and small helpers                                                 */

/** "<file>:<line>: <key path>: <reason>" into the error buffer; RV_EINVAL. */
__attribute__((format(printf, 4, 5))) static int
config_fail(const config_parse *p, int line, const char *key_path, const char *fmt, ...)
{
    if (!p->err || p->errlen == 0)
        return RV_EINVAL;
    int n = snprintf(p->err, p->errlen, "%s:%d: %s: ", p->file, line > 0 ? line : 1, key_path);
    if (n >= 0 && (size_t)n < p->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return RV_EINVAL;
}

static int config_line(const config_setting_t *s)
{
    return s ? (int)config_setting_source_line(s) : 0;
}

/** @p parent "." @p name into @p out (or just @p name at the root). */
static void config_key(char *out, size_t len, const char *parent, const char *name)
{
    if (!parent || !parent[0])
        snprintf(out, len, "%s", name);
    else
        snprintf(out, len, "%s.%s", parent, name);
}

/** @p parent ".[" @p index "]" into @p out. */
static void config_key_index(char *out, size_t len, const char *parent, int index)
{
    snprintf(out, len, "%s.[%d]", parent, index);
}

/** "a, b, c" of a NULL-terminated list into @p buf. */
static const char *config_join(const char *const *list, char *buf, size_t len)
{
    size_t pos = 0;
    buf[0] = '\0';
    for (size_t i = 0; list[i] && pos < len; i++) {
        int n = snprintf(buf + pos, len - pos, "%s%s", i ? ", " : "", list[i]);
        if (n < 0)
            break;
        pos += (size_t)n;
    }
    return buf;
}

/** Collapse "." and "name/.." in @p path, in place and lexically, so
 *  operators read "build/x.sock" rather than "conf/../build/x.sock". */
static void config_normalize(char *path)
{
    int absolute = path[0] == '/';
    char *seg[256];
    size_t n = 0;
    size_t keep = 0; /* leading ".." that cannot collapse */
    char *save = NULL;
    char *copy = strdup(path);
    if (!copy)
        return;
    for (char *t = strtok_r(copy, "/", &save); t && n < 256; t = strtok_r(NULL, "/", &save)) {
        if (strcmp(t, ".") == 0)
            continue;
        if (strcmp(t, "..") == 0 && n > keep) {
            n--;
            continue;
        }
        if (strcmp(t, "..") == 0 && absolute)
            continue;
        seg[n++] = t;
        if (strcmp(t, "..") == 0)
            keep = n;
    }
    size_t o = 0;
    if (absolute)
        path[o++] = '/';
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(seg[i]);
        if (i)
            path[o++] = '/';
        memmove(path + o, seg[i], l);
        o += l;
    }
    if (o == 0)
        path[o++] = '.';
    path[o] = '\0';
    free(copy);
}

/** A path relative to the config file's folder @p dir; absolute kept. */
static char *config_resolve(const char *dir, const char *path)
{
    if (path[0] == '/' || path[0] == '\0' || !dir[0])
        return strdup(path);
    char *out = NULL;
    if (strcmp(dir, "/") == 0) {
        if (asprintf(&out, "/%s", path) < 0)
            return NULL;
    } else if (asprintf(&out, "%s/%s", dir, path) < 0) {
        return NULL;
    }
    config_normalize(out);
    return out;
}

static int config_oom(const config_parse *p, int line, const char *key_path)
{
    config_fail(p, line, key_path, "out of memory");
    return RV_ENOMEM;
}

/** Every member of group @p g is one of @p allowed. */
static int config_check_keys(const config_parse *p, const config_setting_t *g, const char *path,
                             const char *const *allowed)
{
    int n = config_setting_length(g);
    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(s);
        int known = 0;
        for (size_t k = 0; allowed[k] && !known; k++)
            known = name && strcmp(name, allowed[k]) == 0;
        if (!known) {
            char key[CONFIG_KEY_MAX];
            char list[512];
            config_key(key, sizeof(key), path, name ? name : "?");
            return config_fail(p, config_line(s), key, "unknown key (expected one of: %s)",
                               config_join(allowed, list, sizeof(list)));
        }
    }
    return RV_OK;
}

/** Member @p name of group @p g as a string. Absent: *out = NULL, or an
 *  error when @p required. */
static int config_get_string(const config_parse *p, const config_setting_t *g, const char *path,
                             const char *name, int required, const char **out)
{
    char key[CONFIG_KEY_MAX];
    config_key(key, sizeof(key), path, name);
    const config_setting_t *s = config_setting_get_member(g, name);
    *out = NULL;
    if (!s) {
        if (required)
            return config_fail(p, config_line(g), key, "missing (required)");
        return RV_OK;
    }
    if (config_setting_type(s) != CONFIG_TYPE_STRING)
        return config_fail(p, config_line(s), key, "must be a string");
    *out = config_setting_get_string(s);
    if (required && !(*out)[0])
        return config_fail(p, config_line(s), key, "must not be empty");
    return RV_OK;
}

/** Member @p name of group @p g as an integer within [min, max]. Absent:
 *  *out = @p def, or an error when @p required. */
static int config_get_int(const config_parse *p, const config_setting_t *g, const char *path,
                          const char *name, int required, int64_t def, int64_t min, int64_t max,
                          int64_t *out)
{
    char key[CONFIG_KEY_MAX];
    config_key(key, sizeof(key), path, name);
    const config_setting_t *s = config_setting_get_member(g, name);
    *out = def;
    if (!s) {
        if (required)
            return config_fail(p, config_line(g), key, "missing (required)");
        return RV_OK;
    }
    int type = config_setting_type(s);
    if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
        return config_fail(p, config_line(s), key, "must be an integer");
    int64_t v = config_setting_get_int64(s);
    if (v < min || v > max)
        return config_fail(p, config_line(s), key, "%lld is out of range %lld..%lld", (long long)v,
                           (long long)min, (long long)max);
    *out = v;
    return RV_OK;
}

/* ------------------------------------------------------------------------ */
/* engine                                                                   */

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

/** A folder setting, resolved against the file's folder into *@p out. */
static int config_read_dir(const config_parse *p, const config_setting_t *eng, const char *name,
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

static int config_read_engine(const config_parse *p, const config_setting_t *root, config *cfg)
{
    const config_setting_t *eng = config_setting_get_member(root, "engine");
    if (!eng)
        return config_fail(p, 1, "engine", "missing (required)");
    if (!config_setting_is_group(eng))
        return config_fail(p, config_line(eng), "engine", "must be a group { ... }");
    int rc = config_check_keys(p, eng, "engine", config_engine_keys);
    if (rc)
        return rc;
    if ((rc = config_read_module_dirs(p, eng, cfg)) ||
        (rc = config_read_dir(p, eng, "plans_dir", 0, &cfg->plans_dir)) ||
        (rc = config_read_dir(p, eng, "asrun_dir", 0, &cfg->asrun_dir)))
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
    if ((rc = config_read_http_outputs(p, eng, cfg)))
        return rc;
    return config_read_listen(p, eng, cfg);
}

/* ------------------------------------------------------------------------ */
/* profiles                                                                 */

/** "N/D" or "N" with positive int32 parts and 1 <= N/D <= 120. */
static int config_parse_rate(const char *s, rv_rational *out)
{
    int64_t part[2] = {0, 1};
    int idx = 0;
    int digits = 0;
    for (const char *c = s;; c++) {
        if (*c >= '0' && *c <= '9') {
            part[idx] = part[idx] * 10 + (*c - '0');
            if (part[idx] > INT32_MAX)
                return RV_EINVAL;
            digits++;
        } else if (*c == '/' && idx == 0 && digits) {
            idx = 1;
            part[1] = 0;
            digits = 0;
        } else if (*c == '\0' && digits) {
            break;
        } else {
            return RV_EINVAL;
        }
    }
    if (part[0] < 1 || part[1] < 1 || part[0] < part[1] || part[0] > 120 * part[1])
        return RV_EINVAL;
    out->num = (int32_t)part[0];
    out->den = (int32_t)part[1];
    return RV_OK;
}

static int config_read_profile(const config_parse *p, const config_setting_t *g,
                               config_profile *out)
{
    char path[CONFIG_KEY_MAX];
    const char *name = config_setting_name(g);
    config_key(path, sizeof(path), "profiles", name);
    if (!config_setting_is_group(g))
        return config_fail(p, config_line(g), path, "must be a group { width = ...; ... }");
    if (!(out->name = strdup(name)))
        return config_oom(p, config_line(g), path);
    int rc = config_check_keys(p, g, path, config_profile_keys);
    if (rc)
        return rc;

    int64_t width, height, rate, channels;
    char key[CONFIG_KEY_MAX];
    if ((rc = config_get_int(p, g, path, "width", 1, 0, 16, 7680, &width)) ||
        (rc = config_get_int(p, g, path, "height", 1, 0, 16, 4320, &height)) ||
        (rc = config_get_int(p, g, path, "audio_rate", 0, 48000, 8000, 192000, &rate)) ||
        (rc = config_get_int(p, g, path, "audio_channels", 0, 2, 1, 8, &channels)))
        return rc;
    if (width % 2) {
        config_key(key, sizeof(key), path, "width");
        return config_fail(p, config_line(config_setting_get_member(g, "width")), key,
                           "%lld is odd (4:2:0 needs an even width)", (long long)width);
    }
    if (height % 2) {
        config_key(key, sizeof(key), path, "height");
        return config_fail(p, config_line(config_setting_get_member(g, "height")), key,
                           "%lld is odd (4:2:0 needs an even height)", (long long)height);
    }

    config_key(key, sizeof(key), path, "frame_rate");
    const config_setting_t *fr = config_setting_get_member(g, "frame_rate");
    if (!fr)
        return config_fail(p, config_line(g), key, "missing (required)");
    char text[64];
    if (config_setting_type(fr) == CONFIG_TYPE_STRING)
        snprintf(text, sizeof(text), "%s", config_setting_get_string(fr));
    else if (config_setting_type(fr) == CONFIG_TYPE_INT ||
             config_setting_type(fr) == CONFIG_TYPE_INT64)
        snprintf(text, sizeof(text), "%lld", (long long)config_setting_get_int64(fr));
    else
        return config_fail(p, config_line(fr), key, "must be a string \"N/D\" or \"N\"");
    if (config_parse_rate(text, &out->format.frame_rate) != RV_OK)
        return config_fail(p, config_line(fr), key,
                           "'%s' must be \"N/D\" or \"N\" (positive 32-bit integers) with "
                           "1 <= N/D <= 120",
                           text);
    out->format.width = (uint32_t)width;
    out->format.height = (uint32_t)height;
    out->format.audio_rate = (uint32_t)rate;
    out->format.audio_channels = (uint32_t)channels;
    return RV_OK;
}

static int config_read_profiles(const config_parse *p, const config_setting_t *root, config *cfg)
{
    const config_setting_t *g = config_setting_get_member(root, "profiles");
    if (!g)
        return RV_OK;
    if (!config_setting_is_group(g))
        return config_fail(p, config_line(g), "profiles", "must be a group { name: { ... }; }");
    int n = config_setting_length(g);
    cfg->profiles = calloc((size_t)n + 1, sizeof(config_profile));
    if (!cfg->profiles)
        return config_oom(p, config_line(g), "profiles");
    for (int i = 0; i < n; i++) {
        int rc = config_read_profile(p, config_setting_get_elem(g, (unsigned)i), &cfg->profiles[i]);
        cfg->profile_count++;
        if (rc)
            return rc;
    }
    return RV_OK;
}

/* ------------------------------------------------------------------------ */
/* bindings and channels                                                    */

static int config_default_binding(const config_parse *p, config_binding *b, const char *module,
                                  int line, const char *key_path)
{
    b->module = strdup(module);
    b->key_path = strdup(key_path);
    b->line = line;
    if (!b->module || !b->key_path)
        return config_oom(p, line, key_path);
    return RV_OK;
}

/** The scalar @p s as a raw option (key and string copied into @p out). */
static int config_read_raw(const config_parse *p, const config_setting_t *s, const char *key,
                           raw_option *out)
{
    out->line = config_line(s);
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_BOOL:
        out->type = RAW_BOOL;
        out->i = config_setting_get_bool(s) ? 1 : 0;
        break;
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
        out->type = RAW_INT;
        out->i = config_setting_get_int64(s);
        break;
    case CONFIG_TYPE_FLOAT:
        out->type = RAW_FLOAT;
        out->f = config_setting_get_float(s);
        break;
    case CONFIG_TYPE_STRING:
        out->type = RAW_STRING;
        if (!(out->s = strdup(config_setting_get_string(s))))
            return config_oom(p, out->line, key);
        break;
    default: return config_fail(p, out->line, key, "must be a boolean, a number or a string");
    }
    if (!(out->key = strdup(config_setting_name(s))))
        return config_oom(p, out->line, key);
    return RV_OK;
}

static int config_read_binding(const config_parse *p, const config_setting_t *s, const char *path,
                               config_binding *b)
{
    b->line = config_line(s);
    if (!(b->key_path = strdup(path)))
        return config_oom(p, b->line, path);
    if (!config_setting_is_group(s))
        return config_fail(p, b->line, path, "must be a group { module = \"...\"; }");
    int rc = config_check_keys(p, s, path, config_binding_keys);
    if (rc)
        return rc;
    const char *module;
    if ((rc = config_get_string(p, s, path, "module", 1, &module)))
        return rc;
    if (!(b->module = strdup(module)))
        return config_oom(p, b->line, path);
    if (config_setting_get_member(s, "encoder")) {
        const char *encoder;
        if ((rc = config_get_string(p, s, path, "encoder", 1, &encoder)))
            return rc;
        if (!(b->encoder = strdup(encoder)))
            return config_oom(p, b->line, path);
    }

    const config_setting_t *opts = config_setting_get_member(s, "options");
    if (!opts)
        return RV_OK;
    char key[CONFIG_KEY_MAX];
    config_key(key, sizeof(key), path, "options");
    if (!config_setting_is_group(opts))
        return config_fail(p, config_line(opts), key, "must be a group { key = value; }");
    int n = config_setting_length(opts);
    b->raw = calloc((size_t)n + 1, sizeof(raw_option));
    if (!b->raw)
        return config_oom(p, b->line, key);
    for (int i = 0; i < n; i++) {
        const config_setting_t *o = config_setting_get_elem(opts, (unsigned)i);
        char okey[CONFIG_KEY_MAX];
        config_key(okey, sizeof(okey), key, config_setting_name(o));
        b->raw_count++;
        if ((rc = config_read_raw(p, o, okey, &b->raw[i])))
            return rc;
    }
    return RV_OK;
}

/** A list of bindings (producers, sinks). */
static int config_read_binding_list(const config_parse *p, const config_setting_t *ch,
                                    const char *path, const char *name, int allow_empty,
                                    config_binding **out, size_t *count)
{
    const config_setting_t *s = config_setting_get_member(ch, name);
    if (!s)
        return RV_OK;
    char key[CONFIG_KEY_MAX];
    config_key(key, sizeof(key), path, name);
    if (!config_setting_is_list(s))
        return config_fail(p, config_line(s), key, "must be a list ( { module = \"...\"; }, ... )");
    int n = config_setting_length(s);
    if (n == 0 && !allow_empty)
        return config_fail(p, config_line(s), key,
                           "is empty (leave it out to use every loaded producer)");
    *out = calloc((size_t)n + 1, sizeof(config_binding));
    if (!*out)
        return config_oom(p, config_line(s), key);
    for (int i = 0; i < n; i++) {
        char ikey[CONFIG_KEY_MAX];
        config_key_index(ikey, sizeof(ikey), key, i);
        (*count)++;
        int rc = config_read_binding(p, config_setting_get_elem(s, (unsigned)i), ikey, &(*out)[i]);
        if (rc)
            return rc;
    }
    return RV_OK;
}

/** slate or renderer: the group if present, else the default module. */
static int config_read_role(const config_parse *p, const config_setting_t *ch, const char *path,
                            const char *name, const char *def, config_binding *b)
{
    char key[CONFIG_KEY_MAX];
    config_key(key, sizeof(key), path, name);
    const config_setting_t *s = config_setting_get_member(ch, name);
    if (!s)
        return config_default_binding(p, b, def, config_line(ch), key);
    return config_read_binding(p, s, key, b);
}

static int config_read_channel(const config_parse *p, const config_setting_t *s, const char *path,
                               const config *cfg, int is_defaults, config_channel *ch)
{
    ch->line = config_line(s);
    if (!config_setting_is_group(s))
        return config_fail(p, ch->line, path, "must be a group { id = ...; ... }");
    int rc =
        config_check_keys(p, s, path, is_defaults ? config_defaults_keys : config_channel_keys);
    if (rc)
        return rc;
    char key[CONFIG_KEY_MAX];
    if (!is_defaults) {
        int64_t id;
        if ((rc = config_get_int(p, s, path, "id", 1, 0, 1, INT32_MAX, &id)))
            return rc;
        for (size_t i = 0; i < cfg->channel_count; i++) {
            if (cfg->channels[i].id == id) {
                config_key(key, sizeof(key), path, "id");
                return config_fail(p, config_line(config_setting_get_member(s, "id")), key,
                                   "channel id %lld is already used at line %d", (long long)id,
                                   cfg->channels[i].line);
            }
        }
        ch->id = (int32_t)id;
        const char *name;
        if ((rc = config_get_string(p, s, path, "name", 0, &name)))
            return rc;
        if (name)
            ch->name = strdup(name);
        else if (asprintf(&ch->name, "Channel %d", ch->id) < 0)
            ch->name = NULL;
        const char *plan;
        if ((rc = config_get_string(p, s, path, "autostart_plan", 0, &plan)))
            return rc;
        if (plan && !plan[0]) {
            config_key(key, sizeof(key), path, "autostart_plan");
            return config_fail(p, config_line(config_setting_get_member(s, "autostart_plan")), key,
                               "must not be empty (leave it out for no autostart)");
        }
        if (plan && !cfg->plans_dir) {
            config_key(key, sizeof(key), path, "autostart_plan");
            return config_fail(p, config_line(config_setting_get_member(s, "autostart_plan")), key,
                               "needs engine.plans_dir (the folder of plan files)");
        }
        if (plan && !(ch->autostart_plan = strdup(plan)))
            return config_oom(p, ch->line, path);
    } else {
        ch->name = strdup("");
    }
    if (!ch->name)
        return config_oom(p, ch->line, path);

    const char *profile;
    if ((rc = config_get_string(p, s, path, "profile", 1, &profile)))
        return rc;
    const config_profile *prof = config_find_profile(cfg, profile);
    if (!prof) {
        char names[512];
        size_t pos = 0;
        names[0] = '\0';
        for (size_t i = 0; i < cfg->profile_count && pos < sizeof(names); i++) {
            int w = snprintf(names + pos, sizeof(names) - pos, "%s%s", i ? ", " : "",
                             cfg->profiles[i].name);
            pos += w > 0 ? (size_t)w : 0;
        }
        config_key(key, sizeof(key), path, "profile");
        return config_fail(p, config_line(config_setting_get_member(s, "profile")), key,
                           "profile '%s' is not defined (profiles: %s)", profile,
                           cfg->profile_count ? names : "none");
    }
    if (!(ch->profile = strdup(profile)))
        return config_oom(p, ch->line, path);
    ch->format = prof->format;

    const char *encode;
    if ((rc = config_get_string(p, s, path, "encode", 0, &encode)))
        return rc;
    if (encode && strcmp(encode, "on-demand") == 0) {
        ch->on_demand = 1;
    } else if (encode && strcmp(encode, "always") != 0) {
        config_key(key, sizeof(key), path, "encode");
        return config_fail(p, config_line(config_setting_get_member(s, "encode")), key,
                           "'%s' is not a policy (\"always\" or \"on-demand\")", encode);
    }

    if ((rc = config_read_binding_list(p, s, path, "producers", 0, &ch->producers,
                                       &ch->producer_count)) ||
        (rc = config_read_role(p, s, path, "slate", "slate", &ch->slate)) ||
        (rc = config_read_role(p, s, path, "renderer", "null", &ch->renderer)) ||
        (rc = config_read_binding_list(p, s, path, "sinks", 1, &ch->sinks, &ch->sink_count)))
        return rc;
    return RV_OK;
}

static int config_read_channels(const config_parse *p, const config_setting_t *root, config *cfg)
{
    const config_setting_t *s = config_setting_get_member(root, "channels");
    if (s) {
        if (!config_setting_is_list(s))
            return config_fail(p, config_line(s), "channels",
                               "must be a list ( { id = 1; ... }, ... )");
        int n = config_setting_length(s);
        cfg->channels = calloc((size_t)n + 1, sizeof(config_channel));
        if (!cfg->channels)
            return config_oom(p, config_line(s), "channels");
        for (int i = 0; i < n; i++) {
            char key[CONFIG_KEY_MAX];
            config_key_index(key, sizeof(key), "channels", i);
            config_channel ch = {0};
            int rc =
                config_read_channel(p, config_setting_get_elem(s, (unsigned)i), key, cfg, 0, &ch);
            cfg->channels[cfg->channel_count++] = ch;
            if (rc)
                return rc;
        }
    }
    const config_setting_t *d = config_setting_get_member(root, "channel_defaults");
    if (!d)
        return RV_OK;
    if (!(cfg->defaults = calloc(1, sizeof(config_channel))))
        return config_oom(p, config_line(d), "channel_defaults");
    return config_read_channel(p, d, "channel_defaults", cfg, 1, cfg->defaults);
}

/* ------------------------------------------------------------------------ */
/* load                                                                     */

/** Parse @p text (borrowed; NULL: read the file @p path) into *@p out.
 *  @p path names the source in errors and gives the folder relative paths
 *  resolve against (none for a text). */
static int config_load_source(const char *path, const char *text, config **out, char *err,
                              size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    *out = NULL;
    char *dir = strdup(path);
    config *cfg = calloc(1, sizeof(*cfg));
    config_t cf;
    config_init(&cf);
    FILE *f = NULL;
    int rc;
    if (!dir || !cfg || !(cfg->path = strdup(path))) {
        rc = RV_ENOMEM;
        if (err && errlen)
            snprintf(err, errlen, "%s: out of memory", path);
        goto fail;
    }
    char *slash = strrchr(dir, '/');
    if (!slash || text)
        dir[0] = '\0';
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    config_parse p = {.file = path, .dir = dir, .err = err, .errlen = errlen};

    if (!text) {
        f = fopen(path, "r");
        if (!f) {
            int e = errno;
            rc = e == ENOENT ? RV_ENOENT : e == EACCES ? RV_EACCES : RV_EIO;
            if (err && errlen)
                snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
            goto fail;
        }
        config_set_include_dir(&cf, dir[0] ? dir : ".");
    }
    if ((text ? config_read_string(&cf, text) : config_read(&cf, f)) != CONFIG_TRUE) {
        rc = RV_EINVAL;
        if (err && errlen)
            snprintf(err, errlen, "%s:%d: syntax: %s",
                     config_error_file(&cf) ? config_error_file(&cf) : path, config_error_line(&cf),
                     config_error_text(&cf));
        goto fail;
    }
    const config_setting_t *root = config_root_setting(&cf);
    if ((rc = config_check_keys(&p, root, "", config_root_keys)) ||
        (rc = config_read_engine(&p, root, cfg)) || (rc = config_read_profiles(&p, root, cfg)) ||
        (rc = config_read_channels(&p, root, cfg)))
        goto fail;

    if (f)
        fclose(f);
    config_destroy(&cf);
    free(dir);
    *out = cfg;
    return RV_OK;

fail:
    if (f)
        fclose(f);
    config_destroy(&cf);
    free(dir);
    config_free(cfg);
    return rc;
}

int config_load(const char *path, config **out, char *err, size_t errlen)
{
    return config_load_source(path, NULL, out, err, errlen);
}

int config_load_text(const char *name, const char *text, config **out, char *err, size_t errlen)
{
    if (!text || !name) {
        *out = NULL;
        return RV_EINVAL;
    }
    return config_load_source(name, text, out, err, errlen);
}

/* ------------------------------------------------------------------------ */
/* bind                                                                     */

static const rv_option *config_find_option(const rv_option *table, const char *key)
{
    for (size_t i = 0; table && table[i].key; i++) {
        if (strcmp(table[i].key, key) == 0)
            return &table[i];
    }
    return NULL;
}

/** "unknown module 'x' (loaded: a, b)" detail into @p buf. */
static void config_loaded_names(const module_registry *reg, char *buf, size_t len)
{
    size_t pos = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < registry_count(reg) && pos < len; i++) {
        int w = snprintf(buf + pos, len - pos, "%s%s", i ? ", " : "", registry_at(reg, i)->name);
        pos += w > 0 ? (size_t)w : 0;
    }
    if (!registry_count(reg))
        snprintf(buf, len, "no modules are loaded");
}

/** Build the options of @p m from the raw values of @p b that @p m declares
 *  (all of them when @p only_declared is 0: an unknown key is then an
 *  error naming it). */
static int config_build_options(const config_parse *p, const loaded_module *m, config_binding *b,
                                int only_declared, rv_options **out)
{
    /* Relative PATH values resolve against the config file's folder; the
     * raw values stay as written so binding twice resolves once. */
    char key[CONFIG_KEY_MAX];
    raw_option *raw = NULL;
    char **resolved = NULL;
    size_t n = 0;
    char detail[512] = "";
    int rc = RV_OK;
    *out = NULL;
    if (b->raw_count) {
        raw = calloc(b->raw_count, sizeof(*raw));
        resolved = calloc(b->raw_count, sizeof(*resolved));
        if (!raw || !resolved) {
            rc = config_oom(p, b->line, b->key_path);
            goto done;
        }
    }
    for (size_t i = 0; i < b->raw_count; i++) {
        const rv_option *o = config_find_option(m->info->options, b->raw[i].key);
        if (!o && only_declared)
            continue;
        raw[n] = b->raw[i];
        if (o && o->type == RV_OPT_PATH && raw[n].type == RAW_STRING && raw[n].s) {
            if (!(resolved[n] = config_resolve(p->dir, raw[n].s))) {
                rc = config_oom(p, raw[n].line, b->key_path);
                goto done;
            }
            raw[n].s = resolved[n];
        }
        n++;
    }
    rc = options_build(m->info->options, raw, n, out, detail, sizeof(detail));
    if (rc != RV_OK) {
        /* detail is "key: reason": name that key and point at its line. */
        int line = b->line;
        const char *reason = detail;
        const char *colon = strstr(detail, ": ");
        if (colon) {
            int klen = (int)(colon - detail);
            snprintf(key, sizeof(key), "%s.options.%.*s", b->key_path, klen, detail);
            reason = colon + 2;
            for (size_t i = 0; i < b->raw_count; i++) {
                if (strlen(b->raw[i].key) == (size_t)klen &&
                    strncmp(b->raw[i].key, detail, (size_t)klen) == 0 && b->raw[i].line)
                    line = b->raw[i].line;
            }
        } else {
            config_key(key, sizeof(key), b->key_path, "options");
        }
        rc = config_fail(p, line, key, "%s", reason);
    }
done:
    for (size_t i = 0; resolved && i < n; i++)
        free(resolved[i]);
    free(resolved);
    free(raw);
    return rc;
}

/** A transport binding: its own options and its encoder's, split by which
 *  module declares each key (the transport wins a key both declare). */
static int config_bind_transport(const config_parse *p, const module_registry *reg,
                                 const loaded_module *m, config_binding *b)
{
    char key[CONFIG_KEY_MAX];
    const char *ename = b->encoder ? b->encoder : CONFIG_DEFAULT_ENCODER;
    const loaded_module *enc = registry_find(reg, ename);
    config_key(key, sizeof(key), b->key_path, "encoder");
    if (!enc)
        return config_fail(p, b->line, key, "transport '%s' needs the encoder module '%s', "
                           "which is not loaded", b->module, ename);
    if (enc->kind != RV_KIND_ENCODER)
        return config_fail(p, b->line, key, "'%s' is a %s, not an encoder", ename,
                           rv_module_kind_name(enc->kind));
    for (size_t i = 0; i < b->raw_count; i++) {
        if (config_find_option(m->info->options, b->raw[i].key) ||
            config_find_option(enc->info->options, b->raw[i].key))
            continue;
        config_key(key, sizeof(key), b->key_path, "options");
        char okey[CONFIG_KEY_MAX];
        config_key(okey, sizeof(okey), key, b->raw[i].key);
        return config_fail(p, b->raw[i].line ? b->raw[i].line : b->line, okey,
                           "unknown option (neither transport '%s' nor its encoder '%s' "
                           "declares it)", b->module, ename);
    }
    rv_options *topts = NULL;
    rv_options *eopts = NULL;
    int rc = config_build_options(p, m, b, 1, &topts);
    if (rc == RV_OK) {
        /* keys the transport declares are not the encoder's */
        config_binding only_enc = *b;
        raw_option *kept = calloc(b->raw_count + 1, sizeof(*kept));
        if (!kept) {
            options_free(topts);
            return config_oom(p, b->line, b->key_path);
        }
        only_enc.raw = kept;
        only_enc.raw_count = 0;
        for (size_t i = 0; i < b->raw_count; i++)
            if (!config_find_option(m->info->options, b->raw[i].key))
                kept[only_enc.raw_count++] = b->raw[i];
        rc = config_build_options(p, enc, &only_enc, 1, &eopts);
        free(kept);
    }
    if (rc != RV_OK) {
        options_free(topts);
        return rc;
    }
    options_free(b->options);
    options_free(b->encoder_options);
    b->options = topts;
    b->encoder_options = eopts;
    b->mod = m;
    b->encoder_mod = enc;
    return RV_OK;
}

static int config_bind_one(const config_parse *p, const module_registry *reg, rv_module_kind kind,
                           config_binding *b)
{
    char key[CONFIG_KEY_MAX];
    config_key(key, sizeof(key), b->key_path, "module");
    const loaded_module *m = registry_find(reg, b->module);
    if (!m) {
        char names[1024];
        config_loaded_names(reg, names, sizeof(names));
        return config_fail(p, b->line, key, "unknown module '%s' (loaded: %s)", b->module, names);
    }
    if (kind == RV_KIND_SINK && m->kind == RV_KIND_TRANSPORT)
        return config_bind_transport(p, reg, m, b);
    if (m->kind != kind)
        return config_fail(p, b->line, key, "'%s' is a %s, not a %s%s", b->module,
                           rv_module_kind_name(m->kind), rv_module_kind_name(kind),
                           kind == RV_KIND_SINK ? " or a transport" : "");
    if (b->encoder) {
        config_key(key, sizeof(key), b->key_path, "encoder");
        return config_fail(p, b->line, key, "only a transport takes an encoder ('%s' is a %s)",
                           b->module, rv_module_kind_name(m->kind));
    }
    rv_options *opts = NULL;
    int rc = config_build_options(p, m, b, 0, &opts);
    if (rc != RV_OK)
        return rc;
    options_free(b->options);
    b->options = opts;
    b->mod = m;
    return RV_OK;
}

static int config_bind_channel(const config_parse *p, const module_registry *reg,
                               config_channel *ch, const char *path)
{
    int rc;
    if (ch->producer_count == 0) {
        /* Not configured: every loaded producer, in registry order. */
        size_t n = 0;
        for (size_t i = 0; i < registry_count(reg); i++)
            n += registry_at(reg, i)->kind == RV_KIND_PRODUCER;
        free(ch->producers);
        ch->producers = calloc(n + 1, sizeof(config_binding));
        if (!ch->producers)
            return config_oom(p, ch->line, path);
        for (size_t i = 0; i < registry_count(reg); i++) {
            const loaded_module *m = registry_at(reg, i);
            if (m->kind != RV_KIND_PRODUCER)
                continue;
            char key[CONFIG_KEY_MAX];
            char base[CONFIG_KEY_MAX];
            config_key(base, sizeof(base), path, "producers");
            config_key_index(key, sizeof(key), base, (int)ch->producer_count);
            config_binding *b = &ch->producers[ch->producer_count++];
            if ((rc = config_default_binding(p, b, m->name, ch->line, key)))
                return rc;
        }
    }
    for (size_t i = 0; i < ch->producer_count; i++) {
        if ((rc = config_bind_one(p, reg, RV_KIND_PRODUCER, &ch->producers[i])))
            return rc;
    }
    if ((rc = config_bind_one(p, reg, RV_KIND_PRODUCER, &ch->slate)) ||
        (rc = config_bind_one(p, reg, RV_KIND_RENDERER, &ch->renderer)))
        return rc;
    for (size_t i = 0; i < ch->sink_count; i++) {
        if ((rc = config_bind_one(p, reg, RV_KIND_SINK, &ch->sinks[i])))
            return rc;
    }
    return RV_OK;
}

int config_bind(config *cfg, const module_registry *reg, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!cfg || !reg)
        return RV_EINVAL;
    char *dir = strdup(cfg->path);
    if (!dir)
        return RV_ENOMEM;
    char *slash = strrchr(dir, '/');
    if (!slash)
        dir[0] = '\0';
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    config_parse p = {.file = cfg->path, .dir = dir, .err = err, .errlen = errlen};
    int rc = RV_OK;
    for (size_t i = 0; i < cfg->channel_count && rc == RV_OK; i++) {
        char key[CONFIG_KEY_MAX];
        config_key_index(key, sizeof(key), "channels", (int)i);
        rc = config_bind_channel(&p, reg, &cfg->channels[i], key);
    }
    if (rc == RV_OK && cfg->defaults)
        rc = config_bind_channel(&p, reg, cfg->defaults, "channel_defaults");
    free(dir);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* lookups, copies, free                                                    */

const config_channel *config_find_channel(const config *cfg, int32_t id)
{
    for (size_t i = 0; cfg && i < cfg->channel_count; i++) {
        if (cfg->channels[i].id == id)
            return &cfg->channels[i];
    }
    return NULL;
}

const config_profile *config_find_profile(const config *cfg, const char *name)
{
    for (size_t i = 0; cfg && name && i < cfg->profile_count; i++) {
        if (cfg->profiles[i].name && strcmp(cfg->profiles[i].name, name) == 0)
            return &cfg->profiles[i];
    }
    return NULL;
}

void config_binding_clear(config_binding *b)
{
    if (!b)
        return;
    free(b->module);
    for (size_t i = 0; b->raw && i < b->raw_count; i++)
        raw_option_free(&b->raw[i]);
    free(b->raw);
    free(b->key_path);
    free(b->encoder);
    options_free(b->options);
    options_free(b->encoder_options);
    memset(b, 0, sizeof(*b));
}

static char *config_strdup_or_null(const char *s, int *failed)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *failed = 1;
    return d;
}

int config_binding_copy(config_binding *dst, const config_binding *src)
{
    int failed = 0;
    memset(dst, 0, sizeof(*dst));
    dst->module = config_strdup_or_null(src->module, &failed);
    dst->key_path = config_strdup_or_null(src->key_path, &failed);
    dst->encoder = config_strdup_or_null(src->encoder, &failed);
    dst->line = src->line;
    dst->mod = src->mod;
    dst->encoder_mod = src->encoder_mod;
    if (src->encoder_options) {
        dst->encoder_options = options_clone(src->encoder_options);
        failed |= !dst->encoder_options;
    }
    if (src->raw_count) {
        dst->raw = calloc(src->raw_count, sizeof(raw_option));
        failed |= !dst->raw;
        for (size_t i = 0; dst->raw && i < src->raw_count; i++) {
            dst->raw[i] = src->raw[i];
            dst->raw[i].key = config_strdup_or_null(src->raw[i].key, &failed);
            dst->raw[i].s = config_strdup_or_null(src->raw[i].s, &failed);
            dst->raw_count++;
        }
    }
    if (src->options) {
        dst->options = options_clone(src->options);
        failed |= !dst->options;
    }
    if (failed) {
        config_binding_clear(dst);
        return RV_ENOMEM;
    }
    return RV_OK;
}

static int config_copy_bindings(config_binding **dst, size_t *dst_count, const config_binding *src,
                                size_t count)
{
    *dst = calloc(count + 1, sizeof(config_binding));
    if (!*dst)
        return RV_ENOMEM;
    for (size_t i = 0; i < count; i++) {
        if (config_binding_copy(&(*dst)[i], &src[i]) != RV_OK)
            return RV_ENOMEM;
        (*dst_count)++;
    }
    return RV_OK;
}

config_channel *config_channel_clone(const config_channel *src)
{
    if (!src)
        return NULL;
    config_channel *ch = calloc(1, sizeof(*ch));
    if (!ch)
        return NULL;
    int failed = 0;
    ch->id = src->id;
    ch->format = src->format;
    ch->line = src->line;
    ch->on_demand = src->on_demand;
    ch->name = config_strdup_or_null(src->name, &failed);
    ch->profile = config_strdup_or_null(src->profile, &failed);
    ch->autostart_plan = config_strdup_or_null(src->autostart_plan, &failed);
    if (failed ||
        config_copy_bindings(&ch->producers, &ch->producer_count, src->producers,
                             src->producer_count) != RV_OK ||
        config_binding_copy(&ch->slate, &src->slate) != RV_OK ||
        config_binding_copy(&ch->renderer, &src->renderer) != RV_OK ||
        config_copy_bindings(&ch->sinks, &ch->sink_count, src->sinks, src->sink_count) != RV_OK)
        goto fail;
    return ch;

fail:
    config_channel_free(ch);
    return NULL;
}

config_channel *config_channel_for_id(const config *cfg, int32_t id)
{
    const config_channel *listed = config_find_channel(cfg, id);
    if (listed)
        return config_channel_clone(listed);
    if (!cfg || !cfg->defaults || id <= 0)
        return NULL;
    config_channel *ch = config_channel_clone(cfg->defaults);
    if (!ch)
        return NULL;
    ch->id = id;
    free(ch->name);
    if (asprintf(&ch->name, "Channel %d", id) < 0) {
        ch->name = NULL;
        config_channel_free(ch);
        return NULL;
    }
    return ch;
}

/** Free what @p ch holds, not @p ch itself. */
static void config_channel_clear(config_channel *ch)
{
    free(ch->name);
    free(ch->profile);
    free(ch->autostart_plan);
    for (size_t i = 0; ch->producers && i < ch->producer_count; i++)
        config_binding_clear(&ch->producers[i]);
    free(ch->producers);
    config_binding_clear(&ch->slate);
    config_binding_clear(&ch->renderer);
    for (size_t i = 0; ch->sinks && i < ch->sink_count; i++)
        config_binding_clear(&ch->sinks[i]);
    free(ch->sinks);
    memset(ch, 0, sizeof(*ch));
}

void config_channel_free(config_channel *ch)
{
    if (!ch)
        return;
    config_channel_clear(ch);
    free(ch);
}

void config_free(config *cfg)
{
    if (!cfg)
        return;
    free(cfg->path);
    free(cfg->module_dir);
    free(cfg->plans_dir);
    for (size_t i = 0; cfg->control_listen && i < cfg->control_listen_count; i++)
        free(cfg->control_listen[i]);
    free(cfg->control_listen);
    free(cfg->metrics_listen);
    free(cfg->asrun_dir);
    for (size_t i = 0; cfg->profiles && i < cfg->profile_count; i++)
        free(cfg->profiles[i].name);
    free(cfg->profiles);
    for (size_t i = 0; cfg->channels && i < cfg->channel_count; i++)
        config_channel_clear(&cfg->channels[i]);
    free(cfg->channels);
    config_channel_free(cfg->defaults);
    free(cfg);
}
