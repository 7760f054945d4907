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
        {{"--check-config"}, "--config FILE is required"},
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
               strstr(text, "--version") && strstr(text, "--start-utc-ms"),
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
    test_help_and_list();
    return tap_done();
}
