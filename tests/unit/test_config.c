/**
 * @file tests/unit/test_config.c
 * @short Config loading and binding: a valid file with every section, then
 *        one failing file per rule, each error checked for "file:line: key
 *        path: reason".
 *
 * Config files are written to a temp folder at test time from one template
 * (a line replaced or appended per case). Bindings resolve against the good
 * test modules in RV_TEST_MODULE_DIR (test-producer, test-renderer,
 * test-sink).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "core/log.h"
#include "core/options.h"
#include "loader/loader.h"
#include "tap.h"

/** The valid template; cases replace line N (1-based) or append a line. */
static const char *const base_lines[] = {
    /*  1 */ "engine: {",
    /*  2 */ "  module_dir = \"mods\";",
    /*  3 */ "  plans_dir = \"plans\";",
    /*  4 */ "  log_level = \"debug\";",
    /*  5 */ "  control_listen = [\"127.0.0.1:50051\", \"unix:run/playout.sock\"];",
    /*  6 */ "  metrics_listen = \"127.0.0.1:9308\";",
    /*  7 */ "  asrun_dir = \"/var/asrun\";",
    /*  8 */ "};",
    /*  9 */ "profiles: {",
    /* 10 */ "  hd720: { width = 1280; height = 720; frame_rate = \"30000/1001\"; };",
    /* 11 */
    "  pal: { width = 720; height = 576; frame_rate = \"25\"; audio_rate = 44100; "
    "audio_channels = 6; };",
    /* 12 */ "};",
    /* 13 */ "channels: (",
    /* 14 */ "  { id = 1; name = \"Demo\"; profile = \"hd720\"; autostart_plan = \"demo\";",
    /* 15 */
    "    producers = ( { module = \"test-producer\"; options = { level = 200; pattern = "
    "\"ramp\"; }; } );",
    /* 16 */ "    slate = { module = \"test-producer\"; };",
    /* 17 */ "    renderer = { module = \"test-renderer\"; options = { invert = true; }; };",
    /* 18 */ "    sinks = ( { module = \"test-sink\";",
    /* 19 */
    "                options = { mode = \"summary\"; path = \"out/log.jsonl\"; ratio = 1; "
    "}; } );",
    /* 20 */ "  },",
    /* 21 */
    "  { id = 7; profile = \"pal\"; slate = { module = \"test-producer\"; }; renderer = { "
    "module = \"test-renderer\"; }; }",
    /* 22 */ ");",
    /* 23 */ "channel_defaults: { profile = \"pal\"; slate = { module = \"test-producer\"; };",
    /* 24 */
    "  renderer = { module = \"test-renderer\"; }; sinks = ( { module = \"test-sink\"; } ); };",
};
#define BASE_LINES (sizeof(base_lines) / sizeof(base_lines[0]))

typedef struct config_case {
    const char *what;
    int line; /**< line to replace; 0: append `text` */
    const char *text;
    int bind;           /**< the error comes from config_bind */
    int code;           /**< expected code (RV_EINVAL unless set) */
    int err_line;       /**< expected line in the message */
    const char *key;    /**< expected key path */
    const char *reason; /**< substring of the reason */
} config_case;

