/**
 * @file host/core/thread_name.h
 * @short Names the calling thread, so `top -H`, `ps -L`, `perf` and
 *        /proc/<pid>/task/<tid>/comm tell the engine's threads apart.
 *
 * Names follow one pattern, `rv-<role>[-<channel id>]`, cut to the 15 bytes
 * Linux keeps (prctl(2) PR_SET_NAME): "rv-out-7" is channel 7's output
 * (tick) thread, "rv-enc-7" its encoder, "rv-prod-7" its producer. The list
 * is in docs/operations.md ("Threads"). libmicrohttpd names its own
 * ("MHD-connection", "MHD-listen").
 */
#ifndef RV_CORE_THREAD_NAME_H
#define RV_CORE_THREAD_NAME_H

/** Names the calling thread (printf-style; longer names are cut to 15
 *  bytes). Thread: any, for itself. A failure is ignored: a name is a label
 *  for people, never something the engine relies on. */
void thread_name_self(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** Copies the calling thread's name into @p out (caller-owned, 16 bytes:
 *  TASK_COMM_LEN); "" when it cannot be read. Thread: any, for itself.
 *  With thread_name_self, a caller lends its name to the threads a library
 *  creates during one call (they inherit the creator's name), e.g. x264's
 *  workers while an encoder opens, then takes its own back. */
void thread_name_get(char out[16]);

#endif
