/**
 * @file tests/shell.h
 * @short sh(): run a shell command line (printf-style) from a C test, the way
 *        the media tests make their clips with the ffmpeg command; a failure
 *        is reported as a TAP diagnostic with the command. Header-only.
 */
#ifndef RV_TESTS_SHELL_H
#define RV_TESTS_SHELL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "tap.h"

/** Run the command @p fmt (formatted, at most 8 KB) with system(3). Returns
 *  its status: 0 on success. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2), unused));
static int sh(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    int r = system(cmd);
    if (r != 0)
        tap_diag("command failed (%d): %s", r, cmd);
    return r;
}

#endif
