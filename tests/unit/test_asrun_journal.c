/**
 * @file tests/unit/test_asrun_journal.c
 * @short The as-run journal (host/telemetry/asrun_journal.h) across a
 *        kill -9: a child process queues records the way an output thread
 *        does and kills itself with SIGKILL before (or while) the writer
 *        appends them; the next asrun_writer_create() on the folder must write
 *        each record exactly once, in order, as whole valid lines.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jsonl/jsonl_file.h"
#include "tap.h"
#include "telemetry/asrun.h"
#include "telemetry/asrun_journal.h"

#define DAY_FILE "/channel-7-1970-01-01.jsonl"

/** The journal of @p dir, opened as a writer does (recovery first). */
static asrun_journal *open_recovered(const char *dir)
{
    asrun_journal *j = asrun_journal_open(dir);
    asrun_journal_pending *p = calloc(asrun_journal_capacity(j), sizeof(*p));
    asrun_journal_recover(j, p);
    free(p);
    return j;
}

static asrun_record record(int index)
{
    asrun_record r = {.channel_id = 7,
                      .segment_index = index,
                      .scheduled_start_utc_ms = 1000 * index,
                      .actual_start_utc_ms = 1000 * index,
                      .scheduled_frames = 30,
                      .frames_aired = 30,
                      .status = ASRUN_AIRED};
    asrun_record_set_text(r.block_id, sizeof(r.block_id), "b\x01\xff");
    snprintf(r.event_id, sizeof(r.event_id), "ev-%d", index);
    return r;
}

/** Run @p body in a child that then dies of SIGKILL; 1 when it did. */
static int in_killed_child(void (*body)(const char *), const char *dir)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        body(dir);
        kill(getpid(), SIGKILL);
        _exit(3);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
}

/** The day file's lines: count, and whether each is whole and its
 *  segment_index follows @p first, first + 1, ... */
static int day_lines(const char *dir, int first, int *in_order)
{
    char path[512];
    snprintf(path, sizeof(path), "%s" DAY_FILE, dir);
    FILE *f = fopen(path, "r");
    *in_order = 1;
    if (!f)
        return 0;
    char line[ASRUN_LINE_MAX];
    int n = 0;
    while (fgets(line, sizeof(line), f)) {
        char want[64];
        snprintf(want, sizeof(want), "\"segment_index\":%d,", first + n);
        size_t len = strlen(line);
        if (len == 0 || line[len - 1] != '\n' || line[0] != '{' || !strstr(line, want))
            *in_order = 0;
        n++;
    }
    fclose(f);
    return n;
}

/* An output thread queued three records; the writer never ran. */
static void queue_three(const char *dir)
{
    asrun_journal *j = open_recovered(dir);
    for (int i = 0; i < 3; i++) {
        asrun_record r = record(i);
        asrun_journal_put(j, (uint32_t)i, &r);
    }
}

/* The writer appended the next record (index 3, slot 3) whole, and died
 * before marking it done; index 4 was queued behind it. */
static void append_then_die(const char *dir, int torn)
{
    asrun_journal *j = open_recovered(dir);
    asrun_record r = record(3);
    asrun_journal_put(j, 3, &r);
    asrun_record r4 = record(4);
    asrun_journal_put(j, 4, &r4);
    char path[512];
    snprintf(path, sizeof(path), "%s" DAY_FILE, dir);
    int fd = jsonl_file_open(path, NULL);
    struct stat st;
    fstat(fd, &st);
    asrun_journal_mark_appending(j, 3, st.st_dev, st.st_ino, st.st_size);
    char line[ASRUN_LINE_MAX];
    int n = asrun_record_format(&r, line, sizeof(line) - 1);
    line[n++] = '\n';
    if (write(fd, line, torn ? (size_t)n / 2 : (size_t)n) < 0)
        _exit(4);
}

static void append_whole(const char *dir)
{
    append_then_die(dir, 0);
}

static void append_torn(const char *dir)
{
    append_then_die(dir, 1);
}

/** Open and drain a writer on @p dir (what the next engine does). */
static int restart_writer(const char *dir, uint64_t *written)
{
    char err[256];
    asrun_writer *w = asrun_writer_create(dir, err, sizeof(err));
    if (!w) {
        tap_diag("asrun_writer_create: %s", err);
        return 0;
    }
    *written = asrun_writer_written(w);
    asrun_writer_destroy(w);
    return 1;
}

int main(void)
{
    tap_plan(9);
    char dir[] = "/tmp/rv-asrun-journal-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char path[512];
    int in_order = 0;
    uint64_t written = 0;

    tap_ok(in_killed_child(queue_three, dir), "a child queued 3 records and died of SIGKILL");
    int ok = restart_writer(dir, &written);
    tap_ok(ok && written == 3, "the next writer wrote the 3 queued records (%llu)",
           (unsigned long long)written);
    tap_ok(day_lines(dir, 0, &in_order) == 3 && in_order, "3 whole lines, in queue order");
    ok = restart_writer(dir, &written);
    tap_ok(ok && written == 0 && day_lines(dir, 0, &in_order) == 3,
           "a second restart writes nothing again");

    tap_ok(in_killed_child(append_whole, dir),
           "a child appended a record and died before marking it done");
    restart_writer(dir, &written);
    int lines = day_lines(dir, 0, &in_order);
    tap_ok(lines == 5 && in_order && written == 1,
           "the appended record is not written twice, the one behind it is written "
           "(%d lines, written %llu)",
           lines, (unsigned long long)written);

    /* the same with a torn append: the fragment is cut and the record written */
    snprintf(path, sizeof(path), "%s" DAY_FILE, dir);
    unlink(path);
    tap_ok(in_killed_child(append_torn, dir), "a child died in the middle of an append");
    restart_writer(dir, &written);
    lines = day_lines(dir, 3, &in_order);
    tap_ok(lines == 2 && in_order && written == 2,
           "the torn line is cut and both records are written whole (%d lines)", lines);

    /* an engine holding the journal: a second writer takes another file */
    asrun_journal *held = asrun_journal_open(dir);
    char err[256];
    asrun_writer *w = asrun_writer_create(dir, err, sizeof(err));
    snprintf(path, sizeof(path), "%s/asrun.journal.1", dir);
    struct stat st;
    tap_ok(held && asrun_journal_is_durable(held) && w && stat(path, &st) == 0,
           "with asrun.journal held, a second writer uses asrun.journal.1");
    asrun_writer_destroy(w);
    asrun_journal_close(held);

    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        tap_diag("could not remove %s", dir);
    return tap_done();
}
