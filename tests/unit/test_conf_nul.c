/**
 * @file tests/unit/test_conf_nul.c
 * @short NUL bytes in config and plan files (issue 16): libconfig cut a
 *        string at a raw NUL ("slate<NUL>evil" read as "slate") and dropped
 *        a "\x00" escape; both are now refused with the file and line, while
 *        the same text in a comment or an escaped backslash stays valid.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <retrovue/error.h>

#include "config/config.h"
#include "core/conf_text.h"
#include "plan/plan.h"
#include "tap.h"

static const char CONFIG_FMT[] =
    "engine: { module_dir = \"/tmp\"; };\n"
    "profiles: { p: { width = 640; height = 360; frame_rate = \"25\"; }; };\n"
    "channels: ( { id = 1; name = \"%s\"; profile = \"p\"; } );\n";

int main(void)
{
    char err[512] = "";
    char text[1024];
    tap_plan(9);

    static const char raw[] = "a = \"slate\0evil\";\n";
    tap_ok(conf_text_check(raw, sizeof(raw) - 1, "raw.conf", err, sizeof(err)) == RV_EINVAL &&
               strstr(err, "raw.conf:1: a raw NUL byte"),
           "a raw NUL byte is refused with file and line: %s", err);
    const char *esc = "# ok\nb = \"slate\\x00evil\";\n";
    tap_ok(conf_text_check(esc, strlen(esc), "esc.conf", err, sizeof(err)) == RV_EINVAL &&
               strstr(err, "esc.conf:2: a string holds the escape \\x00"),
           "a \\x00 escape in a string is refused: %s", err);
    const char *fine = "# \\x00 in a comment\n/* \"\\x00\" */ a = \"c:\\\\x00\"; // \\x00\n";
    tap_ok(conf_text_check(fine, strlen(fine), "fine.conf", err, sizeof(err)) == RV_OK,
           "\\x00 in comments and after an escaped backslash is text, not a NUL");

    plan *p = plan_parse_string("blocks = ( { id = \"a\"; start_utc_ms = 0; end_utc_ms = 1000;\n"
                                "  segments = ( { type = \"CONTENT\"; asset_uri = "
                                "\"slate:bars\\x00evil\"; duration_ms = 1000; } ); } );\n",
                                "nul", err, sizeof(err));
    tap_ok(p == NULL && strstr(err, "<nul>:2: a string holds the escape"),
           "a plan whose asset_uri holds \\x00 is refused: %s", err);
    plan_unref(p);

    config *cfg = NULL;
    snprintf(text, sizeof(text), CONFIG_FMT, "Chan\\x00nel");
    tap_ok(config_load_text("nul.conf", text, &cfg, err, sizeof(err)) == RV_EINVAL &&
               strstr(err, "nul.conf:3:"),
           "a config text with \\x00 in a string is refused: %s", err);
    config_free(cfg);
    cfg = NULL;

    char path[] = "/tmp/rv-conf-nul-XXXXXX";
    int fd = mkstemp(path);
    snprintf(text, sizeof(text), CONFIG_FMT, "Chan#nel");
    size_t len = strlen(text);
    *strchr(text, '#') = '\0'; /* a raw NUL inside the channel's name */
    int wrote = fd >= 0 && write(fd, text, len) == (ssize_t)len;
    if (fd >= 0)
        close(fd);
    int rc = wrote ? config_load(path, &cfg, err, sizeof(err)) : RV_EIO;
    tap_ok(rc == RV_EINVAL && strstr(err, ":3: a raw NUL byte"),
           "a config file with a raw NUL in a string is refused (not read as \"Chan\"): %s", err);
    config_free(cfg);
    cfg = NULL;

    snprintf(text, sizeof(text), CONFIG_FMT, "Chan\\\\x00nel");
    rc = config_load_text("ok.conf", text, &cfg, err, sizeof(err));
    tap_ok(rc == RV_OK && cfg && cfg->channel_count == 1 &&
               strcmp(cfg->channels[0].name, "Chan\\x00nel") == 0,
           "an escaped backslash before x00 is kept as text (%s)", rc == RV_OK ? "ok" : err);
    config_free(cfg);
    cfg = NULL;

    FILE *f = fopen(path, "w");
    if (f) {
        snprintf(text, sizeof(text), CONFIG_FMT, "Channel");
        fputs(text, f);
        fclose(f);
    }
    rc = config_load(path, &cfg, err, sizeof(err));
    tap_ok(rc == RV_OK, "the same file without the NUL loads (%s)", rc == RV_OK ? "ok" : err);
    tap_ok(cfg && cfg->channel_count == 1 && strcmp(cfg->channels[0].name, "Channel") == 0,
           "and reads every key after the check rewound the file");
    config_free(cfg);
    unlink(path);
    return tap_done();
}
