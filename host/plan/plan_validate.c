/**
 * @file host/plan/plan_validate.c
 * @short Every rule a plan must satisfy before it can touch a channel, each
 *        with its own message naming the block (id and position), the
 *        segment (position) and the rule, prefixed by file:line when known.
 *
 * Owns nothing. Positions are 0-based, like segment indexes on air.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <retrovue/error.h>
#include <retrovue/format.h>

#include "plan/plan_internal.h"

enum { PLAN_WHERE_BYTES = 256 };

static const double PLAN_GAIN_MIN_DB = -60.0;
static const double PLAN_GAIN_MAX_DB = 20.0;

/** One validation pass: the plan, its source map and the error buffer. */
typedef struct plan_check {
    const plan *p;
    const plan_lines *lines;
    char *err;
    size_t errlen;
} plan_check;

/** "file:line: block 'id' (#b)[ segment s]: <rule>". @p seg < 0: none. */
__attribute__((format(printf, 4, 5))) static int plan_fail(const plan_check *c, size_t block,
                                                          long seg, const char *fmt, ...)
{
    char where[PLAN_WHERE_BYTES];
    char rule[512];
    va_list ap;
    int line = 0;
    size_t pos = 0;
    if (c->lines != NULL && c->lines->block_line != NULL)
        line = c->lines->block_line[block];
    if (seg >= 0 && c->lines != NULL && c->lines->segment_line != NULL &&
        c->lines->segment_line[block] != NULL && c->lines->segment_line[block][seg] > 0)
        line = c->lines->segment_line[block][seg];
    where[0] = '\0';
    if (c->lines != NULL && c->lines->source != NULL) {
        int n = line > 0 ? snprintf(where, sizeof(where), "%s:%d: ", c->lines->source, line)
                         : snprintf(where, sizeof(where), "%s: ", c->lines->source);
        pos = n > 0 && (size_t)n < sizeof(where) ? (size_t)n : strlen(where);
    }
    const char *id = c->p->blocks[block].id != NULL ? c->p->blocks[block].id : "";
    if (seg >= 0)
        snprintf(where + pos, sizeof(where) - pos, "block '%s' (#%zu) segment %ld", id, block,
                 seg);
    else
        snprintf(where + pos, sizeof(where) - pos, "block '%s' (#%zu)", id, block);
    va_start(ap, fmt);
    vsnprintf(rule, sizeof(rule), fmt, ap);
    va_end(ap);
    return plan_error(c->err, c->errlen, "%s: %s", where, rule);
}

static const char *plan_type_name(rv_segment_type type)
{
    switch (type) {
    case RV_SEGMENT_CONTENT: return "CONTENT";
    case RV_SEGMENT_FILLER: return "FILLER";
    case RV_SEGMENT_PAD: return "PAD";
    default: return "?";
    }
}

static int plan_check_transition(const plan_check *c, size_t b, size_t s, const char *edge,
                                 const rv_transition *t, int64_t duration_ms)
{
    if (t->type != RV_TRANSITION_NONE && t->type != RV_TRANSITION_FADE)
        return plan_fail(c, b, (long)s, "%s type %d is not NONE or FADE", edge, (int)t->type);
    if (t->duration_ms < 0)
        return plan_fail(c, b, (long)s, "%s_ms must be >= 0 (got %lld)", edge,
                         (long long)t->duration_ms);
    if (t->duration_ms > duration_ms)
        return plan_fail(c, b, (long)s,
                         "%s_ms %lld is longer than the segment's duration_ms %lld", edge,
                         (long long)t->duration_ms, (long long)duration_ms);
    return RV_OK;
}

static int plan_check_segment(const plan_check *c, size_t b, size_t s, int64_t expect_offset_ms)
{
    const plan_segment *seg = &c->p->blocks[b].segments[s];
    const char *uri = seg->asset_uri != NULL ? seg->asset_uri : "";
    int rc;
    if (seg->index != (int32_t)s)
        return plan_fail(c, b, (long)s, "index %d does not match its position %zu", seg->index,
                         s);
    if (seg->type != RV_SEGMENT_CONTENT && seg->type != RV_SEGMENT_FILLER &&
        seg->type != RV_SEGMENT_PAD)
        return plan_fail(c, b, (long)s, "type %d is not CONTENT, FILLER or PAD", (int)seg->type);
    if (seg->duration_ms <= 0)
        return plan_fail(c, b, (long)s, "duration_ms must be > 0 (got %lld)",
                         (long long)seg->duration_ms);
    if (seg->duration_ms > PLAN_DURATION_MAX_MS)
        return plan_fail(c, b, (long)s, "duration_ms %lld is above the limit %lld (plan limits)",
                         (long long)seg->duration_ms, (long long)PLAN_DURATION_MAX_MS);
    if (seg->asset_start_offset_ms < 0)
        return plan_fail(c, b, (long)s, "asset_start_offset_ms must be >= 0 (got %lld)",
                         (long long)seg->asset_start_offset_ms);
    if (seg->asset_start_offset_ms > PLAN_ASSET_OFFSET_MAX_MS)
        return plan_fail(c, b, (long)s,
                         "asset_start_offset_ms %lld is above the limit %lld (plan limits)",
                         (long long)seg->asset_start_offset_ms,
                         (long long)PLAN_ASSET_OFFSET_MAX_MS);
    if (seg->type == RV_SEGMENT_PAD && uri[0] != '\0')
        return plan_fail(c, b, (long)s, "a PAD segment has no asset_uri (got '%s')", uri);
    if (seg->type != RV_SEGMENT_PAD && uri[0] == '\0')
        return plan_fail(c, b, (long)s, "a %s segment needs an asset_uri",
                         plan_type_name(seg->type));
    rc = plan_check_transition(c, b, s, "transition_in", &seg->transition_in, seg->duration_ms);
    if (rc != RV_OK)
        return rc;
    rc = plan_check_transition(c, b, s, "transition_out", &seg->transition_out, seg->duration_ms);
    if (rc != RV_OK)
        return rc;
    if (!(seg->gain_db >= PLAN_GAIN_MIN_DB && seg->gain_db <= PLAN_GAIN_MAX_DB))
        return plan_fail(c, b, (long)s, "gain_db %g is outside [-60, +20]", seg->gain_db);
    if (seg->start_offset_ms != expect_offset_ms)
        return plan_fail(c, b, (long)s,
                         "start_offset_ms %lld differs from the durations before it (%lld)",
                         (long long)seg->start_offset_ms, (long long)expect_offset_ms);
    return RV_OK;
}

