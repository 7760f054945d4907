/**
 * @file host/main.c
 * @short retrovue_playout: load the config and the modules, start the
 *        autostart channels and the control plane, run until told to stop.
 *
 * Without --config it runs config-less (RetroVue Core's `retrovue_air --port
 * P`): the built-in defaults of config/config_defaults.h with modules from
 * module_home_find(). --port/--address, --metrics-listen and --asrun-dir
 * override the engine settings of either config.
 *
 * Signals are blocked in every thread and taken here with sigtimedwait:
 * SIGTERM/SIGINT stop every channel cleanly and exit 0; SIGUSR1 cycles the log
 * level; SIGHUP reloads the --config file.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <retrovue/version.h>

#include "cli.h"
#include "config/config.h"
#include "config/config_defaults.h"
#include "core/clock.h"
#include "core/fd_limit.h"
#include "core/log.h"
#include "core/thread_budget.h"
#include "engine/engine.h"
#include "loader/loader.h"
#include "module_home.h"
#include "plan/plan.h"
#include "telemetry/asrun.h"
#ifdef RV_HAVE_CONTROL
#include "control/control_server.h"
#endif
#ifdef RV_HAVE_TELEMETRY
#include "telemetry/telemetry_server.h"
#endif

/** What a --run-for run shares with main. */
typedef struct run_for_job {
    engine *e;
    int64_t stop_utc_ms;
    atomic_int done;
} run_for_job;

static void *run_for_main(void *arg)
{
    run_for_job *job = arg;
    engine_run_until(job->e, job->stop_utc_ms);
    atomic_store(&job->done, 1);
    return NULL;
}

