/**
 * @file host/plan/plan_file.c
 * @short Plan files: <plans_dir>/<handle>.conf in libconfig syntax, parsed
 *        into a plan and validated.
 *
 *     loop = true;                      # optional, default false
 *     blocks = ( { id = "b1"; start_utc_ms = 1763712000000L; end_utc_ms = ...;
 *                  segments = ( { type = "PAD"; duration_ms = 300000; } ); } );
 *
 * Unknown keys are errors (typos never pass silently); @include is refused
 * (it could reach outside plans_dir); the resolved file must lie inside
 * plans_dir. Owns nothing beyond one parse: the text it reads, the libconfig
 * tree and the line map are freed before returning.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libconfig.h>

#include <retrovue/error.h>

#include "plan/plan.h"
#include "core/conf_text.h"
#include "plan/plan_internal.h"

enum { PLAN_FILE_MAX_BYTES = 64 * 1024 * 1024 };

/** One parse in progress. */
typedef struct plan_parser {
    const char *source;   /**< borrowed: file path or "<handle>" */
    char *err;
    size_t errlen;
} plan_parser;

static const char *const plan_root_keys[] = {"loop", "blocks", NULL};
static const char *const plan_block_keys[] = {"id", "start_utc_ms", "end_utc_ms", "segments",
                                              NULL};
static const char *const plan_segment_keys[] = {
    "type",           "asset_uri",         "asset_start_offset_ms", "duration_ms",
    "event_id",       "index",             "transition_in",         "transition_in_ms",
    "transition_out", "transition_out_ms", "gain_db",               NULL};

/** "source:line: <where>: <what>". */
__attribute__((format(printf, 4, 5))) static int plan_parse_fail(const plan_parser *ps,
                                                                const config_setting_t *at,
                                                                const char *where,
                                                                const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    int line = at != NULL ? (int)config_setting_source_line(at) : 0;
    if (line > 0)
        return plan_error(ps->err, ps->errlen, "%s:%d: %s%s%s", ps->source, line, where,
                          where[0] != '\0' ? ": " : "", what);
    return plan_error(ps->err, ps->errlen, "%s: %s%s%s", ps->source, where,
                      where[0] != '\0' ? ": " : "", what);
}

/** Refuse any member of @p group not in @p known. */
static int plan_check_keys(const plan_parser *ps, const config_setting_t *group,
                           const char *const *known, const char *where)
{
    char list[512];
    int n = config_setting_length(group);
    for (int i = 0; i < n; i++) {
        const config_setting_t *m = config_setting_get_elem(group, (unsigned)i);
        const char *name = config_setting_name(m);
        int found = 0;
        for (size_t k = 0; known[k] != NULL && name != NULL; k++)
            found |= strcmp(known[k], name) == 0;
        if (found)
            continue;
        size_t pos = 0;
        list[0] = '\0';
        for (size_t k = 0; known[k] != NULL && pos < sizeof(list); k++) {
            int w = snprintf(list + pos, sizeof(list) - pos, "%s%s", k > 0 ? ", " : "", known[k]);
            pos += w > 0 ? (size_t)w : 0;
        }
        return plan_parse_fail(ps, m, where, "unknown key '%s' (known: %s)",
                               name != NULL ? name : "?", list);
    }
    return RV_OK;
}

/** An integer member: RV_OK, or RV_ENOENT when absent (*out untouched). */
static int plan_get_int(const plan_parser *ps, const config_setting_t *group, const char *key,
                        const char *where, int64_t *out)
{
    const config_setting_t *m = config_setting_get_member(group, key);
    if (m == NULL)
        return RV_ENOENT;
    int type = config_setting_type(m);
    if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
        return plan_parse_fail(ps, m, where, "%s must be an integer", key);
    *out = (int64_t)config_setting_get_int64(m);
    return RV_OK;
}

