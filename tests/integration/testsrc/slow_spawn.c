/* slow_spawn: an LD_PRELOAD test aid (integration.run_for_stop) that owns
 * nothing. Every pthread_create the process's main thread makes waits
 * RV_SLOW_SPAWN_MS milliseconds (0-10000) first, so a thread the main thread
 * starts after another one starts late, as on a machine whose load keeps the
 * main thread off the CPU: it widens, every run, the windows a race between
 * them would need heavy load to hit. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/** At load: says on stderr that it is in effect, so a test can tell a
 *  preload the loader refused (it only warns) from a run without the delay. */
__attribute__((constructor)) static void slow_spawn_announce(void)
{
    const char *ms = getenv("RV_SLOW_SPAWN_MS");
    if (ms)
        fprintf(stderr, "rv_slow_spawn: the main thread's pthread_create waits %s ms\n", ms);
}

typedef int (*create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

/** Interposes libc's pthread_create: @p thread, @p attr and @p arg are the
 *  caller's, passed on unchanged; @p start runs on the new thread. Thread: any
 *  (only the main thread waits). Returns what the real pthread_create returns. */
int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *),
                   void *arg)
{
    static create_fn real;
    if (!real) {
        void *sym = dlsym(RTLD_NEXT, "pthread_create");
        *(void **)&real = sym;
    }
    const char *ms = getenv("RV_SLOW_SPAWN_MS");
    if (ms && gettid() == getpid()) {
        long v = strtol(ms, NULL, 10);
        if (v > 0 && v <= 10000) {
            struct timespec ts = {v / 1000, (v % 1000) * 1000000L};
            while (nanosleep(&ts, &ts) != 0)
                ;
        }
    }
    return real(thread, attr, start, arg);
}
