/**
 * @file host/core/options.h
 * @short rv_options: a module instance's validated, typed option values,
 *        built from raw config values against the module's declared table.
 */
#ifndef RV_HOST_OPTIONS_H
#define RV_HOST_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include <retrovue/option.h>

/** Type of a raw value as written in a config file. Never zero. */
typedef enum raw_value_type {
    RAW_BOOL = 1,
    RAW_INT = 2,
    RAW_FLOAT = 3,
    RAW_STRING = 4
} raw_value_type;

/** One key = value as read from the config, before validation. */
typedef struct raw_option {
    char *key;           /**< owned */
    raw_value_type type;
    int64_t i;           /**< RAW_BOOL (0/1), RAW_INT */
    double f;            /**< RAW_FLOAT */
    char *s;             /**< RAW_STRING, owned */
    int line;            /**< line in the config file, 0 if unknown */
} raw_option;

/** Validate @p raw (@p count values, borrowed) against @p table (borrowed,
 *  must outlive the result) and build the typed set, defaults filled in.
 *  An INT given where FLOAT is declared is accepted; nothing else converts.
 *  On error returns RV_EINVAL and writes "key: reason" into @p err. */
int options_build(const rv_option *table, const raw_option *raw, size_t count, rv_options **out,
                  char *err, size_t errlen);
/** Every declared option at its default (validates the defaults). */
int options_defaults(const rv_option *table, rv_options **out, char *err, size_t errlen);
/** Replace one value after validation (e.g. StartChannel's port). RV_OK or RV_EINVAL. */
int options_override(rv_options *opts, const raw_option *value, char *err, size_t errlen);
/** A deep copy (the table is shared). */
rv_options *options_clone(const rv_options *opts);
/** True when both sets hold the same values. */
int options_equal(const rv_options *a, const rv_options *b);
void options_free(rv_options *opts);

/** The accessors behind rv_host_api.opt_*. Thread: any. */
int options_get_bool(const rv_options *opts, const char *key);
int64_t options_get_int(const rv_options *opts, const char *key);
double options_get_float(const rv_options *opts, const char *key);
const char *options_get_string(const rv_options *opts, const char *key);
int options_is_set(const rv_options *opts, const char *key);

/** Check a module's table itself: keys unique and non-empty, types valid,
 *  defaults within range, ENUM defaults among the choices. */
int options_table_check(const rv_option *table, char *err, size_t errlen);

void raw_option_free(raw_option *raw);

#endif