static int plan_get_string(const plan_parser *ps, const config_setting_t *group, const char *key,
                           const char *where, const char **out)
{
    const config_setting_t *m = config_setting_get_member(group, key);
    if (m == NULL)
        return RV_ENOENT;
    if (config_setting_type(m) != CONFIG_TYPE_STRING)
        return plan_parse_fail(ps, m, where, "%s must be a string", key);
    *out = config_setting_get_string(m);
    return RV_OK;
}

static int plan_get_transition(const plan_parser *ps, const config_setting_t *group,
                               const char *edge, const char *where, rv_transition *out)
{
    char key_ms[32];
    const char *name = NULL;
    out->type = RV_TRANSITION_NONE;
    out->duration_ms = 0;
    int rc = plan_get_string(ps, group, edge, where, &name);
    if (rc == RV_OK) {
        if (strcasecmp(name, "NONE") == 0)
            out->type = RV_TRANSITION_NONE;
        else if (strcasecmp(name, "FADE") == 0)
            out->type = RV_TRANSITION_FADE;
        else
            return plan_parse_fail(ps, config_setting_get_member(group, edge), where,
                                   "%s '%s' is not NONE or FADE", edge, name);
    } else if (rc != RV_ENOENT) {
        return rc;
    }
    snprintf(key_ms, sizeof(key_ms), "%s_ms", edge);
    rc = plan_get_int(ps, group, key_ms, where, &out->duration_ms);
    return rc == RV_ENOENT ? RV_OK : rc;
}

static char *plan_strdup(const char *s)
{
    return strdup(s != NULL ? s : "");
}

static int plan_parse_segment(const plan_parser *ps, const config_setting_t *cs,
                              const char *block_where, size_t s, plan_segment *seg)
{
    char where[256];
    const char *text = NULL;
    int64_t value = 0;
    int rc;
    snprintf(where, sizeof(where), "%s segment %zu", block_where, s);
    if (!config_setting_is_group(cs))
        return plan_parse_fail(ps, cs, where, "must be a group { ... }");
    rc = plan_check_keys(ps, cs, plan_segment_keys, where);
    if (rc != RV_OK)
        return rc;

    seg->index = (int32_t)s;
    rc = plan_get_string(ps, cs, "type", where, &text);
    if (rc == RV_ENOENT)
        return plan_parse_fail(ps, cs, where, "type is required (CONTENT, FILLER or PAD)");
    if (rc != RV_OK)
        return rc;
    if (strcasecmp(text, "CONTENT") == 0)
        seg->type = RV_SEGMENT_CONTENT;
    else if (strcasecmp(text, "FILLER") == 0)
        seg->type = RV_SEGMENT_FILLER;
    else if (strcasecmp(text, "PAD") == 0)
        seg->type = RV_SEGMENT_PAD;
    else
        return plan_parse_fail(ps, config_setting_get_member(cs, "type"), where,
                               "type '%s' is not CONTENT, FILLER or PAD", text);

    rc = plan_get_int(ps, cs, "duration_ms", where, &seg->duration_ms);
    if (rc == RV_ENOENT)
        return plan_parse_fail(ps, cs, where, "duration_ms is required");
    if (rc != RV_OK)
        return rc;
    rc = plan_get_int(ps, cs, "asset_start_offset_ms", where, &seg->asset_start_offset_ms);
    if (rc != RV_OK && rc != RV_ENOENT)
        return rc;
    rc = plan_get_int(ps, cs, "index", where, &value);
    if (rc == RV_OK) {
        if (value != (int64_t)s)
            return plan_parse_fail(ps, config_setting_get_member(cs, "index"), where,
                                   "index %lld does not match its position %zu", (long long)value,
                                   s);
    } else if (rc != RV_ENOENT) {
        return rc;
    }

    text = "";
    rc = plan_get_string(ps, cs, "asset_uri", where, &text);
    if (rc != RV_OK && rc != RV_ENOENT)
        return rc;
    seg->asset_uri = plan_strdup(text);
    text = "";
    rc = plan_get_string(ps, cs, "event_id", where, &text);
    if (rc != RV_OK && rc != RV_ENOENT)
        return rc;
    seg->event_id = plan_strdup(text);
    if (seg->asset_uri == NULL || seg->event_id == NULL)
        return plan_parse_fail(ps, cs, where, "out of memory");

    rc = plan_get_transition(ps, cs, "transition_in", where, &seg->transition_in);
    if (rc != RV_OK)
        return rc;
    rc = plan_get_transition(ps, cs, "transition_out", where, &seg->transition_out);
    if (rc != RV_OK)
        return rc;

    const config_setting_t *gain = config_setting_get_member(cs, "gain_db");
    seg->gain_db = 0.0;
    if (gain != NULL) {
        int type = config_setting_type(gain);
        if (type == CONFIG_TYPE_FLOAT)
            seg->gain_db = config_setting_get_float(gain);
        else if (type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64)
            seg->gain_db = (double)config_setting_get_int64(gain);
        else
            return plan_parse_fail(ps, gain, where, "gain_db must be a number");
    }
    return RV_OK;
}

