/**
 * @file host/core/clock.c
 * @short MasterClock, real or virtual, and the exact rational tick arithmetic.
 *
 * A master_clock owns nothing but its own state: for the real clock the UTC
 * and monotonic instants sampled once at creation (UTC advances with the
 * monotonic clock from there, so a wall-clock step never moves the channel);
 * for the virtual clock an atomic "now" that only clock_sleep_until raises.
 */
#include "core/clock.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

enum { NS_PER_SEC = 1000000000, NS_PER_MS = 1000000 };

struct master_clock {
    int is_virtual;
    int64_t base_utc_ns;       /**< real: CLOCK_REALTIME at creation */
    int64_t base_mono_ns;      /**< real: CLOCK_MONOTONIC at creation */
    _Atomic int64_t now_ns;    /**< virtual: current UTC time */
};

static int64_t clock_sample_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

master_clock *clock_create_real(void)
{
    master_clock *clock = calloc(1, sizeof(*clock));
    if (clock == NULL)
        return NULL;
    clock->is_virtual = 0;
    clock->base_mono_ns = clock_sample_ns(CLOCK_MONOTONIC);
    clock->base_utc_ns = clock_sample_ns(CLOCK_REALTIME);
    atomic_init(&clock->now_ns, 0);
    return clock;
}

master_clock *clock_create_virtual(int64_t start_utc_ns)
{
    master_clock *clock = calloc(1, sizeof(*clock));
    if (clock == NULL)
        return NULL;
    clock->is_virtual = 1;
    atomic_init(&clock->now_ns, start_utc_ns);
    return clock;
}

void clock_destroy(master_clock *clock)
{
    free(clock);
}

int clock_is_virtual(const master_clock *clock)
{
    return clock != NULL && clock->is_virtual;
}

int64_t clock_now_utc_ns(master_clock *clock)
{
    if (clock == NULL)
        return clock_sample_ns(CLOCK_REALTIME);
    if (clock->is_virtual)
        return atomic_load(&clock->now_ns);
    return clock->base_utc_ns + (clock_sample_ns(CLOCK_MONOTONIC) - clock->base_mono_ns);
}

void clock_sleep_until(master_clock *clock, int64_t deadline_ns)
{
    if (clock == NULL)
        return;
    if (clock->is_virtual) {
        int64_t cur = atomic_load(&clock->now_ns);
        while (cur < deadline_ns &&
               !atomic_compare_exchange_weak(&clock->now_ns, &cur, deadline_ns)) {
        }
        return;
    }
    /* Real: the monotonic instant of the deadline, slept to absolutely. */
    rv_int128 mono = (rv_int128)clock->base_mono_ns + ((rv_int128)deadline_ns - clock->base_utc_ns);
    if (mono <= 0)
        return;
    if (mono > (rv_int128)INT64_MAX)
        mono = INT64_MAX;
    struct timespec ts = {
        .tv_sec = (time_t)(mono / NS_PER_SEC),
        .tv_nsec = (long)(mono % NS_PER_SEC),
    };
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

int64_t clock_tick_deadline_ns(int64_t epoch_utc_ms, rv_rational rate, int64_t tick)
{
    rv_int128 ns = (rv_int128)epoch_utc_ms * NS_PER_MS + rv_ticks_to_ns(rate, tick);
    if (ns > (rv_int128)INT64_MAX)
        return INT64_MAX;
    if (ns < (rv_int128)INT64_MIN)
        return INT64_MIN;
    return (int64_t)ns;
}

int64_t clock_first_tick_at(int64_t epoch_utc_ms, rv_rational rate, int64_t utc_ms)
{
    /* ceil((utc_ms - epoch) * num / (den * 1000)) in 128 bits: the
     * difference itself may not fit 64 bits for extreme arguments. */
    rv_int128 n = ((rv_int128)utc_ms - epoch_utc_ms) * rate.num;
    rv_int128 d = (rv_int128)rate.den * 1000;
    rv_int128 q = n / d;
    if (n % d != 0 && n > 0)
        q += 1;
    if (q > (rv_int128)INT64_MAX)
        return INT64_MAX;
    if (q < (rv_int128)INT64_MIN)
        return INT64_MIN;
    return (int64_t)q;
}

struct timespec clock_wait_deadline(clockid_t clk, int64_t after_ns)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    if (after_ns < 0)
        after_ns = 0;
    ts.tv_sec += (time_t)(after_ns / 1000000000);
    ts.tv_nsec += (long)(after_ns % 1000000000);
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    return ts;
}
