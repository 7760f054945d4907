/**
 * @file host/telemetry/http_route.h
 * @short What a telemetry route handler sees of a request and fills in for
 *        its reply, for routes that need more than a text body: a path with
 *        parameters, binary bodies, ETag / If-None-Match and their own
 *        Cache-Control (the operator page, /channels, previews).
 *
 * Owns nothing itself: an http_reply owns its body until the server takes
 * it. Thread: one of libmicrohttpd's, one request per reply.
 */
#ifndef RV_HOST_TELEMETRY_HTTP_ROUTE_H
#define RV_HOST_TELEMETRY_HTTP_ROUTE_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <retrovue/error.h>

#include "engine/engine.h"

/** The parts of a request a handler may use; every pointer borrowed for the
 *  call. */
typedef struct http_request {
    const char *url;             /**< path only, e.g. "/channels/1/preview.jpg" */
    const char *if_none_match;   /**< the If-None-Match header, NULL if absent */
} http_request;

/** A handler's answer. The server sends `status` with `body` (may be NULL
 *  for an empty body), Content-Type, ETag when set and Cache-Control. */
typedef struct http_reply {
    unsigned status;             /**< HTTP status, e.g. 200, 304, 404 */
    const char *content_type;    /**< static string; NULL: no body expected */
    char *body;                  /**< owned (malloc); the server frees it */
    size_t len;                  /**< bytes of body */
    char etag[64];               /**< full header value with its quotes, "" none */
    const char *cache_control;   /**< static string; NULL: "no-store" */
    const char *extra_name;      /**< static string: one more header; NULL: none */
    char extra_value[64];        /**< its value */
} http_reply;

/** A route handler: fill @p out (zeroed by the server) for @p req.
 *  @p e borrowed. RV_OK (the reply is sent as filled) or an error (the
 *  server answers 500). Thread: one of libmicrohttpd's. */
typedef int (*http_handler_fn)(engine *e, const http_request *req, http_reply *out);

/** Fill @p out with a short plain-text reply (a copy of @p text, borrowed).
 *  RV_OK or RV_ENOMEM. */
static inline int http_reply_text(http_reply *out, unsigned status, const char *text)
{
    out->status = status;
    out->content_type = "text/plain; charset=utf-8";
    out->body = strdup(text);
    out->len = out->body ? strlen(out->body) : 0;
    return out->body ? RV_OK : RV_ENOMEM;
}

#endif
