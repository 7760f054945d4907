/**
 * @file tests/unit/test_config_defaults.c
 * @short Config-less mode's built-in config (parsed and bound against the
 *        real modules of the build) and the command line's engine overrides
 *        (config_apply_overrides), including a refused override leaving the
 *        config unchanged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/config_defaults.h"
#include "core/log.h"
#include "tap.h"

static int module_is(const config_binding *b, const char *name)
{
    return b && b->module && strcmp(b->module, name) == 0;
}

static void test_defaults(const module_registry *reg)
{
    char err[1024] = "";
    config *cfg = NULL;
    int rc = config_load_defaults(RV_MODULE_DIR, &cfg, err, sizeof(err));
    if (!tap_ok(rc == RV_OK && cfg, "the built-in defaults parse (%s)", err))
        return;
    tap_ok(!strcmp(cfg->module_dir, RV_MODULE_DIR) && !cfg->plans_dir &&
               cfg->control_listen_count == 0 && !cfg->metrics_listen && !cfg->asrun_dir &&
               cfg->channel_count == 0 && cfg->log_level == RV_LOG_INFO &&
               !strcmp(cfg->path, CONFIG_DEFAULTS_NAME),
           "engine: the module folder, no plans, no listeners, telemetry and as-run off, "
           "no channels");
    const config_channel *d = cfg->defaults;
    tap_ok(d && d->format.width == 1920 && d->format.height == 1080 &&
               d->format.frame_rate.num == 30000 && d->format.frame_rate.den == 1001 &&
               d->format.audio_rate == 48000 && d->format.audio_channels == 2,
           "channel_defaults profile: 1920x1080 30000/1001, 48 kHz stereo");
    tap_ok(d && d->producer_count == 2 && module_is(&d->producers[0], "ffmpeg-file") &&
               module_is(&d->producers[1], "slate") && module_is(&d->slate, "slate") &&
               module_is(&d->renderer, "null") && d->sink_count == 0,
           "channel_defaults: producers ffmpeg-file + slate, slate, null renderer, no sinks");
    rc = config_bind(cfg, reg, err, sizeof(err));
    tap_ok(rc == RV_OK && d->producers[0].mod && d->slate.mod && d->renderer.mod,
           "they bind against the build's modules (%s)", err);
    config_channel *ch = config_channel_for_id(cfg, 7);
    tap_ok(ch && ch->id == 7 && !strcmp(ch->name, "Channel 7") && ch->sink_count == 0,
           "any channel id gets the defaults (%s)", ch ? ch->name : "none");
    config_channel_free(ch);
    config_free(cfg);

    const char *odd = "/tmp/a \"quoted\" \\folder";
    rc = config_load_defaults(odd, &cfg, err, sizeof(err));
    tap_ok(rc == RV_OK && cfg && !strcmp(cfg->module_dir, odd),
           "a module folder with quotes and backslashes survives the text (%s)",
           cfg ? cfg->module_dir : err);
    config_free(cfg);
    rc = config_load_defaults("/tmp/a\nb", &cfg, err, sizeof(err));
    tap_ok(rc == RV_EINVAL && !cfg && strstr(err, "control character"),
           "a module folder with a newline is refused: %s", err);
}

static void test_overrides(void)
{
    char err[1024] = "";
    config *cfg = NULL;
    int rc = config_load_text("inline",
                              "engine: { module_dir = \"/m\"; metrics_listen = \"127.0.0.1:9308\";\n"
                              "  control_listen = [ \"127.0.0.1:1\", \"unix:/run/x.sock\", "
                              "\"h:2\" ]; };\n",
                              &cfg, err, sizeof(err));
    if (!tap_ok(rc == RV_OK && cfg && cfg->control_listen_count == 3, "a text config loads (%s)",
                err))
        return;
    config_overrides bad = {.control_address = "nowhere", .metrics_listen = "127.0.0.1:1"};
    rc = config_apply_overrides(cfg, &bad, err, sizeof(err));
    tap_ok(rc == RV_EINVAL && strstr(err, "'nowhere' is not \"HOST:PORT\"") &&
               cfg->control_listen_count == 3 && !strcmp(cfg->metrics_listen, "127.0.0.1:9308"),
           "a bad address is refused and changes nothing: %s", err);
    config_overrides bad_metrics = {.metrics_listen = "127.0.0.1:70000"};
    rc = config_apply_overrides(cfg, &bad_metrics, err, sizeof(err));
    tap_ok(rc == RV_EINVAL && strstr(err, "--metrics-listen"), "a bad metrics address: %s", err);
    config_overrides ov = {.control_address = "127.0.0.1:5",
                           .metrics_listen = "0.0.0.0:9400",
                           .asrun_dir = "runs"};
    rc = config_apply_overrides(cfg, &ov, err, sizeof(err));
    tap_ok(rc == RV_OK && cfg->control_listen_count == 2 &&
               !strcmp(cfg->control_listen[0], "unix:/run/x.sock") &&
               !strcmp(cfg->control_listen[1], "127.0.0.1:5"),
           "--port replaces the HOST:PORT addresses and keeps the unix: one");
    tap_ok(!strcmp(cfg->metrics_listen, "0.0.0.0:9400") && !strcmp(cfg->asrun_dir, "runs"),
           "--metrics-listen and --asrun-dir override");
    config_overrides none = {0};
    rc = config_apply_overrides(cfg, &none, err, sizeof(err));
    tap_ok(rc == RV_OK && cfg->control_listen_count == 2 && cfg->metrics_listen,
           "no overrides keep everything");
    config_free(cfg);

    rc = config_load_text("inline", "engine: { module_dir = \"/m\" ", &cfg, err, sizeof(err));
    tap_ok(rc == RV_EINVAL && !cfg && strstr(err, "inline:1: syntax"),
           "a syntax error names the text: %s", err);
}

int main(void)
{
    log_set_level(RV_LOG_ERROR);
    module_registry *reg = registry_create();
    int n = registry_scan_dir(reg, RV_MODULE_DIR);
    tap_ok(n > 0, "the build's modules load (%d)", n);
    test_defaults(reg);
    test_overrides();
    registry_destroy(reg);
    return tap_done();
}
