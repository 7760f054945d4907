/**
 * @file host/plan/plan_internal.h
 * @short What the plan library's own files share and nobody else uses:
 *        freeing, deriving offsets, and validation with source lines.
 */
#ifndef RV_HOST_PLAN_INTERNAL_H
#define RV_HOST_PLAN_INTERNAL_H

#include <stddef.h>

#include "plan/plan.h"

/** Where each block and segment was written, for "file:line:" prefixes.
 *  Owned by whoever built it; arrays parallel the plan's. */
typedef struct plan_lines {
    const char *source;        /**< file path or "<handle>"; borrowed */
    int *block_line;           /**< block_count entries, 0 if unknown */
    int **segment_line;        /**< per block, segment_count entries */
} plan_lines;

/** Free a plan whatever its refcount (parse failures, last unref). */
void plan_free(plan *p);
/** Fill every segment's start_offset_ms from the durations before it. */
void plan_derive_offsets(plan *p);
/** plan_validate with an optional source map (@p lines may be NULL). */
int plan_validate_lines(const plan *p, const plan_lines *lines, char *err, size_t errlen);
/** Parse @p text (borrowed) named @p source for messages. */
plan *plan_parse_text(const char *text, const char *source, const char *handle, char *err,
                      size_t errlen);
/** snprintf into @p err when it is not NULL; returns RV_EINVAL. */
int plan_error(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
