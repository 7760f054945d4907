/**
 * @file host/config/config_channels.c
 * @short The config file's channels and channel_defaults: each channel's id,
 *        name, profile, autostart_plan, encode policy and bindings as written
 *        (producers, slate, renderer, sinks; module, encoder, raw options).
 *
 * Owns nothing itself: the channels go into the config it is given, which
 * owns them. Binding to loaded modules is config_bind's (config_bind.c).
 * Thread: the main thread.
 */
#include "config/config_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const config_channel_keys[] = {
    "id",   "name",     "profile", "autostart_plan", "producers", "slate", "renderer",
    "sinks", "encode", NULL};
static const char *const config_defaults_keys[] = {"profile",  "producers", "slate",
                                                   "renderer", "sinks",     "encode", NULL};
static const char *const config_binding_keys[] = {"module", "options", "encoder", NULL};

int config_default_binding(const config_parse *p, config_binding *b, const char *module,
                                  int line, const char *key_path)
{
    b->module = strdup(module);
    b->key_path = strdup(key_path);
    b->line = line;
    if (!b->module || !b->key_path)
        return config_oom(p, line, key_path);
    return RV_OK;
}

/** The scalar @p s as a raw option (key and string copied into @p out). */
static int config_read_raw(const config_parse *p, const config_setting_t *s, const char *key,
                           raw_option *out)
{
    out->line = config_line(s);
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_BOOL:
        out->type = RAW_BOOL;
        out->i = config_setting_get_bool(s) ? 1 : 0;
        break;
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
        out->type = RAW_INT;
        out->i = config_setting_get_int64(s);
        break;
    case CONFIG_TYPE_FLOAT:
        out->type = RAW_FLOAT;
        out->f = config_setting_get_float(s);
        break;
    case CONFIG_TYPE_STRING:
        out->type = RAW_STRING;
        if (!(out->s = strdup(config_setting_get_string(s))))
            return config_oom(p, out->line, key);
        break;
    default: return config_fail(p, out->line, key, "must be a boolean, a number or a string");
    }
    if (!(out->key = strdup(config_setting_name(s))))
        return config_oom(p, out->line, key);
    return RV_OK;
}

static int config_read_binding(const config_parse *p, const config_setting_t *s, const char *path,
                               config_binding *b)
{
    b->line = config_line(s);
    if (!(b->key_path = strdup(path)))
        return config_oom(p, b->line, path);
    if (!config_setting_is_group(s))
        return config_fail(p, b->line, path, "must be a group { module = \"...\"; }");
    int rc = config_check_keys(p, s, path, config_binding_keys);
    if (rc)
        return rc;
    const char *module;
    if ((rc = config_get_string(p, s, path, "module", 1, &module)))
        return rc;
    if (!(b->module = strdup(module)))
        return config_oom(p, b->line, path);
    if (config_setting_get_member(s, "encoder")) {
        const char *encoder;
        if ((rc = config_get_string(p, s, path, "encoder", 1, &encoder)))
            return rc;
        if (!(b->encoder = strdup(encoder)))
            return config_oom(p, b->line, path);
    }

    const config_setting_t *opts = config_setting_get_member(s, "options");
    if (!opts)
        return RV_OK;
    char key[CONFIG_KEY_MAX];
    config_key(key, sizeof(key), path, "options");
    if (!config_setting_is_group(opts))
        return config_fail(p, config_line(opts), key, "must be a group { key = value; }");
    int n = config_setting_length(opts);
    b->raw = calloc((size_t)n + 1, sizeof(raw_option));
    if (!b->raw)
        return config_oom(p, b->line, key);
    for (int i = 0; i < n; i++) {
        const config_setting_t *o = config_setting_get_elem(opts, (unsigned)i);
        char okey[CONFIG_KEY_MAX];
        config_key(okey, sizeof(okey), key, config_setting_name(o));
        b->raw_count++;
        if ((rc = config_read_raw(p, o, okey, &b->raw[i])))
            return rc;
    }
    return RV_OK;
}

/** A list of bindings (producers, sinks). */
static int config_read_binding_list(const config_parse *p, const config_setting_t *ch,
                                    const char *path, const char *name, int allow_empty,
                                    config_binding **out, size_t *count)
{
    const config_setting_t *s = config_setting_get_member(ch, name);
    if (!s)
        return RV_OK;
    char key[CONFIG_KEY_MAX];
    config_key(key, sizeof(key), path, name);
    if (!config_setting_is_list(s))
        return config_fail(p, config_line(s), key, "must be a list ( { module = \"...\"; }, ... )");
    int n = config_setting_length(s);
    if (n == 0 && !allow_empty)
        return config_fail(p, config_line(s), key,
                           "is empty (leave it out to use every loaded producer)");
    *out = calloc((size_t)n + 1, sizeof(config_binding));
    if (!*out)
        return config_oom(p, config_line(s), key);
    for (int i = 0; i < n; i++) {
        char ikey[CONFIG_KEY_MAX];
        config_key_index(ikey, sizeof(ikey), key, i);
        (*count)++;
        int rc = config_read_binding(p, config_setting_get_elem(s, (unsigned)i), ikey, &(*out)[i]);
        if (rc)
            return rc;
    }
    return RV_OK;
}

/** slate or renderer: the group if present, else the default module. */
static int config_read_role(const config_parse *p, const config_setting_t *ch, const char *path,
                            const char *name, const char *def, config_binding *b)
{
    char key[CONFIG_KEY_MAX];
    config_key(key, sizeof(key), path, name);
    const config_setting_t *s = config_setting_get_member(ch, name);
    if (!s)
        return config_default_binding(p, b, def, config_line(ch), key);
    return config_read_binding(p, s, key, b);
}

