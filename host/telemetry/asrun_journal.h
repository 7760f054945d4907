/**
 * @file host/telemetry/asrun_journal.h
 * @short asrun_journal: the as-run writer's queue of records, kept in a file
 *        mapped with mmap(MAP_SHARED) so that a record handed over by an
 *        output thread survives a kill -9 of the engine before the writer
 *        thread has appended it to the JSONL log.
 *
 * The journal is a ring of fixed slots in <asrun_dir>/asrun.journal (or
 * asrun.journal.N when another engine holds that one: each file is locked
 * with flock while open). An output thread fills a slot with a memcpy and two
 * stores (no system call: the page lives in the kernel's page cache, which
 * outlives the process). The writer thread marks a slot APPENDING, with the
 * identity and size of the file it is about to append to, before its
 * write(2), and DONE after it. The next engine to open the journal replays,
 * in sequence order, the slots that are FILLED (never appended) or APPENDING
 * (appended unless the file has not grown since: the append did not happen,
 * or was torn and cut by jsonl_file_open), so a record is written once.
 *
 * Scope: process death (kill -9, a crash of the engine). A machine crash or
 * power cut can lose what the kernel had not written back (the journal is
 * never fsync'ed: that would be I/O on the tick path). The output thread's
 * store may still take a page fault (first touch, or dirty tracking after
 * the kernel wrote the page back); it never calls into the file API.
 *
 * When the file cannot be created or mapped the journal lives in memory
 * (asrun_journal_is_durable() says so) and behaves as the old queue did.
 *
 * Threads: open, recover and close on one thread before/after the writer
 * runs; asrun_journal_put() from any thread holding the writer's lock;
 * the mark functions from the writer thread.
 */
#ifndef RV_HOST_ASRUN_JOURNAL_H
#define RV_HOST_ASRUN_JOURNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "telemetry/asrun.h"

typedef struct asrun_journal asrun_journal;

/** A slot as recover() reports it. */
typedef struct asrun_journal_pending {
    uint32_t slot;
    uint64_t seq;
    int appending;          /**< 1: the dead writer had started the append */
    uint64_t file_dev;      /**< APPENDING: the file it appended to */
    uint64_t file_ino;
    int64_t append_at;      /**< APPENDING: that file's size before the append, bytes */
} asrun_journal_pending;

/**
 * Open (create if missing, 0644) the journal of @p dir (borrowed), lock it
 * and map it. Never fails for a usable @p dir: if no journal file can be
 * used, a memory-only journal is returned and the reason is logged.
 * NULL only when memory runs out.
 */
asrun_journal *asrun_journal_open(const char *dir);

/** Slots in the ring (fixed). */
uint32_t asrun_journal_capacity(const asrun_journal *j);
/** 1 when the ring is a mapped file, 0 when it is in memory only. */
int asrun_journal_is_durable(const asrun_journal *j);

/**
 * The slots a dead engine left FILLED or APPENDING, sorted by sequence
 * number, into @p out (capacity() entries, caller-owned). Returns how many.
 * Called once, after open, before any put().
 */
size_t asrun_journal_recover(asrun_journal *j, asrun_journal_pending *out);

/** The record in @p slot (borrowed from the journal; valid until the slot is
 *  reused, i.e. until it is marked done and the ring wraps to it). */
const asrun_record *asrun_journal_record(const asrun_journal *j, uint32_t slot);

/** Copy @p rec (borrowed) into @p slot and publish it as FILLED with the next
 *  sequence number. Memory stores only. Thread: any, under the writer's lock
 *  (the slot must be free: the ring's count says so). */
void asrun_journal_put(asrun_journal *j, uint32_t slot, const asrun_record *rec);

/** Writer thread: about to append @p slot's line to the file @p dev / @p ino
 *  whose size is @p size bytes. */
void asrun_journal_mark_appending(asrun_journal *j, uint32_t slot, dev_t dev, ino_t ino,
                                  off_t size);
/** Writer thread: @p slot's record is in its file (or was given up). */
void asrun_journal_mark_done(asrun_journal *j, uint32_t slot);

/** Unmap, unlock, close. NULL is a no-op. Pending slots stay in the file. */
void asrun_journal_close(asrun_journal *j);

#endif
