/**
 * @file tests/unit/test_json_text.c
 * @short lib/jsonl: JSON strings from any bytes (control characters, bytes
 *        that are not UTF-8, overlong forms, surrogates, text cut to fit),
 *        the as-run line built from such ids, and the append-only file that
 *        cuts a torn last line. Expected replacements follow Unicode's
 *        maximal-subpart practice, the one Python's errors="replace" uses.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsonl/json_text.h"
#include "jsonl/jsonl_file.h"
#include "tap.h"
#include "telemetry/asrun.h"

#define FFFD JSON_TEXT_REPLACEMENT

/** Quote @p src (@p len bytes) with room to spare; compare with @p want. */
static int quotes_as(const char *src, size_t len, const char *want)
{
    char out[512];
    size_t n = json_text_quote(out, sizeof(out), src, len);
    if (n != strlen(want) || strcmp(out, want) != 0) {
        tap_diag("got [%s] want [%s]", out, want);
        return 0;
    }
    return 1;
}

/** Every byte of @p s (@p n bytes) is well-formed UTF-8 and none is a raw
 *  control character, quote inside, or backslash not starting an escape. */
static int is_clean_json_string(const char *s, size_t n)
{
    if (n < 2 || s[0] != '"' || s[n - 1] != '"')
        return 0;
    for (size_t i = 1; i < n - 1;) {
        size_t skip;
        size_t k = json_text_utf8_next(s + i, n - 1 - i, &skip);
        unsigned char c = (unsigned char)s[i];
        if (k == 0 || c < 0x20 || c == 0x7F || c == '"')
            return 0;
        if (c == '\\') {
            char e = s[i + 1];
            if (e == 'u')
                k = 6;
            else if (strchr("\"\\bfnrt", e) && e)
                k = 2;
            else
                return 0;
            if (i + k > n - 1)
                return 0;
        }
        i += k;
    }
    return 1;
}

static void test_escapes(void)
{
    tap_ok(quotes_as("ab\"c\\d", 6, "\"ab\\\"c\\\\d\""), "quote and backslash escaped");
    tap_ok(quotes_as("\x01\x02\n\t\r\b\f\x1f\x7f", 9,
                     "\"\\u0001\\u0002\\n\\t\\r\\b\\f\\u001f\\u007f\""),
           "control characters and DEL escaped");
    tap_ok(quotes_as("a\0b", 3, "\"a\\u0000b\""), "an embedded NUL is escaped, not an end");
    tap_ok(quotes_as("\xc2\x85|\xe2\x80\xa8|\xe2\x80\xa9", 10, "\"\\u0085|\\u2028|\\u2029\""),
           "NEL, LINE and PARAGRAPH SEPARATOR escaped (line readers split on them)");
    tap_ok(quotes_as("\xe6\xbc\xa2\xf0\x9f\x98\x80", 7, "\"\xe6\xbc\xa2\xf0\x9f\x98\x80\""),
           "well-formed UTF-8 (CJK, an emoji) passes as is");
    tap_ok(quotes_as(NULL, 0, "\"\""), "NULL is the empty string");
}

static void test_invalid_utf8(void)
{
    tap_ok(quotes_as("a\xff" "b", 3, "\"a" FFFD "b\""), "\\xff becomes U+FFFD");
    tap_ok(quotes_as("\xff\xfe", 2, "\"" FFFD FFFD "\""), "\\xff\\xfe: two replacements");
    tap_ok(quotes_as("\xc0\xaf", 2, "\"" FFFD FFFD "\""), "overlong 2-byte '/' (C0 AF)");
    tap_ok(quotes_as("\xe0\x80\xaf", 3, "\"" FFFD FFFD FFFD "\""), "overlong 3-byte form");
    tap_ok(quotes_as("\xf0\x80\x80\xaf", 4, "\"" FFFD FFFD FFFD FFFD "\""),
           "overlong 4-byte form");
    tap_ok(quotes_as("\xed\xa0\x80", 3, "\"" FFFD FFFD FFFD "\""), "UTF-16 surrogate D800");
    tap_ok(quotes_as("\xf4\x90\x80\x80", 4, "\"" FFFD FFFD FFFD FFFD "\""), "past U+10FFFF");
    tap_ok(quotes_as("\xe2\x82" "a", 3, "\"" FFFD "a\""),
           "a cut 3-byte sequence is one replacement (its maximal subpart)");
    tap_ok(quotes_as("a\xf0\x9f\x98", 4, "\"a" FFFD "\""), "a cut 4-byte sequence at the end");
    tap_ok(quotes_as("\x80", 1, "\"" FFFD "\""), "a lone continuation byte");
}

static void test_cut_on_boundaries(void)
{
    /* 43 CJK characters: 129 bytes, one more than an as-run id keeps */
    char cjk[43 * 3 + 1];
    for (int i = 0; i < 43; i++)
        memcpy(cjk + 3 * i, "\xe6\xbc\xa2", 3);
    cjk[sizeof(cjk) - 1] = '\0';
    char id[128];
    size_t n = json_text_utf8_copy(id, sizeof(id), cjk, strlen(cjk));
    tap_ok(n == 126 && strlen(id) == 126 && memcmp(id, cjk, 126) == 0,
           "43 CJK characters into 128 bytes: 42 whole characters (%zu bytes)", n);

    char out[16];
    n = json_text_quote(out, 14, cjk, strlen(cjk));
    tap_ok(n == 11 && strcmp(out, "\"\xe6\xbc\xa2\xe6\xbc\xa2\xe6\xbc\xa2\"") == 0,
           "quote into 14 bytes (a fourth character needs 15): three and the closing quote");
    n = json_text_quote(out, 9, "\x01\x01", 2);
    tap_ok(n == 8 && strcmp(out, "\"\\u0001\"") == 0, "an escape is never split (%s)", out);
    n = json_text_quote(out, 3, "abc", 3);
    tap_ok(n == 2 && strcmp(out, "\"\"") == 0, "the smallest room still gives \"\"");

    char copy[8];
    n = json_text_utf8_copy(copy, sizeof(copy), "ab\xff" "cdef", 7);
    tap_ok(n == 7 && strcmp(copy, "ab" FFFD "cd") == 0, "copy replaces, then cuts to fit");
    n = json_text_utf8_copy(copy, sizeof(copy), "ab\0cd", 5);
    tap_ok(n == 2 && strcmp(copy, "ab") == 0, "copy stops at NUL");
}

