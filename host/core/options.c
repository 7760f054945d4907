/**
 * @file host/core/options.c
 * @short rv_options: a module instance's validated option values, one per
 *        entry of the module's declared table, defaults filled in.
 *
 * An rv_options owns its value array and every string in it; the table it
 * was built against is borrowed (it lives in the module's .so, which the
 * loader keeps loaded while instances exist). Every error message begins with
 * the offending key: "key: reason".
 */
#include "core/options.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <retrovue/error.h>

#include "core/log.h"

typedef struct option_value {
    int set;      /**< given in the config (not defaulted) */
    int64_t i;    /**< BOOL, INT */
    double f;     /**< FLOAT */
    char *s;      /**< STRING, ENUM, PATH; owned, never NULL */
} option_value;

struct rv_options {
    const rv_option *table;  /**< borrowed */
    size_t count;            /**< entries of the table */
    option_value *values;    /**< owned, count entries */
};

__attribute__((format(printf, 3, 4))) static int options_fail(char *err, size_t errlen,
                                                             const char *fmt, ...)
{
    va_list ap;
    if (err != NULL && errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return RV_EINVAL;
}

static size_t options_table_count(const rv_option *table)
{
    size_t n = 0;
    while (table != NULL && table[n].key != NULL)
        n++;
    return n;
}

static const char *options_type_name(rv_option_type type)
{
    switch (type) {
    case RV_OPT_BOOL: return "a boolean";
    case RV_OPT_INT: return "an integer";
    case RV_OPT_FLOAT: return "a number";
    case RV_OPT_STRING: return "a string";
    case RV_OPT_ENUM: return "one of the choices";
    case RV_OPT_PATH: return "a path";
    default: return "a value";
    }
}

static const char *options_raw_type_name(raw_value_type type)
{
    switch (type) {
    case RAW_BOOL: return "a boolean";
    case RAW_INT: return "an integer";
    case RAW_FLOAT: return "a float";
    case RAW_STRING: return "a string";
    default: return "an unknown type";
    }
}

static int options_range_unbounded_int(const rv_option *o)
{
    return o->min_int == 0 && o->max_int == 0;
}

static int options_range_unbounded_float(const rv_option *o)
{
    return o->min_float == 0.0 && o->max_float == 0.0;
}

/** "a, b, c" of an ENUM's choices into @p buf. */
static const char *options_choices_text(const rv_option *o, char *buf, size_t len)
{
    size_t pos = 0;
    buf[0] = '\0';
    for (size_t i = 0; o->choices != NULL && o->choices[i] != NULL && pos < len; i++) {
        int n = snprintf(buf + pos, len - pos, "%s%s", i > 0 ? ", " : "", o->choices[i]);
        if (n < 0)
            break;
        pos += (size_t)n;
    }
    return buf;
}

static int options_in_choices(const rv_option *o, const char *s)
{
    for (size_t i = 0; o->choices != NULL && o->choices[i] != NULL; i++) {
        if (strcmp(o->choices[i], s) == 0)
            return 1;
    }
    return 0;
}

static int options_index(const rv_options *opts, const char *key)
{
    if (opts == NULL || key == NULL)
        return -1;
    for (size_t i = 0; i < opts->count; i++) {
        if (strcmp(opts->table[i].key, key) == 0)
            return (int)i;
    }
    return -1;
}

/** Check @p raw against the declared option @p o and store it in @p v. */
static int options_convert(const rv_option *o, const raw_option *raw, option_value *v, char *err,
                           size_t errlen)
{
    char choices[512];
    switch (o->type) {
    case RV_OPT_BOOL:
        if (raw->type != RAW_BOOL)
            break;
        v->i = raw->i != 0;
        return RV_OK;
    case RV_OPT_INT:
        if (raw->type != RAW_INT)
            break;
        if (!options_range_unbounded_int(o) && (raw->i < o->min_int || raw->i > o->max_int))
            return options_fail(err, errlen, "%s: %lld is out of range [%lld, %lld]", o->key,
                                (long long)raw->i, (long long)o->min_int, (long long)o->max_int);
        v->i = raw->i;
        return RV_OK;
    case RV_OPT_FLOAT: {
        if (raw->type != RAW_FLOAT && raw->type != RAW_INT)
            break;
        double f = raw->type == RAW_INT ? (double)raw->i : raw->f;
        if (!isfinite(f))
            return options_fail(err, errlen, "%s: value is not a finite number", o->key);
        if (!options_range_unbounded_float(o) && (f < o->min_float || f > o->max_float))
            return options_fail(err, errlen, "%s: %g is out of range [%g, %g]", o->key, f,
                                o->min_float, o->max_float);
        v->f = f;
        return RV_OK;
    }
    case RV_OPT_ENUM:
        if (raw->type != RAW_STRING || raw->s == NULL)
            break;
        if (!options_in_choices(o, raw->s))
            return options_fail(err, errlen, "%s: '%s' is not one of: %s", o->key, raw->s,
                                options_choices_text(o, choices, sizeof(choices)));
        /* fall through */
    case RV_OPT_STRING:
    case RV_OPT_PATH: {
        if (raw->type != RAW_STRING || raw->s == NULL)
            break;
        char *s = strdup(raw->s);
        if (s == NULL)
            return options_fail(err, errlen, "%s: out of memory", o->key);
        free(v->s);
        v->s = s;
        return RV_OK;
    }
    default:
        return options_fail(err, errlen, "%s: undeclared option type %d", o->key, (int)o->type);
    }
    return options_fail(err, errlen, "%s: expected %s, got %s", o->key, options_type_name(o->type),
                        options_raw_type_name(raw->type));
}

/** A set with every value at its default; the table must be checked. */
static rv_options *options_new_defaults(const rv_option *table)
{
    rv_options *opts = calloc(1, sizeof(*opts));
    if (opts == NULL)
        return NULL;
    opts->table = table;
    opts->count = options_table_count(table);
    opts->values = calloc(opts->count + 1, sizeof(option_value));
    if (opts->values == NULL)
        goto fail;
    for (size_t i = 0; i < opts->count; i++) {
        const rv_option *o = &table[i];
        option_value *v = &opts->values[i];
        v->i = o->default_int;
        v->f = o->default_float;
        v->s = strdup(o->default_string != NULL ? o->default_string : "");
        if (v->s == NULL)
            goto fail;
    }
    return opts;

fail:
    options_free(opts);
    return NULL;
}

int options_table_check(const rv_option *table, char *err, size_t errlen)
{
    char choices[512];
    size_t n = options_table_count(table);
    for (size_t i = 0; i < n; i++) {
        const rv_option *o = &table[i];
        if (o->key[0] == '\0')
            return options_fail(err, errlen, "option #%zu: empty key", i);
        for (size_t j = 0; j < i; j++) {
            if (strcmp(table[j].key, o->key) == 0)
                return options_fail(err, errlen, "%s: declared twice (#%zu and #%zu)", o->key, j,
                                    i);
        }
        switch (o->type) {
        case RV_OPT_BOOL:
            if (o->default_int != 0 && o->default_int != 1)
                return options_fail(err, errlen, "%s: boolean default must be 0 or 1, not %lld",
                                    o->key, (long long)o->default_int);
            break;
        case RV_OPT_INT:
            if (options_range_unbounded_int(o))
                break;
            if (o->min_int > o->max_int)
                return options_fail(err, errlen, "%s: range [%lld, %lld] is empty", o->key,
                                    (long long)o->min_int, (long long)o->max_int);
            if (o->default_int < o->min_int || o->default_int > o->max_int)
                return options_fail(err, errlen, "%s: default %lld is out of range [%lld, %lld]",
                                    o->key, (long long)o->default_int, (long long)o->min_int,
                                    (long long)o->max_int);
            break;
        case RV_OPT_FLOAT:
            if (!isfinite(o->default_float) || !isfinite(o->min_float) ||
                !isfinite(o->max_float))
                return options_fail(err, errlen, "%s: default and range must be finite", o->key);
            if (options_range_unbounded_float(o))
                break;
            if (o->min_float > o->max_float)
                return options_fail(err, errlen, "%s: range [%g, %g] is empty", o->key,
                                    o->min_float, o->max_float);
            if (o->default_float < o->min_float || o->default_float > o->max_float)
                return options_fail(err, errlen, "%s: default %g is out of range [%g, %g]",
                                    o->key, o->default_float, o->min_float, o->max_float);
            break;
        case RV_OPT_ENUM:
            if (o->choices == NULL || o->choices[0] == NULL)
                return options_fail(err, errlen, "%s: enum without choices", o->key);
            if (o->default_string == NULL || !options_in_choices(o, o->default_string))
                return options_fail(err, errlen, "%s: default '%s' is not one of: %s", o->key,
                                    o->default_string != NULL ? o->default_string : "(null)",
                                    options_choices_text(o, choices, sizeof(choices)));
            break;
        case RV_OPT_STRING:
        case RV_OPT_PATH:
            break;
        default:
            return options_fail(err, errlen, "%s: invalid type %d", o->key, (int)o->type);
        }
    }
    return RV_OK;
}

/** "unknown option 'x' (known: a, b, c)" for @p key. */
static int options_unknown(const rv_option *table, const char *key, char *err, size_t errlen)
{
    char known[1024];
    size_t pos = 0;
    size_t n = options_table_count(table);
    known[0] = '\0';
    for (size_t i = 0; i < n && pos < sizeof(known); i++) {
        int w = snprintf(known + pos, sizeof(known) - pos, "%s%s", i > 0 ? ", " : "",
                         table[i].key);
        if (w < 0)
            break;
        pos += (size_t)w;
    }
    return options_fail(err, errlen, "%s: unknown option '%s' (known: %s)", key, key,
                        n > 0 ? known : "none");
}

int options_build(const rv_option *table, const raw_option *raw, size_t count, rv_options **out,
                  char *err, size_t errlen)
{
    if (out == NULL)
        return RV_EINVAL;
    *out = NULL;
    int rc = options_table_check(table, err, errlen);
    if (rc != RV_OK)
        return rc;
    rv_options *opts = options_new_defaults(table);
    if (opts == NULL)
        return options_fail(err, errlen, "options: out of memory");
    for (size_t r = 0; r < count; r++) {
        const char *key = raw[r].key != NULL ? raw[r].key : "";
        int i = options_index(opts, key);
        if (i < 0) {
            rc = options_unknown(table, key, err, errlen);
            goto fail;
        }
        if (opts->values[i].set) {
            rc = options_fail(err, errlen, "%s: set twice", key);
            goto fail;
        }
        rc = options_convert(&table[i], &raw[r], &opts->values[i], err, errlen);
        if (rc != RV_OK)
            goto fail;
        opts->values[i].set = 1;
    }
    *out = opts;
    return RV_OK;

fail:
    options_free(opts);
    return rc;
}

int options_defaults(const rv_option *table, rv_options **out, char *err, size_t errlen)
{
    return options_build(table, NULL, 0, out, err, errlen);
}

int options_override(rv_options *opts, const raw_option *value, char *err, size_t errlen)
{
    if (opts == NULL || value == NULL || value->key == NULL)
        return options_fail(err, errlen, "options: nothing to override");
    int i = options_index(opts, value->key);
    if (i < 0)
        return options_unknown(opts->table, value->key, err, errlen);
    /* Convert into a scratch value so a refused value changes nothing. */
    option_value v = opts->values[i];
    v.s = NULL;
    int rc = options_convert(&opts->table[i], value, &v, err, errlen);
    if (rc != RV_OK) {
        free(v.s);
        return rc;
    }
    if (v.s == NULL)
        v.s = opts->values[i].s;
    else
        free(opts->values[i].s);
    v.set = 1;
    opts->values[i] = v;
    return RV_OK;
}

rv_options *options_clone(const rv_options *opts)
{
    if (opts == NULL)
        return NULL;
    rv_options *copy = calloc(1, sizeof(*copy));
    if (copy == NULL)
        return NULL;
    copy->table = opts->table;
    copy->count = opts->count;
    copy->values = calloc(opts->count + 1, sizeof(option_value));
    if (copy->values == NULL)
        goto fail;
    for (size_t i = 0; i < opts->count; i++) {
        copy->values[i] = opts->values[i];
        copy->values[i].s = strdup(opts->values[i].s);
        if (copy->values[i].s == NULL)
            goto fail;
    }
    return copy;

fail:
    options_free(copy);
    return NULL;
}

int options_equal(const rv_options *a, const rv_options *b)
{
    if (a == b)
        return 1;
    if (a == NULL || b == NULL || a->count != b->count)
        return 0;
    for (size_t i = 0; i < a->count; i++) {
        const rv_option *o = &a->table[i];
        const option_value *va = &a->values[i];
        const option_value *vb = &b->values[i];
        if (strcmp(o->key, b->table[i].key) != 0 || o->type != b->table[i].type)
            return 0;
        switch (o->type) {
        case RV_OPT_BOOL:
        case RV_OPT_INT:
            if (va->i != vb->i)
                return 0;
            break;
        case RV_OPT_FLOAT:
            if (va->f != vb->f)
                return 0;
            break;
        default:
            if (strcmp(va->s, vb->s) != 0)
                return 0;
            break;
        }
    }
    return 1;
}

void options_free(rv_options *opts)
{
    if (opts == NULL)
        return;
    for (size_t i = 0; opts->values != NULL && i < opts->count; i++)
        free(opts->values[i].s);
    free(opts->values);
    free(opts);
}

/** The value of @p key, or NULL (and a logged bug) when undeclared. */
static const option_value *options_lookup(const rv_options *opts, const char *key,
                                          rv_option_type *type)
{
    int i = options_index(opts, key);
    if (i < 0) {
        log_error("bug: option '%s' is not declared by the module", key != NULL ? key : "(null)");
        return NULL;
    }
    *type = opts->table[i].type;
    return &opts->values[i];
}

int options_get_bool(const rv_options *opts, const char *key)
{
    rv_option_type type;
    const option_value *v = options_lookup(opts, key, &type);
    if (v == NULL)
        return 0;
    if (type == RV_OPT_FLOAT)
        return v->f != 0.0;
    return v->i != 0;
}

int64_t options_get_int(const rv_options *opts, const char *key)
{
    rv_option_type type;
    const option_value *v = options_lookup(opts, key, &type);
    if (v == NULL)
        return 0;
    if (type == RV_OPT_FLOAT)
        return (int64_t)v->f;
    return v->i;
}

double options_get_float(const rv_options *opts, const char *key)
{
    rv_option_type type;
    const option_value *v = options_lookup(opts, key, &type);
    if (v == NULL)
        return 0.0;
    if (type == RV_OPT_BOOL || type == RV_OPT_INT)
        return (double)v->i;
    return v->f;
}

const char *options_get_string(const rv_options *opts, const char *key)
{
    rv_option_type type;
    const option_value *v = options_lookup(opts, key, &type);
    if (v == NULL)
        return NULL;
    if (type != RV_OPT_STRING && type != RV_OPT_ENUM && type != RV_OPT_PATH) {
        log_error("bug: option '%s' is not a string option", key);
        return NULL;
    }
    return v->s;
}

int options_is_set(const rv_options *opts, const char *key)
{
    int i = options_index(opts, key);
    return i >= 0 && opts->values[i].set;
}

void raw_option_free(raw_option *raw)
{
    if (raw == NULL)
        return;
    free(raw->key);
    free(raw->s);
    raw->key = NULL;
    raw->s = NULL;
}
