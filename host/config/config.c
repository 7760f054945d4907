/**
 * @file host/config/config.c
 * @short The engine's configuration: load a libconfig file or text into a
 *        config (the root's sections, each read by its own file), look up
 *        channels and profiles, free it.
 *
 * A config owns every string and array it holds; each binding owns its raw
 * options and, after config_bind, its rv_options (whose table lives in the
 * module's .so, so the registry must outlive the config). Every error names
 * "<file>:<line>: <key path>: <reason>". Thread: the main thread (start-up);
 * read-only after.
 */
#include "config/config_internal.h"

#include <errno.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf_text.h"

static const char *const config_root_keys[] = {"engine", "profiles", "channels", "channel_defaults",
                                               NULL};

/** Parse @p text (borrowed; NULL: read the file @p path) into *@p out.
 *  @p path names the source in errors and gives the folder relative paths
 *  resolve against (none for a text). */
static int config_load_source(const char *path, const char *text, config **out, char *err,
                              size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    *out = NULL;
    char *dir = config_folder(path);
    config *cfg = calloc(1, sizeof(*cfg));
    config_t cf;
    config_init(&cf);
    FILE *f = NULL;
    int rc;
    if (!dir || !cfg || !(cfg->path = strdup(path))) {
        rc = RV_ENOMEM;
        if (err && errlen)
            snprintf(err, errlen, "%s: out of memory", path);
        goto fail;
    }
    if (text)
        dir[0] = '\0';
    config_parse p = {.file = path, .dir = dir, .err = err, .errlen = errlen};

    if (!text) {
        f = fopen(path, "r");
        if (!f) {
            int e = errno;
            rc = e == ENOENT ? RV_ENOENT : e == EACCES ? RV_EACCES : RV_EIO;
            if (err && errlen)
                snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
            goto fail;
        }
        config_set_include_dir(&cf, dir[0] ? dir : ".");
    }
    rc = text ? conf_text_check(text, strlen(text), path, err, errlen)
              : conf_text_check_stream(f, path, err, errlen);
    if (rc != RV_OK)
        goto fail;
    if ((text ? config_read_string(&cf, text) : config_read(&cf, f)) != CONFIG_TRUE) {
        rc = RV_EINVAL;
        if (err && errlen)
            snprintf(err, errlen, "%s:%d: syntax: %s",
                     config_error_file(&cf) ? config_error_file(&cf) : path, config_error_line(&cf),
                     config_error_text(&cf));
        goto fail;
    }
    const config_setting_t *root = config_root_setting(&cf);
    if ((rc = config_check_keys(&p, root, "", config_root_keys)) ||
        (rc = config_read_engine(&p, root, cfg)) || (rc = config_read_profiles(&p, root, cfg)) ||
        (rc = config_read_channels(&p, root, cfg)))
        goto fail;

    if (f)
        fclose(f);
    config_destroy(&cf);
    free(dir);
    *out = cfg;
    return RV_OK;

fail:
    if (f)
        fclose(f);
    config_destroy(&cf);
    free(dir);
    config_free(cfg);
    return rc;
}

int config_load(const char *path, config **out, char *err, size_t errlen)
{
    return config_load_source(path, NULL, out, err, errlen);
}

int config_load_text(const char *name, const char *text, config **out, char *err, size_t errlen)
{
    if (!text || !name) {
        *out = NULL;
        return RV_EINVAL;
    }
    return config_load_source(name, text, out, err, errlen);
}

const config_channel *config_find_channel(const config *cfg, int32_t id)
{
    for (size_t i = 0; cfg && i < cfg->channel_count; i++) {
        if (cfg->channels[i].id == id)
            return &cfg->channels[i];
    }
    return NULL;
}

const config_profile *config_find_profile(const config *cfg, const char *name)
{
    for (size_t i = 0; cfg && name && i < cfg->profile_count; i++) {
        if (cfg->profiles[i].name && strcmp(cfg->profiles[i].name, name) == 0)
            return &cfg->profiles[i];
    }
    return NULL;
}

void config_free(config *cfg)
{
    if (!cfg)
        return;
    free(cfg->path);
    free(cfg->module_dir);
    free(cfg->plans_dir);
    for (size_t i = 0; cfg->media_roots && i < cfg->media_root_count; i++)
        free(cfg->media_roots[i]);
    free(cfg->media_roots);
    for (size_t i = 0; cfg->control_listen && i < cfg->control_listen_count; i++)
        free(cfg->control_listen[i]);
    free(cfg->control_listen);
    free(cfg->metrics_listen);
    free(cfg->asrun_dir);
    config_access_clear(&cfg->access);
    for (size_t i = 0; cfg->profiles && i < cfg->profile_count; i++)
        free(cfg->profiles[i].name);
    free(cfg->profiles);
    for (size_t i = 0; cfg->channels && i < cfg->channel_count; i++)
        config_channel_clear(&cfg->channels[i]);
    free(cfg->channels);
    config_channel_free(cfg->defaults);
    free(cfg);
}
