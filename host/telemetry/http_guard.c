/**
 * @file host/telemetry/http_guard.c
 * @short http_guard (see http_guard.h): the HTTP server's token, public
 *        paths and path redaction.
 */
#include "telemetry/http_guard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <retrovue/error.h>

#include "core/secret_file.h"

#define HTTP_GUARD_MAX_PUBLIC 32

struct http_guard {
    char *token;                              /**< NULL: no token */
    char *public_paths[HTTP_GUARD_MAX_PUBLIC];
    size_t public_count;
};

static const char *const http_guard_default_public[] = {"/healthz", "/metrics"};

void http_guard_destroy(http_guard *g)
{
    if (!g)
        return;
    secret_free(g->token);
    for (size_t i = 0; i < g->public_count; i++)
        free(g->public_paths[i]);
    free(g);
}

int http_guard_create(const char *token_file, char *const *public_paths, size_t public_count,
                      http_guard **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!public_paths) {
        public_paths = (char *const *)http_guard_default_public;
        public_count = 2;
    }
    if (public_count > HTTP_GUARD_MAX_PUBLIC) {
        snprintf(err, errlen, "%zu public paths (at most %d)", public_count,
                 HTTP_GUARD_MAX_PUBLIC);
        return RV_EINVAL;
    }
    http_guard *g = calloc(1, sizeof(*g));
    if (!g) {
        snprintf(err, errlen, "out of memory");
        return RV_ENOMEM;
    }
    for (size_t i = 0; i < public_count; i++) {
        if (!public_paths[i] || public_paths[i][0] != '/') {
            snprintf(err, errlen, "public path '%s' does not start with '/'",
                     public_paths[i] ? public_paths[i] : "");
            http_guard_destroy(g);
            return RV_EINVAL;
        }
        if (!(g->public_paths[g->public_count] = strdup(public_paths[i]))) {
            http_guard_destroy(g);
            snprintf(err, errlen, "out of memory");
            return RV_ENOMEM;
        }
        g->public_count++;
    }
    if (token_file) {
        int rc = secret_file_read(token_file, &g->token, err, errlen);
        if (rc != RV_OK) {
            http_guard_destroy(g);
            return rc;
        }
    }
    *out = g;
    return RV_OK;
}

static int http_guard_token_ok(const http_guard *g, const char *authorization,
                               const char *query_token)
{
    if (authorization && strncasecmp(authorization, "Bearer ", 7) == 0) {
        const char *t = authorization + 7;
        while (*t == ' ')
            t++;
        if (secret_equal(t, strlen(t), g->token))
            return 1;
    }
    return query_token && secret_equal(query_token, strlen(query_token), g->token);
}

http_access http_guard_check(const http_guard *g, const char *path, const char *authorization,
                             const char *query_token)
{
    if (!g->token)
        return HTTP_ACCESS_PUBLIC;
    if (http_guard_token_ok(g, authorization, query_token))
        return HTTP_ACCESS_FULL;
    for (size_t i = 0; i < g->public_count; i++)
        if (path && strcmp(path, g->public_paths[i]) == 0)
            return HTTP_ACCESS_PUBLIC;
    return HTTP_ACCESS_DENIED;
}

static int http_guard_path_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '/' || c == '.' || c == '_' || c == '-' || c == '~' || c == '+' || c == '%' ||
           c == '@' || c == ',' || c == '=';
}

/** 1 when a path may start after the character @p p (0: the start). */
static int http_guard_boundary(char p)
{
    return p == 0 || p == ' ' || p == '"' || p == '\'' || p == '(' || p == '[' || p == '\t' ||
           p == '\n' || p == '=' || p == ',' || p == '{' || p == '<' || p == '>';
}

/** Length of the path starting at @p i (the original character before it
 *  is @p prev), or 0 when none starts there. */
static size_t http_guard_path_at(const char *body, size_t len, size_t i, char prev)
{
    size_t start = i;
    if (len - i >= 5 && strncmp(body + i, "file:", 5) == 0 && http_guard_boundary(prev)) {
        size_t j = i + 5;
        while (j < len && !strchr("\"' \t\n\\)}:;,", body[j]))
            j++;
        return j - start;
    }
    if (!http_guard_boundary(prev))
        return 0;
    const char *p = body + i;
    size_t room = len - i;
    int starts = (room >= 1 && p[0] == '/') || (room >= 2 && p[0] == '.' && p[1] == '/') ||
                 (room >= 3 && p[0] == '.' && p[1] == '.' && p[2] == '/') ||
                 (room >= 2 && p[0] == '~' && p[1] == '/');
    if (!starts)
        return 0;
    if ((room >= 9 && strncmp(p, "/channel/", 9) == 0) ||
        (room >= 10 && strncmp(p, "/channels/", 10) == 0))
        return 0;
    size_t j = i;
    size_t slashes = 0;
    while (j < len && http_guard_path_char(body[j]) && body[j] != ',' && body[j] != '=') {
        slashes += body[j] == '/';
        j++;
    }
    return slashes >= 2 ? j - start : 0;
}

void http_guard_redact(char *body, size_t *len)
{
    static const char mark[] = "<path>";
    const size_t mark_len = sizeof(mark) - 1;
    size_t in = 0;
    size_t out = 0;
    size_t n = *len;
    char prev = 0;
    while (in < n) {
        size_t plen = http_guard_path_at(body, n, in, prev);
        if (plen == 0) {
            prev = body[in];
            body[out++] = body[in++];
            continue;
        }
        prev = body[in + plen - 1];
        /* A path shorter than the mark keeps its length in stars. */
        if (plen >= mark_len) {
            memcpy(body + out, mark, mark_len);
            out += mark_len;
        } else {
            memset(body + out, '*', plen);
            out += plen;
        }
        in += plen;
    }
    *len = out;
    if (out < n)
        body[out] = '\0';
}
