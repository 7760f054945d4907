/**
 * @file host/evidence/evidence_spool.c
 * @short The spool: JSONL append with fsync, the index built when the file is
 *        reopened, reads by sequence, and the durable ack mark.
 */
#include "evidence/evidence_spool.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <retrovue/error.h>

#include "core/log.h"

#define SPOOL_ID_MAX 128
#define SPOOL_LINE_MAX (64 * 1024) /* a record is ~2 KB at most */

typedef struct spool_entry {
    uint64_t sequence;
    uint64_t offset;
    uint32_t len; /* bytes, without the newline */
} spool_entry;

struct evidence_spool {
    char channel_id[SPOOL_ID_MAX + 1];
    char session_id[SPOOL_ID_MAX + 1];
    char path[PATH_MAX];
    char ack_path[PATH_MAX];
    int fd;     /* the JSONL file, O_RDWR | O_APPEND */
    int dir_fd; /* its folder, fsync'd after an ack rename */
    uint64_t size;
    spool_entry *index;
    size_t count;
    size_t cap;
    uint64_t acked;
    uint64_t bad_lines;
};

#define LOG_MOD "evidence"

static int set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int id_valid(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > SPOOL_ID_MAX || id[0] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* mkdir -p: every component of @p path (a copy is modified). */
static int mkdir_p(const char *path, char *err, size_t errlen)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
        return set_err(err, errlen, "spool folder %s: path too long", path);
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return set_err(err, errlen, "spool folder %s: %s", buf, strerror(errno));
        *p = c;
        if (c == '\0')
            break;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return set_err(err, errlen, "spool folder %s is not a folder", path);
    return 0;
}

static int index_push(evidence_spool *sp, uint64_t seq, uint64_t off, size_t len)
{
    if (sp->count == sp->cap) {
        size_t cap = sp->cap ? sp->cap * 2 : 256;
        spool_entry *n = realloc(sp->index, cap * sizeof(*n));
        if (!n)
            return RV_ENOMEM;
        sp->index = n;
        sp->cap = cap;
    }
    sp->index[sp->count++] = (spool_entry){.sequence = seq, .offset = off, .len = (uint32_t)len};
    return RV_OK;
}

uint64_t evidence_spool_last(const evidence_spool *sp)
{
    return sp->count ? sp->index[sp->count - 1].sequence : 0;
}

uint64_t evidence_spool_first(const evidence_spool *sp)
{
    return sp->count ? sp->index[0].sequence : 1;
}

uint64_t evidence_spool_acked(const evidence_spool *sp)
{
    return sp->acked;
}

uint64_t evidence_spool_bad_lines(const evidence_spool *sp)
{
    return sp->bad_lines;
}

const char *evidence_spool_path(const evidence_spool *sp)
{
    return sp->path;
}

/* One complete line of the file at @p off: index it or log why not. */
static int load_line(evidence_spool *sp, const char *line, size_t len, uint64_t off,
                     uint64_t lineno)
{
    evidence_record r;
    char why[256];
    if (len > SPOOL_LINE_MAX) {
        snprintf(why, sizeof(why), "line longer than %d bytes", SPOOL_LINE_MAX);
    } else if (evidence_record_from_json(line, len, sp->channel_id, sp->session_id, &r, why,
                                         sizeof(why)) == RV_OK) {
        if (r.sequence > evidence_spool_last(sp))
            return index_push(sp, r.sequence, off, len);
        snprintf(why, sizeof(why), "sequence %" PRIu64 " does not follow %" PRIu64, r.sequence,
                 evidence_spool_last(sp));
    }
    sp->bad_lines++;
    log_write(RV_LOG_WARN, -1, LOG_MOD,
              "spool %s line %" PRIu64 " (offset %" PRIu64 ") skipped, kept in the file: %s",
              sp->path, lineno, off, why);
    return RV_OK;
}

/* Build the index from the file; cut a torn last line. */
static int load(evidence_spool *sp, char *err, size_t errlen)
{
    FILE *f = fopen(sp->path, "r");
    if (!f)
        return set_err(err, errlen, "spool %s: %s", sp->path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    uint64_t off = 0;
    uint64_t lineno = 0;
    int rc = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        lineno++;
        if (line[n - 1] != '\n') {
            sp->bad_lines++;
            log_write(RV_LOG_WARN, -1, LOG_MOD,
                      "spool %s: the last line (offset %" PRIu64 ", %zd bytes, no newline) is "
                      "incomplete, a write the process did not finish; cut off",
                      sp->path, off, n);
            if (ftruncate(sp->fd, (off_t)off) != 0 || fsync(sp->fd) != 0) {
                rc = set_err(err, errlen, "spool %s: cutting the torn last line: %s", sp->path,
                             strerror(errno));
            }
            break;
        }
        if (n > 1 && load_line(sp, line, (size_t)n - 1, off, lineno) != RV_OK) {
            rc = set_err(err, errlen, "spool %s: out of memory", sp->path);
            break;
        }
        off += (uint64_t)n;
    }
    if (rc == 0 && ferror(f))
        rc = set_err(err, errlen, "spool %s: read: %s", sp->path, strerror(errno));
    free(line);
    fclose(f);
    sp->size = off;
    return rc;
}