static void block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
    sigaddset(set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static void autostart_channels(engine *e, const config *cfg)
{
    for (size_t i = 0; i < cfg->channel_count; i++) {
        const config_channel *ch = &cfg->channels[i];
        if (!ch->autostart_plan)
            continue;
        char msg[1024];
        engine_start_request req = {.channel_id = ch->id, .plan_handle = ch->autostart_plan};
        int rc = engine_start_channel(e, &req, msg, sizeof(msg));
        if (rc != RV_OK)
            log_write(RV_LOG_ERROR, ch->id, NULL, "autostart failed: %s", msg);
    }
}

/** The running engine's configs, for SIGHUP. */
typedef struct reload_state {
    engine *e;
    const module_registry *reg;
    const char *path;
    const config_overrides *ov; /**< the command line's, applied to every load */
    config *current;      /**< owned: what the engine uses now */
} reload_state;

/** SIGHUP: re-read and validate the config; if it is valid, every running
 *  channel takes its new sinks, renderer and slate at a tick boundary; if
 *  not, everything keeps running on the old one. Main thread. */
static void reload_config(void *arg)
{
    reload_state *rs = arg;
    char err[1024];
    config *next = NULL;
    log_info("SIGHUP: reloading %s", rs->path);
    if (config_load(rs->path, &next, err, sizeof(err)) != RV_OK ||
        config_apply_overrides(next, rs->ov, err, sizeof(err)) != RV_OK ||
        config_bind(next, rs->reg, err, sizeof(err)) != RV_OK) {
        log_error("reload refused, keeping the running config: %s", err);
        config_free(next);
        return;
    }
    const config *cur = rs->current;
    if (strcmp(cur->module_dir, next->module_dir) != 0 ||
        (cur->metrics_listen == NULL) != (next->metrics_listen == NULL) ||
        (cur->metrics_listen && strcmp(cur->metrics_listen, next->metrics_listen) != 0) ||
        cur->control_listen_count != next->control_listen_count ||
        (cur->asrun_dir == NULL) != (next->asrun_dir == NULL) ||
        (cur->asrun_dir && strcmp(cur->asrun_dir, next->asrun_dir) != 0))
        log_warn("reload: module_dir, control_listen, metrics_listen and asrun_dir changes take "
                 "effect at the next restart");
    log_set_level(next->log_level);
    thread_budget_configure(next->decoder_threads, next->encoder_threads);
    thread_budget_expect_channels((int)next->channel_count);
    int refused = 0;
    const config *old = engine_reload(rs->e, next, &refused);
    config_free((config *)old);
    rs->current = next;
    log_info("reload done: %d channel(s) refused the change", refused);
}

/** Wait for a stop signal, or for the --run-for job to finish. SIGHUP calls
 *  @p reload (may be NULL). */
static void wait_for_stop(const sigset_t *set, run_for_job *job, void (*reload)(void *),
                          void *reload_arg)
{
    for (;;) {
        if (job && atomic_load(&job->done))
            return;
        struct timespec timeout = {0, 100 * 1000 * 1000};
        int sig = sigtimedwait(set, NULL, &timeout);
        if (sig == SIGINT || sig == SIGTERM) {
            log_info("signal %s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
            return;
        }
        if (sig == SIGUSR1)
            log_write(RV_LOG_ERROR, -1, NULL, "log level now %s",
                      log_level_name(log_cycle_level()));
        else if (sig == SIGHUP && reload)
            reload(reload_arg);
        else if (sig == SIGHUP)
            log_info("SIGHUP: no --config file to reload (built-in defaults)");
    }
}

static int run(const cli_options *opt, const sigset_t *set)
{
    char err[1024];
    config *cfg = NULL;
    module_registry *reg = NULL;
    master_clock *clock = NULL;
    engine *e = NULL;
    asrun_writer *asrun = NULL;
    int status = 1;

    config_overrides ov = {
        .control_address = opt->has_port ? opt->control_address : NULL,
        .metrics_listen = opt->metrics_listen,
        .asrun_dir = opt->asrun_dir,
    };
    const char *module_how = NULL;
    if (opt->config_path) {
        if (config_load(opt->config_path, &cfg, err, sizeof(err)) != RV_OK) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
    } else {
        char dir[4096];
        if (module_home_find(dir, sizeof(dir), &module_how, err, sizeof(err)) != RV_OK ||
            config_load_defaults(dir, &cfg, err, sizeof(err)) != RV_OK) {
            fprintf(stderr, "retrovue_playout: %s\n", err);
            return 1;
        }
    }
    if (config_apply_overrides(cfg, &ov, err, sizeof(err)) != RV_OK) {
        fprintf(stderr, "retrovue_playout: %s\n", err);
        config_free(cfg);
        return 1;
    }
    log_set_level(opt->has_log_level ? opt->log_level : cfg->log_level);
    thread_budget_configure(cfg->decoder_threads, cfg->encoder_threads);
    thread_budget_expect_channels((int)cfg->channel_count);
    reg = registry_create();
    if (!reg || registry_scan_path(reg, cfg->module_dir, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s: %s\n", cfg->path, reg ? err : "out of memory");
        goto out;
    }
    if (opt->list_modules) {
        cli_list_modules(stdout, reg);
        status = 0;
        goto out;
    }
    if (config_bind(cfg, reg, err, sizeof(err)) != RV_OK) {
        fprintf(stderr, "%s\n", err);
        goto out;
    }
    if (opt->check_config) {
        int errors = 0;
        int warnings = 0;
        cli_check_config(stderr, cfg, &errors, &warnings);
        status = errors || (opt->strict && warnings) ? 1 : 0;
        if (status == 0)
            fprintf(stderr, "%s: OK (%zu channels, %zu modules, %d warnings)\n", cfg->path,
                    cfg->channel_count, registry_count(reg), warnings);
        else if (!errors)
            fprintf(stderr, "%s: %d warnings, refused by --strict\n", cfg->path, warnings);
        goto out;
    }
    if (!opt->config_path)
        log_info("config-less mode (built-in defaults): modules from %s (%s), gRPC on %s, "
                 "telemetry %s, as-run %s",
                 cfg->module_dir, module_how, opt->control_address,
                 cfg->metrics_listen ? cfg->metrics_listen : "off",
                 cfg->asrun_dir ? cfg->asrun_dir : "off");
    if (opt->clock == CLI_CLOCK_VIRTUAL) {
        int64_t start_ms = opt->has_start_utc_ms ? opt->start_utc_ms : (int64_t)time(NULL) * 1000;
        clock = clock_create_virtual(start_ms * 1000000);
    } else {
        clock = clock_create_real();
    }
    e = clock ? engine_create(cfg, reg, clock) : NULL;
    if (!e) {
        fprintf(stderr, "out of memory\n");
        goto out;
    }
    if (cfg->asrun_dir) {
        asrun = asrun_writer_create(cfg->asrun_dir, err, sizeof(err));
        if (!asrun) {
            fprintf(stderr, "%s: %s\n", cfg->path, err);
            goto out;
        }
        engine_set_asrun(e, asrun);
    }
    fd_limit_raise();
#ifdef RV_HAVE_CONTROL
    control_server *control = NULL;
    const control_options copt = {
        .token_file = cfg->access.control_token_file,
        .insecure_tcp = cfg->access.control_insecure_tcp,
        .limits = {.max_connections = cfg->access.control_max_connections,
                   .max_per_peer = cfg->access.control_max_per_peer,
                   .fd_reserve = cfg->access.fd_reserve},
        .max_idle_ms = cfg->access.control_idle_timeout_ms,
    };
    if (cfg->control_listen_count > 0 &&
        control_server_start(cfg->control_listen, cfg->control_listen_count, &copt, e, &control,
                             err, sizeof(err)) != RV_OK) {
        fprintf(stderr, "%s: control_listen: %s\n", cfg->path, err);
        goto out;
    }
#endif
#ifdef RV_HAVE_TELEMETRY
    telemetry_server *telemetry = NULL;
    const telemetry_options topt = {
        .max_connections = cfg->access.http_max_connections,
        .max_per_peer = cfg->access.http_max_per_peer,
        .timeout_s = cfg->access.http_timeout_s,
        .fd_reserve = cfg->access.fd_reserve * 2,
        .token_file = cfg->access.http_token_file,
        .public_paths = cfg->access.http_public_paths,
        .public_count = cfg->access.http_public_count,
    };
    if (cfg->metrics_listen &&
        telemetry_server_start(cfg->metrics_listen, cfg->http_outputs, &topt, e, &telemetry, err,
                               sizeof(err)) != RV_OK) {
        fprintf(stderr, "%s: metrics_listen: %s\n", cfg->path, err);
#ifdef RV_HAVE_CONTROL
        control_server_stop(control, 0);
#endif
        goto out;
    }
#endif
    int64_t start_utc_ms = clock_now_utc_ns(clock) / 1000000;
    run_for_job job = {.e = e, .stop_utc_ms = start_utc_ms + opt->run_for_ms};
    /* The stop before the first start: on the virtual clock an autostarted
     * channel runs flat out and would be past it before run_for_main says so. */
    if (opt->run_for_ms >= 0)
        engine_set_stop_utc_ms(e, job.stop_utc_ms);
    autostart_channels(e, cfg);
    pthread_t run_thread;
    int have_job = opt->run_for_ms >= 0 && pthread_create(&run_thread, NULL, run_for_main, &job) == 0;
    reload_state rs = {.e = e, .reg = reg, .path = opt->config_path, .ov = &ov, .current = cfg};
    wait_for_stop(set, have_job ? &job : NULL, opt->config_path ? reload_config : NULL, &rs);
    cfg = rs.current;
#ifdef RV_HAVE_CONTROL
    if (control)
        control_server_stop(control, 1000);
#endif
    engine_stop_all(e);
    if (have_job)
        pthread_join(run_thread, NULL);
#ifdef RV_HAVE_TELEMETRY
    telemetry_server_stop(telemetry);
#endif
    status = 0;
out:
    engine_destroy(e);
    asrun_writer_destroy(asrun);
    clock_destroy(clock);
    registry_destroy(reg);
    config_free(cfg);
    log_flush_repeats();
    return status;
}

int main(int argc, char **argv)
{
    cli_options opt;
    char err[512];
    if (cli_parse(argc, argv, &opt, err, sizeof(err)) != RV_OK) {
        fprintf(stderr, "retrovue_playout: %s (see --help)\n", err);
        return 2;
    }
    if (opt.help) {
        cli_print_help(stdout);
        return 0;
    }
    if (opt.version) {
        printf("retrovue_playout %s (module ABI %d.%d)\n", RV_VERSION_STRING, RV_ABI_MAJOR,
               RV_ABI_MINOR);
        return 0;
    }
    sigset_t set;
    block_signals(&set);
    return run(&opt, &set);
}
