/**
 * @file tests/unit/test_log_repeat.c
 * @short log_repeat: identical lines past the burst are dropped and counted,
 *        the count is reported when the window ends, distinct lines are
 *        never dropped, and the table stays bounded under many distinct lines.
 */
#include <stdio.h>
#include <string.h>

#include "core/log_repeat.h"
#include "tap.h"

#define MS 1000000LL

int main(void)
{
    static log_repeat r;
    log_repeat_summary sum[LOG_REPEAT_MAX_SUMMARIES];
    size_t n = 0;
    int written = 0;

    tap_plan(9);
    log_repeat_init(&r);
    for (int i = 0; i < 1000; i++)
        written += log_repeat_check(&r, i * MS, 2, -1, NULL, "accept: Too many open files", sum, &n);
    tap_ok(written == LOG_REPEAT_BURST, "1000 identical lines in 1 s: %d written (burst %d)",
           written, LOG_REPEAT_BURST);
    tap_ok(r.suppressed_total == 1000 - LOG_REPEAT_BURST, "the rest counted (%llu)",
           (unsigned long long)r.suppressed_total);

    int other = log_repeat_check(&r, 1000 * MS, 2, -1, NULL, "something else", sum, &n);
    int other_chan = log_repeat_check(&r, 1000 * MS, 2, 3, NULL, "accept: Too many open files",
                                      sum, &n);
    int other_mod = log_repeat_check(&r, 1000 * MS, 2, -1, "x", "accept: Too many open files",
                                     sum, &n);
    tap_ok(other && other_chan && other_mod,
           "a different text, channel or module is another line: written");

    int again = log_repeat_check(&r, (LOG_REPEAT_WINDOW_MS + 5) * MS, 2, -1, NULL,
                                 "accept: Too many open files", sum, &n);
    int found = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(sum[i].msg, "accept: Too many open files") == 0 &&
            sum[i].suppressed == 1000 - LOG_REPEAT_BURST && sum[i].level == 2)
            found = 1;
    tap_ok(found, "after the window: one summary with the count (%zu summaries)", n);
    tap_ok(again, "after the window the line is written again");

    log_repeat_init(&r);
    written = 0;
    for (int i = 0; i < 5000; i++) {
        char msg[64];
        snprintf(msg, sizeof msg, "line %d", i);
        written += log_repeat_check(&r, i * MS / 10, 1, -1, NULL, msg, sum, &n);
    }
    tap_ok(written == 5000, "5000 distinct lines: all written (%d)", written);
    tap_ok(sizeof(r) < 64 * 1024, "the table is bounded (%zu bytes)", sizeof(r));

    /* Eviction of a slot holding dropped lines reports its count. */
    log_repeat_init(&r);
    for (int i = 0; i < 10; i++)
        log_repeat_check(&r, 0, 1, -1, NULL, "flood", sum, &n);
    size_t reported = 0;
    for (int i = 0; i < LOG_REPEAT_SLOTS + 1; i++) {
        char msg[64];
        snprintf(msg, sizeof msg, "other %d", i);
        log_repeat_check(&r, MS * (i + 1), 1, -1, NULL, msg, sum, &n);
        for (size_t k = 0; k < n; k++)
            if (strcmp(sum[k].msg, "flood") == 0)
                reported += sum[k].suppressed;
    }
    tap_ok(reported == 10 - LOG_REPEAT_BURST, "an evicted line's count is reported (%zu)",
           reported);

    log_repeat_init(&r);
    for (int i = 0; i < 10; i++)
        log_repeat_check(&r, 0, 1, -1, NULL, "flood", sum, &n);
    n = log_repeat_flush(&r, MS, sum, LOG_REPEAT_MAX_SUMMARIES);
    tap_ok(n == 1 && sum[0].suppressed == 10 - LOG_REPEAT_BURST, "flush reports pending counts");
    return tap_done();
}
