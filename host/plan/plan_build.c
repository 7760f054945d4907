/**
 * @file host/plan/plan_build.c
 * @short Plans built in memory from blocks (RetroVue Core's BlockPlan feed):
 *        deep copies, derived offsets, the same validation as plan files.
 *
 * Owns nothing beyond the plan it returns; the blocks given are borrowed and
 * copied, so the caller's strings (a gRPC request's) may go away at once.
 */
#include <stdlib.h>
#include <string.h>

#include <retrovue/error.h>

#include "plan/plan_internal.h"

static char *plan_strdup(const char *s)
{
    return strdup(s ? s : "");
}

static int plan_copy_block(plan_block *dst, const plan_block *src)
{
    dst->id = plan_strdup(src->id);
    dst->start_utc_ms = src->start_utc_ms;
    dst->end_utc_ms = src->end_utc_ms;
    dst->segment_count = 0;
    dst->segments = NULL;
    if (!dst->id)
        return RV_ENOMEM;
    if (src->segment_count == 0)
        return RV_OK;
    dst->segments = calloc(src->segment_count, sizeof(*dst->segments));
    if (!dst->segments)
        return RV_ENOMEM;
    for (size_t s = 0; s < src->segment_count; s++) {
        plan_segment *d = &dst->segments[s];
        *d = src->segments[s];
        d->asset_uri = plan_strdup(src->segments[s].asset_uri);
        d->event_id = plan_strdup(src->segments[s].event_id);
        dst->segment_count = s + 1;
        if (!d->asset_uri || !d->event_id)
            return RV_ENOMEM;
    }
    return RV_OK;
}

plan *plan_from_blocks(const char *handle, const plan_block *blocks, size_t count, int gap_pad,
                       char *err, size_t errlen)
{
    plan *p = calloc(1, sizeof(*p));
    if (!p) {
        plan_error(err, errlen, "out of memory");
        return NULL;
    }
    p->refcount = 1;
    p->gap_pad = gap_pad;
    p->handle = plan_strdup(handle);
    p->blocks = count ? calloc(count, sizeof(*p->blocks)) : NULL;
    if (!p->handle || (count && !p->blocks))
        goto oom;
    for (size_t b = 0; b < count; b++) {
        p->block_count = b + 1;
        if (plan_copy_block(&p->blocks[b], &blocks[b]) != RV_OK)
            goto oom;
    }
    plan_derive_offsets(p);
    if (plan_validate(p, err, errlen) != RV_OK) {
        plan_free(p);
        return NULL;
    }
    return p;
oom:
    plan_free(p);
    plan_error(err, errlen, "out of memory");
    return NULL;
}
