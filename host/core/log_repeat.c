/**
 * @file host/core/log_repeat.c
 * @short log_repeat (see log_repeat.h): a fixed table of recent log lines,
 *        keyed by a 64-bit FNV-1a hash of level, channel, module and text.
 *        Owns nothing outside the caller's table.
 */
#include "core/log_repeat.h"

#include <stdio.h>
#include <string.h>

#define LOG_REPEAT_WINDOW_NS ((int64_t)LOG_REPEAT_WINDOW_MS * 1000000)

static uint64_t fnv_bytes(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static uint64_t log_repeat_hash(int level, int32_t channel_id, const char *module,
                                const char *msg)
{
    uint64_t h = 14695981039346656037ULL;
    h = fnv_bytes(h, &level, sizeof(level));
    h = fnv_bytes(h, &channel_id, sizeof(channel_id));
    if (module)
        h = fnv_bytes(h, module, strlen(module) + 1);
    else
        h = fnv_bytes(h, "\xff", 1);
    h = fnv_bytes(h, msg, strlen(msg));
    return h ? h : 1; /* 0 marks a free slot */
}

void log_repeat_init(log_repeat *r)
{
    memset(r, 0, sizeof(*r));
}

/** Free @p s, adding its summary to @p out when it dropped lines. */
static void log_repeat_close(log_repeat_slot *s, int64_t now_ns, log_repeat_summary *out,
                             size_t *n_out, size_t cap)
{
    if (s->suppressed > 0 && *n_out < cap) {
        log_repeat_summary *o = &out[(*n_out)++];
        o->level = s->level;
        o->channel_id = s->channel_id;
        o->has_module = s->has_module;
        memcpy(o->module, s->module, sizeof(o->module));
        memcpy(o->msg, s->msg, sizeof(o->msg));
        o->suppressed = s->suppressed;
        o->window_ms = (now_ns - s->window_start_ns) / 1000000;
    } else if (s->suppressed > 0) {
        return; /* no room for its summary this time: keep it for the next call */
    }
    s->hash = 0;
}

int log_repeat_check(log_repeat *r, int64_t now_ns, int level, int32_t channel_id,
                     const char *module, const char *msg, log_repeat_summary *out,
                     size_t *n_out)
{
    *n_out = 0;
    uint64_t h = log_repeat_hash(level, channel_id, module, msg);
    log_repeat_slot *mine = NULL;
    log_repeat_slot *free_slot = NULL;
    log_repeat_slot *oldest = NULL;
    for (size_t i = 0; i < LOG_REPEAT_SLOTS; i++) {
        log_repeat_slot *s = &r->slots[i];
        if (s->hash && now_ns - s->window_start_ns >= LOG_REPEAT_WINDOW_NS)
            log_repeat_close(s, now_ns, out, n_out, LOG_REPEAT_MAX_SUMMARIES);
        if (!s->hash) {
            if (!free_slot)
                free_slot = s;
            continue;
        }
        if (s->hash == h)
            mine = s;
        if (!oldest || s->window_start_ns < oldest->window_start_ns)
            oldest = s;
    }
    if (mine) {
        mine->seen++;
        if (mine->seen <= LOG_REPEAT_BURST)
            return 1;
        mine->suppressed++;
        r->suppressed_total++;
        return 0;
    }
    if (!free_slot) {
        if (*n_out >= LOG_REPEAT_MAX_SUMMARIES && oldest->suppressed > 0)
            return 1; /* nowhere to report the evicted count: write, do not track */
        log_repeat_close(oldest, now_ns, out, n_out, LOG_REPEAT_MAX_SUMMARIES);
        free_slot = oldest;
    }
    log_repeat_slot *s = free_slot;
    memset(s, 0, sizeof(*s));
    s->hash = h;
    s->window_start_ns = now_ns;
    s->seen = 1;
    s->level = level;
    s->channel_id = channel_id;
    s->has_module = module != NULL;
    snprintf(s->module, sizeof(s->module), "%s", module ? module : "");
    snprintf(s->msg, sizeof(s->msg), "%s", msg);
    return 1;
}

size_t log_repeat_flush(log_repeat *r, int64_t now_ns, log_repeat_summary *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < LOG_REPEAT_SLOTS; i++) {
        log_repeat_slot *s = &r->slots[i];
        if (!s->hash)
            continue;
        if (s->suppressed > 0 && n >= cap)
            break;
        log_repeat_close(s, now_ns, out, &n, cap);
    }
    return n;
}
