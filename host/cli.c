/**
 * @file host/cli.c
 * @short The retrovue_playout command line: argv -> cli_options, and --help.
 *
 * Owns nothing; no global state. Both "--opt=value" and "--opt value" are
 * accepted for options that take a value.
 */
#include "cli.h"

#include <stdarg.h>
#include <string.h>

#include <retrovue/error.h>
#include <retrovue/version.h>

#include "config/config.h"
#include "core/log.h"

__attribute__((format(printf, 3, 4))) static int cli_fail(char *err, size_t errlen,
                                                         const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return RV_EINVAL;
}

/** Non-negative decimal integer that fits int64. */
static int cli_parse_int(const char *s, int64_t *out)
{
    int64_t v = 0;
    if (!*s)
        return RV_EINVAL;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (INT64_MAX - (*s - '0')) / 10)
            return RV_EINVAL;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return RV_OK;
}

/** "SECONDS" or "SECONDS.FFF" (1 to 3 decimals), > 0, into milliseconds. */
static int cli_parse_seconds(const char *s, int64_t *out_ms)
{
    char whole[32];
    const char *dot = strchr(s, '.');
    size_t wlen = dot ? (size_t)(dot - s) : strlen(s);
    if (wlen == 0 || wlen >= sizeof(whole))
        return RV_EINVAL;
    memcpy(whole, s, wlen);
    whole[wlen] = '\0';
    int64_t sec;
    if (cli_parse_int(whole, &sec) != RV_OK || sec > INT64_MAX / 1000 - 1)
        return RV_EINVAL;
    int64_t ms = 0;
    if (dot) {
        size_t flen = strlen(dot + 1);
        if (flen < 1 || flen > 3)
            return RV_EINVAL;
        for (size_t i = 0; i < 3; i++) {
            char c = i < flen ? dot[1 + i] : '0';
            if (c < '0' || c > '9')
                return RV_EINVAL;
            ms = ms * 10 + (c - '0');
        }
    }
    *out_ms = sec * 1000 + ms;
    return *out_ms > 0 ? RV_OK : RV_EINVAL;
}

/** --port: a decimal TCP port 1..65535. */
static int cli_parse_port(const char *s, int *out)
{
    int64_t v;
    if (!s || cli_parse_int(s, &v) != RV_OK || v < 1 || v > 65535)
        return RV_EINVAL;
    *out = (int)v;
    return RV_OK;
}

/** --address: a host name, an IPv4 or an IPv6 literal (bare or in [ ]), no
 *  spaces or control characters. "HOST:PORT" (or "[V6]:PORT") into @p out. */
static int cli_control_address(const char *addr, int port, char *out, size_t len)
{
    size_t n = strlen(addr);
    if (n == 0 || n > CLI_ADDRESS_MAX - 16)
        return RV_EINVAL;
    for (const unsigned char *c = (const unsigned char *)addr; *c; c++) {
        if (*c <= ' ' || *c == 0x7f || *c == '/' || *c == '"' || *c == '\\')
            return RV_EINVAL;
    }
    int bracketed = addr[0] == '[';
    if (bracketed && (n < 3 || addr[n - 1] != ']'))
        return RV_EINVAL;
    if (!bracketed && strchr(addr, ']'))
        return RV_EINVAL;
    if (!bracketed && strchr(addr, ':'))
        snprintf(out, len, "[%s]:%d", addr, port);
    else
        snprintf(out, len, "%s:%d", addr, port);
    return RV_OK;
}

/** If argv[*i] is @p name ("--x") or "--x=value", set *@p value (from the
 *  same or the next argument) and return 1. A missing value sets *value NULL. */
static int cli_match_value(int argc, char **argv, int *i, const char *name, const char **value)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return 0;
    if (argv[*i][n] == '=') {
        *value = argv[*i] + n + 1;
        return 1;
    }
    if (argv[*i][n] != '\0')
        return 0;
    *value = *i + 1 < argc ? argv[++*i] : NULL;
    return 1;
}

