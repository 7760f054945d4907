/**
 * @file host/plan/plan_media.c
 * @short The media_roots check (see plan_media.h). Owns nothing beyond the
 *        stack buffers of one check.
 */
#include "plan/plan_media.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <retrovue/error.h>

#include "plan/plan_internal.h"

const char *plan_media_path(const char *uri)
{
    if (!uri || !uri[0])
        return NULL;
    size_t i = 0;
    if ((uri[0] >= 'a' && uri[0] <= 'z') || (uri[0] >= 'A' && uri[0] <= 'Z')) {
        while (uri[i] && uri[i] != ':' && uri[i] != '/')
            i++;
        if (uri[i] == ':') {
            if (i != 4 || strncmp(uri, "file", 4) != 0)
                return NULL; /* slate:, test:, http: ... */
            return strncmp(uri, "file://", 7) == 0 ? uri + 7 : uri + 5;
        }
    }
    return uri;
}

/** Fold "//", "/./" and "/../" of the absolute @p path into @p out. */
static void plan_media_fold(const char *path, char *out, size_t outlen)
{
    size_t len = 0;
    const char *p = path;
    out[0] = '\0';
    while (*p) {
        while (*p == '/')
            p++;
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 0)
            break;
        if (n == 1 && p[0] == '.') {
            /* nothing */
        } else if (n == 2 && p[0] == '.' && p[1] == '.') {
            while (len > 0 && out[len - 1] != '/')
                len--;
            if (len > 0)
                len--; /* the '/' before it */
            out[len] = '\0';
        } else if (len + 1 + n < outlen) {
            out[len++] = '/';
            memcpy(out + len, p, n);
            len += n;
            out[len] = '\0';
        }
        p += n;
    }
    if (len == 0)
        snprintf(out, outlen, "/");
}

/** Canonical form of the absolute @p path: realpath of the whole when it
 *  exists; otherwise realpath of its longest existing prefix (symlinks
 *  resolved as the kernel would) with the rest appended, then folded. */
static void plan_media_canonical(const char *path, char *out, size_t outlen)
{
    char raw[PATH_MAX];
    char real[PATH_MAX];
    char joined[PATH_MAX * 2];
    snprintf(raw, sizeof(raw), "%s", path);
    size_t cut = strlen(raw);
    while (cut > 0) {
        char saved = raw[cut];
        raw[cut] = '\0';
        int ok = realpath(raw, real) != NULL;
        raw[cut] = saved;
        if (ok) {
            snprintf(joined, sizeof(joined), "%s/%s", real, raw + cut);
            plan_media_fold(joined, out, outlen);
            return;
        }
        while (cut > 0 && raw[cut - 1] != '/')
            cut--;
        while (cut > 0 && raw[cut - 1] == '/')
            cut--;
    }
    plan_media_fold(raw, out, outlen);
}

/** True when the canonical @p path lies in the canonical folder @p root. */
static int plan_media_inside(const char *path, const char *root)
{
    size_t n = strlen(root);
    if (strcmp(root, "/") == 0)
        return 1;
    return strncmp(path, root, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

int plan_check_media_roots(const plan *p, char *const *roots, size_t root_count, char *err,
                           size_t errlen)
{
    char canon[PATH_MAX];
    char root_canon[PATH_MAX];
    char list[512];
    if (!p || root_count == 0)
        return RV_OK;
    size_t used = 0;
    list[0] = '\0';
    for (size_t r = 0; r < root_count && used < sizeof(list); r++) {
        int n = snprintf(list + used, sizeof(list) - used, "%s%s", r ? ", " : "", roots[r]);
        used += n > 0 ? (size_t)n : 0;
    }
    for (size_t b = 0; b < p->block_count; b++) {
        const plan_block *blk = &p->blocks[b];
        for (size_t s = 0; s < blk->segment_count; s++) {
            const plan_segment *seg = &blk->segments[s];
            const char *path = seg->type == RV_SEGMENT_PAD ? NULL : plan_media_path(seg->asset_uri);
            if (!path)
                continue;
            if (path[0] != '/')
                return plan_error(err, errlen,
                                  "block '%s' (#%zu) segment %zu: asset '%s' is a relative path: "
                                  "with media_roots set, assets need an absolute path or file: "
                                  "URI",
                                  blk->id, b, s, seg->asset_uri);
            plan_media_canonical(path, canon, sizeof(canon));
            int inside = 0;
            for (size_t r = 0; r < root_count && !inside; r++) {
                char cwd[PATH_MAX];
                char absolute[PATH_MAX * 2];
                const char *root = roots[r];
                if (root[0] != '/' && getcwd(cwd, sizeof(cwd))) { /* a config text's root */
                    snprintf(absolute, sizeof(absolute), "%s/%s", cwd, root);
                    root = absolute;
                }
                plan_media_canonical(root, root_canon, sizeof(root_canon));
                inside = plan_media_inside(canon, root_canon);
            }
            if (!inside)
                return plan_error(err, errlen,
                                  "block '%s' (#%zu) segment %zu: asset '%s' is outside "
                                  "media_roots (%s)",
                                  blk->id, b, s, seg->asset_uri, list);
        }
    }
    return RV_OK;
}
