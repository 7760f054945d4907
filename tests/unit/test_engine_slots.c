/**
 * @file tests/unit/test_engine_slots.c
 * @short The engine keeps a slot only for a channel that holds something
 *        (issue 16): 1000 refused StartChannel calls for ever-new ids, stops,
 *        status queries, detaches and refused sessions leave no slot behind,
 *        and an attached stream keeps its slot until it is detached.
 */
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
#include "engine/engine_internal.h"
#include "engine/engine_session.h"
#include "tap.h"

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

int main(void)
{
    char dir[] = "/tmp/rv-slots-XXXXXX";
    char conf[1024];
    char path[512];
    char err[512] = "";
    char msg[512];
    tap_plan(7);
    log_set_level(RV_LOG_ERROR); /* 1000 refusals are logged at WARN */
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof(path), "%s/broken.conf", dir);
    write_file(path, "blocks = ( { id = \"a\"; start_utc_ms = 0; end_utc_ms = 10; segments = "
                     "( { type = \"PAD\"; duration_ms = 5; } ); } );\n");
    snprintf(conf, sizeof(conf),
             "engine: { module_dir = \"%s\"; plans_dir = \"%s\"; };\n"
             "profiles: { p: { width = 640; height = 360; frame_rate = \"25\"; }; };\n"
             "channel_defaults: { profile = \"p\"; };\n",
             dir, dir);
    config *cfg = NULL;
    int rc = config_load_text("slots.conf", conf, &cfg, err, sizeof(err));
    if (!tap_ok(rc == RV_OK, "the config loads (%s)", err))
        return tap_done();
    master_clock *clock = clock_create_real();
    engine *e = engine_create(cfg, NULL, clock);

    int refused = 0;
    for (int i = 0; i < 1000; i++) {
        engine_start_request req = {.channel_id = 1000 + i,
                                    .plan_handle = i % 2 ? "nosuch" : "broken"};
        refused += engine_start_channel(e, &req, msg, sizeof(msg)) != RV_OK;
    }
    tap_ok(refused == 1000, "1000 StartChannel calls for new ids with a missing or invalid plan "
                            "are refused (%d): %s", refused, msg);
    tap_ok(engine_slot_count(e) == 0, "and leave no slot behind (%zu slots)",
           engine_slot_count(e));

    channel_status st;
    for (int i = 0; i < 100; i++) {
        engine_stop_channel(e, 5000 + i, msg, sizeof(msg));
        engine_channel_status(e, 6000 + i, &st);
        engine_detach_stream(e, 7000 + i, msg, sizeof(msg));
        engine_session_stop(e, 8000 + i, "test", NULL, NULL, msg, sizeof(msg));
    }
    tap_ok(engine_slot_count(e) == 0, "stops, status, detaches of unknown ids leave none (%zu)",
           engine_slot_count(e));

    /* a stream attached to a listening Unix socket holds its slot */
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/s.sock", dir);
    int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    int bound = lfd >= 0 && bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(lfd, 4) == 0;
    rc = bound ? engine_attach_stream(e, 42, STREAM_TRANSPORT_UDS, sa.sun_path, 0, msg, sizeof(msg))
               : RV_EIO;
    tap_ok(rc == RV_OK && engine_slot_count(e) == 1,
           "an attached stream keeps its channel's slot (%s, %zu)", msg, engine_slot_count(e));
    rc = engine_attach_stream(e, 43, STREAM_TRANSPORT_UDS, "/nonexistent/rv.sock", 0, msg,
                              sizeof(msg));
    tap_ok(rc != RV_OK && engine_slot_count(e) == 1,
           "a refused AttachStream for a new id leaves no slot (%zu): %s", engine_slot_count(e),
           msg);
    engine_detach_stream(e, 42, msg, sizeof(msg));
    tap_ok(engine_slot_count(e) == 0, "detached, the slot goes (%zu)", engine_slot_count(e));

    engine_destroy(e);
    clock_destroy(clock);
    config_free(cfg);
    if (lfd >= 0)
        close(lfd);
    unlink(sa.sun_path);
    unlink(path);
    rmdir(dir);
    return tap_done();
}
