/**
 * @file host/config/config_bind.c
 * @short config_bind: every binding of a parsed config checked against the
 *        loaded modules, its options built against the module's option table;
 *        a transport also gets its encoder and the encoder's options.
 *
 * Each binding owns the rv_options built for it; their tables live in the
 * modules' .so, so the registry must outlive the config. Thread: the main
 * thread.
 */
#include "config/config_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/** The encoder a transport binding uses when it names none. */
#define CONFIG_DEFAULT_ENCODER "mpegts"

static const rv_option *config_find_option(const rv_option *table, const char *key)
{
    for (size_t i = 0; table && table[i].key; i++) {
        if (strcmp(table[i].key, key) == 0)
            return &table[i];
    }
    return NULL;
}

/** "unknown module 'x' (loaded: a, b)" detail into @p buf. */
static void config_loaded_names(const module_registry *reg, char *buf, size_t len)
{
    size_t pos = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < registry_count(reg) && pos < len; i++) {
        int w = snprintf(buf + pos, len - pos, "%s%s", i ? ", " : "", registry_at(reg, i)->name);
        pos += w > 0 ? (size_t)w : 0;
    }
    if (!registry_count(reg))
        snprintf(buf, len, "no modules are loaded");
}

/** Build the options of @p m from the raw values of @p b that @p m declares
 *  (all of them when @p only_declared is 0: an unknown key is then an
 *  error naming it). */
static int config_build_options(const config_parse *p, const loaded_module *m, config_binding *b,
                                int only_declared, rv_options **out)
{
    /* Relative PATH values resolve against the config file's folder; the
     * raw values stay as written so binding twice resolves once. */
    char key[CONFIG_KEY_MAX];
    raw_option *raw = NULL;
    char **resolved = NULL;
    size_t n = 0;
    char detail[512] = "";
    int rc = RV_OK;
    *out = NULL;
    if (b->raw_count) {
        raw = calloc(b->raw_count, sizeof(*raw));
        resolved = calloc(b->raw_count, sizeof(*resolved));
        if (!raw || !resolved) {
            rc = config_oom(p, b->line, b->key_path);
            goto done;
        }
    }
    for (size_t i = 0; i < b->raw_count; i++) {
        const rv_option *o = config_find_option(m->info->options, b->raw[i].key);
        if (!o && only_declared)
            continue;
        raw[n] = b->raw[i];
        if (o && o->type == RV_OPT_PATH && raw[n].type == RAW_STRING && raw[n].s) {
            if (!(resolved[n] = config_resolve(p->dir, raw[n].s))) {
                rc = config_oom(p, raw[n].line, b->key_path);
                goto done;
            }
            raw[n].s = resolved[n];
        }
        n++;
    }
    rc = options_build(m->info->options, raw, n, out, detail, sizeof(detail));
    if (rc != RV_OK) {
        /* detail is "key: reason": name that key and point at its line. */
        int line = b->line;
        const char *reason = detail;
        const char *colon = strstr(detail, ": ");
        if (colon) {
            int klen = (int)(colon - detail);
            snprintf(key, sizeof(key), "%s.options.%.*s", b->key_path, klen, detail);
            reason = colon + 2;
            for (size_t i = 0; i < b->raw_count; i++) {
                if (strlen(b->raw[i].key) == (size_t)klen &&
                    strncmp(b->raw[i].key, detail, (size_t)klen) == 0 && b->raw[i].line)
                    line = b->raw[i].line;
            }
        } else {
            config_key(key, sizeof(key), b->key_path, "options");
        }
        rc = config_fail(p, line, key, "%s", reason);
    }
done:
    for (size_t i = 0; resolved && i < n; i++)
        free(resolved[i]);
    free(resolved);
    free(raw);
    return rc;
}

/** A transport binding: its own options and its encoder's, split by which
 *  module declares each key (the transport wins a key both declare). */
static int config_bind_transport(const config_parse *p, const module_registry *reg,
                                 const loaded_module *m, config_binding *b)
{
    char key[CONFIG_KEY_MAX];
    const char *ename = b->encoder ? b->encoder : CONFIG_DEFAULT_ENCODER;
    const loaded_module *enc = registry_find(reg, ename);
    config_key(key, sizeof(key), b->key_path, "encoder");
    if (!enc)
        return config_fail(p, b->line, key, "transport '%s' needs the encoder module '%s', "
                           "which is not loaded", b->module, ename);
    if (enc->kind != RV_KIND_ENCODER)
        return config_fail(p, b->line, key, "'%s' is a %s, not an encoder", ename,
                           rv_module_kind_name(enc->kind));
    for (size_t i = 0; i < b->raw_count; i++) {
        if (config_find_option(m->info->options, b->raw[i].key) ||
            config_find_option(enc->info->options, b->raw[i].key))
            continue;
        config_key(key, sizeof(key), b->key_path, "options");
        char okey[CONFIG_KEY_MAX];
        config_key(okey, sizeof(okey), key, b->raw[i].key);
        return config_fail(p, b->raw[i].line ? b->raw[i].line : b->line, okey,
                           "unknown option (neither transport '%s' nor its encoder '%s' "
                           "declares it)", b->module, ename);
    }
    rv_options *topts = NULL;
    rv_options *eopts = NULL;
    int rc = config_build_options(p, m, b, 1, &topts);
    if (rc == RV_OK) {
        /* keys the transport declares are not the encoder's */
        config_binding only_enc = *b;
        raw_option *kept = calloc(b->raw_count + 1, sizeof(*kept));
        if (!kept) {
            options_free(topts);
            return config_oom(p, b->line, b->key_path);
        }
        only_enc.raw = kept;
        only_enc.raw_count = 0;
        for (size_t i = 0; i < b->raw_count; i++)
            if (!config_find_option(m->info->options, b->raw[i].key))
                kept[only_enc.raw_count++] = b->raw[i];
        rc = config_build_options(p, enc, &only_enc, 1, &eopts);
        free(kept);
    }
    if (rc != RV_OK) {
        options_free(topts);
        return rc;
    }
    options_free(b->options);
    options_free(b->encoder_options);
    b->options = topts;
    b->encoder_options = eopts;
    b->mod = m;
    b->encoder_mod = enc;
    return RV_OK;
}