/** Random bytes: the output is always one clean JSON string within the bound. */
static void test_random_bytes(void)
{
    uint32_t seed = 12345;
    int bad = 0;
    for (int round = 0; round < 20000 && !bad; round++) {
        unsigned char in[64];
        size_t len = (size_t)(round % 64);
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            /* bias towards the interesting bytes */
            uint32_t r = seed >> 16;
            in[i] = (unsigned char)(r % 3 == 0 ? 0x80 + r % 0x80 : r % 3 == 1 ? r % 0x20 : r);
        }
        char out[JSON_TEXT_QUOTED_MAX(64) + 1];
        size_t n = json_text_quote(out, sizeof(out), (const char *)in, len);
        if (n > JSON_TEXT_QUOTED_MAX(len) || !is_clean_json_string(out, n))
            bad = round + 1;
        char small[20];
        n = json_text_quote(small, sizeof(small), (const char *)in, len);
        if (!is_clean_json_string(small, n))
            bad = round + 1;
        char u[JSON_TEXT_UTF8_MAX(64) + 1];
        n = json_text_utf8_copy(u, sizeof(u), (const char *)in, len);
        for (size_t i = 0; i < n && !bad;) {
            size_t skip;
            size_t k = json_text_utf8_next(u + i, n - i, &skip);
            if (k == 0)
                bad = round + 1;
            i += k;
        }
    }
    tap_ok(!bad, "20000 random byte strings: clean JSON strings within the bound, "
                 "well-formed copies (first bad round %d)", bad);
}

static void fill(char *dst, size_t len, const char *pattern)
{
    size_t p = strlen(pattern);
    for (size_t i = 0; i + 1 < len; i++)
        dst[i] = pattern[i % p];
    dst[len - 1] = '\0';
}

static void test_asrun_line(void)
{
    asrun_record r = {.channel_id = 3, .segment_index = 1, .status = ASRUN_AIRED};
    fill(r.block_id, sizeof(r.block_id), "\x01");
    fill(r.event_id, sizeof(r.event_id), "\x1f\xff");
    fill(r.asset_uri, sizeof(r.asset_uri), "\x02");
    fill(r.notes, sizeof(r.notes), "\x7f");
    static char line[ASRUN_LINE_MAX];
    int n = asrun_record_format(&r, line, sizeof(line));
    tap_ok(n > 0, "an as-run line with every id made of control characters is formatted (%d)",
           n);
    const char *ev = n > 0 ? strstr(line, "\"event_id\":\"\\u001f" FFFD) : NULL;
    tap_ok(ev != NULL, "its event_id escapes the controls and replaces \\xff");
    const char *b = n > 0 ? strstr(line, "\"block_id\":\"") : NULL;
    size_t count = 0;
    while (b && (b = strstr(b + 1, "\\u0001")) != NULL)
        count++;
    tap_ok(count == 127, "every one of the block id's 127 control characters is there (%zu)",
           count);
}

static void test_torn_tail(void)
{
    char path[] = "/tmp/test_json_text.XXXXXX";
    int fd = mkstemp(path);
    const char *text = "{\"a\":1}\n{\"b\":2}\n{\"c\":";
    int ok = fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text);
    if (fd >= 0)
        close(fd);
    size_t cut = 99;
    fd = ok ? jsonl_file_open(path, &cut) : -1;
    tap_ok(fd >= 0 && cut == 5, "a torn last line is cut at open (%zu bytes)", cut);
    ok = fd >= 0 && jsonl_file_append(fd, "{\"d\":4}\n", 8) == 0;
    if (fd >= 0)
        close(fd);
    fd = jsonl_file_open(path, &cut);
    tap_ok(fd >= 0 && cut == 0, "whole lines are left alone");
    if (fd >= 0)
        close(fd);
    char back[64] = "";
    fd = open(path, O_RDONLY);
    ssize_t got = fd >= 0 ? pread(fd, back, sizeof(back) - 1, 0) : -1;
    if (fd >= 0)
        close(fd);
    tap_ok(ok && got == 24 && strcmp(back, "{\"a\":1}\n{\"b\":2}\n{\"d\":4}\n") == 0,
           "earlier lines kept, the next line appended after them");
    fd = open(path, O_WRONLY | O_TRUNC);
    ok = fd >= 0 && write(fd, "no newline at all", 17) == 17;
    if (fd >= 0)
        close(fd);
    fd = jsonl_file_open(path, &cut);
    tap_ok(ok && fd >= 0 && cut == 17 && lseek(fd, 0, SEEK_END) == 0,
           "a file of one partial line is emptied");
    if (fd >= 0)
        close(fd);
    unlink(path);
}

int main(void)
{
    tap_plan(30);
    test_escapes();
    test_invalid_utf8();
    test_cut_on_boundaries();
    test_random_bytes();
    test_asrun_line();
    test_torn_tail();
    return tap_done();
}
