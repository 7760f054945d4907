/**
 * @file tests/unit/test_media_roots.c
 * @short engine.media_roots (issue 16): file assets outside the configured
 *        folders are refused when a plan or a fed block is validated, with a
 *        message naming the roots and never saying whether the file exists;
 *        "..", symlinks out and relative paths in fed blocks are caught; the
 *        config key reads one folder or a list, resolved against the config.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <retrovue/error.h>

#include "config/config.h"
#include "core/clock.h"
#include "core/log.h"
#include "engine/engine.h"
#include "engine/engine_session.h"
#include "plan/plan.h"
#include "plan/plan_media.h"
#include "tap.h"

static char tmp[] = "/tmp/rv-media-roots-XXXXXX";
static char media[300];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/** Check a one-segment plan naming @p uri against the roots. */
static int check_uri(const char *uri, char *const *roots, size_t n, char *err, size_t errlen)
{
    plan_segment seg = {.index = 0, .type = RV_SEGMENT_CONTENT, .asset_uri = (char *)uri,
                        .event_id = "", .duration_ms = 1000,
                        .transition_in = {RV_TRANSITION_NONE, 0},
                        .transition_out = {RV_TRANSITION_NONE, 0}};
    plan_block blk = {.id = "b", .start_utc_ms = 0, .end_utc_ms = 1000, .segments = &seg,
                      .segment_count = 1};
    plan p = {.handle = "t", .blocks = &blk, .block_count = 1, .refcount = 1};
    err[0] = '\0';
    return plan_check_media_roots(&p, roots, n, err, errlen);
}

static void test_check(void)
{
    char err[1024];
    char uri[700];
    char *roots[] = {media, "/nonexistent-root-for-rv"};
    tap_ok(plan_media_path("file:/a") && !strcmp(plan_media_path("file:/a"), "/a") &&
               !strcmp(plan_media_path("file:///a"), "/a") &&
               !strcmp(plan_media_path("file:rel/a"), "rel/a") &&
               !strcmp(plan_media_path("/a"), "/a") && !plan_media_path("slate:bars") &&
               !plan_media_path("http://x/a") && !plan_media_path(""),
           "plan_media_path: file:, file://, plain paths; other schemes are not files");
    snprintf(uri, sizeof(uri), "file:%s/a.mp4", media);
    int ok = check_uri(uri, roots, 2, err, sizeof(err)) == RV_OK;
    snprintf(uri, sizeof(uri), "%s/sub/../a.mp4", media);
    ok &= check_uri(uri, roots, 2, err, sizeof(err)) == RV_OK;
    snprintf(uri, sizeof(uri), "file://%s/not-yet-there.mp4", media);
    ok &= check_uri(uri, roots, 2, err, sizeof(err)) == RV_OK;
    ok &= check_uri("slate:bars", roots, 2, err, sizeof(err)) == RV_OK;
    tap_ok(ok, "assets inside a root (file:, plain, file://, not yet there) and slate: pass (%s)",
           err);

    snprintf(uri, sizeof(uri), "file:%s/../../../../etc/passwd", media);
    tap_ok(check_uri(uri, roots, 2, err, sizeof(err)) == RV_EINVAL &&
               strstr(err, "block 'b' (#0) segment 0: asset 'file:") &&
               strstr(err, "is outside media_roots (") && strstr(err, media),
           "'..' out of a root is refused, naming the roots: %s", err);
    char exists_msg[1024];
    check_uri("/etc/passwd", roots, 2, exists_msg, sizeof(exists_msg));
    check_uri("/etc/passwd-nonexistent-rv", roots, 2, err, sizeof(err));
    char *a = strstr(exists_msg, "is outside");
    char *b = strstr(err, "is outside");
    tap_ok(a && b && strcmp(a, b) == 0,
           "an existing and a missing file outside get the same refusal (no existence oracle)");
    snprintf(uri, sizeof(uri), "%s/escape.mp4", media);
    tap_ok(check_uri(uri, roots, 2, err, sizeof(err)) == RV_EINVAL && strstr(err, "outside"),
           "a symlink inside a root pointing out of it is refused: %s", err);
    tap_ok(check_uri("clips/a.mp4", roots, 2, err, sizeof(err)) == RV_EINVAL &&
               strstr(err, "is a relative path"),
           "a relative path (a fed block's) is refused: %s", err);
    char *slash[] = {"/"};
    tap_ok(check_uri("/etc/passwd", NULL, 0, err, sizeof(err)) == RV_OK &&
               check_uri("/etc/passwd", slash, 1, err, sizeof(err)) == RV_OK,
           "no media_roots, or the root '/', restricts nothing");
}

