/**
 * @file host/config/config_defaults.h
 * @short The configuration retrovue_playout runs with when no --config file
 *        is given (config-less mode, the way RetroVue Core starts its engine:
 *        `<binary> --port P`), and the engine settings the command line
 *        overrides on either kind of config.
 *
 * The defaults are a libconfig text parsed by config_load_text, so they pass
 * the same parser and validation as a file and cannot drift from it. Owns
 * nothing beyond the config it returns.
 */
#ifndef RV_HOST_CONFIG_DEFAULTS_H
#define RV_HOST_CONFIG_DEFAULTS_H

#include <stddef.h>

#include "config/config.h"

/** What config-less mode's config is called in errors and logs. */
#define CONFIG_DEFAULTS_NAME "built-in-defaults"

/** Engine settings given on the command line; NULL members keep the
 *  config's value. Every string is borrowed for the call. */
typedef struct config_overrides {
    const char *control_address; /**< "HOST:PORT" (--address, --port): replaces every
                                      HOST:PORT entry of control_listen; "unix:" entries
                                      stay; implies control_insecure_tcp (Core's client
                                      sends no credentials) unless a token file is set */
    const char *metrics_listen;  /**< "HOST:PORT" (--metrics-listen) */
    const char *asrun_dir;       /**< folder (--asrun-dir), relative to the working folder */
} config_overrides;

/** The built-in config, modules from @p module_dir (borrowed, absolute):
 *  no channels; channel_defaults with producers ffmpeg-file and slate, slate
 *  "slate", renderer "null", no sinks (a session's AttachStream adds one);
 *  profile "default" 1920x1080, 30000/1001, 48 kHz stereo (a session's
 *  program_format_json overrides it); no plans_dir, no control_listen,
 *  telemetry and as-run off. RV_OK, or RV_EINVAL with the reason in @p err
 *  (a module folder holding a control character). */
int config_load_defaults(const char *module_dir, config **out, char *err, size_t errlen);

/** Apply @p ov (borrowed) to @p cfg (borrowed, modified). Validates like the
 *  config file does ("HOST:PORT", port 0..65535). RV_OK; RV_EINVAL with
 *  "--option: reason" in @p err and @p cfg unchanged; RV_ENOMEM. */
int config_apply_overrides(config *cfg, const config_overrides *ov, char *err, size_t errlen);

#endif
