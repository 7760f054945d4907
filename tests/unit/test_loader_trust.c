/**
 * @file tests/unit/test_loader_trust.c
 * @short Module files are checked before dlopen (issue 16): a module file or
 *        folder writable by group or others, a symlink in such a folder, or
 *        (as root) a file owned by another user is refused with
 *        RV_ELOAD_UNSAFE and a message naming it, and its constructor never
 *        runs; the same file with safe modes reaches dlopen (its constructor
 *        runs), and the build tree's own modules load.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <retrovue/error.h>

#include "core/log.h"
#include "loader/loader.h"
#include "tap.h"

static char tmp[] = "/tmp/rv_test_trust.XXXXXX";
static char dir[256];
static char file[320];
static char marker[320];

static int copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb");
    FILE *out = fopen(to, "wb");
    char buf[65536];
    size_t n;
    int rc = (in && out) ? 0 : -1;
    while (rc == 0 && (n = fread(buf, 1, sizeof(buf), in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            rc = -1;
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        rc = -1;
    return rc;
}

/** Load @p path into a fresh registry; its code, message in @p err. */
static int load(const char *path, char *err, size_t errlen)
{
    module_registry *reg = registry_create();
    int rc = registry_load_file(reg, path, err, errlen);
    registry_destroy(reg);
    return rc;
}

/** Refused as unsafe, message holding @p needle, constructor not run. */
static void expect_unsafe(const char *what, const char *path, const char *needle)
{
    char err[1024] = "";
    unlink(marker);
    int rc = load(path, err, sizeof(err));
    tap_ok(rc == RV_ELOAD_UNSAFE && strstr(err, ": permissions: ") && strstr(err, needle) &&
               access(marker, F_OK) != 0,
           "%s: refused before dlopen (%s)", what, err);
}

int main(void)
{
    char err[1024] = "";
    tap_plan(10);
    log_set_level(RV_LOG_ERROR);
    if (!mkdtemp(tmp))
        return 1;
    snprintf(dir, sizeof(dir), "%s/mods", tmp);
    snprintf(file, sizeof(file), "%s/ctor_marker.so", dir);
    snprintf(marker, sizeof(marker), "%s/constructor-ran", tmp);
    setenv("RV_TEST_CTOR_MARKER", marker, 1);
    mkdir(dir, 0755);
    copy_file(RV_BROKEN_MODULE_DIR "/ctor_marker.so", file);

    chmod(file, 0666);
    expect_unsafe("a world-writable module file", file, "is writable by everyone (mode 0666)");
    chmod(file, 0664);
    expect_unsafe("a group-writable module file", file, "is writable by its group (mode 0664)");
    chmod(file, 0644);
    chmod(dir, 0777);
    expect_unsafe("a module in a world-writable folder", file, "folder ");
    chmod(dir, 01777);
    expect_unsafe("a module in a sticky world-writable folder (its own folder)", file,
                  "(mode 1777)");
    chmod(dir, 0755);

    /* a symlink in a world-writable folder to a safe file */
    char wdir[320];
    char link_path[400];
    snprintf(wdir, sizeof(wdir), "%s/open", tmp);
    snprintf(link_path, sizeof(link_path), "%s/ctor_marker.so", wdir);
    mkdir(wdir, 0755);
    chmod(wdir, 0777);
    int linked = symlink(file, link_path) == 0;
    if (linked)
        expect_unsafe("a symlink in a world-writable folder", link_path, wdir);
    else
        tap_ok(0, "symlink failed");

    if (geteuid() == 0) {
        chown(file, 65534, 65534);
        expect_unsafe("(root) a module file owned by another user", file, "owned by uid 65534");
        chown(file, 0, 0);
    } else {
        tap_ok(1, "# SKIP a file owned by another user needs root to make");
    }

    unlink(marker);
    int rc = load(file, err, sizeof(err));
    tap_ok(rc == RV_ELOAD_ENTRY && access(marker, F_OK) == 0,
           "mode 0644 in a 0755 folder (under sticky /tmp) passes the checks and reaches dlopen: "
           "the constructor ran, then %s", err);
    tap_ok(load(RV_TEST_MODULE_DIR "/good_sink.so", err, sizeof(err)) == RV_OK,
           "the build tree's own module loads (%s)", err);
    tap_ok(load(RV_BROKEN_MODULE_DIR "/does_not_exist.so", err, sizeof(err)) == RV_ELOAD_DLOPEN,
           "a missing file is still dlopen's to report (%s)", err);
    tap_ok(strcmp(rv_strerror(RV_ELOAD_UNSAFE),
                  "module file or folder writable by others or foreign-owned") == 0,
           "rv_strerror(RV_ELOAD_UNSAFE)");

    unlink(link_path);
    rmdir(wdir);
    unlink(marker);
    unlink(file);
    rmdir(dir);
    rmdir(tmp);
    return tap_done();
}
