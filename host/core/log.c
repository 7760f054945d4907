/**
 * @file host/core/log.c
 * @short The process log: formats one logfmt line per event and writes it to
 *        stderr with a single write(2).
 *
 * Owns the log level singleton (an atomic int, default info) and the
 * repeat-suppression singleton (a fixed log_repeat table under a mutex: a
 * line repeated identically more than LOG_REPEAT_BURST times in
 * LOG_REPEAT_WINDOW_MS is dropped and counted, then reported as "last
 * message repeated N times"). Every line is formatted into a stack buffer.
 */
#include "core/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <retrovue/error.h>

#include "core/log_repeat.h"

/** The process-wide log level singleton. */
static atomic_int log_level_singleton = RV_LOG_INFO;

/** The process-wide repeat-suppression singleton and its lock. */
static log_repeat log_repeat_singleton;
static pthread_mutex_t log_repeat_lock = PTHREAD_MUTEX_INITIALIZER;

enum { LOG_LINE_BYTES = 4096, LOG_MSG_BYTES = 2048 };

/** Characters a logfmt value may hold without quotes. */
#define LOG_BARE_CHARS                                                                    \
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-:/+"

void log_set_level(rv_log_level level)
{
    if (level < RV_LOG_ERROR || level > RV_LOG_DEBUG)
        return;
    atomic_store(&log_level_singleton, (int)level);
}

rv_log_level log_get_level(void)
{
    return (rv_log_level)atomic_load(&log_level_singleton);
}

rv_log_level log_cycle_level(void)
{
    int cur = atomic_load(&log_level_singleton);
    int next;
    do {
        next = cur >= RV_LOG_DEBUG ? RV_LOG_ERROR : cur + 1;
    } while (!atomic_compare_exchange_weak(&log_level_singleton, &cur, next));
    return (rv_log_level)next;
}

int log_level_parse(const char *name, rv_log_level *out)
{
    static const struct {
        const char *name;
        rv_log_level level;
    } names[] = {
        {.name = "error", .level = RV_LOG_ERROR},
        {.name = "warn", .level = RV_LOG_WARN},
        {.name = "warning", .level = RV_LOG_WARN},
        {.name = "info", .level = RV_LOG_INFO},
        {.name = "debug", .level = RV_LOG_DEBUG},
    };
    if (name == NULL || out == NULL)
        return RV_EINVAL;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(name, names[i].name) == 0) {
            *out = names[i].level;
            return RV_OK;
        }
    }
    return RV_EINVAL;
}

const char *log_level_name(rv_log_level level)
{
    switch (level) {
    case RV_LOG_ERROR: return "error";
    case RV_LOG_WARN: return "warn";
    case RV_LOG_INFO: return "info";
    case RV_LOG_DEBUG: return "debug";
    default: return "unknown";
    }
}

int log_enabled(rv_log_level level)
{
    return (int)level <= atomic_load(&log_level_singleton);
}

/** Append @p src to @p buf at *@p pos, escaping quotes, backslashes and
 *  control characters; never writes past @p cap - 1. */
static void log_append_escaped(char *buf, size_t cap, size_t *pos, const char *src)
{
    static const char hex[] = "0123456789abcdef";
    for (const unsigned char *p = (const unsigned char *)src; *p != '\0'; p++) {
        char esc[4];
        size_t n = 0;
        if (*p == '"' || *p == '\\') {
            esc[n++] = '\\';
            esc[n++] = (char)*p;
        } else if (*p == '\n') {
            esc[n++] = '\\';
            esc[n++] = 'n';
        } else if (*p == '\t') {
            esc[n++] = '\\';
            esc[n++] = 't';
        } else if (*p < 0x20 || *p == 0x7f) {
            esc[n++] = '\\';
            esc[n++] = 'x';
            esc[n++] = hex[*p >> 4];
            esc[n++] = hex[*p & 0xf];
        } else {
            esc[n++] = (char)*p;
        }
        if (*pos + n >= cap)
            return;
        memcpy(buf + *pos, esc, n);
        *pos += n;
    }
}

