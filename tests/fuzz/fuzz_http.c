/**
 * @file tests/fuzz/fuzz_http.c
 * @short libFuzzer harness: the telemetry server's request routing on a
 *        real engine (host/engine) whose config lists two channels, none on
 *        air. Input: "URL\nHost\nIf-None-Match" (later lines optional).
 *
 * Per input, as telemetry_server.c's telemetry_handle routes it:
 * http_stream_parse ("/channel/<id>.ts" and ".m3u8"), http_hls_parse_segment
 * ("/channel/<id>/<seq>.ts") and, for a match, http_hls_playlist /
 * http_hls_segment; http_stream_m3u with the input's Host header (its check
 * and the URLs built from it); http_channels_handle for "/channels" and
 * "/channels/..." and http_page_handle for "/" and "/hls.min.js", with the
 * input's If-None-Match. Every reply is checked (a status, a body of the
 * length it claims) and freed. Not covered: libmicrohttpd itself, the
 * route table's string compare (static in telemetry_server.c), and
 * http_stream_ts, which needs a live connection. Owns the engine, its
 * config and the HLS registry for the life of the process.
 */
#include "fuzz_common.h"

#include <stdio.h>

#include "config/config.h"
#include "core/clock.h"
#include "engine/engine.h"
#include "loader/loader.h"
#include "telemetry/http_channels.h"
#include "telemetry/http_hls.h"
#include "telemetry/http_page.h"
#include "telemetry/http_stream.h"

/* Names with the characters an M3U line and a JSON string must escape. */
static const char fuzz_http_config[] =
    "engine: { module_dir = \"modules\"; };\n"
    "profiles: { hd720: { width = 1280; height = 720; frame_rate = \"30000/1001\"; }; };\n"
    "channels: (\n"
    "  { id = 1; name = \"Demo, \\\"one\\\" \\u00e9\"; profile = \"hd720\"; },\n"
    "  { id = 2147483647; name = \"tvg-name=\\\"x\\\" #EXTINF:-1,\"; profile = \"hd720\"; }\n"
    ");\n";

static config *fuzz_http_cfg;
static module_registry *fuzz_http_reg;
static master_clock *fuzz_http_clock;
static engine *fuzz_http_engine;
static http_hls *fuzz_http_hls;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet();
    char err[512];
    if (config_load_text("fuzz.conf", fuzz_http_config, &fuzz_http_cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "fuzz_http: config: %s\n", err);
        abort();
    }
    fuzz_http_reg = registry_create();
    fuzz_http_clock = clock_create_real();
    fuzz_http_engine = engine_create(fuzz_http_cfg, fuzz_http_reg, fuzz_http_clock);
    fuzz_http_hls = http_hls_create(fuzz_http_engine);
    if (!fuzz_http_reg || !fuzz_http_clock || !fuzz_http_engine || !fuzz_http_hls)
        abort();
    return 0;
}

/** Check and free a handler's reply. */
static void fuzz_http_reply(int rc, http_reply *out)
{
    if (rc == 0 && (out->status < 100 || out->status > 599 || (out->len && !out->body)))
        abort();
    if (out->body && out->len) {
        volatile char last = out->body[out->len - 1]; /* the whole body is there */
        (void)last;
    }
    free(out->body);
    memset(out, 0, sizeof(*out));
}

/** Split @p text at the first '\n': returns the rest, or NULL. */
static char *fuzz_http_line(char *text)
{
    char *nl = text ? strchr(text, '\n') : NULL;
    if (!nl)
        return NULL;
    *nl = '\0';
    return nl + 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *url = fuzz_text(data, size);
    if (!url)
        return 0;
    char *host = fuzz_http_line(url);
    char *etag = fuzz_http_line(host);
    fuzz_http_line(etag);
    http_reply out;
    memset(&out, 0, sizeof(out));
    int32_t id = 0;
    uint64_t seq = 0;
    if (http_stream_parse(url, "ts", &id) && id <= 0)
        abort();
    if (http_stream_parse(url, "m3u8", &id)) {
        if (id <= 0)
            abort();
        fuzz_http_reply(http_hls_playlist(fuzz_http_hls, id, &out), &out);
    } else if (http_hls_parse_segment(url, &id, &seq)) {
        if (id <= 0)
            abort();
        fuzz_http_reply(http_hls_segment(fuzz_http_hls, id, seq, &out), &out);
    }
    fuzz_http_reply(http_stream_m3u(fuzz_http_engine, host, "127.0.0.1:9308", &out), &out);
    const http_request req = {.url = url, .if_none_match = etag};
    if (strncmp(url, "/channels", 9) == 0 && (url[9] == '\0' || url[9] == '/'))
        fuzz_http_reply(http_channels_handle(fuzz_http_engine, &req, &out), &out);
    if (strcmp(url, "/") == 0 || strcmp(url, "/hls.min.js") == 0)
        fuzz_http_reply(http_page_handle(fuzz_http_engine, &req, &out), &out);
    free(url);
    return 0;
}