static const config_case cases[] = {
    /* shape: unknown keys */
    {"unknown root key", 0, "extra = 1;", 0, 0, 25, "extra", "unknown key"},
    {"unknown engine key", 4, "  log_levle = \"debug\";", 0, 0, 4, "engine.log_levle",
     "unknown key"},
    {"unknown profile key", 10,
     "  hd720: { width = 1280; height = 720; frame_rate = \"25\"; depth = 8; };", 0, 0, 10,
     "profiles.hd720.depth", "unknown key"},
    {"unknown channel key", 21, "  { id = 7; profile = \"pal\"; colour = 1; }", 0, 0, 21,
     "channels.[1].colour", "unknown key"},
    {"unknown binding key", 16, "    slate = { module = \"test-producer\"; opts = {}; };", 0, 0, 16,
     "channels.[0].slate.opts", "unknown key"},
    {"unknown channel_defaults key", 23, "channel_defaults: { id = 3; profile = \"pal\";", 0, 0, 23,
     "channel_defaults.id", "unknown key"},
    /* engine */
    {"module_dir required", 2, "", 0, 0, 1, "engine.module_dir", "missing (required)"},
    {"autostart_plan needs plans_dir", 3, "", 0, 0, 14, "channels.[0].autostart_plan",
     "needs engine.plans_dir"},
    {"engine required", 0, NULL, 0, 0, 1, "engine", "missing (required)"},
    {"decoder_threads range", 4, "  decoder_threads = 17;", 0, 0, 4, "engine.decoder_threads",
     ""},
    {"encoder_threads type", 4, "  encoder_threads = \"auto\";", 0, 0, 4,
     "engine.encoder_threads", ""},
    {"module_dir is a string", 2, "  module_dir = 5;", 0, 0, 2, "engine.module_dir",
     "must be a string"},
    {"module_dir list element is a string", 2, "  module_dir = ( \"a\", 5 );", 0, 0, 2,
     "engine.module_dir.[1]", "must be a string"},
    {"module_dir list not empty", 2, "  module_dir = [ ];", 0, 0, 2, "engine.module_dir",
     "must not be empty"},
    {"module_dir folder has no ':'", 2, "  module_dir = [ \"a\", \"b:c\" ];", 0, 0, 2,
     "engine.module_dir.[1]", "contains ':'"},
    {"log_level is a level", 4, "  log_level = \"loud\";", 0, 0, 4, "engine.log_level",
     "'loud' is not one of error, warn, info, debug"},
    {"control_listen addresses", 5, "  control_listen = [\"127.0.0.1:50051\", \"nowhere\"];", 0, 0,
     5, "engine.control_listen.[1]", "'nowhere' is neither"},
    {"control_listen unix path", 5, "  control_listen = \"unix:\";", 0, 0, 5,
     "engine.control_listen", "has no socket path"},
    {"control_insecure_tcp is a bool", 7, "  control_insecure_tcp = 1;", 0, 0, 7,
     "engine.control_insecure_tcp", "must be true or false"},
    {"control_max_connections >= 1", 7, "  control_max_connections = 0;", 0, 0, 7,
     "engine.control_max_connections", "out of range 1..65536"},
    {"control_token_file not empty", 7, "  control_token_file = \"\";", 0, 0, 7,
     "engine.control_token_file", "must not be empty"},
    {"http_public_paths start with /", 7, "  http_public_paths = [ \"/healthz\", \"metrics\" ];",
     0, 0, 7, "engine.http_public_paths", "'metrics' is not a path starting with '/'"},
    {"http_timeout_s <= 3600", 7, "  http_timeout_s = 3601;", 0, 0, 7, "engine.http_timeout_s",
     "out of range 1..3600"},
    {"metrics_listen is HOST:PORT", 6, "  metrics_listen = \"127.0.0.1:99999\";", 0, 0, 6,
     "engine.metrics_listen", "is not \"HOST:PORT\""},
    /* profiles */
    {"width even", 10, "  hd720: { width = 1281; height = 720; frame_rate = \"25\"; };", 0, 0, 10,
     "profiles.hd720.width", "1281 is odd"},
    {"width >= 16", 10, "  hd720: { width = 8; height = 720; frame_rate = \"25\"; };", 0, 0, 10,
     "profiles.hd720.width", "8 is out of range 16..7680"},
    {"width <= 7680", 10, "  hd720: { width = 7682; height = 720; frame_rate = \"25\"; };", 0, 0,
     10, "profiles.hd720.width", "out of range 16..7680"},
    {"height even", 10, "  hd720: { width = 1280; height = 721; frame_rate = \"25\"; };", 0, 0, 10,
     "profiles.hd720.height", "721 is odd"},
    {"height <= 4320", 10, "  hd720: { width = 1280; height = 4322; frame_rate = \"25\"; };", 0, 0,
     10, "profiles.hd720.height", "out of range 16..4320"},
    {"width required", 10, "  hd720: { height = 720; frame_rate = \"25\"; };", 0, 0, 10,
     "profiles.hd720.width", "missing (required)"},
    {"width an integer", 10, "  hd720: { width = 1280.0; height = 720; frame_rate = \"25\"; };", 0,
     0, 10, "profiles.hd720.width", "must be an integer"},
    {"frame_rate required", 10, "  hd720: { width = 1280; height = 720; };", 0, 0, 10,
     "profiles.hd720.frame_rate", "missing (required)"},
    {"frame_rate >= 1", 10, "  hd720: { width = 1280; height = 720; frame_rate = \"1/2\"; };", 0, 0,
     10, "profiles.hd720.frame_rate", "'1/2' must be"},
    {"frame_rate <= 120", 10, "  hd720: { width = 1280; height = 720; frame_rate = \"121\"; };", 0,
     0, 10, "profiles.hd720.frame_rate", "'121' must be"},
    {"frame_rate den > 0", 10, "  hd720: { width = 1280; height = 720; frame_rate = \"30/0\"; };",
     0, 0, 10, "profiles.hd720.frame_rate", "'30/0' must be"},
    {"frame_rate int32", 10,
     "  hd720: { width = 1280; height = 720; frame_rate = \"3000000000/100000000\"; };", 0, 0, 10,
     "profiles.hd720.frame_rate", "must be"},
    {"frame_rate syntax", 10, "  hd720: { width = 1280; height = 720; frame_rate = \"29.97\"; };",
     0, 0, 10, "profiles.hd720.frame_rate", "'29.97' must be"},
    {"audio_rate >= 8000", 11,
     "  pal: { width = 720; height = 576; frame_rate = \"25\"; audio_rate = 7999; };", 0, 0, 11,
     "profiles.pal.audio_rate", "7999 is out of range 8000..192000"},
    {"audio_rate <= 192000", 11,
     "  pal: { width = 720; height = 576; frame_rate = \"25\"; audio_rate = 192001; };", 0, 0, 11,
     "profiles.pal.audio_rate", "out of range"},
    {"audio_channels 1..8", 11,
     "  pal: { width = 720; height = 576; frame_rate = \"25\"; audio_channels = 9; };", 0, 0, 11,
     "profiles.pal.audio_channels", "9 is out of range 1..8"},
    {"audio_channels >= 1", 11,
     "  pal: { width = 720; height = 576; frame_rate = \"25\"; audio_channels = 0; };", 0, 0, 11,
     "profiles.pal.audio_channels", "out of range 1..8"},
    /* channels */
    {"channel id > 0", 14, "  { id = 0; name = \"Demo\"; profile = \"hd720\";", 0, 0, 14,
     "channels.[0].id", "0 is out of range"},
    {"channel id required", 14, "  { name = \"Demo\"; profile = \"hd720\";", 0, 0, 14,
     "channels.[0].id", "missing (required)"},
    {"channel ids unique", 21, "  { id = 1; profile = \"pal\"; }", 0, 0, 21, "channels.[1].id",
     "channel id 1 is already used at line 14"},
    {"profile must exist", 21, "  { id = 7; profile = \"uhd\"; }", 0, 0, 21, "channels.[1].profile",
     "profile 'uhd' is not defined (profiles: hd720, pal)"},
    {"profile required", 21, "  { id = 7; }", 0, 0, 21, "channels.[1].profile",
     "missing (required)"},
    {"producers not empty", 15, "    producers = ( );", 0, 0, 15, "channels.[0].producers",
     "is empty"},
    {"binding needs a module", 17, "    renderer = { options = { invert = true; }; };", 0, 0, 17,
     "channels.[0].renderer.module", "missing (required)"},
    {"option values are scalars", 17,
     "    renderer = { module = \"test-renderer\"; options = { invert = { a = 1; }; }; };", 0, 0,
     17, "channels.[0].renderer.options.invert", "must be a boolean, a number or a string"},
    {"syntax error", 10, "  hd720: { width = 1280; height = ; };", 0, 0, 10, NULL, "syntax"},
    /* bind */
    {"module must be loaded", 17, "    renderer = { module = \"nope\"; };", 1, 0, 17,
     "channels.[0].renderer.module",
     "unknown module 'nope' (loaded: test-producer, test-renderer, test-sink)"},
    {"module of the right kind", 16, "    slate = { module = \"test-sink\"; };", 1, 0, 16,
     "channels.[0].slate.module", "'test-sink' is a sink, not a producer"},
    {"sink module of the right kind", 18, "    sinks = ( { module = \"test-renderer\";", 1, 0, 18,
     "channels.[0].sinks.[0].module", "'test-renderer' is a renderer, not a sink"},
    {"default slate is 'slate'", 21,
     "  { id = 7; profile = \"pal\"; renderer = { module = \"test-renderer\"; }; }", 1, 0, 21,
     "channels.[1].slate.module", "unknown module 'slate'"},
    {"default renderer is 'null'", 21,
     "  { id = 7; profile = \"pal\"; slate = { module = \"test-producer\"; }; }", 1, 0, 21,
     "channels.[1].renderer.module", "unknown module 'null'"},
    {"option in range", 15,
     "    producers = ( { module = \"test-producer\"; options = { level = 300; }; } );", 1, 0, 15,
     "channels.[0].producers.[0].options.level", "300 is out of range"},
    {"option enum choice", 19, "                options = { mode = \"foo\"; }; } );", 1, 0, 19,
     "channels.[0].sinks.[0].options.mode", "'foo' is not one of"},
    {"option known", 19, "                options = { colour = 1; }; } );", 1, 0, 19,
     "channels.[0].sinks.[0].options.colour", "unknown option 'colour'"},
    {"option type", 17,
     "    renderer = { module = \"test-renderer\"; options = { invert = 1; }; };", 1, 0, 17,
     "channels.[0].renderer.options.invert", "expected a boolean"},
    {"defaults bound too", 24,
     "  renderer = { module = \"test-renderer\"; }; sinks = ( { module = \"test-producer\"; } ); "
     "};",
     1, 0, 24, "channel_defaults.sinks.[0].module", "'test-producer' is a producer, not a sink"},
};

