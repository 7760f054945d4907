/**
 * @file modules/sinks/framelog/framelog.c
 * @short The "framelog" sink: the instrument that proves frame accuracy.
 *        Writes what the channel emitted to a JSON-lines file.
 *
 * mode = "ticks": one line per tick, keys in this order:
 *   {"tick","utc_ms","source","block_id","segment_index","event_id",
 *    "asset_uri","asset_offset_ms","audio_samples","y_crc32"}
 * (y_crc32 is null when crc = false).
 * mode = "summary": one line per segment instance when it ends, keyed by
 * (segment_first_tick, block_id, segment_index) so each iteration of a
 * looping plan is its own line, then a "total" line at stop(). Summary mode
 * does no per-tick I/O.
 *
 * Both modes count tick-index discontinuities: a tick greater than the
 * previous + 1 adds the skipped indices to `missing`; a tick not greater than
 * the previous adds one to `repeated`. The totals are logged at stop().
 *
 * An instance owns its path copy, the descriptor and its output buffer, the
 * CRC tables, the line buffer and the open segment's strings. write() runs
 * on the sink thread; start() and stop() on the control thread, never at
 * the same time as write(); get_stats() and describe() on any thread read
 * only the atomic byte counter and the immutable path.
 *
 * The file is only ever appended to (an engine restart, a sink restart and a
 * reload all add to what is there), and only whole lines reach it
 * (lib/jsonl/jsonl_file.h): the buffer is written when it is full, at every
 * segment boundary and at stop() (flush = "close"), or after every line
 * (flush = "line"); summary lines are written at once. So a kill -9 loses
 * at most the lines of the segment on air, never leaves a partial line, and
 * a partial last line left by an earlier crash is cut when the file opens.
 * Strings are escaped and made valid UTF-8 whatever their bytes.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <retrovue/retrovue.h>

#include "framelog_crc32.h"
#include "framelog_line.h"
#include "jsonl/jsonl_file.h"

#define FRAMELOG_IOBUF_BYTES (1u << 20)

/** Output mode. Never zero. */
typedef enum framelog_mode {
    FRAMELOG_MODE_TICKS = 1,
    FRAMELOG_MODE_SUMMARY = 2
} framelog_mode;

/** Ticks counted by source, and their audio. */
typedef struct framelog_counts {
    int64_t ticks;
    int64_t real;
    int64_t freeze;
    int64_t slate;
    int64_t pad;
    int64_t audio_samples;
} framelog_counts;

/** An owned, growable copy of a string. */
typedef struct framelog_text {
    char *s;      /**< owned, NUL-terminated once set */
    size_t cap;
} framelog_text;

/** The segment instance being summarised. */
typedef struct framelog_segment {
    int open;
    int64_t expected_first_tick;   /**< rv_tick.segment_first_tick: part of the key */
    int64_t expected_end_tick;     /**< rv_tick.segment_end_tick */
    int32_t segment_index;         /**< part of the key */
    framelog_text block_id;        /**< part of the key */
    framelog_text event_id;
    framelog_text asset_uri;
    int64_t first_tick;            /**< as seen */
    int64_t last_tick;
    framelog_counts counts;
} framelog_segment;

typedef struct framelog_state {
    const rv_host_api *host;       /**< borrowed, valid until destroy */
    rv_context *ctx;               /**< borrowed, valid until destroy */
    char *path;                    /**< owned copy of the "path" option */
    framelog_mode mode;
    int crc;
    int flush_each_line;
    int fd;                        /**< owned while started; -1 otherwise */
    char *iobuf;                   /**< owned; whole lines not yet written */
    size_t iolen;                  /**< bytes in iobuf */
    int64_t tick_seg_first;        /**< ticks mode: segment of the last line, */
    int32_t tick_seg_index;        /**< to write the buffer at each boundary */
    framelog_crc32 crc32;
    framelog_line line;
    framelog_counts total;
    int have_prev;
    int64_t first_tick;
    int64_t prev_tick;
    int64_t missing;
    int64_t repeated;
    framelog_segment seg;
    atomic_ullong bytes;           /**< bytes written; read by get_stats */
} framelog_state;