/** A UTC instant within [PLAN_UTC_MIN_MS, PLAN_UTC_MAX_MS]. */
static int plan_check_instant(const plan_check *c, size_t b, const char *name, int64_t utc_ms)
{
    if (utc_ms >= PLAN_UTC_MIN_MS && utc_ms <= PLAN_UTC_MAX_MS)
        return RV_OK;
    return plan_fail(c, b, -1,
                     "%s %lld is outside the plan limits [%lld, %lld] (1970-01-01 to "
                     "2100-01-01 UTC)",
                     name, (long long)utc_ms, (long long)PLAN_UTC_MIN_MS,
                     (long long)PLAN_UTC_MAX_MS);
}

static int plan_check_block(const plan_check *c, size_t b)
{
    const plan_block *block = &c->p->blocks[b];
    int rc;
    if (block->id == NULL || block->id[0] == '\0')
        return plan_fail(c, b, -1, "id is empty");
    for (size_t j = 0; j < b; j++) {
        if (strcmp(c->p->blocks[j].id, block->id) == 0)
            return plan_fail(c, b, -1, "id is not unique (block #%zu has it too)", j);
    }
    rc = plan_check_instant(c, b, "start_utc_ms", block->start_utc_ms);
    if (rc == RV_OK)
        rc = plan_check_instant(c, b, "end_utc_ms", block->end_utc_ms);
    if (rc != RV_OK)
        return rc;
    if (block->start_utc_ms >= block->end_utc_ms)
        return plan_fail(c, b, -1, "start_utc_ms %lld is not before end_utc_ms %lld",
                         (long long)block->start_utc_ms, (long long)block->end_utc_ms);
    if (b > 0 && block->start_utc_ms != c->p->blocks[b - 1].end_utc_ms)
        return plan_fail(c, b, -1,
                         "blocks are not contiguous: start_utc_ms %lld != end_utc_ms %lld of "
                         "block '%s' (#%zu)",
                         (long long)block->start_utc_ms, (long long)c->p->blocks[b - 1].end_utc_ms,
                         c->p->blocks[b - 1].id, b - 1);
    if (block->segment_count == 0 || block->segments == NULL)
        return plan_fail(c, b, -1, "has no segments");
    rv_int128 sum_ms = 0;
    for (size_t s = 0; s < block->segment_count; s++) {
        int64_t expect = sum_ms > (rv_int128)INT64_MAX ? INT64_MAX : (int64_t)sum_ms;
        rc = plan_check_segment(c, b, s, expect);
        if (rc != RV_OK)
            return rc;
        sum_ms += block->segments[s].duration_ms;
    }
    rv_int128 length_ms = (rv_int128)block->end_utc_ms - block->start_utc_ms;
    if (sum_ms != length_ms)
        return plan_fail(c, b, -1,
                         "segments do not fill the block: durations sum to %lld ms, block lasts "
                         "%lld ms (end_utc_ms - start_utc_ms)",
                         (long long)sum_ms, (long long)length_ms);
    return RV_OK;
}

int plan_validate_lines(const plan *p, const plan_lines *lines, char *err, size_t errlen)
{
    plan_check c = {.p = p, .lines = lines, .err = err, .errlen = errlen};
    if (p == NULL)
        return plan_error(err, errlen, "no plan");
    if (p->block_count == 0 || p->blocks == NULL) {
        if (lines != NULL && lines->source != NULL)
            return plan_error(err, errlen, "%s: plan has no blocks (at least one is required)",
                              lines->source);
        return plan_error(err, errlen, "plan has no blocks (at least one is required)");
    }
    for (size_t b = 0; b < p->block_count; b++) {
        int rc = plan_check_block(&c, b);
        if (rc != RV_OK)
            return rc;
    }
    return RV_OK;
}

int plan_validate(const plan *p, char *err, size_t errlen)
{
    return plan_validate_lines(p, NULL, err, errlen);
}
