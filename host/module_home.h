/**
 * @file host/module_home.h
 * @short Where config-less mode (no --config) loads its modules from: the
 *        build tree the binary sits in, else the installed module folder.
 *
 * Owns nothing; reads /proc/self/exe and the file system.
 */
#ifndef RV_HOST_MODULE_HOME_H
#define RV_HOST_MODULE_HOME_H

#include <stddef.h>

/** Find the module folder: the first of these that holds a "*.so":
 *   1. "build tree": <exe dir>/../modules when <exe dir>/../CMakeCache.txt
 *      exists (build/bin/retrovue_playout uses build/modules, never an older
 *      installed copy);
 *   2. "installed beside the binary": <exe dir>/../lib/retrovue-playout/modules,
 *      the modules installed with this very binary (any --prefix, DESTDIR
 *      moves included);
 *   3. "installed": RV_INSTALLED_MODULE_DIR, the folder `cmake --install`
 *      puts modules in at the configured prefix (compiled in, e.g.
 *      /usr/local/lib/retrovue-playout/modules), for a binary copied elsewhere.
 * <exe dir> is the folder of /proc/self/exe, so a symlink such as
 * retrovue_air resolves to the real binary first.
 * RV_OK with the absolute folder in @p out (@p len bytes, borrowed) and a
 * static description of which one in *@p how; RV_ENOENT with every folder
 * tried in @p err. */
int module_home_find(char *out, size_t len, const char **how, char *err, size_t errlen);

#endif
