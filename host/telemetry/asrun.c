/**
 * @file host/telemetry/asrun.c
 * @short The as-run writer: a bounded queue of records filled by channels'
 *        output threads and drained by one writer thread into
 *        <dir>/channel-<id>-<YYYY-MM-DD>.jsonl, one write(2) per line on an
 *        O_APPEND descriptor. Owns the queue (an asrun_journal: a ring in a
 *        mapped file that outlives a kill -9, replayed at the next start),
 *        the open day files and the line buffer.
 */
#include "telemetry/asrun.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <retrovue/error.h>

#include "core/log.h"
#include "jsonl/json_text.h"
#include "jsonl/jsonl_file.h"
#include "core/thread_name.h"
#include "telemetry/asrun_journal.h"

#define ASRUN_OPEN_FILES 64

/** One open day file of one channel. */
typedef struct asrun_file {
    int32_t channel_id;
    char day[16];
    int fd;    /**< -1 when the slot is free */
} asrun_file;

struct asrun_writer {
    char *dir;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    asrun_journal *journal;    /**< the ring of records; slots head .. head+count-1 queued */
    uint32_t capacity;         /**< the journal's slots */
    uint32_t head;
    uint32_t count;
    int stopping;
    pthread_t thread;
    asrun_file files[ASRUN_OPEN_FILES];  /**< writer thread only */
    char *line;                /**< ASRUN_LINE_MAX bytes; writer thread only */
    atomic_uint_fast64_t written;
    atomic_uint_fast64_t dropped;
};

const char *asrun_status_name(asrun_status s)
{
    switch (s) {
    case ASRUN_AIRED: return "aired";
    case ASRUN_TRUNCATED: return "truncated";
    case ASRUN_PADDED: return "padded";
    case ASRUN_FAILED: return "failed";
    case ASRUN_SKIPPED: return "skipped";
    }
    return "unknown";
}

void asrun_record_set_text(char *dst, size_t cap, const char *src)
{
    json_text_utf8_copy(dst, cap, src, SIZE_MAX);
}

/** @p s (a record's field of @p cap bytes, borrowed) as a quoted JSON string
 *  into @p out (JSON_TEXT_QUOTED_MAX(cap) + 1 bytes: never cut). */
static void asrun_quote(char *out, size_t out_len, const char *s, size_t cap)
{
    json_text_quote(out, out_len, s, strnlen(s, cap));
}

int asrun_record_format(const asrun_record *rec, char *buf, size_t len)
{
    char block[JSON_TEXT_QUOTED_MAX(sizeof(rec->block_id)) + 1];
    char event[JSON_TEXT_QUOTED_MAX(sizeof(rec->event_id)) + 1];
    char asset[JSON_TEXT_QUOTED_MAX(sizeof(rec->asset_uri)) + 1];
    char notes[JSON_TEXT_QUOTED_MAX(sizeof(rec->notes)) + 10] = "";
    asrun_quote(block, sizeof(block), rec->block_id, sizeof(rec->block_id));
    asrun_quote(event, sizeof(event), rec->event_id, sizeof(rec->event_id));
    asrun_quote(asset, sizeof(asset), rec->asset_uri, sizeof(rec->asset_uri));
    if (rec->notes[0]) {
        memcpy(notes, ",\"notes\":", 9);
        asrun_quote(notes + 9, sizeof(notes) - 9, rec->notes, sizeof(rec->notes));
    }
    int n = snprintf(buf, len,
                     "{\"channel\":%" PRId32 ",\"block_id\":%s,\"event_id\":%s,"
                     "\"segment_index\":%" PRId32 ",\"asset_uri\":%s,"
                     "\"scheduled_start_utc_ms\":%" PRId64 ",\"actual_start_utc_ms\":%" PRId64 ","
                     "\"scheduled_frames\":%" PRId64 ",\"frames_aired\":%" PRId64 ","
                     "\"frames_padded\":%" PRId64 ",\"frames_slate\":%" PRId64 ","
                     "\"frames_freeze\":%" PRId64 ",\"status\":\"%s\",\"join_in_progress\":%s%s}",
                     rec->channel_id, block, event, rec->segment_index, asset,
                     rec->scheduled_start_utc_ms, rec->actual_start_utc_ms, rec->scheduled_frames,
                     rec->frames_aired, rec->frames_padded, rec->frames_slate, rec->frames_freeze,
                     asrun_status_name(rec->status), rec->join_in_progress ? "true" : "false",
                     notes);
    return n < 0 || (size_t)n >= len ? -1 : n;
}

