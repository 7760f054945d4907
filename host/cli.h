/**
 * @file host/cli.h
 * @short The retrovue_playout command line: parse argv into cli_options,
 *        print --help, and print --list-modules.
 *
 * Owns nothing: strings in cli_options point into argv.
 */
#ifndef RV_HOST_CLI_H
#define RV_HOST_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <retrovue/host.h>

#include "loader/loader.h"

/** Which MasterClock to run. Never zero. */
typedef enum cli_clock {
    CLI_CLOCK_REAL = 1,    /**< --clock=real (default) */
    CLI_CLOCK_VIRTUAL = 2  /**< --clock=virtual */
} cli_clock;

/** Longest control address --address/--port make ("[ADDR]:PORT"). */
#define CLI_ADDRESS_MAX 300

typedef struct cli_options {
    const char *config_path;   /**< --config FILE; borrowed from argv; NULL:
                                    config-less mode (built-in defaults,
                                    needs --port unless --help, --version
                                    or --list-modules) */
    int has_port;              /**< --port given */
    int port;                  /**< --port P: gRPC on ADDRESS:P, 1..65535 */
    const char *address;       /**< --address ADDR (default 127.0.0.1); borrowed */
    char control_address[CLI_ADDRESS_MAX]; /**< "ADDR:P" or "[V6ADDR]:P" when
                                    has_port, else "" */
    const char *metrics_listen; /**< --metrics-listen HOST:PORT; borrowed, NULL = keep */
    const char *asrun_dir;     /**< --asrun-dir DIR; borrowed, NULL = keep */
    int check_config;          /**< --check-config: load, bind, exit 0/1 */
    int list_modules;          /**< --list-modules */
    int version;               /**< --version */
    int help;                  /**< --help / -h */
    cli_clock clock;           /**< --clock=real|virtual */
    int64_t run_for_ms;        /**< --run-for=SECONDS of channel time, in ms
                                    (up to 3 decimals); -1: run until signalled */
    int has_log_level;         /**< --log-level given (overrides the config) */
    rv_log_level log_level;    /**< valid when has_log_level */
    int has_start_utc_ms;      /**< --start-utc-ms given (virtual clock only) */
    int64_t start_utc_ms;      /**< the virtual clock's start, UTC ms */
} cli_options;

/** Parse @p argv (borrowed; strings in @p out point into it). RV_OK, or
 *  RV_EINVAL with one sentence in @p err (e.g. "--clock: 'fast' is not real
 *  or virtual"). */
int cli_parse(int argc, char **argv, cli_options *out, char *err, size_t errlen);

/** The --help text. @p out borrowed. */
void cli_print_help(FILE *out);

/** --list-modules: every module of @p reg (borrowed) with its kind, version,
 *  description, schemes (producers) and every option with type, default,
 *  range or choices and help, as aligned text on @p out (borrowed). */
void cli_list_modules(FILE *out, const module_registry *reg);

#endif
