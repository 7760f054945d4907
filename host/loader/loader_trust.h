/**
 * @file host/loader/loader_trust.h
 * @short Whether a module file may be dlopen()ed at all: checked before
 *        dlopen, because dlopen runs the file's constructors before any
 *        descriptor check can refuse it. The same rule as OpenSSH's
 *        StrictModes and other plugin hosts: nobody but root and the
 *        engine's own user may have written the code it runs.
 *
 * Pure function over the file system; owns nothing.
 */
#ifndef RV_LOADER_TRUST_H
#define RV_LOADER_TRUST_H

#include <stddef.h>

/** RV_OK when the module at @p path (borrowed) is safe to load:
 *  - the file (symlinks resolved) is a regular file owned by root or the
 *    effective user, and not writable by group or others;
 *  - its folder, and the folder @p path names it through (a symlink's
 *    folder), are owned by root or the effective user and not writable by
 *    group or others;
 *  - every folder above those is not writable by group or others unless it
 *    has the sticky bit (as /tmp does: nobody can replace another user's
 *    entry there).
 *  A path that does not resolve is left to dlopen to report (RV_OK).
 *  RV_ELOAD_UNSAFE otherwise, with one sentence naming the file or folder,
 *  its owner or mode, and the fix in @p err. */
int loader_trust_check(const char *path, char *err, size_t errlen);

#endif