static int plan_parse_block(const plan_parser *ps, const config_setting_t *cb, size_t b,
                            plan_block *block, plan_lines *lines)
{
    char where[192];
    const char *id = "";
    int rc;
    if (!config_setting_is_group(cb))
        return plan_parse_fail(ps, cb, "", "block #%zu must be a group { ... }", b);
    rc = plan_get_string(ps, cb, "id", "", &id);
    if (rc != RV_OK && rc != RV_ENOENT)
        return rc;
    snprintf(where, sizeof(where), "block '%s' (#%zu)", id, b);
    block->id = plan_strdup(id);
    if (block->id == NULL)
        return plan_parse_fail(ps, cb, where, "out of memory");
    rc = plan_check_keys(ps, cb, plan_block_keys, where);
    if (rc != RV_OK)
        return rc;
    if (config_setting_get_member(cb, "id") == NULL)
        return plan_parse_fail(ps, cb, where, "id is required");
    rc = plan_get_int(ps, cb, "start_utc_ms", where, &block->start_utc_ms);
    if (rc == RV_ENOENT)
        return plan_parse_fail(ps, cb, where, "start_utc_ms is required");
    if (rc != RV_OK)
        return rc;
    rc = plan_get_int(ps, cb, "end_utc_ms", where, &block->end_utc_ms);
    if (rc == RV_ENOENT)
        return plan_parse_fail(ps, cb, where, "end_utc_ms is required");
    if (rc != RV_OK)
        return rc;

    const config_setting_t *segs = config_setting_get_member(cb, "segments");
    if (segs == NULL)
        return plan_parse_fail(ps, cb, where, "segments is required");
    if (!config_setting_is_list(segs) && !config_setting_is_array(segs))
        return plan_parse_fail(ps, segs, where, "segments must be a list ( { ... }, ... )");
    int n = config_setting_length(segs);
    if (n == 0)
        return RV_OK; /* the "has no segments" rule is plan_validate's */
    block->segments = calloc((size_t)n, sizeof(plan_segment));
    lines->segment_line[b] = calloc((size_t)n, sizeof(int));
    if (block->segments == NULL || lines->segment_line[b] == NULL)
        return plan_parse_fail(ps, segs, where, "out of memory");
    for (int s = 0; s < n; s++) {
        const config_setting_t *cs = config_setting_get_elem(segs, (unsigned)s);
        block->segment_count = (size_t)s + 1;
        lines->segment_line[b][s] = (int)config_setting_source_line(cs);
        rc = plan_parse_segment(ps, cs, where, (size_t)s, &block->segments[s]);
        if (rc != RV_OK)
            return rc;
    }
    return RV_OK;
}

static void plan_lines_free(plan_lines *lines, size_t blocks)
{
    for (size_t b = 0; lines->segment_line != NULL && b < blocks; b++)
        free(lines->segment_line[b]);
    free(lines->segment_line);
    free(lines->block_line);
}

static int plan_is_name_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '*' || c == '.';
}

