/**
 * @file host/config/config_copy.c
 * @short Deep copies of a binding and a channel (a channel session owns its
 *        own), the channel an id stands for, and freeing them.
 *
 * A copy owns every string, array and rv_options it holds; the module
 * pointers (mod, encoder_mod) stay borrowed from the registry. Thread: any,
 * on a config nobody changes meanwhile.
 */
#include "config/config_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void config_binding_clear(config_binding *b)
{
    if (!b)
        return;
    free(b->module);
    for (size_t i = 0; b->raw && i < b->raw_count; i++)
        raw_option_free(&b->raw[i]);
    free(b->raw);
    free(b->key_path);
    free(b->encoder);
    options_free(b->options);
    options_free(b->encoder_options);
    memset(b, 0, sizeof(*b));
}

static char *config_strdup_or_null(const char *s, int *failed)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *failed = 1;
    return d;
}

int config_binding_copy(config_binding *dst, const config_binding *src)
{
    int failed = 0;
    memset(dst, 0, sizeof(*dst));
    dst->module = config_strdup_or_null(src->module, &failed);
    dst->key_path = config_strdup_or_null(src->key_path, &failed);
    dst->encoder = config_strdup_or_null(src->encoder, &failed);
    dst->line = src->line;
    dst->mod = src->mod;
    dst->encoder_mod = src->encoder_mod;
    if (src->encoder_options) {
        dst->encoder_options = options_clone(src->encoder_options);
        failed |= !dst->encoder_options;
    }
    if (src->raw_count) {
        dst->raw = calloc(src->raw_count, sizeof(raw_option));
        failed |= !dst->raw;
        for (size_t i = 0; dst->raw && i < src->raw_count; i++) {
            dst->raw[i] = src->raw[i];
            dst->raw[i].key = config_strdup_or_null(src->raw[i].key, &failed);
            dst->raw[i].s = config_strdup_or_null(src->raw[i].s, &failed);
            dst->raw_count++;
        }
    }
    if (src->options) {
        dst->options = options_clone(src->options);
        failed |= !dst->options;
    }
    if (failed) {
        config_binding_clear(dst);
        return RV_ENOMEM;
    }
    return RV_OK;
}

static int config_copy_bindings(config_binding **dst, size_t *dst_count, const config_binding *src,
                                size_t count)
{
    *dst = calloc(count + 1, sizeof(config_binding));
    if (!*dst)
        return RV_ENOMEM;
    for (size_t i = 0; i < count; i++) {
        if (config_binding_copy(&(*dst)[i], &src[i]) != RV_OK)
            return RV_ENOMEM;
        (*dst_count)++;
    }
    return RV_OK;
}

config_channel *config_channel_clone(const config_channel *src)
{
    if (!src)
        return NULL;
    config_channel *ch = calloc(1, sizeof(*ch));
    if (!ch)
        return NULL;
    int failed = 0;
    ch->id = src->id;
    ch->format = src->format;
    ch->line = src->line;
    ch->on_demand = src->on_demand;
    ch->name = config_strdup_or_null(src->name, &failed);
    ch->profile = config_strdup_or_null(src->profile, &failed);
    ch->autostart_plan = config_strdup_or_null(src->autostart_plan, &failed);
    if (failed ||
        config_copy_bindings(&ch->producers, &ch->producer_count, src->producers,
                             src->producer_count) != RV_OK ||
        config_binding_copy(&ch->slate, &src->slate) != RV_OK ||
        config_binding_copy(&ch->renderer, &src->renderer) != RV_OK ||
        config_copy_bindings(&ch->sinks, &ch->sink_count, src->sinks, src->sink_count) != RV_OK)
        goto fail;
    return ch;

fail:
    config_channel_free(ch);
    return NULL;
}

config_channel *config_channel_for_id(const config *cfg, int32_t id)
{
    const config_channel *listed = config_find_channel(cfg, id);
    if (listed)
        return config_channel_clone(listed);
    if (!cfg || !cfg->defaults || id <= 0)
        return NULL;
    config_channel *ch = config_channel_clone(cfg->defaults);
    if (!ch)
        return NULL;
    ch->id = id;
    free(ch->name);
    if (asprintf(&ch->name, "Channel %d", id) < 0) {
        ch->name = NULL;
        config_channel_free(ch);
        return NULL;
    }
    return ch;
}

/** Free what @p ch holds, not @p ch itself. */
void config_channel_clear(config_channel *ch)
{
    free(ch->name);
    free(ch->profile);
    free(ch->autostart_plan);
    for (size_t i = 0; ch->producers && i < ch->producer_count; i++)
        config_binding_clear(&ch->producers[i]);
    free(ch->producers);
    config_binding_clear(&ch->slate);
    config_binding_clear(&ch->renderer);
    for (size_t i = 0; ch->sinks && i < ch->sink_count; i++)
        config_binding_clear(&ch->sinks[i]);
    free(ch->sinks);
    memset(ch, 0, sizeof(*ch));
}

void config_channel_free(config_channel *ch)
{
    if (!ch)
        return;
    config_channel_clear(ch);
    free(ch);
}
