/**
 * @file host/evidence/evidence_spool.h
 * @short The evidence spool of one playout session: an append-only JSONL
 *        file of every event (fsync'd per append) plus a small file holding
 *        the highest sequence Core has acknowledged.
 *
 * Files (RetroVue's AirExecutionEvidenceSpoolContract_v0.1 §2 and §5):
 *   <dir>/<channel_id>/<session_id>.spool.jsonl   one evidence_record per line
 *   <dir>/<channel_id>/<session_id>.ack           "acked_sequence=N\nupdated_utc=...\n"
 * Opening an existing spool resumes it: the next sequence follows the last
 * valid record and the ack mark is read back, so a restarted process replays
 * exactly what Core has not acknowledged. A torn last line (no newline: the
 * process died mid-write) is logged and cut off; a complete line that does
 * not parse, or whose sequence does not increase, is logged and skipped.
 *
 * The spool owns its file descriptors and an in-memory index (sequence ->
 * offset, 24 bytes per record). Not thread-safe: one owner thread (the
 * evidence client's) calls everything after open.
 */
#ifndef RV_HOST_EVIDENCE_SPOOL_H
#define RV_HOST_EVIDENCE_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "evidence/evidence_record.h"

typedef struct evidence_spool evidence_spool;

/** Open or create the spool of (@p channel_id, @p session_id) under @p dir
 *  (created with its parents if missing). Both ids become file names: they
 *  must be 1..128 characters of [A-Za-z0-9._-], not starting with '.'.
 *  NULL with the reason in @p err (naming the path) when an id is invalid,
 *  a folder or file cannot be created, read or written, or another open
 *  spool (in this process or another) holds the file. Strings borrowed. */
evidence_spool *evidence_spool_open(const char *dir, const char *channel_id,
                                    const char *session_id, char *err, size_t errlen);

/** The oldest sequence in the file (1 for a new spool), the newest (0 when
 *  empty) and the highest Core acknowledged (0: none). */
uint64_t evidence_spool_first(const evidence_spool *sp);
uint64_t evidence_spool_last(const evidence_spool *sp);
uint64_t evidence_spool_acked(const evidence_spool *sp);

/** Records skipped or cut when the file was opened (corrupt or torn). */
uint64_t evidence_spool_bad_lines(const evidence_spool *sp);

const char *evidence_spool_path(const evidence_spool *sp);

/** Append @p r (borrowed) as one line and fsync it. Its sequence must be
 *  last + 1 (RV_EINVAL otherwise). On a write or fsync failure the file is
 *  cut back to its previous length, the error is logged, and RV_EIO is
 *  returned: the caller keeps the record and retries. */
int evidence_spool_append(evidence_spool *sp, const evidence_record *r);

/** Append @p n records (borrowed; consecutive sequences from last + 1)
 *  with one write and one fsync. All or nothing: RV_OK, RV_EINVAL (a
 *  sequence out of place; nothing written), RV_ENOMEM, or RV_EIO (the file
 *  is cut back, the error logged). */
int evidence_spool_append_many(evidence_spool *sp, const evidence_record *r, size_t n);

/** Read the record of @p sequence into @p out (caller-owned). RV_OK,
 *  RV_ENOENT when it is not in the spool, RV_EIO / RV_EFORMAT when the
 *  line cannot be read back. */
int evidence_spool_read(evidence_spool *sp, uint64_t sequence, evidence_record *out);

/** Record that Core acknowledged every sequence up to @p sequence: when it
 *  is higher than the current mark (and at most last), write the .ack file
 *  (temporary file, fsync, rename, fsync of the folder). RV_OK (also when
 *  nothing changed), RV_EINVAL past the last sequence, RV_EIO on failure. */
int evidence_spool_set_acked(evidence_spool *sp, uint64_t sequence);

/** Close the files and free. What is in them stays. NULL is a no-op. */
void evidence_spool_close(evidence_spool *sp);

#endif