/** True when the digit at @p i starts a number (not inside a setting name). */
static int plan_number_starts_at(const char *text, size_t i)
{
    if (i == 0)
        return 1;
    char prev = text[i - 1];
    if (prev == '-' || prev == '+')
        return i == 1 || !plan_is_name_char(text[i - 2]);
    return !plan_is_name_char(prev);
}

/**
 * A copy of @p text where every integer literal carries the L suffix.
 * libconfig 1.5 silently truncates an integer without L to 32 bits
 * (1763712000000 would read as -1519558656); plan files write UTC ms, so
 * every integer is read as 64 bits. Strings and comments are left alone and
 * no newline is added, so line numbers stay right. NULL when out of memory.
 */
static char *plan_widen_integers(const char *text)
{
    size_t len = strlen(text);
    char *out = malloc(len * 2 + 1); /* at most one L per input character */
    size_t o = 0;
    size_t i = 0;
    if (out == NULL)
        return NULL;
    while (i < len) {
        char c = text[i];
        if (c == '"') { /* a string, with backslash escapes */
            out[o++] = text[i++];
            while (i < len && text[i] != '"') {
                if (text[i] == '\\' && i + 1 < len)
                    out[o++] = text[i++];
                out[o++] = text[i++];
            }
            if (i < len)
                out[o++] = text[i++];
        } else if (c == '#' || (c == '/' && text[i + 1] == '/')) {
            while (i < len && text[i] != '\n')
                out[o++] = text[i++];
        } else if (c == '/' && text[i + 1] == '*') {
            out[o++] = text[i++];
            out[o++] = text[i++];
            while (i < len && !(text[i] == '*' && text[i + 1] == '/'))
                out[o++] = text[i++];
            for (int k = 0; k < 2 && i < len; k++)
                out[o++] = text[i++];
        } else if (c >= '0' && c <= '9' && plan_number_starts_at(text, i)) {
            int hex = c == '0' && (text[i + 1] == 'x' || text[i + 1] == 'X');
            if (hex) {
                out[o++] = text[i++];
                out[o++] = text[i++];
            }
            while (i < len && ((text[i] >= '0' && text[i] <= '9') ||
                               (hex && ((text[i] >= 'a' && text[i] <= 'f') ||
                                        (text[i] >= 'A' && text[i] <= 'F')))))
                out[o++] = text[i++];
            if (!hex && i < len && (text[i] == '.' || text[i] == 'e' || text[i] == 'E')) {
                /* a float: copy the rest of it untouched */
                while (i < len && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.' ||
                                   text[i] == 'e' || text[i] == 'E' ||
                                   ((text[i] == '-' || text[i] == '+') &&
                                    (text[i - 1] == 'e' || text[i - 1] == 'E'))))
                    out[o++] = text[i++];
            } else if (i >= len || text[i] != 'L') {
                out[o++] = 'L';
            }
        } else {
            out[o++] = text[i++];
        }
    }
    out[o] = '\0';
    return out;
}

/** Refuse @include: it could read files outside plans_dir. */
static int plan_refuse_include(const plan_parser *ps, const char *text)
{
    int line = 1;
    for (const char *p = text; *p != '\0'; line++) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncmp(p, "@include", 8) == 0)
            return plan_error(ps->err, ps->errlen, "%s:%d: @include is not allowed in plan files",
                              ps->source, line);
        p = strchr(p, '\n');
        if (p == NULL)
            break;
        p++;
    }
    return RV_OK;
}