static const char *const framelog_modes[] = {"ticks", "summary", NULL};
static const char *const framelog_flushes[] = {"line", "close", NULL};

static const rv_option framelog_options[] = {
    {.key = "path", .type = RV_OPT_PATH, .help = "JSON-lines file to append to",
     .default_string = "framelog.jsonl"},
    {.key = "mode", .type = RV_OPT_ENUM,
     .help = "ticks: one line per tick; summary: one line per segment and a total",
     .default_string = "ticks", .choices = framelog_modes},
    {.key = "crc", .type = RV_OPT_BOOL, .help = "ticks mode: CRC-32 of each picture's Y plane",
     .default_int = 1},
    {.key = "flush", .type = RV_OPT_ENUM,
     .help = "line: write every line at once; close: buffered, written at each segment "
             "boundary, when full and at stop",
     .default_string = "close", .choices = framelog_flushes},
    {.key = NULL},
};

static int framelog_text_set(framelog_text *t, const char *src)
{
    size_t n = strlen(src ? src : "") + 1;

    if (n > t->cap) {
        char *s = realloc(t->s, n);
        if (s == NULL)
            return RV_ENOMEM;
        t->s = s;
        t->cap = n;
    }
    memcpy(t->s, src ? src : "", n);
    return RV_OK;
}

static const char *framelog_text_get(const framelog_text *t)
{
    return t->s ? t->s : "";
}

/** Control thread. @p args borrowed; *@p state receives the instance, owned
 *  by the host until destroy(). */
static int framelog_create(const rv_create_args *args, void **state)
{
    const rv_host_api *host = args->host;
    framelog_state *s = calloc(1, sizeof(*s));
    int rc = RV_EINVAL;

    if (s == NULL)
        return RV_ENOMEM;
    s->host = host;
    s->ctx = args->ctx;
    s->fd = -1;
    atomic_init(&s->bytes, 0);

    const char *path = host->opt_string(args->options, "path");
    const char *mode = host->opt_string(args->options, "mode");
    const char *flush = host->opt_string(args->options, "flush");
    if (path == NULL || path[0] == '\0') {
        host->log(args->ctx, RV_LOG_ERROR, "framelog: path is empty");
        goto fail;
    }
    if (mode != NULL && strcmp(mode, "ticks") == 0) {
        s->mode = FRAMELOG_MODE_TICKS;
    } else if (mode != NULL && strcmp(mode, "summary") == 0) {
        s->mode = FRAMELOG_MODE_SUMMARY;
    } else {
        host->log(args->ctx, RV_LOG_ERROR, "framelog: mode '%s' is not ticks or summary",
                  mode ? mode : "(null)");
        goto fail;
    }
    if (flush != NULL && strcmp(flush, "line") == 0) {
        s->flush_each_line = 1;
    } else if (flush == NULL || strcmp(flush, "close") != 0) {
        host->log(args->ctx, RV_LOG_ERROR, "framelog: flush '%s' is not line or close",
                  flush ? flush : "(null)");
        goto fail;
    }
    s->crc = host->opt_bool(args->options, "crc");
    rc = RV_ENOMEM;
    s->path = strdup(path);
    s->iobuf = malloc(FRAMELOG_IOBUF_BYTES);
    if (s->path == NULL || s->iobuf == NULL)
        goto fail;
    framelog_crc32_init(&s->crc32);
    *state = s;
    return RV_OK;

fail:
    free(s->path);
    free(s->iobuf);
    free(s);
    return rc;
}

/** Control thread, after stop(). @p state: ownership returns. */
static void framelog_destroy(void *state)
{
    framelog_state *s = state;

    if (s == NULL)
        return;
    if (s->fd >= 0)
        close(s->fd);
    framelog_line_free(&s->line);
    free(s->seg.block_id.s);
    free(s->seg.event_id.s);
    free(s->seg.asset_uri.s);
    free(s->iobuf);
    free(s->path);
    free(s);
}

static int framelog_errno_code(int err)
{
    switch (err) {
    case ENOENT:
    case ENOTDIR: return RV_ENOENT;
    case EACCES:
    case EPERM:
    case EROFS: return RV_EACCES;
    case ENOMEM: return RV_ENOMEM;
    default: return RV_EIO;
    }
}

