/**
 * @file lib/jsonl/json_text.h
 * @short json_text: bytes of unknown quality → valid UTF-8 and JSON string
 *        literals, for every JSON-lines record the engine writes (the as-run
 *        writer, the framelog sink, the evidence spool's strings).
 *
 * Identifiers reach the records from plan files and gRPC requests, which may
 * carry control characters, bytes that are not UTF-8, or more bytes than a
 * record keeps. These functions never fail and never drop the text:
 *
 * - UTF-8 is checked against the well-formed byte sequences of Unicode 15,
 *   §3.9 Table 3-7 (RFC 3629: no overlong forms, no surrogates, nothing past
 *   U+10FFFF). Each ill-formed *maximal subpart* (§3.9, "U+FFFD Substitution
 *   of Maximal Subparts", the practice WHATWG's decoder and Python's
 *   `errors="replace"` follow) becomes one U+FFFD.
 * - JSON strings follow RFC 8259 §7: `"` and `\` escaped; U+0000–U+001F as
 *   `\b \f \n \r \t` or `\u00XX`. Also escaped, though JSON allows them raw,
 *   because line-oriented readers split on them: U+007F, the C1 controls
 *   U+0080–U+009F (U+0085 is NEL) and U+2028/U+2029. Everything else is
 *   written as UTF-8.
 * - Text that does not fit is cut after the last whole character (and whole
 *   escape) that fits, never inside one.
 *
 * Libc only, no state, thread-safe; linked into the host and into modules
 * (which must not link the host).
 */
#ifndef RV_LIB_JSON_TEXT_H
#define RV_LIB_JSON_TEXT_H

#include <stddef.h>

/** U+FFFD REPLACEMENT CHARACTER in UTF-8. */
#define JSON_TEXT_REPLACEMENT "\xEF\xBF\xBD"

/** Upper bound of json_text_quote()'s output (quotes included, NUL not) for
 *  @p n input bytes: no input byte yields more than six output bytes. */
#define JSON_TEXT_QUOTED_MAX(n) (6 * (size_t)(n) + 2)

/** Upper bound of json_text_utf8_copy()'s output (NUL not included) for @p n
 *  input bytes: an ill-formed byte becomes three. */
#define JSON_TEXT_UTF8_MAX(n) (3 * (size_t)(n))

/**
 * The character at @p p: @p n bytes available (borrowed, need not be
 * NUL-terminated). Returns the length (1–4) of a well-formed UTF-8
 * character, or 0 when the bytes there are ill-formed, in which case *@p skip
 * receives the length (1–3) of the maximal subpart to replace with one
 * U+FFFD. @p n must be at least 1. A NUL byte is a well-formed character.
 */
size_t json_text_utf8_next(const char *p, size_t n, size_t *skip);

/**
 * Copy the @p src_len bytes at @p src (borrowed; NULL is ""; a NUL byte ends
 * the text, so SIZE_MAX copies a NUL-terminated string) into
 * @p dst (borrowed, @p cap bytes, @p cap >= 1) as well-formed UTF-8: each
 * ill-formed maximal subpart becomes U+FFFD, and the text is cut after the
 * last whole character that fits in @p cap - 1 bytes. @p dst is always
 * NUL-terminated. Returns the bytes written, NUL excluded.
 */
size_t json_text_utf8_copy(char *dst, size_t cap, const char *src, size_t src_len);

/**
 * Write the @p src_len bytes at @p src (borrowed; NULL is ""; NUL bytes are
 * escaped as \u0000) as one quoted JSON string into @p dst (borrowed, @p cap
 * bytes, @p cap >= 3: room for "" and the NUL). Ill-formed UTF-8 becomes
 * U+FFFD. When the result would not fit, the text is cut after the last whole
 * character that fits, and the closing quote is still written; with @p cap >=
 * JSON_TEXT_QUOTED_MAX(src_len) + 1 nothing is ever cut. @p dst is always
 * NUL-terminated. Returns the bytes written, NUL excluded; 0 only when
 * @p cap < 3 (then nothing is written).
 */
size_t json_text_quote(char *dst, size_t cap, const char *src, size_t src_len);

#endif
