/**
 * @file tests/unit/test_evidence_spool.c
 * @short Evidence spool: append with consecutive sequences, read back,
 *        the ack mark persisted and reopened, replay after ack, a torn last
 *        line cut with a log, a corrupt complete line skipped and kept, bad
 *        ids and folders refused with a reason.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <retrovue/error.h>

#include "evidence/evidence_spool.h"
#include "tap.h"

static char root[256];

static evidence_record make(uint64_t seq)
{
    evidence_record r;
    memset(&r, 0, sizeof(r));
    r.sequence = seq;
    evidence_uuid_v4(r.event_uuid);
    evidence_utc_iso(1700000000000 + (int64_t)seq, r.emitted_utc);
    r.ev.kind = seq % 2 ? EVIDENCE_SEGMENT_END : EVIDENCE_BLOCK_START;
    snprintf(r.ev.block_id, sizeof(r.ev.block_id), "B-%llu", (unsigned long long)seq);
    snprintf(r.ev.event_id, sizeof(r.ev.event_id), "EV-%llu", (unsigned long long)seq);
    snprintf(r.ev.status, sizeof(r.ev.status), "AIRED");
    snprintf(r.ev.reason, sizeof(r.ev.reason), "line \"one\"\nline two");
    r.ev.asset_start_frame = 10;
    r.ev.asset_end_frame = 39;
    r.ev.swap_tick = seq * 100;
    r.ev.fence_tick = seq * 100 + 100;
    r.ev.primed_success = 1;
    return r;
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static void append_raw(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_APPEND);
    if (fd >= 0) {
        ssize_t n = write(fd, text, strlen(text));
        (void)n;
        close(fd);
    }
}

static int slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
    return (int)n;
}

static void test_append_read_ack(void)
{
    char err[256] = "";
    evidence_spool *sp = evidence_spool_open(root, "chan-1", "PS-chan-1-1000", err, sizeof(err));
    if (!tap_ok(sp != NULL, "a new spool opens (%s)", err))
        return;
    tap_ok(evidence_spool_first(sp) == 1 && evidence_spool_last(sp) == 0 &&
               evidence_spool_acked(sp) == 0,
           "new spool: first 1, last 0, acked 0");
    char want[512];
    snprintf(want, sizeof(want), "%s/chan-1/PS-chan-1-1000.spool.jsonl", root);
    tap_ok(strcmp(evidence_spool_path(sp), want) == 0, "file is <dir>/<channel>/<session>.spool.jsonl");

    evidence_record recs[4];
    int ok = 1;
    for (uint64_t s = 1; s <= 3; s++) {
        recs[s] = make(s);
        ok &= evidence_spool_append(sp, &recs[s]) == RV_OK;
    }
    tap_ok(ok && evidence_spool_last(sp) == 3, "three records appended, last is 3");
    evidence_record gap = make(5);
    tap_ok(evidence_spool_append(sp, &gap) == RV_EINVAL && evidence_spool_last(sp) == 3,
           "a sequence gap (5 after 3) is refused and changes nothing");

    evidence_record back;
    tap_ok(evidence_spool_read(sp, 2, &back) == RV_OK && back.sequence == 2 &&
               strcmp(back.event_uuid, recs[2].event_uuid) == 0 &&
               strcmp(back.ev.block_id, "B-2") == 0 && back.ev.kind == EVIDENCE_BLOCK_START &&
               back.ev.fence_tick == 300 && back.ev.primed_success == 1,
           "sequence 2 reads back with its UUID and payload");
    tap_ok(evidence_spool_read(sp, 3, &back) == RV_OK &&
               strcmp(back.ev.reason, "line \"one\"\nline two") == 0 &&
               back.ev.asset_end_frame == 39,
           "quotes and newlines survive the JSON line");
    tap_ok(evidence_spool_read(sp, 4, &back) == RV_ENOENT, "reading past the end is RV_ENOENT");
    char err2[256] = "";
    evidence_spool *twice = evidence_spool_open(root, "chan-1", "PS-chan-1-1000", err2, sizeof(err2));
    tap_ok(twice == NULL && strstr(err2, "in use") != NULL,
           "a second open of the same session is refused: %s", err2);
    evidence_spool_close(twice);

    tap_ok(evidence_spool_set_acked(sp, 2) == RV_OK && evidence_spool_acked(sp) == 2, "ack 2 recorded");
    tap_ok(evidence_spool_set_acked(sp, 1) == RV_OK && evidence_spool_acked(sp) == 2,
           "a lower ack never moves the mark back");
    tap_ok(evidence_spool_set_acked(sp, 9) == RV_EINVAL && evidence_spool_acked(sp) == 2,
           "an ack past the last sequence is refused");
    char ack_path[512];
    char text[256];
    snprintf(ack_path, sizeof(ack_path), "%s/chan-1/PS-chan-1-1000.ack", root);
    tap_ok(slurp(ack_path, text, sizeof(text)) > 0 &&
               strncmp(text, "acked_sequence=2\nupdated_utc=", 29) == 0 &&
               text[strlen(text) - 2] == 'Z',
           ".ack file holds acked_sequence=2 and an ISO-8601 Z time");
    evidence_spool_close(sp);

    sp = evidence_spool_open(root, "chan-1", "PS-chan-1-1000", err, sizeof(err));
    if (!tap_ok(sp != NULL, "the spool reopens (%s)", err))
        return;
    tap_ok(evidence_spool_last(sp) == 3 && evidence_spool_acked(sp) == 2 &&
               evidence_spool_bad_lines(sp) == 0,
           "reopened: last 3, acked 2, no bad lines");
    /* Replay after ack: everything past the mark, in order, same UUIDs. */
    ok = 1;
    int n = 0;
    for (uint64_t s = evidence_spool_acked(sp) + 1; s <= evidence_spool_last(sp); s++, n++)
        ok &= evidence_spool_read(sp, s, &back) == RV_OK &&
              strcmp(back.event_uuid, recs[s].event_uuid) == 0;
    tap_ok(ok && n == 1, "replay after ack 2 is exactly sequence 3 with its original UUID");
    evidence_record batch[3] = {make(4), make(5), make(7)};
    long before = file_size(evidence_spool_path(sp));
    tap_ok(evidence_spool_append_many(sp, batch, 3) == RV_EINVAL && evidence_spool_last(sp) == 3 &&
               file_size(evidence_spool_path(sp)) == before,
           "a batch with a gap (4, 5, 7) is refused whole: nothing written");
    tap_ok(evidence_spool_append_many(sp, batch, 1) == RV_OK && evidence_spool_last(sp) == 4,
           "appending resumes at 4 after a reopen");
    evidence_spool_close(sp);
}