static char tmp_dir[] = "/tmp/rv_test_config.XXXXXX";

/** Write the template with line @p line replaced by @p text (0: append;
 *  text NULL with line 0: drop the engine block) to @p path. */
static int write_config(const char *path, int line, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    for (size_t i = 0; i < BASE_LINES; i++) {
        if (line == 0 && !text && i < 8) {
            fputs("\n", f); /* keep the line numbers */
            continue;
        }
        fprintf(f, "%s\n", (int)i + 1 == line ? text : base_lines[i]);
    }
    if (line == 0 && text)
        fprintf(f, "%s\n", text);
    return fclose(f);
}

static void test_valid(const module_registry *reg)
{
    char path[512];
    char err[1024] = "";
    snprintf(path, sizeof(path), "%s/good.conf", tmp_dir);
    write_config(path, -1, NULL);
    config *cfg = NULL;
    int rc = config_load(path, &cfg, err, sizeof(err));
    if (!tap_ok(rc == RV_OK && cfg, "valid config loads: %s", err))
        return;
    char want[600];
    snprintf(want, sizeof(want), "%s/mods", tmp_dir);
    tap_ok(strcmp(cfg->module_dir, want) == 0, "module_dir resolved against the file: %s",
           cfg->module_dir);
    snprintf(want, sizeof(want), "%s/plans", tmp_dir);
    tap_ok(strcmp(cfg->plans_dir, want) == 0, "plans_dir resolved: %s", cfg->plans_dir);
    tap_ok(strcmp(cfg->asrun_dir, "/var/asrun") == 0, "absolute asrun_dir kept");
    tap_ok(cfg->log_level == RV_LOG_DEBUG, "log_level debug");
    snprintf(want, sizeof(want), "unix:%s/run/playout.sock", tmp_dir);
    tap_ok(cfg->control_listen_count == 2 &&
               strcmp(cfg->control_listen[0], "127.0.0.1:50051") == 0 &&
               strcmp(cfg->control_listen[1], want) == 0,
           "control_listen: TCP kept, unix path resolved");
    tap_ok(cfg->metrics_listen && strcmp(cfg->metrics_listen, "127.0.0.1:9308") == 0,
           "metrics_listen");
    const config_access *a = &cfg->access;
    tap_ok(!a->control_token_file && !a->control_insecure_tcp && a->control_max_connections == 64 &&
               a->control_max_per_peer == 16 && a->control_idle_timeout_ms == 300000 &&
               a->fd_reserve == 128 && !a->http_token_file && !a->http_public_paths &&
               a->http_max_connections == 512 && a->http_max_per_peer == 128 &&
               a->http_timeout_s == 10,
           "access keys absent: no tokens, no insecure TCP, the documented limits");

    const config_profile *hd = config_find_profile(cfg, "hd720");
    const config_profile *pal = config_find_profile(cfg, "pal");
    tap_ok(cfg->profile_count == 2 && hd && pal && !config_find_profile(cfg, "uhd"),
           "two profiles found by name");
    tap_ok(hd && hd->format.width == 1280 && hd->format.height == 720 &&
               hd->format.frame_rate.num == 30000 && hd->format.frame_rate.den == 1001 &&
               hd->format.audio_rate == 48000 && hd->format.audio_channels == 2,
           "hd720: 1280x720 30000/1001, audio defaults 48000 Hz stereo");
    tap_ok(pal && pal->format.frame_rate.num == 25 && pal->format.frame_rate.den == 1 &&
               pal->format.audio_rate == 44100 && pal->format.audio_channels == 6,
           "pal: \"25\" is 25/1, audio 44100 Hz x6");

    const config_channel *c1 = config_find_channel(cfg, 1);
    const config_channel *c7 = config_find_channel(cfg, 7);
    tap_ok(cfg->channel_count == 2 && c1 && c7 && !config_find_channel(cfg, 2), "two channels");
    tap_ok(c1 && strcmp(c1->name, "Demo") == 0 && strcmp(c1->autostart_plan, "demo") == 0 &&
               c1->format.width == 1280 && c1->line == 14,
           "channel 1: name, autostart plan, format from profile, line");
    tap_ok(c7 && strcmp(c7->name, "Channel 7") == 0 && !c7->autostart_plan &&
               c7->format.audio_channels == 6 && c7->producer_count == 0 && c7->sink_count == 0,
           "channel 7: default name, no autostart, no producers yet, no sinks");
    tap_ok(c1 && c1->producer_count == 1 && c1->producers[0].raw_count == 2 &&
               strcmp(c1->producers[0].key_path, "channels.[0].producers.[0]") == 0 &&
               c1->producers[0].line == 15,
           "channel 1 producer binding: raw options, key path, line");
    tap_ok(c1 && c1->sink_count == 1 && strcmp(c1->sinks[0].module, "test-sink") == 0 &&
               c1->sinks[0].raw_count == 3 && c1->sinks[0].raw[0].line == 19,
           "channel 1 sink binding, option lines kept");
    tap_ok(cfg->defaults && cfg->defaults->id == 0 && cfg->defaults->sink_count == 1 &&
               strcmp(cfg->defaults->profile, "pal") == 0,
           "channel_defaults parsed");

    rc = config_bind(cfg, reg, err, sizeof(err));
    tap_ok(rc == RV_OK, "valid config binds: %s", err);
    if (rc != RV_OK) {
        config_free(cfg);
        return;
    }
    const rv_option *popts = c1->producers[0].mod ? c1->producers[0].mod->info->options : NULL;
    tap_ok(popts && c1->producers[0].mod == registry_find(reg, "test-producer") &&
               options_get_int(c1->producers[0].options, "level") == 200 &&
               strcmp(options_get_string(c1->producers[0].options, "pattern"), "ramp") == 0 &&
               options_get_bool(c1->producers[0].options, "tone") == 0,
           "producer options typed, defaults filled in");
    snprintf(want, sizeof(want), "%s/out/log.jsonl", tmp_dir);
    tap_ok(strcmp(options_get_string(c1->sinks[0].options, "path"), want) == 0,
           "relative PATH option resolved against the config folder: %s",
           options_get_string(c1->sinks[0].options, "path"));
    tap_ok(strcmp(c1->sinks[0].raw[1].s, "out/log.jsonl") == 0, "raw PATH value kept as written");
    tap_ok(options_get_float(c1->sinks[0].options, "ratio") == 1.0,
           "an integer is accepted for a FLOAT option");
    tap_ok(options_get_bool(c1->renderer.options, "invert") == 1 &&
               c1->renderer.mod == registry_find(reg, "test-renderer"),
           "renderer bound with its option");
    tap_ok(c7->producer_count == 1 && strcmp(c7->producers[0].module, "test-producer") == 0 &&
               c7->producers[0].mod && c7->producers[0].options,
           "unlisted producers default to every loaded producer, with default options");
    tap_ok(cfg->defaults->slate.mod && cfg->defaults->sinks[0].options, "channel_defaults bound");

    rc = config_bind(cfg, reg, err, sizeof(err));
    tap_ok(rc == RV_OK && strcmp(options_get_string(c1->sinks[0].options, "path"), want) == 0 &&
               c7->producer_count == 1,
           "binding twice changes nothing");

    config_channel *clone = config_channel_clone(c1);
    tap_ok(clone && clone != c1 && strcmp(clone->name, "Demo") == 0 &&
               clone->producers[0].options != c1->producers[0].options &&
               options_equal(clone->producers[0].options, c1->producers[0].options) &&
               options_equal(clone->sinks[0].options, c1->sinks[0].options) &&
               clone->sinks[0].raw[0].key != c1->sinks[0].raw[0].key &&
               strcmp(clone->renderer.module, "test-renderer") == 0,
           "channel clone is deep and equal");
    config_channel_free(clone);

    config_binding copy;
    tap_ok(config_binding_copy(&copy, &c1->slate) == RV_OK && copy.mod == c1->slate.mod &&
               strcmp(copy.key_path, "channels.[0].slate") == 0 &&
               options_equal(copy.options, c1->slate.options),
           "binding copy");
    config_binding_clear(&copy);
    tap_ok(copy.module == NULL && copy.options == NULL, "binding clear zeroes it");

    config_channel *d = config_channel_for_id(cfg, 42);
    tap_ok(d && d->id == 42 && strcmp(d->name, "Channel 42") == 0 && d->sink_count == 1 &&
               d->format.audio_rate == 44100,
           "channel_for_id(42) comes from channel_defaults with name \"Channel 42\"");
    config_channel_free(d);
    d = config_channel_for_id(cfg, 1);
    tap_ok(d && strcmp(d->name, "Demo") == 0, "channel_for_id(1) is the listed channel");
    config_channel_free(d);
    config_free(cfg);
}