/** Control thread, before the first write: open the file for appending
 *  (cutting a partial last line an earlier crash left). */
static int framelog_start(void *state)
{
    framelog_state *s = state;
    size_t cut = 0;

    if (s->fd >= 0)
        return RV_ESTATE;
    s->fd = jsonl_file_open(s->path, &cut);
    if (s->fd < 0) {
        int err = errno;
        int rc = framelog_errno_code(err);
        s->host->event(s->ctx, RV_EVENT_SINK_ERROR, rc, s->path, "framelog: cannot open: %s",
                       strerror(err));
        return rc;
    }
    if (cut > 0)
        s->host->log(s->ctx, RV_LOG_WARN,
                     "framelog %s ended in a partial line (%zu bytes, a write the process did "
                     "not finish); cut off",
                     s->path, cut);
    s->iolen = 0;
    return RV_OK;
}

/* Write @p len bytes of whole lines at @p data to the file. */
static int framelog_put(framelog_state *s, const char *data, size_t len)
{
    if (len == 0)
        return RV_OK;
    if (jsonl_file_append(s->fd, data, len) != 0) {
        s->host->event(s->ctx, RV_EVENT_SINK_ERROR, RV_EIO, s->path, "framelog: write failed: %s",
                       strerror(errno));
        return RV_EIO;
    }
    atomic_fetch_add_explicit(&s->bytes, len, memory_order_relaxed);
    return RV_OK;
}

/* Write the buffered lines. */
static int framelog_flush(framelog_state *s)
{
    int rc = framelog_put(s, s->iobuf, s->iolen);
    s->iolen = 0;   /* on failure the file was cut back; the lines are gone, reported */
    return rc;
}

/* Finish the line and write it, at once when @p now, else into the buffer. */
static int framelog_emit(framelog_state *s, int now)
{
    framelog_line_raw(&s->line, "}\n");
    if (s->line.failed)
        return RV_ENOMEM;
    if (now || s->flush_each_line || s->line.len > FRAMELOG_IOBUF_BYTES) {
        int rc = framelog_flush(s);
        return rc != RV_OK ? rc : framelog_put(s, s->line.data, s->line.len);
    }
    if (s->iolen + s->line.len > FRAMELOG_IOBUF_BYTES) {
        int rc = framelog_flush(s);
        if (rc != RV_OK)
            return rc;
    }
    memcpy(s->iobuf + s->iolen, s->line.data, s->line.len);
    s->iolen += s->line.len;
    return RV_OK;
}

static void framelog_count(framelog_counts *c, const rv_tick *tick)
{
    c->ticks++;
    switch (tick->source) {
    case RV_SOURCE_REAL: c->real++; break;
    case RV_SOURCE_FREEZE: c->freeze++; break;
    case RV_SOURCE_SLATE: c->slate++; break;
    case RV_SOURCE_PAD: c->pad++; break;
    default: break;
    }
    c->audio_samples += tick->audio ? tick->audio->samples : 0;
}

static void framelog_put_counts(framelog_line *l, const framelog_counts *c)
{
    framelog_line_key(l, "real");
    framelog_line_i64(l, c->real);
    framelog_line_key(l, "freeze");
    framelog_line_i64(l, c->freeze);
    framelog_line_key(l, "slate");
    framelog_line_i64(l, c->slate);
    framelog_line_key(l, "pad");
    framelog_line_i64(l, c->pad);
    framelog_line_key(l, "audio_samples");
    framelog_line_i64(l, c->audio_samples);
}

