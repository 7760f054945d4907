/**
 * @file tests/unit/test_http_guard.c
 * @short http_guard and secret_file: token files (mode, length, trailing
 *        newline), who sees what (public paths, Bearer header, access_token
 *        query), and the redaction of filesystem paths from text.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <retrovue/error.h>

#include "core/secret_file.h"
#include "tap.h"
#include "telemetry/http_guard.h"

static char dir[] = "/tmp/rv-http-guard-XXXXXX";

static const char *token_file(const char *name, const char *text, mode_t mode)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
    return path;
}

static int redacts(const char *in, const char *want)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", in);
    size_t len = strlen(buf);
    http_guard_redact(buf, &len);
    buf[len] = '\0';
    int ok = strcmp(buf, want) == 0;
    if (!ok)
        printf("# redact(%s) = %s, want %s\n", in, buf, want);
    return ok;
}

int main(void)
{
    char err[256];
    char *tok = NULL;
    http_guard *g = NULL;
    tap_plan(16);
    if (!mkdtemp(dir))
        return 1;

    tap_ok(secret_file_read(token_file("ok", "0123456789abcdefXYZ\n", 0600), &tok, err,
                            sizeof err) == RV_OK &&
               strcmp(tok, "0123456789abcdefXYZ") == 0,
           "a 0600 token file is read without its newline");
    secret_free(tok);
    tok = NULL;
    tap_ok(secret_file_read(token_file("world", "0123456789abcdefXYZ", 0644), &tok, err,
                            sizeof err) == RV_EINVAL && strstr(err, "other users"),
           "a world-readable token file is refused (%s)", err);
    tap_ok(secret_file_read(token_file("short", "abc", 0600), &tok, err, sizeof err) == RV_EINVAL,
           "a token under 16 characters is refused (%s)", err);
    tap_ok(secret_file_read(token_file("space", "0123456789 abcdefXYZ", 0600), &tok, err,
                            sizeof err) == RV_EINVAL,
           "a token with a space inside is refused");
    tap_ok(secret_file_read("/nonexistent/token", &tok, err, sizeof err) == RV_EIO && !tok,
           "a missing token file is an error naming it (%s)", err);

    tap_ok(http_guard_create(NULL, NULL, 0, &g, err, sizeof err) == RV_OK &&
               http_guard_check(g, "/channels", NULL, NULL) == HTTP_ACCESS_PUBLIC,
           "no token: every path is public (and redacted)");
    http_guard_destroy(g);
    const char *tf = token_file("http", "0123456789abcdefXYZ", 0600);
    tap_ok(http_guard_create(tf, NULL, 0, &g, err, sizeof err) == RV_OK, "guard with a token");
    tap_ok(http_guard_check(g, "/healthz", NULL, NULL) == HTTP_ACCESS_PUBLIC &&
               http_guard_check(g, "/metrics", NULL, NULL) == HTTP_ACCESS_PUBLIC,
           "/healthz and /metrics are public by default");
    tap_ok(http_guard_check(g, "/channels", NULL, NULL) == HTTP_ACCESS_DENIED &&
               http_guard_check(g, "/channel/1.ts", "Bearer wrong-token-0123456", NULL) ==
                   HTTP_ACCESS_DENIED &&
               http_guard_check(g, "/healthz/x", NULL, NULL) == HTTP_ACCESS_DENIED,
           "other paths, a wrong token, a public path's extension: denied");
    tap_ok(http_guard_check(g, "/channels", "Bearer 0123456789abcdefXYZ", NULL) ==
                   HTTP_ACCESS_FULL &&
               http_guard_check(g, "/channel/1.ts", NULL, "0123456789abcdefXYZ") ==
                   HTTP_ACCESS_FULL &&
               http_guard_check(g, "/healthz", "bearer 0123456789abcdefXYZ", NULL) ==
                   HTTP_ACCESS_FULL,
           "the token in the header (any case of 'Bearer') or access_token: full access");
    http_guard_destroy(g);
    char *only[] = {"/metrics"};
    tap_ok(http_guard_create(tf, only, 1, &g, err, sizeof err) == RV_OK &&
               http_guard_check(g, "/healthz", NULL, NULL) == HTTP_ACCESS_DENIED &&
               http_guard_check(g, "/metrics", NULL, NULL) == HTTP_ACCESS_PUBLIC,
           "configured public paths replace the defaults");
    http_guard_destroy(g);
    char *bad[] = {"metrics"};
    tap_ok(http_guard_create(tf, bad, 1, &g, err, sizeof err) == RV_EINVAL,
           "a public path without '/' is refused (%s)", err);

    tap_ok(redacts("{\"reason\":\"/srv/media/a b.mp4: cannot open\"}",
                   "{\"reason\":\"<path> b.mp4: cannot open\"}") &&
               redacts("reason=\"file:../../../etc/passwd: permission denied\"",
                       "reason=\"<path>: permission denied\"") &&
               redacts("(./plans/x.conf) ~/m/a.ts", "(<path>) <path>"),
           "absolute, file:, ./ and ~/ paths are replaced");
    tap_ok(redacts("video/mp2t 30000/1001 http://h:1/x/y", "video/mp2t 30000/1001 http://h:1/x/y"),
           "MIME types, rationals and URLs are kept");
    tap_ok(redacts("\"url\":\"/channel/1.ts\" /channels/2/preview.jpg /healthz",
                   "\"url\":\"/channel/1.ts\" /channels/2/preview.jpg /healthz"),
           "the engine's own routes are kept");
    tap_ok(redacts("/a/b", "****") && redacts("", ""), "short paths keep their length");
    unlink(token_file("ok", "", 0600));
    unlink(token_file("world", "", 0600));
    unlink(token_file("short", "", 0600));
    unlink(token_file("space", "", 0600));
    unlink(tf);
    rmdir(dir);
    return tap_done();
}