static int config_bind_one(const config_parse *p, const module_registry *reg, rv_module_kind kind,
                           config_binding *b)
{
    char key[CONFIG_KEY_MAX];
    config_key(key, sizeof(key), b->key_path, "module");
    const loaded_module *m = registry_find(reg, b->module);
    if (!m) {
        char names[1024];
        config_loaded_names(reg, names, sizeof(names));
        return config_fail(p, b->line, key, "unknown module '%s' (loaded: %s)", b->module, names);
    }
    if (kind == RV_KIND_SINK && m->kind == RV_KIND_TRANSPORT)
        return config_bind_transport(p, reg, m, b);
    if (m->kind != kind)
        return config_fail(p, b->line, key, "'%s' is a %s, not a %s%s", b->module,
                           rv_module_kind_name(m->kind), rv_module_kind_name(kind),
                           kind == RV_KIND_SINK ? " or a transport" : "");
    if (b->encoder) {
        config_key(key, sizeof(key), b->key_path, "encoder");
        return config_fail(p, b->line, key, "only a transport takes an encoder ('%s' is a %s)",
                           b->module, rv_module_kind_name(m->kind));
    }
    rv_options *opts = NULL;
    int rc = config_build_options(p, m, b, 0, &opts);
    if (rc != RV_OK)
        return rc;
    options_free(b->options);
    b->options = opts;
    b->mod = m;
    return RV_OK;
}

static int config_bind_channel(const config_parse *p, const module_registry *reg,
                               config_channel *ch, const char *path)
{
    int rc;
    if (ch->producer_count == 0) {
        /* Not configured: every loaded producer, in registry order. */
        size_t n = 0;
        for (size_t i = 0; i < registry_count(reg); i++)
            n += registry_at(reg, i)->kind == RV_KIND_PRODUCER;
        free(ch->producers);
        ch->producers = calloc(n + 1, sizeof(config_binding));
        if (!ch->producers)
            return config_oom(p, ch->line, path);
        for (size_t i = 0; i < registry_count(reg); i++) {
            const loaded_module *m = registry_at(reg, i);
            if (m->kind != RV_KIND_PRODUCER)
                continue;
            char key[CONFIG_KEY_MAX];
            char base[CONFIG_KEY_MAX];
            config_key(base, sizeof(base), path, "producers");
            config_key_index(key, sizeof(key), base, (int)ch->producer_count);
            config_binding *b = &ch->producers[ch->producer_count++];
            if ((rc = config_default_binding(p, b, m->name, ch->line, key)))
                return rc;
        }
    }
    for (size_t i = 0; i < ch->producer_count; i++) {
        if ((rc = config_bind_one(p, reg, RV_KIND_PRODUCER, &ch->producers[i])))
            return rc;
    }
    if ((rc = config_bind_one(p, reg, RV_KIND_PRODUCER, &ch->slate)) ||
        (rc = config_bind_one(p, reg, RV_KIND_RENDERER, &ch->renderer)))
        return rc;
    for (size_t i = 0; i < ch->sink_count; i++) {
        if ((rc = config_bind_one(p, reg, RV_KIND_SINK, &ch->sinks[i])))
            return rc;
    }
    return RV_OK;
}

int config_bind(config *cfg, const module_registry *reg, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!cfg || !reg)
        return RV_EINVAL;
    char *dir = config_folder(cfg->path);
    if (!dir)
        return RV_ENOMEM;
    config_parse p = {.file = cfg->path, .dir = dir, .err = err, .errlen = errlen};
    int rc = RV_OK;
    for (size_t i = 0; i < cfg->channel_count && rc == RV_OK; i++) {
        char key[CONFIG_KEY_MAX];
        config_key_index(key, sizeof(key), "channels", (int)i);
        rc = config_bind_channel(&p, reg, &cfg->channels[i], key);
    }
    if (rc == RV_OK && cfg->defaults)
        rc = config_bind_channel(&p, reg, cfg->defaults, "channel_defaults");
    free(dir);
    return rc;
}