static void test_torn_and_corrupt(void)
{
    char err[256] = "";
    char path[512];
    snprintf(path, sizeof(path), "%s/chan-1/PS-chan-1-1000.spool.jsonl", root);
    long good = file_size(path);
    append_raw(path, "{\"schema_version\":1,\"channel_id\":\"chan-1\",\"sequ");
    evidence_spool *sp = evidence_spool_open(root, "chan-1", "PS-chan-1-1000", err, sizeof(err));
    if (!tap_ok(sp != NULL, "a spool with a torn last line opens (%s)", err))
        return;
    tap_ok(evidence_spool_last(sp) == 4 && evidence_spool_bad_lines(sp) == 1,
           "torn line ignored: last is still 4, one bad line counted");
    tap_ok(file_size(path) == good, "the torn bytes are cut off (file back to %ld bytes)", good);
    evidence_record r5 = make(5);
    tap_ok(evidence_spool_append(sp, &r5) == RV_OK, "append after the cut works");
    evidence_spool_close(sp);

    append_raw(path, "this is not json\n");
    append_raw(path, "{\"schema_version\":1}\n");
    sp = evidence_spool_open(root, "chan-1", "PS-chan-1-1000", err, sizeof(err));
    if (!tap_ok(sp != NULL, "a spool with corrupt complete lines opens (%s)", err))
        return;
    tap_ok(evidence_spool_last(sp) == 5 && evidence_spool_bad_lines(sp) == 2,
           "two corrupt lines skipped, 5 records kept");
    evidence_record r6 = make(6);
    evidence_record back;
    tap_ok(evidence_spool_append(sp, &r6) == RV_OK && evidence_spool_read(sp, 6, &back) == RV_OK &&
               strcmp(back.event_uuid, r6.event_uuid) == 0,
           "append and read past the corrupt lines");
    evidence_spool_close(sp);
    sp = evidence_spool_open(root, "chan-1", "PS-chan-1-1000", err, sizeof(err));
    tap_ok(sp && evidence_spool_last(sp) == 6 && evidence_spool_bad_lines(sp) == 2 &&
               evidence_spool_read(sp, 5, &back) == RV_OK,
           "reopened again: 6 records, the corrupt lines still skipped, not deleted");
    evidence_spool_close(sp);

    /* A record of another session in the file is not ours. */
    evidence_spool *other = evidence_spool_open(root, "chan-1", "PS-other", err, sizeof(err));
    evidence_record r1 = make(1);
    evidence_spool_append(other, &r1);
    evidence_spool_close(other);
    char other_path[512];
    char line[4096];
    snprintf(other_path, sizeof(other_path), "%s/chan-1/PS-other.spool.jsonl", root);
    slurp(other_path, line, sizeof(line));
    append_raw(path, line);
    sp = evidence_spool_open(root, "chan-1", "PS-chan-1-1000", err, sizeof(err));
    tap_ok(sp && evidence_spool_last(sp) == 6 && evidence_spool_bad_lines(sp) == 3,
           "a line of another session is skipped");
    evidence_spool_close(sp);
}

