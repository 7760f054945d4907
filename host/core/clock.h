/**
 * @file host/core/clock.h
 * @short MasterClock: the process's one time source, real or virtual, and
 *        the exact rational tick arithmetic built on it.
 *
 * Real: UTC from CLOCK_REALTIME sampled once at creation, then advanced by
 * CLOCK_MONOTONIC, pacing with absolute monotonic sleeps (no drift
 * accumulates). Virtual: time moves only when a caller sleeps until a
 * deadline (the output thread emitting ticks), so tests run hours in seconds.
 */
#ifndef RV_HOST_CLOCK_H
#define RV_HOST_CLOCK_H

#include <stdint.h>
#include <time.h>

#include <retrovue/format.h>

typedef struct master_clock master_clock;

/** A real clock. Returns NULL on failure. */
master_clock *clock_create_real(void);
/** A virtual clock starting at @p start_utc_ns. */
master_clock *clock_create_virtual(int64_t start_utc_ns);
/** Free a clock nobody uses any more. NULL is a no-op. */
void clock_destroy(master_clock *clock);

int clock_is_virtual(const master_clock *clock);
/** Current UTC time in ns. Thread: any. */
int64_t clock_now_utc_ns(master_clock *clock);
/** Block until UTC @p deadline_ns (real), or advance to it (virtual: now
 *  becomes max(now, deadline)) and return at once. Thread: any. */
void clock_sleep_until(master_clock *clock, int64_t deadline_ns);

/** Deadline of tick @p tick for a channel with epoch @p epoch_utc_ms:
 *  epoch_ms*1e6 + floor(tick*den*1e9/num). */
int64_t clock_tick_deadline_ns(int64_t epoch_utc_ms, rv_rational rate, int64_t tick);
/** First tick at or after the UTC instant @p utc_ms:
 *  ceil((utc_ms - epoch_utc_ms) * num / (den * 1000)). May be negative. */
int64_t clock_first_tick_at(int64_t epoch_utc_ms, rv_rational rate, int64_t utc_ms);

/** The absolute time @p after_ns (>= 0) from now on the system clock @p clk
 *  (CLOCK_REALTIME for a default condition variable, CLOCK_MONOTONIC for one
 *  made with that attribute), normalised, for pthread_cond_timedwait. It is
 *  not the MasterClock: waits for events, never for ticks. Thread: any. */
struct timespec clock_wait_deadline(clockid_t clk, int64_t after_ns);

#endif
