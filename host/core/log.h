/**
 * @file host/core/log.h
 * @short The process log: one logfmt line per event on stderr
 *        (`ts=... level=... channel=... module=... msg="..."`).
 *
 * The level is a process-wide singleton (atomic), set at start and cycled by
 * SIGUSR1. Safe from any thread; one write(2) per line so lines never mix.
 * A line repeated identically (same level, channel, module and text) more
 * than 3 times within 10 s is dropped and counted; when the 10 s end, one
 * line "last message repeated N times in S s: <text>" reports the count
 * (core/log_repeat.h). Memory for this is fixed (64 recent lines).
 */
#ifndef RV_HOST_LOG_H
#define RV_HOST_LOG_H

#include <stdarg.h>
#include <stdint.h>

#include <retrovue/host.h>

/** Set the level below which lines are dropped. Thread: any. */
void log_set_level(rv_log_level level);
rv_log_level log_get_level(void);
/** Next level (error->warn->info->debug->error); returns the new level. */
rv_log_level log_cycle_level(void);
/** Parse "error|warn|info|debug"; RV_OK or RV_EINVAL. @p name borrowed. */
int log_level_parse(const char *name, rv_log_level *out);
const char *log_level_name(rv_log_level level);
int log_enabled(rv_log_level level);

/** Write one line. @p channel_id < 0 and @p module NULL are omitted.
 *  @p module and @p fmt borrowed. Thread: any. */
void log_write(rv_log_level level, int32_t channel_id, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void log_vwrite(rv_log_level level, int32_t channel_id, const char *module, const char *fmt,
                va_list ap);

/** Write the "last message repeated N times" lines still pending (at
 *  exit). Thread: any. */
void log_flush_repeats(void);
/** Lines dropped as identical repeats since start. Thread: any. */
uint64_t log_suppressed_total(void);

#define log_error(...) log_write(RV_LOG_ERROR, -1, NULL, __VA_ARGS__)
#define log_warn(...) log_write(RV_LOG_WARN, -1, NULL, __VA_ARGS__)
#define log_info(...) log_write(RV_LOG_INFO, -1, NULL, __VA_ARGS__)
#define log_debug(...) log_write(RV_LOG_DEBUG, -1, NULL, __VA_ARGS__)

#endif