static void test_config(void)
{
    char path[400];
    char err[512] = "";
    config *cfg = NULL;
    snprintf(path, sizeof(path), "%s/roots.conf", tmp);
    write_file(path, "engine: { module_dir = \"/tmp\"; media_roots = [ \"media\", \"/srv/x\" ]; };\n");
    int rc = config_load(path, &cfg, err, sizeof(err));
    char want[400];
    snprintf(want, sizeof(want), "%s/media", tmp);
    tap_ok(rc == RV_OK && cfg->media_root_count == 2 && !strcmp(cfg->media_roots[0], want) &&
               !strcmp(cfg->media_roots[1], "/srv/x"),
           "media_roots: a list, relative folders resolved against the config's (%s)", err);
    config_free(cfg);
    cfg = NULL;
    write_file(path, "engine: { module_dir = \"/tmp\"; media_roots = \"/srv/one\"; };\n");
    rc = config_load(path, &cfg, err, sizeof(err));
    tap_ok(rc == RV_OK && cfg->media_root_count == 1 && !strcmp(cfg->media_roots[0], "/srv/one"),
           "media_roots: one folder as a string");
    config_free(cfg);
    cfg = NULL;
    write_file(path, "engine: { module_dir = \"/tmp\"; media_roots = [ ]; };\n");
    rc = config_load(path, &cfg, err, sizeof(err));
    tap_ok(rc == RV_EINVAL && strstr(err, "engine.media_roots: must not be empty"),
           "an empty media_roots is refused: %s", err);
    config_free(cfg);
    cfg = NULL;
    write_file(path, "engine: { module_dir = \"/tmp\"; media_roots = [ 3 ]; };\n");
    rc = config_load(path, &cfg, err, sizeof(err));
    tap_ok(rc == RV_EINVAL && strstr(err, "engine.media_roots.[0]: must be a string"),
           "a non-string folder is refused: %s", err);
    config_free(cfg);
    unlink(path);
}

static void test_engine(void)
{
    char conf[1024];
    char err[512] = "";
    char msg[1024] = "";
    char plans[400];
    char path[500];
    snprintf(plans, sizeof(plans), "%s/plans", tmp);
    mkdir(plans, 0755);
    snprintf(path, sizeof(path), "%s/escape.conf", plans);
    write_file(path, "blocks = ( { id = \"b1\"; start_utc_ms = 0; end_utc_ms = 1000; segments = "
                     "( { type = \"CONTENT\"; asset_uri = \"file:../../../../etc/passwd\"; "
                     "duration_ms = 1000; } ); } );\n");
    snprintf(conf, sizeof(conf),
             "engine: { module_dir = \"%s\"; plans_dir = \"%s\"; media_roots = [ \"%s\" ]; };\n"
             "profiles: { p: { width = 640; height = 360; frame_rate = \"25\"; }; };\n"
             "channel_defaults: { profile = \"p\"; };\n",
             tmp, plans, media);
    config *cfg = NULL;
    if (config_load_text("roots.conf", conf, &cfg, err, sizeof(err)) != RV_OK) {
        tap_ok(0, "config: %s", err);
        tap_ok(0, "skipped");
        return;
    }
    master_clock *clock = clock_create_real();
    engine *e = engine_create(cfg, NULL, clock);
    engine_start_request req = {.channel_id = 9, .plan_handle = "escape"};
    int rc = engine_start_channel(e, &req, msg, sizeof(msg));
    tap_ok(rc == RV_EINVAL && strstr(msg, "plan 'escape': block 'b1' (#0) segment 0: asset '") &&
               strstr(msg, "is outside media_roots") && strstr(msg, media),
           "StartChannel on a plan file reaching ../../../../etc/passwd is refused: %s", msg);

    /* a BlockPlan session (gRPC StartBlockPlanSession) with /etc/passwd */
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/s.sock", tmp);
    int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    int up = lfd >= 0 && bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(lfd, 4) == 0 &&
             engine_attach_stream(e, 9, STREAM_TRANSPORT_UDS, sa.sun_path, 0, msg, sizeof(msg)) ==
                 RV_OK;
    plan_segment seg = {.index = 0, .type = RV_SEGMENT_CONTENT, .asset_uri = "/etc/passwd",
                        .event_id = "", .duration_ms = 1000,
                        .transition_in = {RV_TRANSITION_NONE, 0},
                        .transition_out = {RV_TRANSITION_NONE, 0}};
    plan_block blk = {.id = "A", .start_utc_ms = 1763712000000LL,
                      .end_utc_ms = 1763712001000LL, .segments = &seg, .segment_count = 1};
    engine_session_start_request sreq = {.channel_id = 9, .blocks = &blk, .block_count = 1,
                                         .evidence_endpoint = "", .channel_id_str = ""};
    session_result code = SESSION_RESULT_OK;
    rc = up ? engine_session_start(e, &sreq, &code, msg, sizeof(msg)) : RV_EIO;
    tap_ok(rc == RV_OK && code == SESSION_RESULT_INVALID_BLOCK &&
               strstr(msg, "block_a: plan 'block_a': block 'A' (#0) segment 0: asset '/etc/passwd' "
                           "is outside media_roots"),
           "a BlockPlan session block naming /etc/passwd is INVALID_BLOCK: %s", msg);
    engine_detach_stream(e, 9, msg, sizeof(msg));
    engine_destroy(e);
    clock_destroy(clock);
    config_free(cfg);
    if (lfd >= 0)
        close(lfd);
    unlink(sa.sun_path);
    unlink(path);
    rmdir(plans);
}

int main(void)
{
    char path[400];
    char target[400];
    tap_plan(7 + 4 + 2);
    log_set_level(RV_LOG_ERROR);
    if (!mkdtemp(tmp))
        return 1;
    snprintf(media, sizeof(media), "%s/media", tmp);
    mkdir(media, 0755);
    snprintf(path, sizeof(path), "%s/a.mp4", media);
    write_file(path, "x");
    snprintf(target, sizeof(target), "%s/secret.mp4", tmp);
    write_file(target, "x");
    snprintf(path, sizeof(path), "%s/escape.mp4", media);
    if (symlink(target, path) != 0)
        perror("symlink");
    test_check();
    test_config();
    test_engine();
    unlink(path);
    unlink(target);
    snprintf(path, sizeof(path), "%s/a.mp4", media);
    unlink(path);
    rmdir(media);
    rmdir(tmp);
    return tap_done();
}
