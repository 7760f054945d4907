/**
 * @file host/plan/plan_media.h
 * @short Media roots: the folders a plan's file assets must lie in
 *        (engine.media_roots), checked when a plan or a fed block is
 *        validated, before any producer opens a file.
 *
 * Pure function over the file system (realpath); owns nothing.
 */
#ifndef RV_HOST_PLAN_MEDIA_H
#define RV_HOST_PLAN_MEDIA_H

#include <stddef.h>

#include "plan/plan.h"

/** Every file asset of @p p (a plain path, "file:PATH" or "file://PATH";
 *  other schemes such as "slate:" are not files) must be an absolute path
 *  inside one of @p roots (borrowed, @p root_count folders): its canonical
 *  form (symlinks resolved for the part that exists, "." and ".." folded)
 *  starts with a root's canonical form. No roots: RV_OK (no restriction).
 *  RV_EINVAL with "block 'id' (#b) segment s: asset 'URI' is outside
 *  media_roots (ROOT, ...)" or "...: asset 'URI' is a relative path: with
 *  media_roots set, assets need an absolute path or file: URI" in @p err.
 *  The message never says whether the file exists. */
int plan_check_media_roots(const plan *p, char *const *roots, size_t root_count, char *err,
                           size_t errlen);

/** The file path @p uri (borrowed) names, pointing into it: the part after
 *  "file://" or "file:", or @p uri itself when it has no scheme; NULL for
 *  any other scheme and for "". */
const char *plan_media_path(const char *uri);

#endif
