/**
 * @file tests/unit/test_clock.c
 * @short MasterClock and tick arithmetic at the edges: NTSC and film rates,
 *        epochs far from zero, 30 days of ticks, negative offsets, the audio
 *        sample pattern, the virtual clock and the real clock.
 *
 * Expected values were computed independently with exact fractions
 * (Python's fractions.Fraction), not with the code under test.
 */
#include <stdint.h>

#include <retrovue/format.h>

#include "core/clock.h"
#include "tap.h"

static const rv_rational R2997 = {30000, 1001};
static const rv_rational R23976 = {24000, 1001};
static const rv_rational R25 = {25, 1};
static const rv_rational R60 = {60, 1};
static const rv_rational R50 = {50, 1};

static const int64_t E17 = 1700000000000LL; /* 2023-11-14, ms */
static const int64_t E40 = 4000000000000LL; /* 2096-10-02, ms */

static void test_known_values(void)
{
    tap_ok(clock_tick_deadline_ns(0, R2997, 2589411) == 86400013700000LL,
           "tick 2589411 at 30000/1001 is at exactly 86400.0137 s");
    tap_ok(clock_first_tick_at(0, R2997, 86400000) == 2589411,
           "24 h at 30000/1001 start at tick 2589411 (2589411 ticks in a day)");
    tap_ok(clock_first_tick_at(0, R2997, 30LL * 86400000) == 77682318,
           "30 days at 30000/1001: first tick 77682318");
    tap_ok(clock_tick_deadline_ns(0, R2997, 77682318) == 2592000010600000LL,
           "tick 77682318 deadline exact (30 days, no overflow)");
    tap_ok(clock_tick_deadline_ns(E17, R2997, 77682318) == 1702592000010600000LL,
           "30 days of ticks on a 1.7e12 ms epoch");
    tap_ok(clock_tick_deadline_ns(E17, R23976, 123456789) == 1705149176907875000LL,
           "24000/1001 tick 123456789 on a 1.7e12 ms epoch");
    tap_ok(clock_tick_deadline_ns(E40, R25, -7) == 3999999999720000000LL,
           "25 fps tick -7 on a 4e12 ms epoch");
    tap_ok(clock_tick_deadline_ns(E40, R60, 1000003) == 4000016666716666666LL,
           "60 fps tick 1000003 floors the ns");
    tap_ok(clock_tick_deadline_ns(E40, R50, 3LL * 86400 * 50 + 1) == 4000259200020000000LL,
           "50 fps three days plus one tick on a 4e12 ms epoch");
    tap_ok(clock_first_tick_at(E17, R23976, E17 + 30LL * 86400000) == 62145855,
           "30 days at 24000/1001: first tick 62145855");
    tap_ok(clock_first_tick_at(E40, R2997, E40 + 30LL * 86400000 + 1) == 77682318,
           "first tick ceil at a 4e12 ms epoch");
}

static void test_negative_offsets(void)
{
    tap_ok(clock_first_tick_at(E17, R60, E17 - 1) == 0, "1 ms before the epoch: tick 0 (ceil)");
    tap_ok(clock_first_tick_at(E17, R60, E17 - 17) == -1, "17 ms before at 60 fps: tick -1");
    tap_ok(clock_first_tick_at(E17, R2997, E17 - 34) == -1, "34 ms before at 29.97: tick -1");
    tap_ok(clock_tick_deadline_ns(E17, R2997, -1) == 1699999999966633333LL,
           "tick -1 at 29.97 floors towards minus infinity");
    tap_ok(clock_first_tick_at(E17, R25, E17 - 40) == -1 &&
               clock_first_tick_at(E17, R25, E17 - 41) == -1 &&
               clock_first_tick_at(E17, R25, E17 - 80) == -2,
           "25 fps negative boundaries exact");
    tap_ok(clock_first_tick_at(E17, R25, E17) == 0 && clock_first_tick_at(E17, R25, E17 + 1) == 1 &&
               clock_first_tick_at(E17, R25, E17 + 40) == 1 &&
               clock_first_tick_at(E17, R25, E17 + 41) == 2,
           "25 fps positive boundaries: an instant on a tick owns it, just after does not");
}

/** first_tick(floor_ms(deadline(n))) == n, and deadline(n) is strictly increasing. */
static int test_round_trip(int64_t epoch_ms, rv_rational rate, int64_t from, int64_t count,
                           int64_t step)
{
    int64_t prev = INT64_MIN;
    for (int64_t i = 0; i < count; i++) {
        int64_t n = from + i * step;
        int64_t d = clock_tick_deadline_ns(epoch_ms, rate, n);
        int64_t ms = d >= 0 ? d / 1000000 : -((-d + 999999) / 1000000);
        if (clock_first_tick_at(epoch_ms, rate, ms) != n) {
            tap_diag("round trip failed at tick %lld (%d/%d)", (long long)n, rate.num, rate.den);
            return 0;
        }
        /* A ms past the instant belongs to the next tick when it is not on one. */
        if (d % 1000000 != 0 && clock_first_tick_at(epoch_ms, rate, ms + 1) != n + 1) {
            tap_diag("ceil failed just after tick %lld", (long long)n);
            return 0;
        }
        if (d <= prev) {
            tap_diag("deadline not increasing at tick %lld", (long long)n);
            return 0;
        }
        prev = d;
    }
    return 1;
}

