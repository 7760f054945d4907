/**
 * @file host/telemetry/text_buffer.h
 * @short A growable NUL-terminated text buffer for HTTP response bodies.
 *
 * Owns its bytes until text_buffer_take() hands them to the caller. An
 * allocation failure is sticky: later appends do nothing and
 * text_buffer_failed() says so, so a renderer checks once at the end.
 * Not thread-safe: one buffer per request.
 */
#ifndef RV_HOST_TELEMETRY_TEXT_BUFFER_H
#define RV_HOST_TELEMETRY_TEXT_BUFFER_H

#include <stddef.h>

typedef struct text_buffer {
    char *data;      /**< owned, NUL-terminated when len > 0 */
    size_t len;      /**< bytes used, without the NUL */
    size_t cap;      /**< bytes allocated */
    int failed;      /**< an allocation failed */
} text_buffer;

/** An empty buffer (no allocation yet). @p b borrowed. */
void text_buffer_init(text_buffer *b);
/** Append @p len bytes of @p s (borrowed). */
void text_buffer_append(text_buffer *b, const char *s, size_t len);
/** Append a NUL-terminated string (borrowed). */
void text_buffer_puts(text_buffer *b, const char *s);
/** Append printf-formatted text. */
void text_buffer_printf(text_buffer *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** Nonzero when an append could not allocate. */
int text_buffer_failed(const text_buffer *b);
/** The bytes, NUL-terminated (never NULL; "" when empty); ownership passes
 *  to the caller (free()). NULL when an allocation failed. *@p len receives
 *  the length. The buffer is empty afterwards. */
char *text_buffer_take(text_buffer *b, size_t *len);
/** Free the bytes; the buffer is empty afterwards. */
void text_buffer_free(text_buffer *b);

#endif
