/**
 * @file host/config/config_defaults.c
 * @short Config-less mode's built-in config (a libconfig text through the
 *        file parser) and the command line's engine overrides.
 *
 * Owns nothing beyond the strings it puts into the config it is given.
 * Thread: the main thread, at start-up and at SIGHUP reload.
 */
#include "config/config_defaults.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <retrovue/error.h>

/** The built-in config; %s is the module folder as a libconfig string body. */
static const char config_defaults_text[] =
    "engine: {\n"
    "  module_dir = \"%s\";\n"
    "  log_level = \"info\";\n"
    "};\n"
    "profiles: {\n"
    "  default: { width = 1920; height = 1080; frame_rate = \"30000/1001\";\n"
    "             audio_rate = 48000; audio_channels = 2; };\n"
    "};\n"
    "channel_defaults: {\n"
    "  profile = \"default\";\n"
    "  producers = ( { module = \"ffmpeg-file\"; }, { module = \"slate\"; } );\n"
    "  slate = { module = \"slate\"; };\n"
    "  renderer = { module = \"null\"; };\n"
    "};\n";

/** @p s as the body of a libconfig "..." string (quote and backslash
 *  escaped) into a new string; NULL when @p s holds a control character. */
static char *config_defaults_escape(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(2 * n + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c < 0x20 || *c == 0x7f) {
            free(out);
            return NULL;
        }
        if (*c == '"' || *c == '\\')
            out[o++] = '\\';
        out[o++] = (char)*c;
    }
    out[o] = '\0';
    return out;
}

int config_load_defaults(const char *module_dir, config **out, char *err, size_t errlen)
{
    *out = NULL;
    char *dir = config_defaults_escape(module_dir);
    if (!dir) {
        if (err && errlen)
            snprintf(err, errlen, "module folder '%s' holds a control character", module_dir);
        return RV_EINVAL;
    }
    char *text = NULL;
    if (asprintf(&text, config_defaults_text, dir) < 0) {
        free(dir);
        return RV_ENOMEM;
    }
    int rc = config_load_text(CONFIG_DEFAULTS_NAME, text, out, err, errlen);
    free(text);
    free(dir);
    return rc;
}

/** control_listen with every "HOST:PORT" entry replaced by @p address, the
 *  "unix:" entries kept, into a new array of *@p count owned strings. */
static char **config_defaults_listen(const config *cfg, const char *address, size_t *count)
{
    char **list = calloc(cfg->control_listen_count + 2, sizeof(char *));
    if (!list)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < cfg->control_listen_count; i++) {
        if (strncmp(cfg->control_listen[i], "unix:", 5) != 0)
            continue;
        if (!(list[n++] = strdup(cfg->control_listen[i])))
            goto fail;
    }
    if (!(list[n++] = strdup(address)))
        goto fail;
    *count = n;
    return list;

fail:
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
    return NULL;
}

int config_apply_overrides(config *cfg, const config_overrides *ov, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!cfg || !ov)
        return RV_EINVAL;
    if (ov->control_address && !config_host_port_valid(ov->control_address)) {
        if (err && errlen)
            snprintf(err, errlen, "--port/--address: '%s' is not \"HOST:PORT\"",
                     ov->control_address);
        return RV_EINVAL;
    }
    if (ov->metrics_listen && !config_host_port_valid(ov->metrics_listen)) {
        if (err && errlen)
            snprintf(err, errlen, "--metrics-listen: '%s' is not \"HOST:PORT\"",
                     ov->metrics_listen);
        return RV_EINVAL;
    }
    if (ov->asrun_dir && !ov->asrun_dir[0]) {
        if (err && errlen)
            snprintf(err, errlen, "--asrun-dir: must not be empty");
        return RV_EINVAL;
    }

    /* Build everything first so a failure leaves cfg as it was. */
    size_t listen_count = 0;
    char **listen = NULL;
    char *metrics = NULL;
    char *asrun = NULL;
    if ((ov->control_address &&
         !(listen = config_defaults_listen(cfg, ov->control_address, &listen_count))) ||
        (ov->metrics_listen && !(metrics = strdup(ov->metrics_listen))) ||
        (ov->asrun_dir && !(asrun = strdup(ov->asrun_dir)))) {
        for (size_t i = 0; listen && i < listen_count; i++)
            free(listen[i]);
        free(listen);
        free(metrics);
        free(asrun);
        return RV_ENOMEM;
    }
    if (listen) {
        /* RetroVue Core's client connects to 127.0.0.1:P without credentials. */
        cfg->access.control_insecure_tcp = 1;
        for (size_t i = 0; i < cfg->control_listen_count; i++)
            free(cfg->control_listen[i]);
        free(cfg->control_listen);
        cfg->control_listen = listen;
        cfg->control_listen_count = listen_count;
    }
    if (metrics) {
        free(cfg->metrics_listen);
        cfg->metrics_listen = metrics;
    }
    if (asrun) {
        free(cfg->asrun_dir);
        cfg->asrun_dir = asrun;
    }
    return RV_OK;
}
