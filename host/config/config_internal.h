/**
 * @file host/config/config_internal.h
 * @short Private to host/config: the state of one parse or bind (config_parse),
 *        the shared helpers (config_parse.c) and each section's reader
 *        (config_engine.c, config_profiles.c, config_channels.c).
 *
 * Every error a helper writes is "<file>:<line>: <key path>: <reason>" and
 * returns RV_EINVAL (RV_ENOMEM for config_oom). Every libconfig setting
 * passed in is borrowed, valid during the call. Thread: the main thread.
 */
#ifndef RV_HOST_CONFIG_INTERNAL_H
#define RV_HOST_CONFIG_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

#include "config/config.h"

/** Longest key path we build ("channels.[12].sinks.[3].options.path"). */
#define CONFIG_KEY_MAX 256

/** State of one config_load or config_bind: where errors go and the file's folder. */
typedef struct config_parse {
    const char *file; /**< the path as given, borrowed */
    const char *dir;  /**< the file's folder, "" when none; borrowed */
    char *err;        /**< borrowed, may be NULL */
    size_t errlen;
} config_parse;

/* ---- helpers (config_parse.c) ------------------------------------------ */

/** "<file>:<line>: <key path>: <reason>" into @p p's error buffer (line < 1
 *  is written as 1); returns RV_EINVAL. */
__attribute__((format(printf, 4, 5))) int config_fail(const config_parse *p, int line,
                                                      const char *key_path, const char *fmt, ...);
/** "out of memory" at @p key_path; returns RV_ENOMEM. */
int config_oom(const config_parse *p, int line, const char *key_path);
/** The file line of @p s (borrowed), 0 for NULL. */
int config_line(const config_setting_t *s);
/** @p parent "." @p name into @p out (or just @p name at the root). */
void config_key(char *out, size_t len, const char *parent, const char *name);
/** @p parent ".[" @p index "]" into @p out. */
void config_key_index(char *out, size_t len, const char *parent, int index);
/** @p path resolved against the config's folder @p dir and normalised
 *  lexically; absolute paths and an empty @p dir keep @p path. New string
 *  (caller frees), NULL when out of memory. */
char *config_resolve(const char *dir, const char *path);
/** The folder of @p path ("" when it has no '/', "/" at the root). New string
 *  (caller frees), NULL when out of memory. */
char *config_folder(const char *path);
/** Every member of group @p g is one of @p allowed (NULL-terminated);
 *  RV_OK or RV_EINVAL naming the unknown key and the expected ones. */
int config_check_keys(const config_parse *p, const config_setting_t *g, const char *path,
                      const char *const *allowed);
/** Member @p name of the engine group @p eng as a file or folder path,
 *  resolved against the config file's folder into *@p out (owned by the
 *  caller). Absent: *@p out untouched, or an error when @p required; empty:
 *  an error. */
int config_get_path(const config_parse *p, const config_setting_t *eng, const char *name,
                    int required, char **out);
/** Member @p name of group @p g as a string, borrowed from libconfig.
 *  Absent: *out = NULL, or an error when @p required (which also refuses ""). */
int config_get_string(const config_parse *p, const config_setting_t *g, const char *path,
                      const char *name, int required, const char **out);
/** Member @p name of group @p g as an integer within [@p min, @p max].
 *  Absent: *out = @p def, or an error when @p required. */
int config_get_int(const config_parse *p, const config_setting_t *g, const char *path,
                   const char *name, int required, int64_t def, int64_t min, int64_t max,
                   int64_t *out);

/* ---- sections: each fills @p cfg, which owns what they put there -------- */

/** The engine group (required) into @p cfg (config_engine.c). */
int config_read_engine(const config_parse *p, const config_setting_t *root, config *cfg);
/** The access keys of the engine group into @p cfg->access
 *  (config_access.c). */
int config_read_access(const config_parse *p, const config_setting_t *eng, config *cfg);
/** Free what @p a holds (config_access.c). */
void config_access_clear(config_access *a);
/** The engine keys config_access.c reads (NULL-terminated). */
extern const char *const config_access_keys[];
/** The profiles group, if any, into @p cfg (config_profiles.c). */
int config_read_profiles(const config_parse *p, const config_setting_t *root, config *cfg);
/** The channels list and channel_defaults group, if any, into @p cfg; profiles
 *  must be read first (config_channels.c). */
int config_read_channels(const config_parse *p, const config_setting_t *root, config *cfg);
/** @p b bound to @p module with no options, at @p line and @p key_path
 *  (both copied) (config_channels.c). */
int config_default_binding(const config_parse *p, config_binding *b, const char *module,
                           int line, const char *key_path);

/* ---- copies (config_copy.c) --------------------------------------------- */

/** Free what @p ch holds, not @p ch itself. */
void config_channel_clear(config_channel *ch);

#endif
