/**
 * @file modules/sinks/framelog/framelog_line.h
 * @short framelog_line: a growable buffer that builds one JSON line.
 *
 * Owns its bytes; grows by doubling and is reused line after line, so steady
 * state allocates nothing. A failed allocation sets `failed` and later
 * appends do nothing; the caller checks `failed` before writing the line.
 * Not thread-safe: one line per sink thread.
 */
#ifndef RV_MODULE_FRAMELOG_LINE_H
#define RV_MODULE_FRAMELOG_LINE_H

#include <stddef.h>
#include <stdint.h>

typedef struct framelog_line {
    char *data;   /**< owned; not NUL-terminated */
    size_t len;
    size_t cap;
    int failed;   /**< an append ran out of memory since the last reset */
} framelog_line;

/** Empty the line, keeping its memory. */
void framelog_line_reset(framelog_line *l);
/** Free the memory; the line is empty and usable again. */
void framelog_line_free(framelog_line *l);
/** Append @p text (borrowed) as is. */
void framelog_line_raw(framelog_line *l, const char *text);
/** Append @p text (borrowed; NULL as "") as a quoted JSON string: escaped,
 *  and valid UTF-8 whatever its bytes (lib/jsonl/json_text.h). */
void framelog_line_str(framelog_line *l, const char *text);
/** Append a decimal integer. */
void framelog_line_i64(framelog_line *l, int64_t v);
/** Append `"key":` for @p key (borrowed, a literal that needs no escaping),
 *  preceded by a comma unless the line so far ends in '{'. */
void framelog_line_key(framelog_line *l, const char *key);

#endif
