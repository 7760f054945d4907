/**
 * @file host/core/conf_text.c
 * @short NUL bytes in libconfig text (see conf_text.h). Owns nothing beyond
 *        the buffer conf_text_check_stream reads into and frees.
 *
 * The scan follows libconfig's lexical rules (libconfig manual, "Configuration
 * File Grammar"): strings are double-quoted with backslash escapes, comments
 * are '#' or '//' to the end of the line and C-style block comments.
 */
#include "core/conf_text.h"

#include <stdlib.h>
#include <string.h>

#include <retrovue/error.h>

static int conf_text_fail(char *err, size_t errlen, const char *source, int line,
                          const char *what)
{
    if (err && errlen)
        snprintf(err, errlen, "%s:%d: %s (a NUL byte is not allowed in a config or plan file)",
                 source ? source : "<text>", line, what);
    return RV_EINVAL;
}

int conf_text_check(const char *text, size_t len, const char *source, char *err, size_t errlen)
{
    enum { CODE, STRING, LINE_COMMENT, BLOCK_COMMENT } state = CODE;
    int line = 1;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        char next = i + 1 < len ? text[i + 1] : '\0';
        if (c == '\0')
            return conf_text_fail(err, errlen, source, line, "a raw NUL byte");
        if (c == '\n')
            line++;
        switch (state) {
        case CODE:
            if (c == '"')
                state = STRING;
            else if (c == '#' || (c == '/' && next == '/'))
                state = LINE_COMMENT;
            else if (c == '/' && next == '*') {
                state = BLOCK_COMMENT;
                i++;
            }
            break;
        case STRING:
            if (c == '"') {
                state = CODE;
            } else if (c == '\\' && i + 1 < len) {
                if ((next == 'x' || next == 'X') && i + 3 < len && text[i + 2] == '0' &&
                    text[i + 3] == '0')
                    return conf_text_fail(err, errlen, source, line,
                                          "a string holds the escape \\x00");
                if (next == '\0')
                    continue; /* refused as a raw NUL at the next step */
                if (next == '\n')
                    line++;
                i++; /* the escaped character can't end the string */
            }
            break;
        case LINE_COMMENT:
            if (c == '\n')
                state = CODE;
            break;
        case BLOCK_COMMENT:
            if (c == '*' && next == '/') {
                state = CODE;
                i++;
            }
            break;
        }
    }
    return RV_OK;
}

int conf_text_check_stream(FILE *f, const char *source, char *err, size_t errlen)
{
    char scratch[8];
    if (!err || errlen == 0) {
        err = scratch;
        errlen = sizeof(scratch);
    }
    size_t cap = 65536;
    size_t len = 0;
    char *buf = malloc(cap);
    int rc = RV_OK;
    if (!buf) {
        snprintf(err, errlen, "%s: out of memory", source);
        return RV_ENOMEM;
    }
    for (;;) {
        if (len == cap) {
            char *grown = cap < CONF_TEXT_MAX_BYTES ? realloc(buf, cap * 2) : NULL;
            if (!grown) {
                snprintf(err, errlen, "%s: larger than %d bytes or out of memory", source,
                         CONF_TEXT_MAX_BYTES);
                free(buf);
                return RV_EINVAL;
            }
            buf = grown;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        snprintf(err, errlen, "%s: read error", source);
        rc = RV_EIO;
    } else {
        rc = conf_text_check(buf, len, source, err, errlen);
    }
    free(buf);
    rewind(f);
    return rc;
}
