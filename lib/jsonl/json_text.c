/**
 * @file lib/jsonl/json_text.c
 * @short Well-formed UTF-8 and JSON string literals from any bytes (see
 *        json_text.h). Owns nothing.
 */
#include "jsonl/json_text.h"

#include <string.h>

size_t json_text_utf8_next(const char *p, size_t n, size_t *skip)
{
    const unsigned char *s = (const unsigned char *)p;
    unsigned char c = s[0];
    unsigned char lo = 0x80;   /* range of the second byte (Table 3-7) */
    unsigned char hi = 0xBF;
    size_t need;

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0)
            lo = 0xA0;   /* no overlong 3-byte forms */
        else if (c == 0xED)
            hi = 0x9F;   /* no UTF-16 surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0)
            lo = 0x90;   /* no overlong 4-byte forms */
        else if (c == 0xF4)
            hi = 0x8F;   /* nothing past U+10FFFF */
    } else {
        *skip = 1;       /* 80..C1 (continuation, overlong lead), F5..FF */
        return 0;
    }
    size_t i = 1;
    for (; i < need && i < n; i++) {
        if (s[i] < lo || s[i] > hi)
            break;
        lo = 0x80;
        hi = 0xBF;
    }
    if (i == need)
        return need;
    *skip = i;   /* the lead and the continuation bytes that were right */
    return 0;
}

size_t json_text_utf8_copy(char *dst, size_t cap, const char *src, size_t src_len)
{
    size_t o = 0;
    size_t i = 0;

    if (cap == 0)
        return 0;
    while (src && i < src_len && src[i] != '\0') {
        size_t skip = 0;
        size_t k = json_text_utf8_next(src + i, src_len - i, &skip);
        const char *put = src + i;
        size_t m = k;
        if (k == 0) {
            put = JSON_TEXT_REPLACEMENT;
            m = 3;
            k = skip;
        }
        if (o + m > cap - 1)
            break;
        memcpy(dst + o, put, m);
        o += m;
        i += k;
    }
    dst[o] = '\0';
    return o;
}

/** The escape for the @p k-byte well-formed character at @p s, into @p esc
 *  (at least 7 bytes). Returns its length, or 0 when it goes out as is. */
static size_t json_text_escape(const unsigned char *s, size_t k, char *esc)
{
    static const char hex[] = "0123456789abcdef";
    unsigned cp;

    if (k == 1) {
        unsigned char c = s[0];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            return 2;
        }
        const char *short_form = c == '\b' ? "\\b" : c == '\f' ? "\\f" : c == '\n' ? "\\n"
                               : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
        if (short_form) {
            memcpy(esc, short_form, 2);
            return 2;
        }
        if (c >= 0x20 && c != 0x7F)
            return 0;
        cp = c;
    } else if (k == 2 && s[0] == 0xC2 && s[1] <= 0x9F) {
        cp = s[1];                               /* C1 controls U+0080..U+009F */
    } else if (k == 3 && s[0] == 0xE2 && s[1] == 0x80 && (s[2] == 0xA8 || s[2] == 0xA9)) {
        cp = s[2] == 0xA8 ? 0x2028u : 0x2029u;   /* LINE / PARAGRAPH SEPARATOR */
    } else {
        return 0;
    }
    memcpy(esc, "\\u", 2);
    esc[2] = hex[(cp >> 12) & 0xF];
    esc[3] = hex[(cp >> 8) & 0xF];
    esc[4] = hex[(cp >> 4) & 0xF];
    esc[5] = hex[cp & 0xF];
    return 6;
}

size_t json_text_quote(char *dst, size_t cap, const char *src, size_t src_len)
{
    size_t o = 0;
    size_t i = 0;

    if (cap < 3) {
        if (cap > 0)
            dst[0] = '\0';
        return 0;
    }
    dst[o++] = '"';
    while (src && i < src_len) {
        size_t skip = 0;
        size_t k = json_text_utf8_next(src + i, src_len - i, &skip);
        char esc[8];
        const char *put = src + i;
        size_t m = k;
        if (k == 0) {
            put = JSON_TEXT_REPLACEMENT;
            m = 3;
            k = skip;
        } else {
            size_t e = json_text_escape((const unsigned char *)src + i, k, esc);
            if (e > 0) {
                put = esc;
                m = e;
            }
        }
        if (o + m + 1 > cap - 1)   /* room for this, the closing quote, the NUL */
            break;
        memcpy(dst + o, put, m);
        o += m;
        i += k;
    }
    dst[o++] = '"';
    dst[o] = '\0';
    return o;
}