static void load_ack(evidence_spool *sp)
{
    FILE *f = fopen(sp->ack_path, "r");
    if (!f)
        return; /* no ack yet */
    unsigned long long v = 0;
    if (fscanf(f, "acked_sequence=%llu", &v) != 1) {
        log_write(RV_LOG_WARN, -1, LOG_MOD, "%s unreadable; replaying the whole spool",
                  sp->ack_path);
        v = 0;
    }
    fclose(f);
    if (v > evidence_spool_last(sp)) {
        log_write(RV_LOG_WARN, -1, LOG_MOD,
                  "%s acks %llu but the spool ends at %" PRIu64 "; using %" PRIu64, sp->ack_path,
                  v, evidence_spool_last(sp), evidence_spool_last(sp));
        v = evidence_spool_last(sp);
    }
    sp->acked = v;
}

evidence_spool *evidence_spool_open(const char *dir, const char *channel_id,
                                    const char *session_id, char *err, size_t errlen)
{
    if (!dir || !*dir || !channel_id || !session_id) {
        set_err(err, errlen, "spool: folder, channel id and session id are required");
        return NULL;
    }
    if (!id_valid(channel_id) || !id_valid(session_id)) {
        set_err(err, errlen,
                "spool: channel id \"%.64s\" / session id \"%.64s\" must be 1-%d characters of "
                "[A-Za-z0-9._-], not starting with '.'",
                channel_id, session_id, SPOOL_ID_MAX);
        return NULL;
    }
    evidence_spool *sp = calloc(1, sizeof(*sp));
    if (!sp) {
        set_err(err, errlen, "spool: out of memory");
        return NULL;
    }
    sp->fd = -1;
    sp->dir_fd = -1;
    snprintf(sp->channel_id, sizeof(sp->channel_id), "%s", channel_id);
    snprintf(sp->session_id, sizeof(sp->session_id), "%s", session_id);
    char folder[PATH_MAX];
    if (snprintf(folder, sizeof(folder), "%s/%s", dir, channel_id) >= (int)sizeof(folder) ||
        snprintf(sp->path, sizeof(sp->path), "%s/%s.spool.jsonl", folder, session_id) >=
            (int)sizeof(sp->path) ||
        snprintf(sp->ack_path, sizeof(sp->ack_path), "%s/%s.ack", folder, session_id) >=
            (int)sizeof(sp->ack_path)) {
        set_err(err, errlen, "spool folder %s: path too long", dir);
        goto fail;
    }
    if (mkdir_p(folder, err, errlen) != 0)
        goto fail;
    sp->dir_fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sp->dir_fd < 0) {
        set_err(err, errlen, "spool folder %s: %s", folder, strerror(errno));
        goto fail;
    }
    sp->fd = open(sp->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (sp->fd < 0) {
        set_err(err, errlen, "spool %s: %s", sp->path, strerror(errno));
        goto fail;
    }
    /* One writer per spool: a second client of the same session would
     * interleave sequences. The lock goes with the descriptor. */
    if (flock(sp->fd, LOCK_EX | LOCK_NB) != 0) {
        set_err(err, errlen, "spool %s is in use by another evidence client (%s)", sp->path,
                strerror(errno));
        goto fail;
    }
    if (load(sp, err, errlen) != 0)
        goto fail;
    load_ack(sp);
    return sp;
fail:
    evidence_spool_close(sp);
    return NULL;
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static int index_reserve(evidence_spool *sp, size_t more)
{
    if (sp->count + more <= sp->cap)
        return RV_OK;
    size_t cap = sp->cap ? sp->cap : 256;
    while (cap < sp->count + more)
        cap *= 2;
    spool_entry *n = realloc(sp->index, cap * sizeof(*n));
    if (!n)
        return RV_ENOMEM;
    sp->index = n;
    sp->cap = cap;
    return RV_OK;
}

int evidence_spool_append_many(evidence_spool *sp, const evidence_record *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (r[i].sequence != evidence_spool_last(sp) + 1 + i)
            return RV_EINVAL;
    if (n == 0)
        return RV_OK;
    if (index_reserve(sp, n) != RV_OK)
        return RV_ENOMEM;
    /* All lines in one buffer: one write, one fdatasync for the batch. */
    char *buf = NULL;
    size_t len = 0;
    size_t *line_len = malloc(n * sizeof(*line_len));
    int rc = line_len ? RV_OK : RV_ENOMEM;
    for (size_t i = 0; rc == RV_OK && i < n; i++) {
        char *json = evidence_record_to_json(&r[i], sp->channel_id, sp->session_id);
        size_t jl = json ? strlen(json) : 0;
        char *grown = json ? realloc(buf, len + jl + 1) : NULL;
        if (!grown) {
            free(json);
            rc = RV_ENOMEM;
            break;
        }
        buf = grown;
        memcpy(buf + len, json, jl);
        buf[len + jl] = '\n';
        len += jl + 1;
        line_len[i] = jl;
        free(json);
    }
    if (rc == RV_OK && (write_all(sp->fd, buf, len) != 0 || fdatasync(sp->fd) != 0)) {
        log_write(RV_LOG_ERROR, -1, LOG_MOD,
                  "spool %s: appending sequences %" PRIu64 "..%" PRIu64 ": %s", sp->path,
                  r[0].sequence, r[n - 1].sequence, strerror(errno));
        if (ftruncate(sp->fd, (off_t)sp->size) != 0)
            log_write(RV_LOG_ERROR, -1, LOG_MOD, "spool %s: cutting back to %" PRIu64 ": %s",
                      sp->path, sp->size, strerror(errno));
        rc = RV_EIO;
    }
    if (rc == RV_OK) {
        for (size_t i = 0; i < n; i++) {
            sp->index[sp->count++] = (spool_entry){
                .sequence = r[i].sequence, .offset = sp->size, .len = (uint32_t)line_len[i]};
            sp->size += line_len[i] + 1;
        }
    }
    free(line_len);
    free(buf);
    return rc;
}

int evidence_spool_append(evidence_spool *sp, const evidence_record *r)
{
    return evidence_spool_append_many(sp, r, 1);
}

static const spool_entry *find(const evidence_spool *sp, uint64_t seq)
{
    size_t lo = 0;
    size_t hi = sp->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sp->index[mid].sequence < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < sp->count && sp->index[lo].sequence == seq ? &sp->index[lo] : NULL;
}

int evidence_spool_read(evidence_spool *sp, uint64_t sequence, evidence_record *out)
{
    const spool_entry *e = find(sp, sequence);
    if (!e)
        return RV_ENOENT;
    char *buf = malloc(e->len ? e->len : 1);
    if (!buf)
        return RV_ENOMEM;
    size_t got = 0;
    while (got < e->len) {
        ssize_t n = pread(sp->fd, buf + got, e->len - got, (off_t)(e->offset + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            log_write(RV_LOG_ERROR, -1, LOG_MOD, "spool %s: reading sequence %" PRIu64 ": %s",
                      sp->path, sequence, n < 0 ? strerror(errno) : "file shorter than indexed");
            free(buf);
            return RV_EIO;
        }
        got += (size_t)n;
    }
    char why[256];
    int rc = evidence_record_from_json(buf, e->len, sp->channel_id, sp->session_id, out, why,
                                       sizeof(why));
    if (rc == RV_OK && out->sequence != sequence)
        rc = RV_EFORMAT;
    if (rc != RV_OK)
        log_write(RV_LOG_ERROR, -1, LOG_MOD, "spool %s: sequence %" PRIu64 " reads back wrong: %s",
                  sp->path, sequence, rc == RV_EFORMAT ? why : "other sequence");
    free(buf);
    return rc;
}

int evidence_spool_set_acked(evidence_spool *sp, uint64_t sequence)
{
    if (sequence <= sp->acked)
        return RV_OK;
    if (sequence > evidence_spool_last(sp))
        return RV_EINVAL;
    char tmp[PATH_MAX + 8];
    char utc[EVIDENCE_UTC_LEN + 1];
    char text[128];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    evidence_utc_iso((int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000, utc);
    int n = snprintf(text, sizeof(text), "acked_sequence=%" PRIu64 "\nupdated_utc=%s\n",
                     sequence, utc);
    snprintf(tmp, sizeof(tmp), "%s.tmp", sp->ack_path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int ok = fd >= 0 && write_all(fd, text, (size_t)n) == 0 && fsync(fd) == 0;
    int e = errno;
    if (fd >= 0 && close(fd) != 0 && ok) {
        ok = 0;
        e = errno;
    }
    if (ok && rename(tmp, sp->ack_path) != 0) {
        ok = 0;
        e = errno;
    }
    if (!ok) {
        log_write(RV_LOG_ERROR, -1, LOG_MOD, "%s: recording ack %" PRIu64 ": %s", sp->ack_path,
                  sequence, strerror(e));
        unlink(tmp);
        return RV_EIO;
    }
    fsync(sp->dir_fd);
    sp->acked = sequence;
    return RV_OK;
}

void evidence_spool_close(evidence_spool *sp)
{
    if (!sp)
        return;
    if (sp->fd >= 0)
        close(sp->fd);
    if (sp->dir_fd >= 0)
        close(sp->dir_fd);
    free(sp->index);
    free(sp);
}