/** Append formatted text; clamps on truncation. */
__attribute__((format(printf, 4, 5))) static void log_append(char *buf, size_t cap, size_t *pos,
                                                            const char *fmt, ...)
{
    va_list ap;
    if (*pos >= cap)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *pos, cap - *pos, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    *pos += (size_t)n;
    if (*pos >= cap)
        *pos = cap - 1;
}

/** Format one logfmt line from its parts and write it with one write(2).
 *  @p module may be NULL; all borrowed. */
static void log_emit(int level, int32_t channel_id, const char *module, const char *msg)
{
    char line[LOG_LINE_BYTES];
    size_t pos = 0;
    struct timespec now;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    log_append(line, sizeof(line), &pos, "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s",
               tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
               now.tv_nsec / 1000000, log_level_name((rv_log_level)level));
    if (channel_id >= 0)
        log_append(line, sizeof(line), &pos, " channel=%d", (int)channel_id);
    if (module != NULL) {
        int bare = module[0] != '\0' && strspn(module, LOG_BARE_CHARS) == strlen(module);
        log_append(line, sizeof(line), &pos, bare ? " module=" : " module=\"");
        log_append_escaped(line, sizeof(line) - 2, &pos, module);
        if (!bare)
            log_append(line, sizeof(line), &pos, "\"");
    }
    log_append(line, sizeof(line), &pos, " msg=\"");
    /* Keep room for the closing quote and the newline. */
    log_append_escaped(line, sizeof(line) - 2, &pos, msg);
    if (pos > sizeof(line) - 2)
        pos = sizeof(line) - 2;
    line[pos++] = '"';
    line[pos++] = '\n';

    ssize_t off = 0;
    while (off < (ssize_t)pos) {
        ssize_t w = write(STDERR_FILENO, line + off, pos - (size_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += w;
    }
}

static void log_emit_summaries(const log_repeat_summary *sum, size_t n)
{
    char msg[LOG_MSG_BYTES];
    for (size_t i = 0; i < n; i++) {
        const log_repeat_summary *s = &sum[i];
        snprintf(msg, sizeof(msg), "last message repeated %u times in %lld.%01lld s: %s",
                 s->suppressed, (long long)(s->window_ms / 1000),
                 (long long)(s->window_ms % 1000 / 100), s->msg);
        log_emit(s->level, s->channel_id, s->has_module ? s->module : NULL, msg);
    }
}

static int64_t log_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void log_vwrite(rv_log_level level, int32_t channel_id, const char *module, const char *fmt,
                va_list ap)
{
    char msg[LOG_MSG_BYTES];
    log_repeat_summary sum[LOG_REPEAT_MAX_SUMMARIES];
    size_t n_sum = 0;

    if (!log_enabled(level) || fmt == NULL)
        return;
    int saved_errno = errno;
    vsnprintf(msg, sizeof(msg), fmt, ap);

    pthread_mutex_lock(&log_repeat_lock);
    int write_it = log_repeat_check(&log_repeat_singleton, log_monotonic_ns(), (int)level,
                                    channel_id, module, msg, sum, &n_sum);
    pthread_mutex_unlock(&log_repeat_lock);
    log_emit_summaries(sum, n_sum);
    if (write_it)
        log_emit((int)level, channel_id, module, msg);
    errno = saved_errno;
}

void log_flush_repeats(void)
{
    log_repeat_summary sum[LOG_REPEAT_MAX_SUMMARIES];
    size_t n;
    do {
        pthread_mutex_lock(&log_repeat_lock);
        n = log_repeat_flush(&log_repeat_singleton, log_monotonic_ns(), sum,
                             LOG_REPEAT_MAX_SUMMARIES);
        pthread_mutex_unlock(&log_repeat_lock);
        log_emit_summaries(sum, n);
    } while (n == LOG_REPEAT_MAX_SUMMARIES);
}

uint64_t log_suppressed_total(void)
{
    pthread_mutex_lock(&log_repeat_lock);
    uint64_t n = log_repeat_singleton.suppressed_total;
    pthread_mutex_unlock(&log_repeat_lock);
    return n;
}

void log_write(rv_log_level level, int32_t channel_id, const char *module, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(level, channel_id, module, fmt, ap);
    va_end(ap);
}
