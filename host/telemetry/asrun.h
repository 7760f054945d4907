/**
 * @file host/telemetry/asrun.h
 * @short The as-run log: one JSON line for every segment that ends, written by
 *        its own thread into one file per channel per UTC day under asrun_dir.
 *
 * Channels submit records from their output thread; submitting copies the
 * record into a bounded queue kept in a mapped file (asrun_journal.h: memory
 * stores, no system call, no wait on I/O). The writer thread appends each
 * record to <asrun_dir>/channel-<id>-<YYYY-MM-DD>.jsonl (the UTC day of the
 * record's actual start) with one write(2) of the whole line on an O_APPEND
 * descriptor. asrun_writer_destroy() writes every queued record before it
 * returns, so nothing is lost on SIGTERM; after a kill -9 the next
 * asrun_writer_create() on the same folder writes the records the dead
 * engine had queued, each once. A kill leaves whole lines (a partial last
 * line, possible only if the kernel cut a write short, is cut when the file
 * is next opened: lib/jsonl/jsonl_file.h). Files are only ever appended to.
 *
 * Every record becomes one line of valid UTF-8 JSON, whatever bytes its
 * strings hold (lib/jsonl/json_text.h: control characters escaped, bytes
 * that are not UTF-8 replaced with U+FFFD): formatting cannot fail, so a
 * record is never dropped for its content.
 */
#ifndef RV_HOST_ASRUN_H
#define RV_HOST_ASRUN_H

#include <stddef.h>
#include <stdint.h>

/** How a segment ended. Never zero. */
typedef enum asrun_status {
    ASRUN_AIRED = 1,      /**< every scheduled frame aired from the asset */
    ASRUN_TRUNCATED = 2,  /**< cut before its fence (stop, plan swap, end of run) */
    ASRUN_PADDED = 3,     /**< the asset ended early; black to the fence */
    ASRUN_FAILED = 4,     /**< the asset failed; the slate stood in */
    ASRUN_SKIPPED = 5     /**< owned no tick (shorter than a frame) or never reached */
} asrun_status;

const char *asrun_status_name(asrun_status s);

/** One line. Strings are copied into the record, cut to fit after the last
 *  whole UTF-8 character (asrun_record_set_text). */
typedef struct asrun_record {
    int32_t channel_id;
    char block_id[128];
    char event_id[128];
    int32_t segment_index;
    char asset_uri[512];
    int64_t scheduled_start_utc_ms;
    int64_t actual_start_utc_ms;     /**< instant of the first tick aired */
    int64_t scheduled_frames;        /**< ticks the segment owns on the grid */
    int64_t frames_aired;            /**< real frames */
    int64_t frames_padded;           /**< pad frames */
    int64_t frames_slate;            /**< slate frames (failure or underrun) */
    int64_t frames_freeze;           /**< repeated pictures */
    asrun_status status;
    int join_in_progress;            /**< the channel started inside this segment */
    char notes[512];                 /**< substitutions the producer reported (held picture,
                                          tone mapping, stream fallback, truncation), "; "
                                          separated; "" for none (no "notes" key written) */
} asrun_record;

typedef struct asrun_writer asrun_writer;

/** A writer for @p dir (borrowed, created if missing), after writing the
 *  records a killed engine left in @p dir's journal. NULL with a reason in
 *  @p err when the folder cannot be created or memory runs out. */
asrun_writer *asrun_writer_create(const char *dir, char *err, size_t errlen);
/** Queue a copy of @p rec (borrowed). Never blocks on I/O: on the real clock
 *  a full queue drops the record and counts it; @p may_wait lets a
 *  virtual-clock channel wait for room instead. Thread: any (output threads). */
void asrun_writer_submit(asrun_writer *w, const asrun_record *rec, int may_wait);
/** Records written and dropped so far. Thread: any. */
uint64_t asrun_writer_written(const asrun_writer *w);
uint64_t asrun_writer_dropped(const asrun_writer *w);
/** Write everything queued, stop the thread, free. NULL is a no-op. */
void asrun_writer_destroy(asrun_writer *w);

/** Bytes enough for any record's line, newline and NUL included: every string
 *  field at its worst (each byte escaped to six), every number at its widest. */
#define ASRUN_LINE_MAX (2 * (6 * 127 + 2) + 2 * (6 * 511 + 2) + 1024)

/** Copy @p src (borrowed; NULL is "") into @p dst (a record's field of
 *  @p cap bytes) as well-formed UTF-8 cut after the last whole character
 *  that fits (ill-formed bytes become U+FFFD). Thread: any. */
void asrun_record_set_text(char *dst, size_t cap, const char *src);

/** Format @p rec as one JSON object without newline into @p buf (@p len
 *  bytes; ASRUN_LINE_MAX always suffices). Strings are escaped and made
 *  valid UTF-8 (lib/jsonl/json_text.h). Returns the length, or -1 only if
 *  @p len is smaller than the line. Thread: any. */
int asrun_record_format(const asrun_record *rec, char *buf, size_t len);

#endif
