/**
 * @file host/config/config.h
 * @short The engine's configuration (libconfig syntax): engine settings,
 *        named profiles (ProgramFormat) and channel bindings, every module's
 *        options validated against the module's declared table.
 *
 * Loading is two steps: config_load() parses and checks the file's shape;
 * config_bind() then checks every binding against the loaded modules and
 * builds the typed options. Errors carry "file:line: key: reason".
 * Relative paths are resolved against the config file's folder.
 */
#ifndef RV_HOST_CONFIG_H
#define RV_HOST_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include <retrovue/format.h>
#include <retrovue/host.h>

#include "core/options.h"
#include "loader/loader.h"

/** Viewer outputs the HTTP endpoint serves (engine.http_outputs). */
#define CONFIG_HTTP_TS 0x1u   /**< GET /channel/<id>.ts */
#define CONFIG_HTTP_M3U 0x2u  /**< GET /channels.m3u */
#define CONFIG_HTTP_HLS 0x4u  /**< GET /channel/<id>.m3u8 and its segments */
#define CONFIG_HTTP_ALL (CONFIG_HTTP_TS | CONFIG_HTTP_M3U | CONFIG_HTTP_HLS)

/** One module bound to a channel role. */
typedef struct config_binding {
    char *module;              /**< module name, owned */
    raw_option *raw;           /**< options as written, owned array */
    size_t raw_count;
    int line;                  /**< line of the binding in the file */
    char *key_path;            /**< e.g. "channels.[0].sinks.[1]", owned */
    const loaded_module *mod;  /**< set by config_bind */
    rv_options *options;       /**< set by config_bind, owned */
    /* A transport (ABI 1.2) in a channel's sinks list also binds an encoder:
     * the binding's options are split by which module declares each key. */
    char *encoder;             /**< encoder module as written, owned; NULL = "mpegts" */
    const loaded_module *encoder_mod;  /**< set by config_bind for a transport */
    rv_options *encoder_options;       /**< set by config_bind, owned; the rendition's settings */
} config_binding;

typedef struct config_profile {
    char *name;                /**< owned */
    rv_program_format format;
} config_profile;

typedef struct config_channel {
    int32_t id;                /**< > 0; 0 in the defaults block */
    char *name;                /**< owned */
    char *profile;             /**< profile name, owned */
    rv_program_format format;  /**< resolved from the profile */
    char *autostart_plan;      /**< owned, NULL if none */
    config_binding *producers; /**< owned array */
    size_t producer_count;
    config_binding slate;      /**< defaults to module "slate" */
    config_binding renderer;   /**< defaults to module "null" */
    config_binding *sinks;     /**< owned array */
    size_t sink_count;
    int on_demand;             /**< encode = "on-demand": decode and encode only while a
                                    pull consumer (HTTP, HLS, a listening transport's
                                    client) is connected; 0 = "always" (the default) */
    int line;
} config_channel;

/** Who may reach the engine and how many at once (engine.control_* and
 *  engine.http_* access keys, config_access.c). Zero limits mean the
 *  documented defaults, filled in when read. */
typedef struct config_access {
    char *control_token_file;          /**< resolved, owned; NULL = none */
    int control_insecure_tcp;          /**< a loopback TCP listener without a token is
                                            allowed (RetroVue Core's --port mode implies it) */
    uint32_t control_max_connections;  /**< per control listener */
    uint32_t control_max_per_peer;     /**< per IP (TCP) or user id (Unix socket) */
    int control_idle_timeout_ms;       /**< connections without calls closed after this */
    uint32_t fd_reserve;               /**< descriptors never handed to clients */
    char *http_token_file;             /**< resolved, owned; NULL = none */
    char **http_public_paths;          /**< owned; NULL = the defaults ("/healthz",
                                            "/metrics") */
    size_t http_public_count;
    uint32_t http_max_connections;
    uint32_t http_max_per_peer;
    uint32_t http_timeout_s;
} config_access;

typedef struct config {
    char *path;                /**< owned */
    char *module_dir;          /**< the module search path: one or more folders,
                                    each resolved against the config's folder,
                                    joined with ':' (like PATH); owned. The
                                    config file writes a string or a list. */
    char *plans_dir;           /**< resolved, owned, NULL = none (plan handles
                                    are then refused; autostart_plan needs it) */
    char **media_roots;        /**< folders every file asset must lie in, each
                                    resolved against the config's folder; owned;
                                    none (count 0): no restriction */
    size_t media_root_count;
    rv_log_level log_level;
    char **control_listen;     /**< gRPC addresses ("unix:PATH", "HOST:PORT"), owned */
    size_t control_listen_count;
    char *metrics_listen;      /**< "HOST:PORT", owned, NULL = off */
    unsigned http_outputs;     /**< CONFIG_HTTP_* served on metrics_listen */
    int decoder_threads;       /**< engine.decoder_threads: 0 = sized by the host
                                    (core/thread_budget.h), 1..16 = that many per decoder */
    int encoder_threads;       /**< engine.encoder_threads: the same for each video encoder */
    char *asrun_dir;           /**< resolved, owned, NULL = off */
    config_access access;      /**< authentication and connection limits */
    config_profile *profiles;  /**< owned array */
    size_t profile_count;
    config_channel *channels;  /**< owned array */
    size_t channel_count;
    config_channel *defaults;  /**< owned, NULL without a channel_defaults block */
} config;

/** Parse @p path (borrowed). RV_OK, or RV_EINVAL / RV_ENOENT with
 *  "file:line: key: reason" in @p err. */
int config_load(const char *path, config **out, char *err, size_t errlen);
/** Parse the libconfig @p text (borrowed) exactly as config_load parses a
 *  file; @p name (borrowed, no '/') stands for the file in errors and in
 *  cfg->path, and relative paths in the text stay relative to the working
 *  folder. RV_OK, or RV_EINVAL with "name:line: key: reason" in @p err. */
int config_load_text(const char *name, const char *text, config **out, char *err,
                     size_t errlen);
/** 1 when @p s (borrowed) is "HOST:PORT" with a non-empty host and a port
 *  0..65535 (what control_listen and metrics_listen accept), else 0. */
int config_host_port_valid(const char *s);
/** Resolve every binding against @p reg (borrowed, must outlive @p cfg) and
 *  validate its options. RV_OK or RV_EINVAL with the first error. */
int config_bind(config *cfg, const module_registry *reg, char *err, size_t errlen);
void config_free(config *cfg);

const config_channel *config_find_channel(const config *cfg, int32_t id);
const config_profile *config_find_profile(const config *cfg, const char *name);

/** Deep copies of a binding and a channel (for a channel session). */
int config_binding_copy(config_binding *dst, const config_binding *src);
void config_binding_clear(config_binding *b);
config_channel *config_channel_clone(const config_channel *src);
/** A deep copy of the channel @p id as configured: the listed channel, or
 *  the channel_defaults block with @p id and the name "Channel <id>". NULL
 *  when @p id is neither listed nor covered by defaults. Caller owns it
 *  (config_channel_free). Added by the loader/config engineer. */
config_channel *config_channel_for_id(const config *cfg, int32_t id);
void config_channel_free(config_channel *ch);

#endif