static void test_minimal(void)
{
    char path[512];
    char err[1024] = "";
    snprintf(path, sizeof(path), "%s/minimal.conf", tmp_dir);
    FILE *f = fopen(path, "w");
    fputs("engine: { module_dir = \"/m\"; };\n", f);
    fclose(f);
    config *cfg = NULL;
    int rc = config_load(path, &cfg, err, sizeof(err));
    tap_ok(rc == RV_OK && cfg && cfg->log_level == RV_LOG_INFO && cfg->channel_count == 0 &&
               !cfg->defaults && cfg->control_listen_count == 0 && !cfg->metrics_listen &&
               !cfg->asrun_dir && !cfg->plans_dir && cfg->decoder_threads == 0 &&
               cfg->encoder_threads == 0,
           "minimal config: defaults (log level info, nothing optional, no plans_dir, threads "
           "sized by the host) %s", err);
    tap_ok(cfg && config_channel_for_id(cfg, 3) == NULL,
           "without channel_defaults an unlisted id has no channel");
    config_free(cfg);

    /* A module search path: a list, each folder resolved, joined with ':'. */
    f = fopen(path, "w");
    fputs("engine: { module_dir = [ \"/usr/lib/m\", \"extra/../third\" ]; plans_dir = \"/p\"; };\n",
          f);
    fclose(f);
    rc = config_load(path, &cfg, err, sizeof(err));
    char want[700];
    snprintf(want, sizeof(want), "/usr/lib/m:%s/third", tmp_dir);
    tap_ok(rc == RV_OK && cfg && strcmp(cfg->module_dir, want) == 0,
           "module_dir as a list: every folder resolved, in order: %s %s",
           cfg ? cfg->module_dir : "", err);
    config_free(cfg);

    snprintf(path, sizeof(path), "%s/missing.conf", tmp_dir);
    rc = config_load(path, &cfg, err, sizeof(err));
    tap_ok(rc == RV_ENOENT && strstr(err, "missing.conf: cannot open") != NULL,
           "a missing file is RV_ENOENT: %s", err);
}

