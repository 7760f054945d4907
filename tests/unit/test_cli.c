/**
 * @file tests/unit/test_cli.c
 * @short cli_parse (every option, both "--x=v" and "--x v", every error)
 *        and cli_list_modules over the good test modules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/log.h"
#include "tap.h"

/** Parse a NULL-terminated argument list (argv[0] added). */
static int parse(cli_options *o, char *err, size_t len, ...)
{
    char *argv[32] = {"retrovue_playout"};
    int argc = 1;
    va_list ap;
    va_start(ap, len);
    for (char *a; argc < 31 && (a = va_arg(ap, char *)) != NULL;)
        argv[argc++] = a;
    va_end(ap);
    return cli_parse(argc, argv, o, err, len);
}

static void test_parse(void)
{
    cli_options o;
    char err[256];
    int rc = parse(&o, err, sizeof(err), "--config", "conf/demo.conf", NULL);
    tap_ok(rc == RV_OK && !strcmp(o.config_path, "conf/demo.conf") && o.clock == CLI_CLOCK_REAL &&
               o.run_for_ms == -1 && !o.has_log_level && !o.has_start_utc_ms &&
               !o.check_config && !o.list_modules,
           "--config FILE alone: real clock, run forever (%s)", err);
    rc = parse(&o, err, sizeof(err), "--config=a.conf", "--check-config", "--list-modules",
               "--clock=virtual", "--run-for=86400", "--log-level=debug",
               "--start-utc-ms=1767225600000", NULL);
    tap_ok(rc == RV_OK && !strcmp(o.config_path, "a.conf") && o.check_config &&
               o.list_modules && o.clock == CLI_CLOCK_VIRTUAL && o.run_for_ms == 86400000 &&
               o.has_log_level && o.log_level == RV_LOG_DEBUG && o.has_start_utc_ms &&
               o.start_utc_ms == 1767225600000LL,
           "every option in --x=v form (%s)", err);
    rc = parse(&o, err, sizeof(err), "--config", "a.conf", "--clock", "virtual", "--run-for",
               "2.5", "--log-level", "warn", "--start-utc-ms", "0", NULL);
    tap_ok(rc == RV_OK && o.run_for_ms == 2500 && o.log_level == RV_LOG_WARN &&
               o.start_utc_ms == 0 && o.has_start_utc_ms,
           "every option in --x v form; 2.5 s is 2500 ms (%s)", err);
    rc = parse(&o, err, sizeof(err), "--config", "a", "--run-for=0.001", NULL);
    tap_ok(rc == RV_OK && o.run_for_ms == 1, "--run-for=0.001 is 1 ms");
    rc = parse(&o, err, sizeof(err), "--config", "a", "--run-for=10.25", NULL);
    tap_ok(rc == RV_OK && o.run_for_ms == 10250, "--run-for=10.25 is 10250 ms");
    tap_ok(parse(&o, err, sizeof(err), "--help", NULL) == RV_OK && o.help,
           "--help needs no config");
    tap_ok(parse(&o, err, sizeof(err), "-h", NULL) == RV_OK && o.help, "-h");
    tap_ok(parse(&o, err, sizeof(err), "--version", NULL) == RV_OK && o.version,
           "--version needs no config");

    static const struct {
        const char *args[4];
        const char *msg;
    } bad[] = {
        {{"--config", "a", "--clock=fast"}, "--clock: 'fast' is not real or virtual"},
        {{"--config", "a", "--run-for=abc"}, "--run-for: 'abc'"},
        {{"--config", "a", "--run-for=1.2345"}, "--run-for: '1.2345'"},
        {{"--config", "a", "--run-for=-5"}, "--run-for: '-5'"},
        {{"--config", "a", "--run-for=0"}, "--run-for: '0'"},
        {{"--config", "a", "--run-for=1."}, "--run-for: '1.'"},
        {{"--config", "a", "--run-for"}, "--run-for: ''"},
        {{"--config", "a", "--log-level=loud"}, "--log-level: 'loud' is not one of"},
        {{"--config", "a", "--start-utc-ms=12"}, "--start-utc-ms needs --clock=virtual"},
        {{"--config", "a", "--clock=virtual", "--start-utc-ms=-1"}, "--start-utc-ms: '-1'"},
        {{"--config", "a", "--frobnicate"}, "unknown option '--frobnicate'"},
        {{"--config", "a", "extra"}, "unexpected argument 'extra'"},
        {{"--check-config"}, "--config FILE or --port PORT"},
        {{"--clock=virtual"}, "--config FILE or --port PORT"},
        {{"--port", "0"}, "--port: '0' is not a TCP port (1..65535)"},
        {{"--port", "65536"}, "--port: '65536' is not a TCP port"},
        {{"--port", "-1"}, "--port: '-1' is not a TCP port"},
        {{"--port", "50x"}, "--port: '50x' is not a TCP port"},
        {{"--port="}, "--port: '' is not a TCP port"},
        {{"--port"}, "--port: '' is not a TCP port"},
        {{"--port", "99999999999999999999999"}, "--port: '99999999999999999999999'"},
        {{"--config", "a", "--address", "::1"}, "--address needs --port"},
        {{"--port", "5", "--address", "a b"}, "--address: 'a b' is not"},
        {{"--port", "5", "--address", "[::1"}, "--address: '[::1' is not"},
        {{"--port", "5", "--address="}, "--address needs a host"},
        {{"--port", "5", "--metrics-listen", "9308"}, "--metrics-listen: '9308' is not HOST:PORT"},
        {{"--port", "5", "--asrun-dir="}, "--asrun-dir needs a folder"},
        {{"--config"}, "--config needs a FILE"},
        {{"--config="}, "--config needs a FILE"},
        {{"--config", "a", "--run-for=99999999999999999999"}, "--run-for"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        rc = parse(&o, err, sizeof(err), bad[i].args[0], bad[i].args[1], bad[i].args[2],
                   bad[i].args[3], NULL);
        tap_ok(rc == RV_EINVAL && strstr(err, bad[i].msg) != NULL, "refused: %s", err);
    }
}

/** --port, --address and the config-less mode they select. */
static void test_port(void)
{
    cli_options o;
    char err[256];
    int rc = parse(&o, err, sizeof(err), "--port", "50051", NULL);
    tap_ok(rc == RV_OK && !o.config_path && o.has_port && o.port == 50051 &&
               !strcmp(o.control_address, "127.0.0.1:50051") && !o.metrics_listen &&
               !o.asrun_dir,
           "--port alone: config-less, gRPC on 127.0.0.1:50051 (%s)", o.control_address);
    rc = parse(&o, err, sizeof(err), "--port=1", "--address=0.0.0.0", NULL);
    tap_ok(rc == RV_OK && !strcmp(o.control_address, "0.0.0.0:1"), "--address 0.0.0.0: %s",
           o.control_address);
    rc = parse(&o, err, sizeof(err), "--port", "65535", "--address", "::1", NULL);
    tap_ok(rc == RV_OK && !strcmp(o.control_address, "[::1]:65535"),
           "an IPv6 --address is bracketed: %s", o.control_address);
    rc = parse(&o, err, sizeof(err), "--port", "7", "--address", "[::]", NULL);
    tap_ok(rc == RV_OK && !strcmp(o.control_address, "[::]:7"), "a bracketed one is kept: %s",
           o.control_address);
    rc = parse(&o, err, sizeof(err), "--config", "a.conf", "--port", "9", "--metrics-listen",
               "127.0.0.1:0", "--asrun-dir", "runs", NULL);
    tap_ok(rc == RV_OK && !strcmp(o.config_path, "a.conf") && o.port == 9 &&
               !strcmp(o.metrics_listen, "127.0.0.1:0") && !strcmp(o.asrun_dir, "runs"),
           "--config with --port, --metrics-listen and --asrun-dir (%s)", err);
    rc = parse(&o, err, sizeof(err), "--list-modules", NULL);
    tap_ok(rc == RV_OK && !o.config_path && o.list_modules,
           "--list-modules alone lists the built-in module folder (%s)", err);
}

static void test_help_and_list(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cli_print_help(f);
    fclose(f);
    tap_ok(text && strstr(text, "--config FILE") && strstr(text, "--check-config") &&
               strstr(text, "--list-modules") && strstr(text, "--clock=real|virtual") &&
               strstr(text, "--run-for=SECONDS") && strstr(text, "--log-level") &&
               strstr(text, "--version") && strstr(text, "--start-utc-ms") &&
               strstr(text, "--port PORT") && strstr(text, "--address ADDR") &&
               strstr(text, "--metrics-listen") && strstr(text, "--asrun-dir") &&
               strstr(text, "retrovue_air --port PORT") && strstr(text, "127.0.0.1"),
           "help names every option");
    free(text);

    module_registry *reg = registry_create();
    log_set_level(RV_LOG_ERROR);
    int n = registry_scan_dir(reg, RV_TEST_MODULE_DIR);
    f = open_memstream(&text, &len);
    cli_list_modules(f, reg);
    fclose(f);
    tap_ok(n == 3 && text, "listed the 3 test modules");
    tap_diag("--list-modules output:");
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
        tap_diag("%s", line);
    free(text);
    f = open_memstream(&text, &len);
    cli_list_modules(f, reg);
    fclose(f);
    tap_ok(strstr(text, "test-producer  producer  1.0.0  flat grey") != NULL,
           "module line: name, kind, version, description");
    tap_ok(strstr(text, "  schemes: slate, test\n") != NULL, "producer schemes");
    tap_ok(strstr(text, "    level      int     128      16..235        luma level\n") != NULL,
           "int option: type, default, range, help aligned");
    tap_ok(strstr(text, "pattern    enum    \"flat\"   flat|ramp") != NULL,
           "enum option: default and choices");
    tap_ok(strstr(text, "frequency  float   1000     20..20000") != NULL, "float option range");
    tap_ok(strstr(text, "    path    path   \"\"       relative to the config") != NULL,
           "path option");
    tap_ok(strstr(text, "test-renderer  renderer") && strstr(text, "test-sink      sink"),
           "every module listed, names aligned");
    free(text);
    registry_destroy(reg);

    reg = registry_create();
    f = open_memstream(&text, &len);
    cli_list_modules(f, reg);
    fclose(f);
    tap_ok(!strcmp(text, "no modules loaded\n"), "an empty registry says so");
    free(text);
    registry_destroy(reg);
}

int main(void)
{
    test_parse();
    test_port();
    test_help_and_list();
    return tap_done();
}
