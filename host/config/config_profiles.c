/**
 * @file host/config/config_profiles.c
 * @short The config file's profiles section: named ProgramFormats (width,
 *        height, frame_rate "N/D", audio_rate, audio_channels).
 *
 * Owns nothing itself: the profiles go into the config it is given, which
 * owns them. Thread: the main thread.
 */
#include "config/config_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const config_profile_keys[] = {"width",      "height",         "frame_rate",
                                                  "audio_rate", "audio_channels", NULL};

/** "N/D" or "N" with positive int32 parts and 1 <= N/D <= 120. */
static int config_parse_rate(const char *s, rv_rational *out)
{
    int64_t part[2] = {0, 1};
    int idx = 0;
    int digits = 0;
    for (const char *c = s;; c++) {
        if (*c >= '0' && *c <= '9') {
            part[idx] = part[idx] * 10 + (*c - '0');
            if (part[idx] > INT32_MAX)
                return RV_EINVAL;
            digits++;
        } else if (*c == '/' && idx == 0 && digits) {
            idx = 1;
            part[1] = 0;
            digits = 0;
        } else if (*c == '\0' && digits) {
            break;
        } else {
            return RV_EINVAL;
        }
    }
    if (part[0] < 1 || part[1] < 1 || part[0] < part[1] || part[0] > 120 * part[1])
        return RV_EINVAL;
    out->num = (int32_t)part[0];
    out->den = (int32_t)part[1];
    return RV_OK;
}

static int config_read_profile(const config_parse *p, const config_setting_t *g,
                               config_profile *out)
{
    char path[CONFIG_KEY_MAX];
    const char *name = config_setting_name(g);
    config_key(path, sizeof(path), "profiles", name);
    if (!config_setting_is_group(g))
        return config_fail(p, config_line(g), path, "must be a group { width = ...; ... }");
    if (!(out->name = strdup(name)))
        return config_oom(p, config_line(g), path);
    int rc = config_check_keys(p, g, path, config_profile_keys);
    if (rc)
        return rc;

    int64_t width, height, rate, channels;
    char key[CONFIG_KEY_MAX];
    if ((rc = config_get_int(p, g, path, "width", 1, 0, 16, 7680, &width)) ||
        (rc = config_get_int(p, g, path, "height", 1, 0, 16, 4320, &height)) ||
        (rc = config_get_int(p, g, path, "audio_rate", 0, 48000, 8000, 192000, &rate)) ||
        (rc = config_get_int(p, g, path, "audio_channels", 0, 2, 1, 8, &channels)))
        return rc;
    if (width % 2) {
        config_key(key, sizeof(key), path, "width");
        return config_fail(p, config_line(config_setting_get_member(g, "width")), key,
                           "%lld is odd (4:2:0 needs an even width)", (long long)width);
    }
    if (height % 2) {
        config_key(key, sizeof(key), path, "height");
        return config_fail(p, config_line(config_setting_get_member(g, "height")), key,
                           "%lld is odd (4:2:0 needs an even height)", (long long)height);
    }

    config_key(key, sizeof(key), path, "frame_rate");
    const config_setting_t *fr = config_setting_get_member(g, "frame_rate");
    if (!fr)
        return config_fail(p, config_line(g), key, "missing (required)");
    char text[64];
    if (config_setting_type(fr) == CONFIG_TYPE_STRING)
        snprintf(text, sizeof(text), "%s", config_setting_get_string(fr));
    else if (config_setting_type(fr) == CONFIG_TYPE_INT ||
             config_setting_type(fr) == CONFIG_TYPE_INT64)
        snprintf(text, sizeof(text), "%lld", (long long)config_setting_get_int64(fr));
    else
        return config_fail(p, config_line(fr), key, "must be a string \"N/D\" or \"N\"");
    if (config_parse_rate(text, &out->format.frame_rate) != RV_OK)
        return config_fail(p, config_line(fr), key,
                           "'%s' must be \"N/D\" or \"N\" (positive 32-bit integers) with "
                           "1 <= N/D <= 120",
                           text);
    out->format.width = (uint32_t)width;
    out->format.height = (uint32_t)height;
    out->format.audio_rate = (uint32_t)rate;
    out->format.audio_channels = (uint32_t)channels;
    return RV_OK;
}

int config_read_profiles(const config_parse *p, const config_setting_t *root, config *cfg)
{
    const config_setting_t *g = config_setting_get_member(root, "profiles");
    if (!g)
        return RV_OK;
    if (!config_setting_is_group(g))
        return config_fail(p, config_line(g), "profiles", "must be a group { name: { ... }; }");
    int n = config_setting_length(g);
    cfg->profiles = calloc((size_t)n + 1, sizeof(config_profile));
    if (!cfg->profiles)
        return config_oom(p, config_line(g), "profiles");
    for (int i = 0; i < n; i++) {
        int rc = config_read_profile(p, config_setting_get_elem(g, (unsigned)i), &cfg->profiles[i]);
        cfg->profile_count++;
        if (rc)
            return rc;
    }
    return RV_OK;
}
