/**
 * @file host/telemetry/http_page.h
 * @short GET /: the operator page (host/telemetry/web/operator.html, built
 *        into the binary as a C string), one tile per channel with its
 *        preview, state, now / next and sinks. Owns nothing.
 */
#ifndef RV_HOST_TELEMETRY_HTTP_PAGE_H
#define RV_HOST_TELEMETRY_HTTP_PAGE_H

#include "telemetry/http_route.h"

/** http_handler_fn for "/" (and "/index.html"). */
int http_page_handle(engine *e, const http_request *req, http_reply *out);

#endif
