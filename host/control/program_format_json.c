/**
 * @file host/control/program_format_json.c
 * @short program_format_json parsing (see program_format_json.h). Owns only
 *        the jansson document while parsing.
 */
#include "control/program_format_json.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <retrovue/error.h>

#define PF_MIN_SIZE 16
#define PF_MAX_WIDTH 7680
#define PF_MAX_HEIGHT 4320
#define PF_MIN_FPS 1
#define PF_MAX_FPS 120
#define PF_MIN_AUDIO_RATE 8000
#define PF_MAX_AUDIO_RATE 192000
#define PF_MAX_AUDIO_CHANNELS 8
#define PF_DEFAULT_AUDIO_RATE 48000
#define PF_DEFAULT_AUDIO_CHANNELS 2

static int64_t pf_gcd(int64_t a, int64_t b)
{
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/** Check 1..120 fps and reduce. */
static int pf_rate_check(int64_t num, int64_t den, const char *text, rv_rational *out, char *err,
                         size_t errlen)
{
    if (num <= 0 || den <= 0 || num > INT32_MAX || den > INT32_MAX) {
        snprintf(err, errlen, "frame_rate '%s' must have a positive numerator and denominator",
                 text);
        return RV_EINVAL;
    }
    if (num < (int64_t)PF_MIN_FPS * den || num > (int64_t)PF_MAX_FPS * den) {
        snprintf(err, errlen, "frame_rate '%s' is out of range (%d..%d fps)", text, PF_MIN_FPS,
                 PF_MAX_FPS);
        return RV_EINVAL;
    }
    int64_t g = pf_gcd(num, den);
    out->num = (int32_t)(num / g);
    out->den = (int32_t)(den / g);
    return RV_OK;
}

/** A decimal frames-per-second value: whole numbers are N/1; 23.976, 29.97,
 *  59.94 (and any N*1000/1001 to 3 decimals) are the 1001 rates; other
 *  decimals are taken exactly to 3 places. */
static int pf_rate_from_double(double fps, const char *text, rv_rational *out, char *err,
                               size_t errlen)
{
    if (!isfinite(fps) || fps < PF_MIN_FPS - 1e-9 || fps > PF_MAX_FPS + 1e-9) {
        snprintf(err, errlen, "frame_rate '%s' is out of range (%d..%d fps)", text, PF_MIN_FPS,
                 PF_MAX_FPS);
        return RV_EINVAL;
    }
    double whole = round(fps);
    if (fabs(fps - whole) < 1e-9)
        return pf_rate_check((int64_t)whole, 1, text, out, err, errlen);
    double ntsc = round(fps * 1.001);
    if (fabs(fps - ntsc / 1.001) < 0.0006)
        return pf_rate_check((int64_t)ntsc * 1000, 1001, text, out, err, errlen);
    double milli = round(fps * 1000.0);
    if (fabs(fps * 1000.0 - milli) < 1e-6)
        return pf_rate_check((int64_t)milli, 1000, text, out, err, errlen);
    snprintf(err, errlen, "frame_rate '%s' is not exact: write it as \"N/D\"", text);
    return RV_EINVAL;
}

/** Digits only, at least one, value <= INT32_MAX. */
static int pf_parse_uint(const char *s, size_t n, int64_t *out)
{
    if (n == 0 || n > 10)
        return 0;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    if (v > INT32_MAX)
        return 0;
    *out = v;
    return 1;
}

int program_format_parse_rate(const char *text, rv_rational *out, char *err, size_t errlen)
{
    if (!text || !text[0]) {
        snprintf(err, errlen, "frame_rate is empty (expected \"N/D\", e.g. \"30000/1001\")");
        return RV_EINVAL;
    }
    const char *slash = strchr(text, '/');
    int64_t num;
    int64_t den;
    if (slash) {
        if (!pf_parse_uint(text, (size_t)(slash - text), &num) ||
            !pf_parse_uint(slash + 1, strlen(slash + 1), &den)) {
            snprintf(err, errlen, "frame_rate '%s' is not \"N/D\" with whole numbers", text);
            return RV_EINVAL;
        }
        return pf_rate_check(num, den, text, out, err, errlen);
    }
    if (pf_parse_uint(text, strlen(text), &num))
        return pf_rate_check(num, 1, text, out, err, errlen);
    char *end = NULL;
    errno = 0;
    double fps = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !(text[0] >= '0' && text[0] <= '9')) {
        snprintf(err, errlen, "frame_rate '%s' is not a rate (expected \"N/D\", e.g. \"30000/1001\")",
                 text);
        return RV_EINVAL;
    }
    return pf_rate_from_double(fps, text, out, err, errlen);
}

/** An integer member @p key of @p obj within [lo, hi]; @p def when absent
 *  and @p def >= 0, required otherwise. */
