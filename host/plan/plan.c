/**
 * @file host/plan/plan.c
 * @short A plan's life: handle check, reference counting, freeing and its
 *        overall start and end.
 *
 * A plan owns its handle string, its block array and, through each block,
 * the segment array and every string in it. It is immutable once built, so
 * any thread holding a reference may read it without a lock.
 */
#include "plan/plan.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <retrovue/error.h>

#include "plan/plan_internal.h"

int plan_error(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (err != NULL && errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return RV_EINVAL;
}

int plan_handle_valid(const char *handle, char *err, size_t errlen)
{
    if (handle == NULL || handle[0] == '\0') {
        plan_error(err, errlen, "plan handle is empty");
        return 0;
    }
    size_t len = strlen(handle);
    if (len > PLAN_HANDLE_MAX_BYTES) {
        plan_error(err, errlen, "plan handle '%.32s...' is too long (%zu bytes, at most %d)",
                   handle, len, PLAN_HANDLE_MAX_BYTES);
        return 0;
    }
    if (strchr(handle, '/') != NULL) {
        plan_error(err, errlen, "plan handle '%s' contains '/'", handle);
        return 0;
    }
    if (strstr(handle, "..") != NULL) {
        plan_error(err, errlen, "plan handle '%s' contains '..'", handle);
        return 0;
    }
    if (handle[0] == '.') {
        plan_error(err, errlen, "plan handle '%s' starts with '.'", handle);
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        char c = handle[i];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '.' || c == '-';
        if (!ok) {
            plan_error(err, errlen,
                       "plan handle '%s' has a character outside [A-Za-z0-9_.-] at position %zu",
                       handle, i);
            return 0;
        }
    }
    return 1;
}

void plan_free(plan *p)
{
    if (p == NULL)
        return;
    for (size_t b = 0; p->blocks != NULL && b < p->block_count; b++) {
        plan_block *block = &p->blocks[b];
        for (size_t s = 0; block->segments != NULL && s < block->segment_count; s++) {
            free(block->segments[s].asset_uri);
            free(block->segments[s].event_id);
        }
        free(block->segments);
        free(block->id);
    }
    free(p->blocks);
    free(p->handle);
    free(p);
}

void plan_derive_offsets(plan *p)
{
    for (size_t b = 0; b < p->block_count; b++) {
        int64_t offset_ms = 0;
        for (size_t s = 0; s < p->blocks[b].segment_count; s++) {
            p->blocks[b].segments[s].start_offset_ms = offset_ms;
            /* saturate: validation then refuses the sum, never overflow */
            if (__builtin_add_overflow(offset_ms, p->blocks[b].segments[s].duration_ms,
                                       &offset_ms))
                offset_ms = p->blocks[b].segments[s].duration_ms < 0 ? INT64_MIN : INT64_MAX;
        }
    }
}

plan *plan_ref(plan *p)
{
    if (p != NULL)
        __atomic_fetch_add(&p->refcount, 1, __ATOMIC_RELAXED);
    return p;
}

void plan_unref(plan *p)
{
    if (p == NULL)
        return;
    if (__atomic_fetch_sub(&p->refcount, 1, __ATOMIC_ACQ_REL) == 1)
        plan_free(p);
}

int64_t plan_start_utc_ms(const plan *p)
{
    return p != NULL && p->block_count > 0 ? p->blocks[0].start_utc_ms : 0;
}

int64_t plan_end_utc_ms(const plan *p)
{
    return p != NULL && p->block_count > 0 ? p->blocks[p->block_count - 1].end_utc_ms : 0;
}
