/**
 * @file host/telemetry/asrun_journal.c
 * @short The as-run queue in a mapped file (asrun_journal.h): owns the
 *        journal's descriptor, its flock and its mapping (or, when no file
 *        can be used, the memory standing in for them).
 *
 * File layout (native byte order and struct layout: the file is read back
 * only by the same build on the same host; a header that does not match
 * makes a fresh journal): one 4096-byte header page, then
 * ASRUN_JOURNAL_SLOTS slots of sizeof(journal_slot) bytes.
 */
#include "telemetry/asrun_journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"

#define ASRUN_JOURNAL_SLOTS 1024u
#define ASRUN_JOURNAL_HEADER 4096u
#define ASRUN_JOURNAL_FILES 8     /* asrun.journal, asrun.journal.1 .. .7 */
#define ASRUN_JOURNAL_MAGIC "RVASRUNJ"
#define ASRUN_JOURNAL_VERSION 1u

enum { SLOT_FREE = 0, SLOT_FILLED = 1, SLOT_APPENDING = 2, SLOT_DONE = 3 };

typedef struct journal_header {
    char magic[8];
    uint32_t version;
    uint32_t slots;
    uint32_t slot_bytes;
    uint32_t record_bytes;
} journal_header;

typedef struct journal_slot {
    _Atomic uint32_t state;    /**< SLOT_*; stored last (release) when a slot changes */
    uint32_t reserved;
    uint64_t seq;              /**< FILLED/APPENDING: the record's sequence number, from 1 */
    uint64_t file_dev;         /**< APPENDING: the file being appended to */
    uint64_t file_ino;
    int64_t append_at;         /**< APPENDING: its size before the append */
    asrun_record rec;
} journal_slot;

struct asrun_journal {
    int fd;                    /**< -1: memory only */
    unsigned char *base;       /**< the mapping (or calloc'd memory) */
    size_t bytes;
    journal_slot *slots;
    uint64_t next_seq;         /**< under the writer's lock */
};

static size_t journal_bytes(void)
{
    return ASRUN_JOURNAL_HEADER + (size_t)ASRUN_JOURNAL_SLOTS * sizeof(journal_slot);
}

static void journal_header_fill(journal_header *h)
{
    memset(h, 0, sizeof(*h));
    memcpy(h->magic, ASRUN_JOURNAL_MAGIC, sizeof(h->magic));
    h->version = ASRUN_JOURNAL_VERSION;
    h->slots = ASRUN_JOURNAL_SLOTS;
    h->slot_bytes = (uint32_t)sizeof(journal_slot);
    h->record_bytes = (uint32_t)sizeof(asrun_record);
}

/** Write a fresh journal (header, zeroed slots) over @p fd: real blocks, so
 *  a later store into the mapping never has to allocate one. */
static int journal_format(int fd)
{
    if (ftruncate(fd, 0) != 0)
        return -1;
    size_t total = journal_bytes();
    char *zero = calloc(1, 65536);
    if (!zero)
        return -1;
    journal_header h;
    journal_header_fill(&h);
    memcpy(zero, &h, sizeof(h));
    size_t done = 0;
    int rc = 0;
    while (done < total) {
        size_t n = total - done < 65536 ? total - done : 65536;
        ssize_t w = pwrite(fd, zero, n, (off_t)done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = -1;
            break;
        }
        if (done == 0)
            memset(zero, 0, sizeof(h));
        done += (size_t)w;
    }
    free(zero);
    return rc;
}

/** 1 when @p fd holds a journal of this build's layout. */
static int journal_matches(int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || (size_t)st.st_size != journal_bytes())
        return 0;
    journal_header want;
    journal_header have;
    journal_header_fill(&want);
    if (pread(fd, &have, sizeof(have), 0) != (ssize_t)sizeof(have))
        return 0;
    return memcmp(&want, &have, sizeof(want)) == 0;
}

/** The first journal file of @p dir no other engine holds, locked; -1 when
 *  none can be opened (reason in @p why). */
static int journal_file_open(const char *dir, char *path, size_t path_len, char *why,
                             size_t why_len)
{
    snprintf(why, why_len, "no journal file free");
    for (int i = 0; i < ASRUN_JOURNAL_FILES; i++) {
        if (i == 0)
            snprintf(path, path_len, "%s/asrun.journal", dir);
        else
            snprintf(path, path_len, "%s/asrun.journal.%d", dir, i);
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0) {
            snprintf(why, why_len, "%s: %s", path, strerror(errno));
            return -1;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            return fd;
        snprintf(why, why_len, "%s: %s", path,
                 errno == EWOULDBLOCK ? "held by another engine" : strerror(errno));
        close(fd);
    }
    return -1;
}