static int config_read_channel(const config_parse *p, const config_setting_t *s, const char *path,
                               const config *cfg, int is_defaults, config_channel *ch)
{
    ch->line = config_line(s);
    if (!config_setting_is_group(s))
        return config_fail(p, ch->line, path, "must be a group { id = ...; ... }");
    int rc =
        config_check_keys(p, s, path, is_defaults ? config_defaults_keys : config_channel_keys);
    if (rc)
        return rc;
    char key[CONFIG_KEY_MAX];
    if (!is_defaults) {
        int64_t id;
        if ((rc = config_get_int(p, s, path, "id", 1, 0, 1, INT32_MAX, &id)))
            return rc;
        for (size_t i = 0; i < cfg->channel_count; i++) {
            if (cfg->channels[i].id == id) {
                config_key(key, sizeof(key), path, "id");
                return config_fail(p, config_line(config_setting_get_member(s, "id")), key,
                                   "channel id %lld is already used at line %d", (long long)id,
                                   cfg->channels[i].line);
            }
        }
        ch->id = (int32_t)id;
        const char *name;
        if ((rc = config_get_string(p, s, path, "name", 0, &name)))
            return rc;
        if (name)
            ch->name = strdup(name);
        else if (asprintf(&ch->name, "Channel %d", ch->id) < 0)
            ch->name = NULL;
        const char *plan;
        if ((rc = config_get_string(p, s, path, "autostart_plan", 0, &plan)))
            return rc;
        if (plan && !plan[0]) {
            config_key(key, sizeof(key), path, "autostart_plan");
            return config_fail(p, config_line(config_setting_get_member(s, "autostart_plan")), key,
                               "must not be empty (leave it out for no autostart)");
        }
        if (plan && !cfg->plans_dir) {
            config_key(key, sizeof(key), path, "autostart_plan");
            return config_fail(p, config_line(config_setting_get_member(s, "autostart_plan")), key,
                               "needs engine.plans_dir (the folder of plan files)");
        }
        if (plan && !(ch->autostart_plan = strdup(plan)))
            return config_oom(p, ch->line, path);
    } else {
        ch->name = strdup("");
    }
    if (!ch->name)
        return config_oom(p, ch->line, path);

    const char *profile;
    if ((rc = config_get_string(p, s, path, "profile", 1, &profile)))
        return rc;
    const config_profile *prof = config_find_profile(cfg, profile);
    if (!prof) {
        char names[512];
        size_t pos = 0;
        names[0] = '\0';
        for (size_t i = 0; i < cfg->profile_count && pos < sizeof(names); i++) {
            int w = snprintf(names + pos, sizeof(names) - pos, "%s%s", i ? ", " : "",
                             cfg->profiles[i].name);
            pos += w > 0 ? (size_t)w : 0;
        }
        config_key(key, sizeof(key), path, "profile");
        return config_fail(p, config_line(config_setting_get_member(s, "profile")), key,
                           "profile '%s' is not defined (profiles: %s)", profile,
                           cfg->profile_count ? names : "none");
    }
    if (!(ch->profile = strdup(profile)))
        return config_oom(p, ch->line, path);
    ch->format = prof->format;

    const char *encode;
    if ((rc = config_get_string(p, s, path, "encode", 0, &encode)))
        return rc;
    if (encode && strcmp(encode, "on-demand") == 0) {
        ch->on_demand = 1;
    } else if (encode && strcmp(encode, "always") != 0) {
        config_key(key, sizeof(key), path, "encode");
        return config_fail(p, config_line(config_setting_get_member(s, "encode")), key,
                           "'%s' is not a policy (\"always\" or \"on-demand\")", encode);
    }

    if ((rc = config_read_binding_list(p, s, path, "producers", 0, &ch->producers,
                                       &ch->producer_count)) ||
        (rc = config_read_role(p, s, path, "slate", "slate", &ch->slate)) ||
        (rc = config_read_role(p, s, path, "renderer", "null", &ch->renderer)) ||
        (rc = config_read_binding_list(p, s, path, "sinks", 1, &ch->sinks, &ch->sink_count)))
        return rc;
    return RV_OK;
}

int config_read_channels(const config_parse *p, const config_setting_t *root, config *cfg)
{
    const config_setting_t *s = config_setting_get_member(root, "channels");
    if (s) {
        if (!config_setting_is_list(s))
            return config_fail(p, config_line(s), "channels",
                               "must be a list ( { id = 1; ... }, ... )");
        int n = config_setting_length(s);
        cfg->channels = calloc((size_t)n + 1, sizeof(config_channel));
        if (!cfg->channels)
            return config_oom(p, config_line(s), "channels");
        for (int i = 0; i < n; i++) {
            char key[CONFIG_KEY_MAX];
            config_key_index(key, sizeof(key), "channels", i);
            config_channel ch = {0};
            int rc =
                config_read_channel(p, config_setting_get_elem(s, (unsigned)i), key, cfg, 0, &ch);
            cfg->channels[cfg->channel_count++] = ch;
            if (rc)
                return rc;
        }
    }
    const config_setting_t *d = config_setting_get_member(root, "channel_defaults");
    if (!d)
        return RV_OK;
    if (!(cfg->defaults = calloc(1, sizeof(config_channel))))
        return config_oom(p, config_line(d), "channel_defaults");
    return config_read_channel(p, d, "channel_defaults", cfg, 1, cfg->defaults);
}