static void test_round_trips(void)
{
    const rv_rational rates[] = {R2997, R23976, R25, R60, R50};
    const int64_t epochs[] = {0, E17, E40, E17 + 333};
    for (size_t r = 0; r < sizeof(rates) / sizeof(rates[0]); r++) {
        int ok = 1;
        for (size_t e = 0; e < sizeof(epochs) / sizeof(epochs[0]); e++) {
            ok &= test_round_trip(epochs[e], rates[r], -5000, 20000, 1);
            ok &= test_round_trip(epochs[e], rates[r], 77682318 - 10000, 20000, 1);
            ok &= test_round_trip(epochs[e], rates[r], -1000000007, 2000, 1000003);
        }
        tap_ok(ok, "first_tick(deadline(n)) == n at %d/%d for 42000 ticks near 0, 30 days and far",
               rates[r].num, rates[r].den);
    }
}

static void test_samples(void)
{
    int pattern_ok = 1;
    int sum_ok = 1;
    const int64_t starts[] = {0, 77682315, -1000, 2589410};
    for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
        for (int64_t g = starts[i] / 5 * 5; g < starts[i] / 5 * 5 + 5000; g += 5) {
            int64_t sum = 0;
            for (int64_t t = g; t < g + 5; t++) {
                uint32_t n = rv_samples_in_tick(R2997, 48000, t);
                pattern_ok &= n == 1601 || n == 1602;
                sum += n;
            }
            sum_ok &= sum == 8008;
        }
    }
    tap_ok(pattern_ok, "48 kHz at 29.97: every tick carries 1601 or 1602 samples");
    tap_ok(sum_ok, "48 kHz at 29.97: every 5 ticks carry exactly 8008 samples");
    tap_ok(rv_samples_in_tick(R2997, 48000, 0) == 1601 && rv_samples_in_tick(R2997, 48000, 1) == 1602,
           "pattern starts 1601, 1602");
    int film_ok = 1;
    for (int64_t t = -100; t < 10000; t++)
        film_ok &= rv_samples_in_tick(R23976, 48000, t) == 2002;
    tap_ok(film_ok, "48 kHz at 23.976: 2002 samples every tick");
    tap_ok(rv_ticks_to_samples(R2997, 48000, 2589411) == 4147200657LL,
           "samples up to tick 2589411 at 29.97: exact");
}

static void test_virtual(void)
{
    master_clock *c = clock_create_virtual(E17 * 1000000);
    tap_ok(c != NULL && clock_is_virtual(c), "virtual clock created");
    tap_ok(clock_now_utc_ns(c) == E17 * 1000000 && clock_now_utc_ns(c) == E17 * 1000000,
           "virtual time stands still without sleeps");
    int64_t d = clock_tick_deadline_ns(E17, R2997, 1000);
    clock_sleep_until(c, d);
    tap_ok(clock_now_utc_ns(c) == d, "sleep_until advances to the deadline");
    clock_sleep_until(c, d - 5);
    tap_ok(clock_now_utc_ns(c) == d, "sleep_until an earlier deadline never goes back");
    int ok = 1;
    for (int64_t t = 1001; t < 1001 + 86400LL * 30; t++) {
        int64_t dl = clock_tick_deadline_ns(E17, R2997, t);
        clock_sleep_until(c, dl);
        ok &= clock_now_utc_ns(c) == dl;
    }
    tap_ok(ok, "virtual clock follows 2.6 million tick deadlines exactly");
    clock_destroy(c);
}

static void test_real(void)
{
    master_clock *c = clock_create_real();
    tap_ok(c != NULL && !clock_is_virtual(c), "real clock created");
    int64_t prev = clock_now_utc_ns(c);
    int mono = 1;
    for (int i = 0; i < 100000; i++) {
        int64_t now = clock_now_utc_ns(c);
        mono &= now >= prev;
        prev = now;
    }
    tap_ok(mono, "real clock never goes back over 100000 reads");
    tap_ok(prev > 1500000000000LL * 1000000, "real clock is UTC (after 2017)");
    int64_t deadline = clock_now_utc_ns(c) + 2000000;
    clock_sleep_until(c, deadline);
    tap_ok(clock_now_utc_ns(c) >= deadline, "after sleep_until the deadline has passed");
    clock_sleep_until(c, deadline - 1000000000); /* in the past: returns */
    tap_ok(1, "sleep_until a past deadline returns");
    clock_destroy(c);
    clock_destroy(NULL);
}

int main(void)
{
    tap_plan(11 + 6 + 5 + 5 + 5 + 5);
    test_known_values();
    test_negative_offsets();
    test_round_trips();
    test_samples();
    test_virtual();
    test_real();
    return tap_done();
}
