/**
 * @file retrovue/option.h
 * @short Declared module options: a module lists what it accepts, the host
 *        validates the config against that list and hands typed values back.
 *
 * A module never parses its configuration. It declares a table of rv_option
 * ending in a sentinel whose key is NULL; the host checks every configured
 * value (type, range, choice), fills in defaults, prints the table for
 * --list-modules, and the module reads values through rv_host_api.opt_*.
 */
#ifndef RETROVUE_OPTION_H
#define RETROVUE_OPTION_H

#include <stdint.h>

/** Type of an option. Never zero. */
typedef enum rv_option_type {
    RV_OPT_BOOL = 1,   /**< true / false */
    RV_OPT_INT = 2,    /**< 64-bit integer within [min_int, max_int] */
    RV_OPT_FLOAT = 3,  /**< double within [min_float, max_float] */
    RV_OPT_STRING = 4, /**< any string */
    RV_OPT_ENUM = 5,   /**< one string of `choices` */
    RV_OPT_PATH = 6    /**< a file system path; the host resolves a relative
                            one against the config file's folder */
} rv_option_type;

/** One declared option. Use designated initialisers. */
typedef struct rv_option {
    const char *key;               /**< name in the config; NULL ends the table */
    rv_option_type type;
    const char *help;              /**< one line for --list-modules */
    int64_t default_int;           /**< BOOL (0/1) and INT */
    double default_float;          /**< FLOAT */
    const char *default_string;    /**< STRING, PATH and ENUM (must be one of choices) */
    int64_t min_int;               /**< INT range, inclusive; both 0 = unbounded */
    int64_t max_int;
    double min_float;              /**< FLOAT range, inclusive; both 0 = unbounded */
    double max_float;
    const char *const *choices;    /**< ENUM: NULL-terminated list */
} rv_option;

/** Opaque set of validated option values, owned by the host. */
typedef struct rv_options rv_options;

#endif