plan *plan_parse_text(const char *text, const char *source, const char *handle, char *err,
                      size_t errlen)
{
    plan_parser ps = {.source = source, .err = err, .errlen = errlen};
    plan_lines lines = {.source = source};
    config_t cfg;
    plan *p = NULL;
    char *wide = NULL;
    int rc;

    if (text == NULL || handle == NULL) {
        plan_error(err, errlen, "%s: no plan text", source);
        return NULL;
    }
    if (plan_refuse_include(&ps, text) != RV_OK ||
        conf_text_check(text, strlen(text), source, err, errlen) != RV_OK)
        return NULL;
    config_init(&cfg);
    wide = plan_widen_integers(text);
    if (wide == NULL) {
        plan_error(err, errlen, "%s: out of memory", source);
        goto fail;
    }
    if (config_read_string(&cfg, wide) != CONFIG_TRUE) {
        plan_error(err, errlen, "%s:%d: syntax error: %s", source, config_error_line(&cfg),
                   config_error_text(&cfg));
        goto fail;
    }
    p = calloc(1, sizeof(*p));
    if (p == NULL || (p->handle = strdup(handle)) == NULL) {
        plan_error(err, errlen, "%s: out of memory", source);
        goto fail;
    }
    p->refcount = 1;

    const config_setting_t *root = config_root_setting(&cfg);
    if (plan_check_keys(&ps, root, plan_root_keys, "") != RV_OK)
        goto fail;
    const config_setting_t *loop = config_setting_get_member(root, "loop");
    if (loop != NULL) {
        if (config_setting_type(loop) != CONFIG_TYPE_BOOL) {
            plan_parse_fail(&ps, loop, "", "loop must be true or false");
            goto fail;
        }
        p->loop = config_setting_get_bool(loop);
    }
    const config_setting_t *blocks = config_setting_get_member(root, "blocks");
    if (blocks != NULL && !config_setting_is_list(blocks) && !config_setting_is_array(blocks)) {
        plan_parse_fail(&ps, blocks, "", "blocks must be a list ( { ... }, ... )");
        goto fail;
    }
    int n = blocks != NULL ? config_setting_length(blocks) : 0;
    if (n > 0) {
        p->blocks = calloc((size_t)n, sizeof(plan_block));
        lines.block_line = calloc((size_t)n, sizeof(int));
        lines.segment_line = calloc((size_t)n, sizeof(int *));
        if (p->blocks == NULL || lines.block_line == NULL || lines.segment_line == NULL) {
            plan_error(err, errlen, "%s: out of memory", source);
            goto fail;
        }
    }
    for (int b = 0; b < n; b++) {
        const config_setting_t *cb = config_setting_get_elem(blocks, (unsigned)b);
        p->block_count = (size_t)b + 1;
        lines.block_line[b] = (int)config_setting_source_line(cb);
        rc = plan_parse_block(&ps, cb, (size_t)b, &p->blocks[b], &lines);
        if (rc != RV_OK)
            goto fail;
    }
    plan_derive_offsets(p);
    if (plan_validate_lines(p, &lines, err, errlen) != RV_OK)
        goto fail;
    plan_lines_free(&lines, (size_t)n);
    config_destroy(&cfg);
    free(wide);
    return p;

fail:
    plan_lines_free(&lines, p != NULL ? p->block_count : 0);
    plan_free(p);
    config_destroy(&cfg);
    free(wide);
    return NULL;
}

plan *plan_parse_string(const char *text, const char *handle, char *err, size_t errlen)
{
    char source[160];
    snprintf(source, sizeof(source), "<%s>", handle != NULL ? handle : "plan");
    return plan_parse_text(text, source, handle, err, errlen);
}