/** The access keys set: token files resolved against the file's folder,
 *  the opt-in, limits and public paths read. */
static void test_access(void)
{
    char path[512];
    char want[600];
    char err[1024] = "";
    snprintf(path, sizeof(path), "%s/access.conf", tmp_dir);
    FILE *f = fopen(path, "w");
    fputs("engine: { module_dir = \"/m\"; control_token_file = \"t/control.token\";\n"
          "  control_insecure_tcp = true; control_max_connections = 5;\n"
          "  control_max_connections_per_peer = 2; control_idle_timeout_ms = 1000;\n"
          "  fd_reserve = 64; http_token_file = \"/abs/http.token\";\n"
          "  http_public_paths = [ \"/healthz\" ]; http_max_connections = 9;\n"
          "  http_max_connections_per_peer = 3; http_timeout_s = 30; };\n",
          f);
    fclose(f);
    config *cfg = NULL;
    int rc = config_load(path, &cfg, err, sizeof(err));
    snprintf(want, sizeof(want), "%s/t/control.token", tmp_dir);
    const config_access *a = cfg ? &cfg->access : NULL;
    tap_ok(rc == RV_OK && a && strcmp(a->control_token_file, want) == 0 &&
               strcmp(a->http_token_file, "/abs/http.token") == 0 && a->control_insecure_tcp &&
               a->control_max_connections == 5 && a->control_max_per_peer == 2 &&
               a->control_idle_timeout_ms == 1000 && a->fd_reserve == 64 &&
               a->http_public_count == 1 && strcmp(a->http_public_paths[0], "/healthz") == 0 &&
               a->http_max_connections == 9 && a->http_max_per_peer == 3 &&
               a->http_timeout_s == 30,
           "access keys read, token files resolved against the file (%s)", err);
    config_free(cfg);
    unlink(path);
}