static int framelog_write_tick_line(framelog_state *s, const rv_tick *tick)
{
    framelog_line *l = &s->line;
    int64_t utc_ms = tick->utc_ns / 1000000;

    if (tick->utc_ns % 1000000 < 0)
        utc_ms -= 1;
    framelog_line_reset(l);
    framelog_line_raw(l, "{");
    framelog_line_key(l, "tick");
    framelog_line_i64(l, tick->tick);
    framelog_line_key(l, "utc_ms");
    framelog_line_i64(l, utc_ms);
    framelog_line_key(l, "source");
    framelog_line_str(l, rv_tick_source_name(tick->source));
    framelog_line_key(l, "block_id");
    framelog_line_str(l, tick->block_id);
    framelog_line_key(l, "segment_index");
    framelog_line_i64(l, tick->segment_index);
    framelog_line_key(l, "event_id");
    framelog_line_str(l, tick->event_id);
    framelog_line_key(l, "asset_uri");
    framelog_line_str(l, tick->asset_uri);
    framelog_line_key(l, "asset_offset_ms");
    framelog_line_i64(l, tick->asset_offset_ms);
    framelog_line_key(l, "audio_samples");
    framelog_line_i64(l, tick->audio ? tick->audio->samples : 0);
    framelog_line_key(l, "y_crc32");
    if (s->crc && tick->video != NULL)
        framelog_line_i64(l, framelog_crc32_luma(&s->crc32, tick->video));
    else
        framelog_line_raw(l, "null");
    return framelog_emit(s, 0);
}

/* Write the summary line of the open segment instance and close it. */
static int framelog_end_segment(framelog_state *s)
{
    framelog_segment *g = &s->seg;
    framelog_line *l = &s->line;

    if (!g->open)
        return RV_OK;
    g->open = 0;
    framelog_line_reset(l);
    framelog_line_raw(l, "{");
    framelog_line_key(l, "type");
    framelog_line_str(l, "segment");
    framelog_line_key(l, "block_id");
    framelog_line_str(l, framelog_text_get(&g->block_id));
    framelog_line_key(l, "segment_index");
    framelog_line_i64(l, g->segment_index);
    framelog_line_key(l, "event_id");
    framelog_line_str(l, framelog_text_get(&g->event_id));
    framelog_line_key(l, "asset_uri");
    framelog_line_str(l, framelog_text_get(&g->asset_uri));
    framelog_line_key(l, "first_tick");
    framelog_line_i64(l, g->first_tick);
    framelog_line_key(l, "last_tick");
    framelog_line_i64(l, g->last_tick);
    framelog_line_key(l, "ticks");
    framelog_line_i64(l, g->counts.ticks);
    framelog_put_counts(l, &g->counts);
    framelog_line_key(l, "expected_first_tick");
    framelog_line_i64(l, g->expected_first_tick);
    framelog_line_key(l, "expected_end_tick");
    if (g->expected_end_tick == INT64_MAX)
        framelog_line_raw(l, "null"); /* open-ended */
    else
        framelog_line_i64(l, g->expected_end_tick);
    return framelog_emit(s, 1);
}

static int framelog_same_segment(const framelog_segment *g, const rv_tick *tick)
{
    return g->open && g->expected_first_tick == tick->segment_first_tick &&
           g->segment_index == tick->segment_index &&
           strcmp(framelog_text_get(&g->block_id), tick->block_id ? tick->block_id : "") == 0;
}

static int framelog_summarise(framelog_state *s, const rv_tick *tick)
{
    framelog_segment *g = &s->seg;

    if (!framelog_same_segment(g, tick)) {
        int rc = framelog_end_segment(s);
        if (rc != RV_OK)
            return rc;
        if (framelog_text_set(&g->block_id, tick->block_id) != RV_OK ||
            framelog_text_set(&g->event_id, tick->event_id) != RV_OK ||
            framelog_text_set(&g->asset_uri, tick->asset_uri) != RV_OK)
            return RV_ENOMEM;
        g->open = 1;
        g->expected_first_tick = tick->segment_first_tick;
        g->expected_end_tick = tick->segment_end_tick;
        g->segment_index = tick->segment_index;
        g->first_tick = tick->tick;
        g->counts = (framelog_counts){0};
    }
    g->last_tick = tick->tick;
    framelog_count(&g->counts, tick);
    return RV_OK;
}

/** Sink thread. @p tick and everything it points to are borrowed for the
 *  call; nothing is kept. */