/** Read a whole file (at most PLAN_FILE_MAX_BYTES). NULL with @p err set. */
static char *plan_read_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    size_t len = 0;
    size_t cap = 0;
    if (f == NULL) {
        plan_error(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    for (;;) {
        if (cap - len < 4096) {
            size_t ncap = cap == 0 ? 65536 : cap * 2;
            char *n = ncap <= PLAN_FILE_MAX_BYTES + 1 ? realloc(text, ncap + 1) : NULL;
            if (n == NULL) {
                plan_error(err, errlen, "%s: larger than %d bytes or out of memory", path,
                           PLAN_FILE_MAX_BYTES);
                goto fail;
            }
            text = n;
            cap = ncap;
        }
        size_t got = fread(text + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        plan_error(err, errlen, "%s: read error", path);
        goto fail;
    }
    text[len] = '\0';
    if (strlen(text) != len) {
        plan_error(err, errlen, "%s: contains a NUL byte (not a text file)", path);
        goto fail;
    }
    fclose(f);
    return text;

fail:
    free(text);
    fclose(f);
    return NULL;
}

/** Length of the URI scheme of @p uri ("file" in "file:/x"), 0 for a bare path. */
static size_t plan_scheme_length(const char *uri)
{
    size_t i = 0;
    if (!((uri[0] >= 'a' && uri[0] <= 'z') || (uri[0] >= 'A' && uri[0] <= 'Z')))
        return 0;
    while (uri[i] && uri[i] != ':' && uri[i] != '/')
        i++;
    return uri[i] == ':' ? i : 0;
}

/** Make relative file paths of @p p absolute against @p base (the plans
 *  folder), so a plan and its media can move together. */
static int plan_resolve_paths(plan *p, const char *base)
{
    for (size_t b = 0; b < p->block_count; b++) {
        for (size_t i = 0; i < p->blocks[b].segment_count; i++) {
            plan_segment *seg = &p->blocks[b].segments[i];
            const char *uri = seg->asset_uri;
            size_t scheme = plan_scheme_length(uri);
            const char *path = uri;
            if (scheme == 4 && strncmp(uri, "file", 4) == 0)
                path = strncmp(uri, "file://", 7) == 0 ? uri + 7 : uri + 5;
            else if (scheme != 0 || uri[0] == '\0')
                continue;
            if (path[0] == '/')
                continue;
            char joined[PATH_MAX];
            char canonical[PATH_MAX];
            snprintf(joined, sizeof(joined), "%s/%s", base, path);
            /* a file that exists is named by its canonical path (no "..") */
            const char *full = realpath(joined, canonical) ? canonical : joined;
            size_t len = strlen(full) + 8;
            char *abs = malloc(len);
            if (!abs)
                return RV_ENOMEM;
            snprintf(abs, len, "%s%s", scheme ? "file:" : "", full);
            free(seg->asset_uri);
            seg->asset_uri = abs;
        }
    }
    return RV_OK;
}

plan *plan_load(const char *plans_dir, const char *handle, char *err, size_t errlen)
{
    char path[PATH_MAX];
    char real_dir[PATH_MAX];
    char real_file[PATH_MAX];
    char why[256];
    if (!plan_handle_valid(handle, why, sizeof(why))) {
        plan_error(err, errlen, "%s", why);
        return NULL;
    }
    if (plans_dir == NULL || plans_dir[0] == '\0') {
        plan_error(err, errlen, "no plans_dir configured for plan '%s'", handle);
        return NULL;
    }
    if (realpath(plans_dir, real_dir) == NULL) {
        plan_error(err, errlen, "plans_dir '%s': %s", plans_dir, strerror(errno));
        return NULL;
    }
    int n = snprintf(path, sizeof(path), "%s/%s.conf", real_dir, handle);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        plan_error(err, errlen, "plan '%s': path too long", handle);
        return NULL;
    }
    if (realpath(path, real_file) == NULL) {
        if (errno == ENOENT)
            plan_error(err, errlen, "no plan named '%s' in %s", handle, plans_dir);
        else
            plan_error(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t dlen = strlen(real_dir);
    int inside = strncmp(real_file, real_dir, dlen) == 0 &&
                 (real_file[dlen] == '/' || (dlen == 1 && real_dir[0] == '/'));
    if (!inside) {
        plan_error(err, errlen, "plan '%s' resolves to %s, outside plans_dir %s", handle,
                   real_file, real_dir);
        return NULL;
    }
    char *text = plan_read_file(real_file, err, errlen);
    if (text == NULL)
        return NULL;
    /* Messages name the file as the operator configured it. */
    snprintf(path, sizeof(path), "%s/%s.conf", plans_dir, handle);
    plan *p = plan_parse_text(text, path, handle, err, errlen);
    free(text);
    if (p && plan_resolve_paths(p, real_dir) != RV_OK) {
        plan_error(err, errlen, "plan '%s': out of memory", handle);
        plan_unref(p);
        return NULL;
    }
    return p;
}
