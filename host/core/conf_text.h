/**
 * @file host/core/conf_text.h
 * @short NUL bytes in libconfig text (config and plan files), refused before
 *        libconfig reads it: libconfig cuts a string at a raw NUL byte
 *        ("slate<NUL>evil" reads as "slate") and silently drops a "\x00"
 *        escape ("slate\x00evil" reads as "slateevil"), so what the engine
 *        acts on would differ from what the file says.
 *
 * Pure functions, no state; every pointer is borrowed for the call.
 */
#ifndef RV_CORE_CONF_TEXT_H
#define RV_CORE_CONF_TEXT_H

#include <stddef.h>
#include <stdio.h>

/** Largest file conf_text_check_stream reads, in bytes. */
#define CONF_TEXT_MAX_BYTES (16 * 1024 * 1024)

/** Refuse a raw NUL byte anywhere in @p text [0, @p len) and a "\x00" escape
 *  inside a double-quoted string (comments are skipped). RV_OK, or RV_EINVAL
 *  with "<source>:<line>: ..." in @p err. */
int conf_text_check(const char *text, size_t len, const char *source, char *err, size_t errlen);

/** conf_text_check over the whole of @p f (at most CONF_TEXT_MAX_BYTES),
 *  which is rewound to its start afterwards. RV_OK, RV_EINVAL (a NUL, or too
 *  large), RV_ENOMEM or RV_EIO, with the reason in @p err. */
int conf_text_check_stream(FILE *f, const char *source, char *err, size_t errlen);

#endif