static void test_case(const config_case *c, const module_registry *reg, int index)
{
    char path[512];
    char err[1024] = "";
    snprintf(path, sizeof(path), "%s/case%02d.conf", tmp_dir, index);
    write_config(path, c->line, c->text);
    config *cfg = NULL;
    int rc = config_load(path, &cfg, err, sizeof(err));
    if (c->bind) {
        if (rc != RV_OK) {
            tap_ok(0, "%s: loads before binding, got: %s", c->what, err);
            return;
        }
        rc = config_bind(cfg, reg, err, sizeof(err));
    }
    char want[800];
    if (c->key)
        snprintf(want, sizeof(want), "%s:%d: %s: ", path, c->err_line, c->key);
    else
        snprintf(want, sizeof(want), "%s:%d: ", path, c->err_line);
    int code = c->code ? c->code : RV_EINVAL;
    int ok = rc == code && strncmp(err, want, strlen(want)) == 0 &&
             strstr(err + strlen(want), c->reason) != NULL;
    tap_ok(ok, "%s: %s", c->what, err);
    if (!ok)
        tap_diag("wanted %d and '%s...%s'", code, want, c->reason);
    config_free(cfg);
    unlink(path);
}

int main(void)
{
    if (!mkdtemp(tmp_dir)) {
        tap_ok(0, "mkdtemp");
        return tap_done();
    }
    log_set_level(RV_LOG_ERROR);
    module_registry *reg = registry_create();
    int n = registry_scan_dir(reg, RV_TEST_MODULE_DIR);
    tap_ok(n == 3, "the 3 good test modules load (%d)", n);

    test_valid(reg);
    test_minimal();
    test_access();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        test_case(&cases[i], reg, (int)i);

    char path[600];
    snprintf(path, sizeof(path), "%s/good.conf", tmp_dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/minimal.conf", tmp_dir);
    unlink(path);
    rmdir(tmp_dir);
    registry_destroy(reg);
    return tap_done();
}
