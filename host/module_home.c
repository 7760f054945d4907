/**
 * @file host/module_home.c
 * @short Config-less mode's module folder: the build tree the binary sits
 *        in, else the installed layout relative to the binary, else the
 *        installed folder compiled in.
 *
 * Owns nothing; no global state. Thread: the main thread at start-up.
 */
#include "module_home.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <retrovue/error.h>

#ifndef RV_INSTALLED_MODULE_DIR
#error "RV_INSTALLED_MODULE_DIR must be defined by the build (host/CMakeLists.txt)"
#endif

/** A folder holding at least one "*.so" (an empty or foreign folder left
 *  at an install path is passed over). */
static int module_home_has_modules(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return 0;
    int found = 0;
    struct dirent *e;
    while (!found && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        found = n > 3 && strcmp(e->d_name + n - 3, ".so") == 0;
    }
    closedir(d);
    return found;
}

static int module_home_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/** The canonical form of @p path into @p out; 0 when it does not resolve. */
static int module_home_real(const char *path, char *out, size_t len)
{
    char buf[PATH_MAX];
    if (!realpath(path, buf) || strlen(buf) >= len)
        return 0;
    memcpy(out, buf, strlen(buf) + 1);
    return 1;
}

int module_home_find(char *out, size_t len, const char **how, char *err, size_t errlen)
{
    char exe[PATH_MAX];
    char prefix[PATH_MAX] = "";
    char path[PATH_MAX + 64];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            snprintf(prefix, sizeof(prefix), "%s/..", exe);
        }
    }
    if (prefix[0]) {
        snprintf(path, sizeof(path), "%s/CMakeCache.txt", prefix);
        int build_tree = module_home_exists(path);
        snprintf(path, sizeof(path), "%s/modules", prefix);
        if (build_tree && module_home_has_modules(path) && module_home_real(path, out, len)) {
            *how = "build tree";
            return RV_OK;
        }
    }
    if (prefix[0]) {
        snprintf(path, sizeof(path), "%s/lib/retrovue-playout/modules", prefix);
        if (module_home_has_modules(path) && module_home_real(path, out, len)) {
            *how = "installed beside the binary";
            return RV_OK;
        }
    }
    if (module_home_has_modules(RV_INSTALLED_MODULE_DIR) &&
        module_home_real(RV_INSTALLED_MODULE_DIR, out, len)) {
        *how = "installed";
        return RV_OK;
    }
    if (err && errlen)
        snprintf(err, errlen,
                 "no module folder with modules found (tried %s/modules in a build tree, "
                 "%s/lib/retrovue-playout/modules, %s); give --config FILE with "
                 "engine.module_dir",
                 prefix[0] ? prefix : "<exe dir>/..", prefix[0] ? prefix : "<exe dir>/..",
                 RV_INSTALLED_MODULE_DIR);
    return RV_ENOENT;
}