int cli_parse(int argc, char **argv, cli_options *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    out->clock = CLI_CLOCK_REAL;
    out->run_for_ms = -1;
    if (err && errlen)
        err[0] = '\0';
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            out->help = 1;
        } else if (!strcmp(a, "--version")) {
            out->version = 1;
        } else if (!strcmp(a, "--check-config")) {
            out->check_config = 1;
        } else if (!strcmp(a, "--list-modules")) {
            out->list_modules = 1;
        } else if (cli_match_value(argc, argv, &i, "--config", &v)) {
            if (!v || !*v)
                return cli_fail(err, errlen, "--config needs a FILE");
            out->config_path = v;
        } else if (cli_match_value(argc, argv, &i, "--port", &v)) {
            if (cli_parse_port(v, &out->port) != RV_OK)
                return cli_fail(err, errlen, "--port: '%s' is not a TCP port (1..65535)",
                                v ? v : "");
            out->has_port = 1;
        } else if (cli_match_value(argc, argv, &i, "--address", &v)) {
            if (!v || !*v)
                return cli_fail(err, errlen, "--address needs a host or IP address");
            out->address = v;
        } else if (cli_match_value(argc, argv, &i, "--metrics-listen", &v)) {
            if (!v || !config_host_port_valid(v))
                return cli_fail(err, errlen,
                                "--metrics-listen: '%s' is not HOST:PORT (e.g. 127.0.0.1:9308)",
                                v ? v : "");
            out->metrics_listen = v;
        } else if (cli_match_value(argc, argv, &i, "--asrun-dir", &v)) {
            if (!v || !*v)
                return cli_fail(err, errlen, "--asrun-dir needs a folder");
            out->asrun_dir = v;
        } else if (cli_match_value(argc, argv, &i, "--clock", &v)) {
            if (v && !strcmp(v, "real"))
                out->clock = CLI_CLOCK_REAL;
            else if (v && !strcmp(v, "virtual"))
                out->clock = CLI_CLOCK_VIRTUAL;
            else
                return cli_fail(err, errlen, "--clock: '%s' is not real or virtual",
                                v ? v : "");
        } else if (cli_match_value(argc, argv, &i, "--run-for", &v)) {
            if (!v || cli_parse_seconds(v, &out->run_for_ms) != RV_OK)
                return cli_fail(err, errlen,
                                "--run-for: '%s' is not a positive number of seconds "
                                "(e.g. 86400 or 2.5, at most 3 decimals)",
                                v ? v : "");
        } else if (cli_match_value(argc, argv, &i, "--log-level", &v)) {
            if (!v || log_level_parse(v, &out->log_level) != RV_OK)
                return cli_fail(err, errlen,
                                "--log-level: '%s' is not one of error, warn, info, debug",
                                v ? v : "");
            out->has_log_level = 1;
        } else if (cli_match_value(argc, argv, &i, "--start-utc-ms", &v)) {
            if (!v || cli_parse_int(v, &out->start_utc_ms) != RV_OK)
                return cli_fail(err, errlen,
                                "--start-utc-ms: '%s' is not a non-negative integer of "
                                "milliseconds since 1970",
                                v ? v : "");
            out->has_start_utc_ms = 1;
        } else if (a[0] == '-') {
            return cli_fail(err, errlen, "unknown option '%s'", a);
        } else {
            return cli_fail(err, errlen, "unexpected argument '%s'", a);
        }
    }
    if (out->help || out->version)
        return RV_OK;
    if (out->address && !out->has_port)
        return cli_fail(err, errlen, "--address needs --port");
    if (out->has_port) {
        const char *addr = out->address ? out->address : "127.0.0.1";
        if (cli_control_address(addr, out->port, out->control_address,
                                sizeof(out->control_address)) != RV_OK)
            return cli_fail(err, errlen,
                            "--address: '%s' is not a host name or IP address", addr);
    }
    if (!out->config_path && !out->has_port && !out->list_modules)
        return cli_fail(err, errlen,
                        "--config FILE or --port PORT (built-in defaults) is required");
    if (out->has_start_utc_ms && out->clock != CLI_CLOCK_VIRTUAL)
        return cli_fail(err, errlen, "--start-utc-ms needs --clock=virtual");
    return RV_OK;
}

void cli_print_help(FILE *out)
{
    fprintf(out,
            "usage: retrovue_playout --config FILE [options]\n"
            "       retrovue_playout --port PORT [--address ADDR] [options]\n"
            "       retrovue_air --port PORT            (the same binary, RetroVue Core's name)\n"
            "\n"
            "RetroVue Playout %s (module ABI %d.%d): plays each configured channel's plan as a\n"
            "continuous, frame-accurate stream.\n"
            "\n"
            "  --config FILE          the engine configuration (libconfig syntax)\n"
            "  --port PORT            gRPC control on ADDR:PORT (1..65535). Without --config:\n"
            "                         built-in defaults (config-less mode, how RetroVue Core\n"
            "                         starts its engine): modules from the build tree or the\n"
            "                         installed module folder, no channels until a client\n"
            "                         creates one, channel defaults ffmpeg-file + slate,\n"
            "                         1920x1080 30000/1001 48 kHz stereo, no sinks, no plans\n"
            "                         folder, telemetry and as-run off. With --config: replaces\n"
            "                         the config's HOST:PORT control addresses (unix: kept)\n"
            "  --address ADDR         the --port address (default 127.0.0.1: loopback only,\n"
            "                         the control plane has no authentication)\n"
            "  --metrics-listen HOST:PORT  serve /metrics, /healthz and the operator page\n"
            "                         (overrides engine.metrics_listen)\n"
            "  --asrun-dir DIR        write the as-run log there (overrides engine.asrun_dir)\n"
            "  --check-config         load the config and bind its modules, print errors to\n"
            "                         stderr, exit 0 when valid and 1 otherwise\n"
            "  --list-modules         list the modules in module_dir with their options\n"
            "  --clock=real|virtual   real time (default), or virtual time that advances as\n"
            "                         ticks are emitted (tests, long runs in seconds)\n"
            "  --run-for=SECONDS      stop after SECONDS of channel time (up to 3 decimals),\n"
            "                         then exit 0\n"
            "  --start-utc-ms=N       the virtual clock's start, UTC milliseconds since 1970\n"
            "  --log-level=LEVEL      error, warn, info or debug (overrides the config)\n"
            "  --version              print the version and exit\n"
            "  --help, -h             print this help and exit\n"
            "\n"
            "SIGTERM or SIGINT stops every channel cleanly and exits 0 within 5 s; SIGUSR1\n"
            "cycles the log level; SIGHUP reloads the --config file. Bad options exit 2.\n",
            RV_VERSION_STRING, RV_ABI_MAJOR, RV_ABI_MINOR);
}
