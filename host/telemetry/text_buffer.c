/**
 * @file host/telemetry/text_buffer.c
 * @short A growable text buffer: owns its bytes until text_buffer_take().
 */
#include "telemetry/text_buffer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void text_buffer_init(text_buffer *b)
{
    *b = (text_buffer){0};
}

/** Make room for @p extra more bytes plus the NUL. */
static int text_buffer_reserve(text_buffer *b, size_t extra)
{
    if (b->failed)
        return 0;
    if (b->len + extra + 1 <= b->cap)
        return 1;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *data = realloc(b->data, cap);
    if (!data) {
        b->failed = 1;
        return 0;
    }
    b->data = data;
    b->cap = cap;
    return 1;
}

void text_buffer_append(text_buffer *b, const char *s, size_t len)
{
    if (!text_buffer_reserve(b, len))
        return;
    memcpy(b->data + b->len, s, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void text_buffer_puts(text_buffer *b, const char *s)
{
    text_buffer_append(b, s, strlen(s));
}

void text_buffer_printf(text_buffer *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return;
    }
    if (!text_buffer_reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

int text_buffer_failed(const text_buffer *b)
{
    return b->failed;
}

char *text_buffer_take(text_buffer *b, size_t *len)
{
    if (b->failed || !text_buffer_reserve(b, 0)) {
        text_buffer_free(b);
        *len = 0;
        return NULL;
    }
    char *data = b->data;
    *len = b->len;
    *b = (text_buffer){0};
    return data;
}

void text_buffer_free(text_buffer *b)
{
    free(b->data);
    *b = (text_buffer){0};
}