static void test_bad_ack_file(void)
{
    char err[256] = "";
    char ack_path[512];
    snprintf(ack_path, sizeof(ack_path), "%s/chan-1/PS-chan-1-1000.ack", root);
    FILE *f = fopen(ack_path, "w");
    fputs("acked_sequence=999\n", f);
    fclose(f);
    evidence_spool *sp = evidence_spool_open(root, "chan-1", "PS-chan-1-1000", err, sizeof(err));
    tap_ok(sp && evidence_spool_acked(sp) == 6, "an ack mark past the spool clamps to its last (6)");
    evidence_spool_close(sp);
    f = fopen(ack_path, "w");
    fputs("garbage\n", f);
    fclose(f);
    sp = evidence_spool_open(root, "chan-1", "PS-chan-1-1000", err, sizeof(err));
    tap_ok(sp && evidence_spool_acked(sp) == 0, "an unreadable .ack means replay everything");
    evidence_spool_close(sp);
}

static void test_refused(void)
{
    char err[256] = "";
    tap_ok(!evidence_spool_open(root, "../etc", "PS-1", err, sizeof(err)) &&
               strstr(err, "channel id") != NULL,
           "a channel id with '/' or '..' is refused: %s", err);
    err[0] = '\0';
    tap_ok(!evidence_spool_open(root, "chan", "", err, sizeof(err)) && err[0],
           "an empty session id is refused");
    err[0] = '\0';
    tap_ok(!evidence_spool_open("/proc/no-such/evidence", "chan", "PS-1", err, sizeof(err)) &&
               strstr(err, "/proc/no-such") != NULL,
           "an uncreatable folder is refused, naming it: %s", err);
    char file[512];
    snprintf(file, sizeof(file), "%s/plain-file", root);
    FILE *f = fopen(file, "w");
    fclose(f);
    err[0] = '\0';
    tap_ok(!evidence_spool_open(file, "chan", "PS-1", err, sizeof(err)) && err[0],
           "a spool dir that is a file is refused: %s", err);
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(root, sizeof(root), "%s/evidence-spool-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(root)) {
        printf("Bail out! mkdtemp\n");
        return 1;
    }
    tap_plan(33);
    test_append_read_ack();
    test_torn_and_corrupt();
    test_bad_ack_file();
    test_refused();
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    if (system(cmd) != 0)
        tap_diag("could not remove %s", root);
    return tap_done();
}