static int framelog_write(void *state, const rv_tick *tick)
{
    framelog_state *s = state;

    if (s->fd < 0)
        return RV_ESTATE;
    if (!s->have_prev) {
        s->have_prev = 1;
        s->first_tick = tick->tick;
    } else if (tick->tick > s->prev_tick + 1) {
        s->missing += tick->tick - s->prev_tick - 1;
    } else if (tick->tick <= s->prev_tick) {
        s->repeated++;
    }
    s->prev_tick = tick->tick;
    framelog_count(&s->total, tick);
    if (s->mode == FRAMELOG_MODE_TICKS) {
        /* a segment boundary: what the last segment aired goes out whole */
        if (s->iolen > 0 && (tick->segment_first_tick != s->tick_seg_first ||
                             tick->segment_index != s->tick_seg_index)) {
            int rc = framelog_flush(s);
            if (rc != RV_OK)
                return rc;
        }
        s->tick_seg_first = tick->segment_first_tick;
        s->tick_seg_index = tick->segment_index;
        return framelog_write_tick_line(s, tick);
    }
    return framelog_summarise(s, tick);
}

static int framelog_write_total(framelog_state *s)
{
    framelog_line *l = &s->line;

    framelog_line_reset(l);
    framelog_line_raw(l, "{");
    framelog_line_key(l, "type");
    framelog_line_str(l, "total");
    framelog_line_key(l, "ticks");
    framelog_line_i64(l, s->total.ticks);
    framelog_line_key(l, "first_tick");
    if (s->have_prev)
        framelog_line_i64(l, s->first_tick);
    else
        framelog_line_raw(l, "null");
    framelog_line_key(l, "last_tick");
    if (s->have_prev)
        framelog_line_i64(l, s->prev_tick);
    else
        framelog_line_raw(l, "null");
    framelog_put_counts(l, &s->total);
    framelog_line_key(l, "missing");
    framelog_line_i64(l, s->missing);
    framelog_line_key(l, "repeated");
    framelog_line_i64(l, s->repeated);
    return framelog_emit(s, 1);
}

/** Control thread, after the last write: summary lines, flush, close. */
static void framelog_stop(void *state)
{
    framelog_state *s = state;

    if (s->fd < 0)
        return;
    if (s->mode == FRAMELOG_MODE_SUMMARY) {
        if (framelog_end_segment(s) == RV_OK)
            framelog_write_total(s);
    }
    framelog_flush(s);
    if (close(s->fd) != 0)
        s->host->event(s->ctx, RV_EVENT_SINK_ERROR, RV_EIO, s->path, "framelog: close failed: %s",
                       strerror(errno));
    s->fd = -1;
    s->host->log(s->ctx, (s->missing || s->repeated) ? RV_LOG_WARN : RV_LOG_INFO,
                 "framelog %s: %lld ticks, %lld missing, %lld repeated", s->path,
                 (long long)s->total.ticks, (long long)s->missing, (long long)s->repeated);
}

/** Any thread. @p out borrowed; struct_size set by the host. */
static int framelog_get_stats(void *state, rv_sink_stats *out)
{
    framelog_state *s = state;

    if (out->struct_size < sizeof(rv_sink_stats))
        return RV_EINVAL;
    out->bytes = atomic_load_explicit(&s->bytes, memory_order_relaxed);
    out->clients = 0;
    out->disconnects = 0;
    out->dropped_frames = 0;
    out->encode_ns = 0;
    return RV_OK;
}

/** Any thread. @p buf borrowed, @p len bytes; receives "file:<path>". */
static int framelog_describe(void *state, char *buf, size_t len)
{
    const framelog_state *s = state;

    if (buf == NULL || len == 0)
        return RV_EINVAL;
    snprintf(buf, len, "file:%s", s->path);
    return RV_OK;
}

static const rv_sink_ops framelog_ops = {
    .struct_size = sizeof(rv_sink_ops),
    .create = framelog_create,
    .destroy = framelog_destroy,
    .write = framelog_write,
    .start = framelog_start,
    .stop = framelog_stop,
    .get_stats = framelog_get_stats,
    .describe = framelog_describe,
};

RV_MODULE_DEFINE(.kind = RV_KIND_SINK, .name = "framelog", .version = "1.0.0",
                 .description = "JSON-lines log of every tick or segment, to prove frame accuracy",
                 .options = framelog_options, .sink = &framelog_ops)
