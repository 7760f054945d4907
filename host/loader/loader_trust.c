/**
 * @file host/loader/loader_trust.c
 * @short The ownership and mode checks made before a module is dlopen()ed
 *        (see loader_trust.h). Owns nothing.
 */
#include "loader/loader_trust.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <retrovue/error.h>

static int loader_trust_owner_ok(uid_t owner)
{
    return owner == 0 || owner == geteuid();
}

/** Check @p what (a file or folder at @p p with @p st): owner when
 *  @p strict, group/other write bits (forgiven by the sticky bit on an
 *  ancestor, when !@p strict). */
static int loader_trust_entry(const char *kind, const char *p, const struct stat *st, int strict,
                              char *err, size_t errlen)
{
    if (strict && !loader_trust_owner_ok(st->st_uid)) {
        snprintf(err, errlen,
                 "%s %s is owned by uid %u, not by root or the engine's user (uid %u); "
                 "chown it",
                 kind, p, (unsigned)st->st_uid, (unsigned)geteuid());
        return RV_ELOAD_UNSAFE;
    }
    int writable = (st->st_mode & (S_IWGRP | S_IWOTH)) != 0;
    if (writable && (strict || !(st->st_mode & S_ISVTX))) {
        snprintf(err, errlen, "%s %s is writable by %s (mode %04o); chmod go-w it", kind, p,
                 (st->st_mode & S_IWOTH) ? "everyone" : "its group",
                 (unsigned)(st->st_mode & 07777));
        return RV_ELOAD_UNSAFE;
    }
    return RV_OK;
}

/** The folder holding @p real (an absolute, resolved path), strictly, then
 *  every folder above it up to '/', leniently. */
static int loader_trust_folders(const char *real, char *err, size_t errlen)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", real);
    int strict = 1;
    for (;;) {
        char *slash = strrchr(dir, '/');
        if (!slash)
            return RV_OK;
        if (slash == dir)
            slash[1] = '\0';
        else
            *slash = '\0';
        struct stat st;
        if (stat(dir, &st) != 0)
            return RV_OK; /* vanished: dlopen will say so */
        int rc = loader_trust_entry("folder", dir, &st, strict, err, errlen);
        if (rc != RV_OK)
            return rc;
        if (strcmp(dir, "/") == 0)
            return RV_OK;
        strict = 0;
    }
}

int loader_trust_check(const char *path, char *err, size_t errlen)
{
    char real[PATH_MAX];
    char given_dir[PATH_MAX];
    char real_given_dir[PATH_MAX];
    struct stat st;
    if (!path || !realpath(path, real) || stat(real, &st) != 0)
        return RV_OK;
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s is not a regular file", real);
        return RV_ELOAD_UNSAFE;
    }
    int rc = loader_trust_entry("module file", real, &st, 1, err, errlen);
    if (rc == RV_OK)
        rc = loader_trust_folders(real, err, errlen);
    if (rc != RV_OK)
        return rc;
    /* a symlink's own folder decides what the link points to */
    snprintf(given_dir, sizeof(given_dir), "%s", path);
    char *slash = strrchr(given_dir, '/');
    if (!slash)
        snprintf(given_dir, sizeof(given_dir), ".");
    else if (slash == given_dir)
        slash[1] = '\0';
    else
        *slash = '\0';
    if (realpath(given_dir, real_given_dir) && stat(real_given_dir, &st) == 0) {
        char probe[PATH_MAX + 2];
        snprintf(probe, sizeof(probe), "%s/x", real_given_dir);
        rc = loader_trust_folders(probe, err, errlen);
    }
    return rc;
}
