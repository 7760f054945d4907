/**
 * @file lib/jsonl/jsonl_file.h
 * @short jsonl_file: a JSON-lines file that is only ever appended to, and
 *        that a killed writer never leaves with a partial line.
 *
 * Writers hand over whole lines (each ending in '\n') and each batch goes out
 * in one write(2) on a descriptor opened with O_APPEND, so a process killed
 * between two writes leaves whole lines. Linux can still end a large write
 * short when a fatal signal arrives while it copies page by page (and a power
 * cut can tear the tail), so opening a file first cuts a last line that has
 * no '\n': the record whose write did not finish, never a whole one. Nothing
 * before it is touched, and nothing is ever truncated otherwise.
 *
 * Libc only; the descriptor is the caller's. Thread: one writer per file.
 */
#ifndef RV_LIB_JSONL_FILE_H
#define RV_LIB_JSONL_FILE_H

#include <stddef.h>
#include <sys/types.h>

/**
 * Open (create, mode 0644) @p path (borrowed) for appending JSON lines:
 * O_WRONLY | O_APPEND | O_CLOEXEC (a FIFO is opened as any writer opens it,
 * and never inspected). If a regular file's last byte is not '\n', the partial
 * last line is cut (ftruncate just after the last '\n', or to 0) and
 * *@p cut_bytes (may be NULL) receives how many bytes went; else 0.
 * Returns the descriptor (the caller closes it), or -1 with errno set.
 */
int jsonl_file_open(const char *path, size_t *cut_bytes);

/**
 * Append the @p len bytes at @p buf (borrowed; whole lines) to @p fd, in one
 * write(2) unless the kernel takes less (then the rest follows; EINTR is
 * retried). If a write fails part way, the file is cut back to its size
 * before the call, so a failed append leaves no partial line.
 * Returns 0, or -1 with errno set.
 */
int jsonl_file_append(int fd, const char *buf, size_t len);

#endif
