/**
 * @file modules/sinks/framelog/framelog_line.c
 * @short Building one JSON line in a reusable buffer (see framelog_line.h).
 */
#include "framelog_line.h"

#include <stdlib.h>

#include "jsonl/json_text.h"
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
    size_t n = text ? strlen(text) : 0;

    /* Room for the worst case (every byte escaped to six), so nothing is cut. */
    if (!framelog_line_reserve(l, JSON_TEXT_QUOTED_MAX(n) + 1))
        return;
    l->len += json_text_quote(l->data + l->len, l->cap - l->len, text, n);
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
