/**
 * @file tests/integration/control_stub_server.c
 * @short The real control plane (host/control) serving the stub engine:
 *        `control_stub_server PLANS_DIR ADDRESS...`. Prints "ready PORT..."
 *        (the TCP port bound per address, 0 for Unix sockets) on stdout once
 *        listening; stops cleanly on SIGTERM or SIGINT (exit 0), exit 1 when
 *        an address cannot be bound, with the reason on stderr.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <retrovue/error.h>

#include "control/control_server.h"

engine *stub_engine_create(const char *plans_dir);
void stub_sessions_shutdown(void);

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s PLANS_DIR ADDRESS...\n", argv[0]);
        return 2;
    }
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);

    engine *e = stub_engine_create(argv[1]);
    control_server *srv = NULL;
    char err[512];
    size_t count = (size_t)(argc - 2);
    /* RV_STUB_TOKEN_FILE: TCP listeners require that bearer token. */
    control_options opt = {.token_file = getenv("RV_STUB_TOKEN_FILE"), .insecure_tcp = 1};
    /* RV_STUB_LIMITS="MAX_CONNECTIONS PER_PEER FD_RESERVE IDLE_MS" (0 = default). */
    const char *lim = getenv("RV_STUB_LIMITS");
    if (lim)
        sscanf(lim, "%u %u %u %d", &opt.limits.max_connections, &opt.limits.max_per_peer,
               &opt.limits.fd_reserve, &opt.max_idle_ms);
    if (control_server_start(argv + 2, count, &opt, e, &srv, err, sizeof(err)) != RV_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    printf("ready");
    for (size_t i = 0; i < count; i++)
        printf(" %d", control_server_port(srv, i));
    printf("\n");
    fflush(stdout);
    int sig = 0;
    sigwait(&stop_signals, &sig);
    control_server_stop(srv, 1000);
    stub_sessions_shutdown();
    return 0;
}
