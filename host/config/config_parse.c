/**
 * @file host/config/config_parse.c
 * @short The config parser's shared helpers: "<file>:<line>: <key path>:
 *        <reason>" errors, key paths, typed member reads, unknown-key checks
 *        and path resolution against the config file's folder.
 *
 * Owns nothing: every string it returns is the caller's to free, every
 * libconfig setting is borrowed. Thread: the main thread.
 */
#include "config/config_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/** "<file>:<line>: <key path>: <reason>" into the error buffer; RV_EINVAL. */
int config_fail(const config_parse *p, int line, const char *key_path, const char *fmt, ...)
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

int config_line(const config_setting_t *s)
{
    return s ? (int)config_setting_source_line(s) : 0;
}

/** @p parent "." @p name into @p out (or just @p name at the root). */
void config_key(char *out, size_t len, const char *parent, const char *name)
{
    if (!parent || !parent[0])
        snprintf(out, len, "%s", name);
    else
        snprintf(out, len, "%s.%s", parent, name);
}

/** @p parent ".[" @p index "]" into @p out. */
void config_key_index(char *out, size_t len, const char *parent, int index)
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
char *config_resolve(const char *dir, const char *path)
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

int config_oom(const config_parse *p, int line, const char *key_path)
{
    config_fail(p, line, key_path, "out of memory");
    return RV_ENOMEM;
}

/** Every member of group @p g is one of @p allowed. */
int config_check_keys(const config_parse *p, const config_setting_t *g, const char *path,
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
int config_get_string(const config_parse *p, const config_setting_t *g, const char *path,
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
int config_get_int(const config_parse *p, const config_setting_t *g, const char *path,
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

char *config_folder(const char *path)
{
    char *dir = strdup(path);
    if (!dir)
        return NULL;
    char *slash = strrchr(dir, '/');
    if (!slash)
        dir[0] = '\0';
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    return dir;
}