static int pf_get_int(const json_t *obj, const char *section, const char *key, json_int_t lo,
                      json_int_t hi, json_int_t def, uint32_t *out, char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        if (def >= 0) {
            *out = (uint32_t)def;
            return RV_OK;
        }
        snprintf(err, errlen, "%s.%s is missing", section, key);
        return RV_EINVAL;
    }
    if (!json_is_integer(v)) {
        snprintf(err, errlen, "%s.%s must be an integer", section, key);
        return RV_EINVAL;
    }
    json_int_t n = json_integer_value(v);
    if (n < lo || n > hi) {
        snprintf(err, errlen, "%s.%s = %lld is out of range (%lld..%lld)", section, key,
                 (long long)n, (long long)lo, (long long)hi);
        return RV_EINVAL;
    }
    *out = (uint32_t)n;
    return RV_OK;
}

static int pf_get_rate(const json_t *video, rv_rational *out, char *err, size_t errlen)
{
    json_t *v = json_object_get(video, "frame_rate");
    char text[64];
    char why[192];
    int rc;
    if (!v) {
        snprintf(err, errlen, "video.frame_rate is missing");
        return RV_EINVAL;
    }
    if (json_is_string(v)) {
        rc = program_format_parse_rate(json_string_value(v), out, why, sizeof(why));
    } else if (json_is_integer(v)) {
        snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(v));
        rc = program_format_parse_rate(text, out, why, sizeof(why));
    } else if (json_is_real(v)) {
        snprintf(text, sizeof(text), "%g", json_real_value(v));
        rc = pf_rate_from_double(json_real_value(v), text, out, why, sizeof(why));
    } else {
        snprintf(err, errlen, "video.frame_rate must be a string \"N/D\" or a number");
        return RV_EINVAL;
    }
    if (rc != RV_OK)
        snprintf(err, errlen, "video.%s", why);
    return rc;
}

static int pf_parse_video(const json_t *root, rv_program_format *f, char *err, size_t errlen)
{
    json_t *video = json_object_get(root, "video");
    if (!video) {
        snprintf(err, errlen, "\"video\" is missing");
        return RV_EINVAL;
    }
    if (!json_is_object(video)) {
        snprintf(err, errlen, "\"video\" must be an object");
        return RV_EINVAL;
    }
    int rc = pf_get_int(video, "video", "width", PF_MIN_SIZE, PF_MAX_WIDTH, -1, &f->width, err,
                        errlen);
    if (rc == RV_OK)
        rc = pf_get_int(video, "video", "height", PF_MIN_SIZE, PF_MAX_HEIGHT, -1, &f->height, err,
                        errlen);
    if (rc != RV_OK)
        return rc;
    if (f->width % 2 != 0 || f->height % 2 != 0) {
        snprintf(err, errlen, "video size %ux%u must be even (4:2:0)", f->width, f->height);
        return RV_EINVAL;
    }
    return pf_get_rate(video, &f->frame_rate, err, errlen);
}

static int pf_parse_audio(const json_t *root, rv_program_format *f, char *err, size_t errlen)
{
    json_t *audio = json_object_get(root, "audio");
    if (!audio) {
        f->audio_rate = PF_DEFAULT_AUDIO_RATE;
        f->audio_channels = PF_DEFAULT_AUDIO_CHANNELS;
        return RV_OK;
    }
    if (!json_is_object(audio)) {
        snprintf(err, errlen, "\"audio\" must be an object");
        return RV_EINVAL;
    }
    int rc = pf_get_int(audio, "audio", "sample_rate", PF_MIN_AUDIO_RATE, PF_MAX_AUDIO_RATE,
                        PF_DEFAULT_AUDIO_RATE, &f->audio_rate, err, errlen);
    if (rc != RV_OK)
        return rc;
    return pf_get_int(audio, "audio", "channels", 1, PF_MAX_AUDIO_CHANNELS,
                      PF_DEFAULT_AUDIO_CHANNELS, &f->audio_channels, err, errlen);
}

int program_format_from_json(const char *json, rv_program_format *out, char *err, size_t errlen)
{
    char why[256];
    json_error_t jerr;
    rv_program_format f = {0};
    int rc = RV_EINVAL;
    json_t *root = json_loads(json ? json : "", JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(err, errlen, "program_format_json is not valid JSON (line %d, column %d: %s)",
                 jerr.line, jerr.column, jerr.text);
        return RV_EINVAL;
    }
    if (!json_is_object(root)) {
        snprintf(err, errlen, "program_format_json must be a JSON object");
        goto done;
    }
    rc = pf_parse_video(root, &f, why, sizeof(why));
    if (rc == RV_OK)
        rc = pf_parse_audio(root, &f, why, sizeof(why));
    if (rc != RV_OK) {
        snprintf(err, errlen, "program_format_json: %s", why);
        goto done;
    }
    *out = f;
done:
    json_decref(root);
    return rc;
}
