/**
 * @file host/telemetry/http_guard.h
 * @short http_guard: who may read what on the HTTP server. An optional
 *        bearer token (RFC 6750: "Authorization: Bearer <token>", or the
 *        query parameter "access_token" for players that cannot set
 *        headers), a list of public paths that need none (default
 *        "/healthz" and "/metrics"), and the redaction of filesystem paths
 *        from every response served without the token.
 *
 * Owns a copy of the token and of the public paths. Immutable after
 * creation, so any libmicrohttpd thread may use it.
 */
#ifndef RV_HOST_TELEMETRY_HTTP_GUARD_H
#define RV_HOST_TELEMETRY_HTTP_GUARD_H

#include <stddef.h>

typedef struct http_guard http_guard;

/** @p token_file: borrowed, NULL = no token (everything public, every
 *  response redacted). @p public_paths: @p public_count exact paths served
 *  without the token (borrowed, copied); NULL = "/healthz", "/metrics".
 *  RV_OK; RV_EINVAL/RV_EIO/RV_ENOMEM with a sentence in @p err. */
int http_guard_create(const char *token_file, char *const *public_paths, size_t public_count,
                      http_guard **out, char *err, size_t errlen);
void http_guard_destroy(http_guard *g);

/** What a request may see. */
typedef enum http_access {
    HTTP_ACCESS_FULL = 1,      /**< the token was presented */
    HTTP_ACCESS_PUBLIC = 2,    /**< a public path without the token: redacted */
    HTTP_ACCESS_DENIED = 3     /**< 401 */
} http_access;

/** Decide for @p path with the Authorization header @p authorization and
 *  the access_token query parameter @p query_token (both may be NULL; all
 *  borrowed). Thread: any. */
http_access http_guard_check(const http_guard *g, const char *path, const char *authorization,
                             const char *query_token);

/** Replace, in place, every filesystem path in the text @p body (*@p len
 *  bytes; the result is never longer) with "<path>": "file:" URIs, and
 *  runs of path characters starting at a word boundary with "/", "./",
 *  "../" or "~/" that hold at least two '/'. The engine's own URL routes
 *  ("/channel/...", "/channels/...") are kept. Thread: any. */
void http_guard_redact(char *body, size_t *len);

#endif