static void asrun_day(int64_t utc_ms, char *day, size_t len)
{
    time_t secs = (time_t)(utc_ms >= 0 ? utc_ms / 1000 : (utc_ms - 999) / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(day, len, "%Y-%m-%d", &tm);
}

static void asrun_file_close(asrun_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
}

/** The open file for @p rec's channel and day (-1 when it cannot be opened,
 *  logged); closes the channel's old day. Opening cuts a partial last line
 *  a killed writer left (logged). */
static int asrun_file_for(asrun_writer *w, const asrun_record *rec)
{
    char day[16];
    asrun_day(rec->actual_start_utc_ms, day, sizeof(day));
    asrun_file *slot = NULL;
    for (int i = 0; i < ASRUN_OPEN_FILES; i++) {
        asrun_file *f = &w->files[i];
        if (f->fd >= 0 && f->channel_id == rec->channel_id) {
            if (strcmp(f->day, day) == 0)
                return f->fd;
            asrun_file_close(f);
        }
        if (f->fd < 0 && !slot)
            slot = f;
    }
    if (!slot) {
        slot = &w->files[(uint32_t)rec->channel_id % ASRUN_OPEN_FILES];
        asrun_file_close(slot);
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/channel-%" PRId32 "-%s.jsonl", w->dir, rec->channel_id, day);
    size_t cut = 0;
    slot->fd = jsonl_file_open(path, &cut);
    if (slot->fd < 0) {
        log_write(RV_LOG_ERROR, rec->channel_id, NULL, "as-run: cannot open %s: %s", path,
                  strerror(errno));
        return -1;
    }
    if (cut > 0)
        log_write(RV_LOG_WARN, rec->channel_id, NULL,
                  "as-run: %s ended in a partial line (%zu bytes, a write the process did not "
                  "finish); cut off",
                  path, cut);
    slot->channel_id = rec->channel_id;
    snprintf(slot->day, sizeof(slot->day), "%s", day);
    return slot->fd;
}

/** Append the record in @p slot to its day file, and mark the slot done.
 *  @p was (borrowed; NULL for a record of this run) is what a dead engine's
 *  journal said of the slot: if it had started the append and the file has
 *  grown since, the line is there already and is not written twice. Thread:
 *  the writer (or create, before the thread runs). Returns 1 when written,
 *  2 when found already written, 0 when dropped (logged). */
static int asrun_write_slot(asrun_writer *w, uint32_t slot, const asrun_journal_pending *was)
{
    const asrun_record *rec = asrun_journal_record(w->journal, slot);
    char *line = w->line;
    int n = asrun_record_format(rec, line, ASRUN_LINE_MAX - 1);
    int fd = n < 0 ? -1 : asrun_file_for(w, rec);
    struct stat st;
    if (n < 0) {
        /* cannot happen: ASRUN_LINE_MAX bounds every record */
        log_write(RV_LOG_ERROR, rec->channel_id, NULL,
                  "as-run: record of segment %" PRId32 " does not fit a line; dropped",
                  rec->segment_index);
        goto dropped;
    }
    if (fd < 0)
        goto dropped;
    if (fstat(fd, &st) != 0) {
        log_write(RV_LOG_ERROR, rec->channel_id, NULL, "as-run: fstat: %s; record dropped",
                  strerror(errno));
        goto dropped;
    }
    if (was && was->appending &&
        ((uint64_t)st.st_dev != was->file_dev || (uint64_t)st.st_ino != was->file_ino ||
         (int64_t)st.st_size > was->append_at)) {
        /* the dead writer's append reached the file (a torn one was cut when
         * the file was opened, leaving it at append_at), or went to a file
         * rotated away since: either way it is not written again */
        asrun_journal_mark_done(w->journal, slot);
        return 2;
    }
    asrun_journal_mark_appending(w->journal, slot, st.st_dev, st.st_ino, st.st_size);
    line[n++] = '\n';
    if (jsonl_file_append(fd, line, (size_t)n) != 0) {
        log_write(RV_LOG_ERROR, rec->channel_id, NULL,
                  "as-run: write failed, record of segment %" PRId32 " dropped: %s",
                  rec->segment_index, strerror(errno));
        goto dropped;
    }
    asrun_journal_mark_done(w->journal, slot);
    atomic_fetch_add(&w->written, 1);
    return 1;
dropped:
    asrun_journal_mark_done(w->journal, slot);
    atomic_fetch_add(&w->dropped, 1);
    return 0;
}

static void *asrun_main(void *arg)
{
    asrun_writer *w = arg;
    thread_name_self("rv-asrun");
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (w->count == 0 && !w->stopping)
            pthread_cond_wait(&w->cond, &w->lock);
        if (w->count == 0 && w->stopping)
            break;
        uint32_t slot = w->head;
        pthread_mutex_unlock(&w->lock);
        /* the slot stays queued (not reusable) until its line is written */
        asrun_write_slot(w, slot, NULL);
        pthread_mutex_lock(&w->lock);
        w->head = (w->head + 1) % w->capacity;
        w->count--;
        pthread_cond_broadcast(&w->cond);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/** Write what a killed engine left in the journal, in its order. Thread:
 *  create's, before the writer thread starts. */
static int asrun_replay(asrun_writer *w)
{
    asrun_journal_pending *pending = calloc(w->capacity, sizeof(*pending));
    if (!pending)
        return -1;
    size_t n = asrun_journal_recover(w->journal, pending);
    size_t counts[3] = {0, 0, 0};
    for (size_t i = 0; i < n; i++)
        counts[asrun_write_slot(w, pending[i].slot, &pending[i])]++;
    if (n > 0)
        log_warn("as-run: %zu records queued by an engine that stopped without draining its "
                 "journal: %zu written now, %zu found written already, %zu dropped",
                 n, counts[1], counts[2], counts[0]);
    free(pending);
    return 0;
}

asrun_writer *asrun_writer_create(const char *dir, char *err, size_t errlen)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "asrun_dir '%s': %s", dir, strerror(errno));
        return NULL;
    }
    asrun_writer *w = calloc(1, sizeof(*w));
    if (!w)
        goto nomem;
    for (int i = 0; i < ASRUN_OPEN_FILES; i++)
        w->files[i].fd = -1;
    w->dir = strdup(dir);
    w->journal = asrun_journal_open(dir);
    w->line = malloc(ASRUN_LINE_MAX);
    if (!w->dir || !w->journal || !w->line)
        goto nomem;
    w->capacity = asrun_journal_capacity(w->journal);
    if (asrun_replay(w) != 0)
        goto nomem;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
    if (pthread_create(&w->thread, NULL, asrun_main, w) != 0) {
        pthread_mutex_destroy(&w->lock);
        pthread_cond_destroy(&w->cond);
        goto nomem;
    }
    return w;
nomem:
    if (w) {
        for (int i = 0; i < ASRUN_OPEN_FILES; i++)
            asrun_file_close(&w->files[i]);
        free(w->dir);
        asrun_journal_close(w->journal);
        free(w->line);
        free(w);
    }
    snprintf(err, errlen, "as-run writer: out of memory");
    return NULL;
}

void asrun_writer_submit(asrun_writer *w, const asrun_record *rec, int may_wait)
{
    pthread_mutex_lock(&w->lock);
    while (may_wait && w->count == w->capacity && !w->stopping)
        pthread_cond_wait(&w->cond, &w->lock);
    if (w->count == w->capacity) {
        pthread_mutex_unlock(&w->lock);
        atomic_fetch_add(&w->dropped, 1);
        log_write(RV_LOG_ERROR, rec->channel_id, NULL, "as-run: queue full, record dropped");
        return;
    }
    /* memory stores into the mapped journal: no system call on this thread */
    asrun_journal_put(w->journal, (w->head + w->count) % w->capacity, rec);
    w->count++;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

uint64_t asrun_writer_written(const asrun_writer *w)
{
    return atomic_load(&w->written);
}

uint64_t asrun_writer_dropped(const asrun_writer *w)
{
    return atomic_load(&w->dropped);
}

void asrun_writer_destroy(asrun_writer *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = 1;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    for (int i = 0; i < ASRUN_OPEN_FILES; i++)
        asrun_file_close(&w->files[i]);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->cond);
    asrun_journal_close(w->journal);
    free(w->line);
    free(w->dir);
    free(w);
}