static int journal_map(asrun_journal *j, const char *dir)
{
    char path[4096];
    char why[4400];
    int fd = journal_file_open(dir, path, sizeof(path), why, sizeof(why));
    if (fd < 0)
        goto fail;
    if (!journal_matches(fd)) {
        struct stat st;
        if (fstat(fd, &st) == 0 && st.st_size > 0)
            log_warn("as-run: journal %s has another layout (another build); records it may "
                     "hold cannot be read; starting a new one",
                     path);
        if (journal_format(fd) != 0) {
            snprintf(why, sizeof(why), "%s: %s", path, strerror(errno));
            goto fail;
        }
    }
    void *m = mmap(NULL, journal_bytes(), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
    if (m == MAP_FAILED) {
        snprintf(why, sizeof(why), "mmap %s: %s", path, strerror(errno));
        goto fail;
    }
    /* keep the pages resident, so an output thread's store never waits for a
     * read; best effort (RLIMIT_MEMLOCK) */
    if (mlock(m, journal_bytes()) != 0)
        log_debug("as-run: journal %s not locked in memory: %s", path, strerror(errno));
    j->fd = fd;
    j->base = m;
    log_debug("as-run: journal %s", path);
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    log_warn("as-run: no journal file (%s): records queued for the writer are kept in memory "
             "only, and a kill -9 loses those",
             why);
    return -1;
}

asrun_journal *asrun_journal_open(const char *dir)
{
    asrun_journal *j = calloc(1, sizeof(*j));
    if (!j)
        return NULL;
    j->fd = -1;
    j->bytes = journal_bytes();
    if (journal_map(j, dir) != 0) {
        j->base = calloc(1, j->bytes);
        if (!j->base) {
            free(j);
            return NULL;
        }
    }
    j->slots = (journal_slot *)(void *)(j->base + ASRUN_JOURNAL_HEADER);
    j->next_seq = 1;
    return j;
}

uint32_t asrun_journal_capacity(const asrun_journal *j)
{
    (void)j;
    return ASRUN_JOURNAL_SLOTS;
}

int asrun_journal_is_durable(const asrun_journal *j)
{
    return j->fd >= 0;
}

static int pending_cmp(const void *a, const void *b)
{
    const asrun_journal_pending *x = a;
    const asrun_journal_pending *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

size_t asrun_journal_recover(asrun_journal *j, asrun_journal_pending *out)
{
    size_t n = 0;
    uint64_t max_seq = 0;
    for (uint32_t i = 0; i < ASRUN_JOURNAL_SLOTS; i++) {
        journal_slot *s = &j->slots[i];
        uint32_t st = atomic_load_explicit(&s->state, memory_order_acquire);
        if (s->seq > max_seq)
            max_seq = s->seq;
        if (st != SLOT_FILLED && st != SLOT_APPENDING)
            continue;
        out[n++] = (asrun_journal_pending){.slot = i,
                                           .seq = s->seq,
                                           .appending = st == SLOT_APPENDING,
                                           .file_dev = s->file_dev,
                                           .file_ino = s->file_ino,
                                           .append_at = s->append_at};
    }
    qsort(out, n, sizeof(*out), pending_cmp);
    j->next_seq = max_seq + 1;
    return n;
}

const asrun_record *asrun_journal_record(const asrun_journal *j, uint32_t slot)
{
    return &j->slots[slot].rec;
}

void asrun_journal_put(asrun_journal *j, uint32_t slot, const asrun_record *rec)
{
    journal_slot *s = &j->slots[slot];
    /* the slot is DONE or FREE: a kill before the state store below leaves
     * it so, and recovery ignores it */
    memcpy(&s->rec, rec, sizeof(*rec));
    s->seq = j->next_seq++;
    atomic_store_explicit(&s->state, SLOT_FILLED, memory_order_release);
}

void asrun_journal_mark_appending(asrun_journal *j, uint32_t slot, dev_t dev, ino_t ino,
                                  off_t size)
{
    journal_slot *s = &j->slots[slot];
    s->file_dev = (uint64_t)dev;
    s->file_ino = (uint64_t)ino;
    s->append_at = (int64_t)size;
    atomic_store_explicit(&s->state, SLOT_APPENDING, memory_order_release);
}

void asrun_journal_mark_done(asrun_journal *j, uint32_t slot)
{
    atomic_store_explicit(&j->slots[slot].state, SLOT_DONE, memory_order_release);
}

void asrun_journal_close(asrun_journal *j)
{
    if (!j)
        return;
    if (j->fd >= 0) {
        munmap(j->base, j->bytes);
        close(j->fd);   /* releases the flock */
    } else {
        free(j->base);
    }
    free(j);
}
