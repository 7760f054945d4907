/**
 * @file tests/tap.h
 * @short A tiny TAP producer for RetroVue's C tests (ctest and prove).
 *
 *     tap_plan(3);
 *     tap_ok(x == 1, "x is one");
 *     return tap_done();
 *
 * tap_done() returns the process exit status: 0 when every planned test ran
 * and passed, 1 otherwise. Header only; no global state outside this file.
 */
#ifndef RV_TESTS_TAP_H
#define RV_TESTS_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int tap_planned_ = -1;
static int tap_run_ = 0;
static int tap_failed_ = 0;

static inline void tap_plan(int n)
{
    tap_planned_ = n;
    printf("1..%d\n", n);
    fflush(stdout);
}

/** Record one test; returns @p cond so callers can bail out on failure. */
__attribute__((format(printf, 2, 3))) static inline int tap_ok(int cond, const char *fmt, ...)
{
    va_list ap;
    tap_run_++;
    if (!cond)
        tap_failed_++;
    printf("%sok %d - ", cond ? "" : "not ", tap_run_);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    return cond;
}

/** A diagnostic line (# ...), shown by prove -v and ctest on failure. */
__attribute__((format(printf, 1, 2))) static inline void tap_diag(const char *fmt, ...)
{
    va_list ap;
    printf("# ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

static inline int tap_done(void)
{
    if (tap_planned_ < 0) {
        printf("1..%d\n", tap_run_);
        tap_planned_ = tap_run_;
    }
    if (tap_run_ != tap_planned_)
        printf("# planned %d tests but ran %d\n", tap_planned_, tap_run_);
    fflush(stdout);
    return (tap_failed_ == 0 && tap_run_ == tap_planned_) ? 0 : 1;
}

#endif
