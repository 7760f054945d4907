/**
 * @file host/core/log_repeat.h
 * @short log_repeat: a bounded table of recently written log lines that
 *        suppresses a line repeated identically many times in a short while
 *        and reports how many were dropped ("last message repeated N times",
 *        as syslogd does).
 *
 * Two lines are identical when level, channel, module and message text are
 * equal. Within a window of LOG_REPEAT_WINDOW_MS after a line's first
 * occurrence, its first LOG_REPEAT_BURST copies are written and the rest
 * counted; when the window ends (noticed at the next log call) a summary
 * line carries the count. Memory is fixed: LOG_REPEAT_SLOTS entries of at
 * most LOG_REPEAT_TEXT_BYTES of text each; when full, the entry with the
 * oldest window is evicted (its summary is written first).
 *
 * The caller owns the table and serialises calls (log.c holds a mutex).
 */
#ifndef RV_HOST_LOG_REPEAT_H
#define RV_HOST_LOG_REPEAT_H

#include <stddef.h>
#include <stdint.h>

enum {
    LOG_REPEAT_SLOTS = 64,
    LOG_REPEAT_BURST = 3,
    LOG_REPEAT_WINDOW_MS = 10000,
    LOG_REPEAT_TEXT_BYTES = 240,
    LOG_REPEAT_MODULE_BYTES = 48,
    /** Summaries handed out by one log_repeat_check at most. */
    LOG_REPEAT_MAX_SUMMARIES = 4,
};

typedef struct log_repeat_slot {
    uint64_t hash;          /**< 0: free */
    int64_t window_start_ns;
    uint32_t seen;          /**< occurrences in this window */
    uint32_t suppressed;    /**< of which not written */
    int level;
    int32_t channel_id;
    char module[LOG_REPEAT_MODULE_BYTES]; /**< "" when none */
    int has_module;
    char msg[LOG_REPEAT_TEXT_BYTES];
} log_repeat_slot;

/** A line the caller must write: "last message repeated N times" for a
 *  window that has ended. Fields are copies. */
typedef struct log_repeat_summary {
    int level;
    int32_t channel_id;
    int has_module;
    char module[LOG_REPEAT_MODULE_BYTES];
    char msg[LOG_REPEAT_TEXT_BYTES];
    uint32_t suppressed;
    int64_t window_ms;      /**< how long the window lasted, ms */
} log_repeat_summary;

typedef struct log_repeat {
    log_repeat_slot slots[LOG_REPEAT_SLOTS];
    uint64_t suppressed_total; /**< lines dropped since init */
} log_repeat;

/** Empty table. @p r borrowed. */
void log_repeat_init(log_repeat *r);

/** Decide whether one line may be written at @p now_ns (CLOCK_MONOTONIC,
 *  ns). @p module may be NULL; @p module and @p msg borrowed. Summaries of
 *  windows that ended (or were evicted) are written into @p out (room for
 *  LOG_REPEAT_MAX_SUMMARIES), their number in *@p n_out; write them before
 *  the line. Returns 1 to write the line, 0 when it is suppressed. */
int log_repeat_check(log_repeat *r, int64_t now_ns, int level, int32_t channel_id,
                     const char *module, const char *msg, log_repeat_summary *out,
                     size_t *n_out);

/** Summaries of every window still holding suppressed lines, as if they had
 *  ended now (for a final flush); at most @p cap into @p out. Returns how
 *  many. The slots are freed. */
size_t log_repeat_flush(log_repeat *r, int64_t now_ns, log_repeat_summary *out, size_t cap);

#endif
