/**
 * @file modules/sinks/framelog/framelog_line.c
 * @short Building one JSON line in a reusable buffer (see framelog_line.h).
 */
#include "framelog_line.h"

#include <stdlib.h>
#include <string.h>

static int framelog_line_reserve(framelog_line *l, size_t extra)
{
    if (l->failed)
        return 0;
    if (l->len + extra <= l->cap)
        return 1;
    size_t cap = l->cap ? l->cap : 512;
    while (cap < l->len + extra)
        cap *= 2;
    char *data = realloc(l->data, cap);
    if (data == NULL) {
        l->failed = 1;
        return 0;
    }
    l->data = data;
    l->cap = cap;
    return 1;
}

void framelog_line_reset(framelog_line *l)
{
    l->len = 0;
    l->failed = 0;
}

void framelog_line_free(framelog_line *l)
{
    free(l->data);
    *l = (framelog_line){0};
}

static void framelog_line_bytes(framelog_line *l, const char *bytes, size_t n)
{
    if (!framelog_line_reserve(l, n))
        return;
    memcpy(l->data + l->len, bytes, n);
    l->len += n;
}

void framelog_line_raw(framelog_line *l, const char *text)
{
    framelog_line_bytes(l, text, strlen(text));
}

void framelog_line_str(framelog_line *l, const char *text)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)(text ? text : "");

    /* Worst case: every byte becomes \u00XX, plus the quotes. */
    if (!framelog_line_reserve(l, strlen((const char *)p) * 6 + 2))
        return;
    char *o = l->data + l->len;
    *o++ = '"';
    for (; *p != '\0'; p++) {
        unsigned char ch = *p;
        if (ch == '"' || ch == '\\') {
            *o++ = '\\';
            *o++ = (char)ch;
        } else if (ch == '\n') {
            *o++ = '\\';
            *o++ = 'n';
        } else if (ch == '\r') {
            *o++ = '\\';
            *o++ = 'r';
        } else if (ch == '\t') {
            *o++ = '\\';
            *o++ = 't';
        } else if (ch < 0x20 || ch == 0x7f) {
            memcpy(o, "\\u00", 4);
            o[4] = hex[ch >> 4];
            o[5] = hex[ch & 0xf];
            o += 6;
        } else {
            *o++ = (char)ch; /* UTF-8 passes through */
        }
    }
    *o++ = '"';
    l->len = (size_t)(o - l->data);
}

void framelog_line_i64(framelog_line *l, int64_t v)
{
    char digits[24];
    int n = 0;
    /* Work in the negative range so INT64_MIN needs no special case. */
    int64_t neg = v < 0 ? v : -v;

    do {
        digits[n++] = (char)('0' - neg % 10);
        neg /= 10;
    } while (neg != 0);
    if (!framelog_line_reserve(l, (size_t)n + 1))
        return;
    if (v < 0)
        l->data[l->len++] = '-';
    while (n > 0)
        l->data[l->len++] = digits[--n];
}

void framelog_line_key(framelog_line *l, const char *key)
{
    if (l->len > 0 && l->data[l->len - 1] != '{')
        framelog_line_bytes(l, ",", 1);
    framelog_line_bytes(l, "\"", 1);
    framelog_line_raw(l, key);
    framelog_line_bytes(l, "\":", 2);
}
