/**
 * @file lib/jsonl/jsonl_file.c
 * @short Append-only JSON-lines files with torn-tail repair (see
 *        jsonl_file.h). Owns nothing: descriptors belong to the caller.
 */
#include "jsonl/jsonl_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define JSONL_SCAN_BYTES 4096

/** Offset just after the last '\n' before @p size, or 0 when there is none;
 *  -1 on a read error. */
static off_t jsonl_last_line_end(int fd, off_t size)
{
    char buf[JSONL_SCAN_BYTES];
    off_t end = size;

    while (end > 0) {
        off_t start = end > JSONL_SCAN_BYTES ? end - JSONL_SCAN_BYTES : 0;
        size_t want = (size_t)(end - start);
        ssize_t got = pread(fd, buf, want, start);
        if (got < 0 && errno == EINTR)
            continue;
        if (got != (ssize_t)want)
            return -1;
        for (size_t i = want; i > 0; i--)
            if (buf[i - 1] == '\n')
                return start + (off_t)i;
        end = start;
    }
    return 0;
}

/** Cut a partial last line of the regular file @p path, written through
 *  @p fd, of @p size bytes. Returns the bytes cut, or -1 with errno set. */
static off_t jsonl_cut_torn_tail(int fd, const char *path, off_t size)
{
    char last;
    int rd = open(path, O_RDONLY | O_CLOEXEC);
    if (rd < 0)
        return -1;
    off_t cut = 0;
    if (pread(rd, &last, 1, size - 1) != 1) {
        cut = -1;
    } else if (last != '\n') {
        off_t keep = jsonl_last_line_end(rd, size);
        if (keep < 0 || ftruncate(fd, keep) != 0)
            cut = -1;
        else
            cut = size - keep;
    }
    int err = errno;
    close(rd);
    errno = err;
    return cut;
}

int jsonl_file_open(const char *path, size_t *cut_bytes)
{
    struct stat st;
    int err;

    if (cut_bytes)
        *cut_bytes = 0;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) != 0)
        goto fail;
    if (!S_ISREG(st.st_mode) || st.st_size == 0)
        return fd;   /* a FIFO or /dev/null is written, never repaired */
    off_t cut = jsonl_cut_torn_tail(fd, path, st.st_size);
    if (cut < 0)
        goto fail;
    if (cut_bytes)
        *cut_bytes = (size_t)cut;
    return fd;
fail:
    err = errno ? errno : EIO;
    close(fd);
    errno = err;
    return -1;
}

int jsonl_file_append(int fd, const char *buf, size_t len)
{
    struct stat st;
    int have_size = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    size_t done = 0;

    while (done < len) {
        ssize_t n = write(fd, buf + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int err = n < 0 ? errno : ENOSPC;
            /* cut the partial batch; the write's error is the one reported */
            int cut = done > 0 && have_size ? ftruncate(fd, st.st_size) : 0;
            (void)cut;
            errno = err;
            return -1;
        }
        done += (size_t)n;
    }
    return 0;
}
