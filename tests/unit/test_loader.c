/**
 * @file tests/unit/test_loader.c
 * @short Loader refusals and acceptance: every broken test module is refused
 *        with its own code and a message naming the file and the check, the
 *        registry stays unchanged and usable, an older smaller vtable loads
 *        with newer callbacks NULL, duplicates are refused, and scan_dir
 *        loads the good modules of a mixed folder.
 *
 * Module folders come from compile definitions (RV_BROKEN_MODULE_DIR,
 * RV_TEST_MODULE_DIR, optionally RV_NULL_MODULE). Scratch files live in a
 * temp folder removed at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "loader/loader.h"
#include "tap.h"

#define BROKEN(f) RV_BROKEN_MODULE_DIR "/" f
#define GOOD(f) RV_TEST_MODULE_DIR "/" f

typedef struct refusal_case {
    const char *file;
    int code;
    const char *check;
    const char *detail; /**< substring the detail must contain */
} refusal_case;

static const refusal_case refusal_cases[] = {
    {.file = BROKEN("no_entry.so"), .code = RV_ELOAD_ENTRY, .check = "entry symbol",
     .detail = "rv_module_entry not found"},
    {.file = BROKEN("null_entry.so"), .code = RV_ELOAD_ENTRY, .check = "entry symbol",
     .detail = "returned NULL"},
    {.file = BROKEN("abi_major.so"), .code = RV_ELOAD_ABI_MAJOR, .check = "ABI major",
     .detail = "module ABI 2.0"},
    {.file = BROKEN("abi_minor.so"), .code = RV_ELOAD_ABI_MINOR, .check = "ABI minor",
     .detail = "newer"},
    {.file = BROKEN("signature.so"), .code = RV_ELOAD_SIGNATURE, .check = "signature",
     .detail = "ptr4"},
    {.file = BROKEN("sizes.so"), .code = RV_ELOAD_SIZES, .check = "struct sizes",
     .detail = "rv_video_frame"},
    {.file = BROKEN("small_info.so"), .code = RV_ELOAD_SIZES, .check = "struct sizes",
     .detail = "rv_module_info struct_size 16"},
    {.file = BROKEN("small_ops.so"), .code = RV_ELOAD_SIZES, .check = "struct sizes",
     .detail = "sink ops struct_size 4"},
    {.file = BROKEN("no_write.so"), .code = RV_ELOAD_CALLBACK, .check = "required callback",
     .detail = "has no write"},
    {.file = BROKEN("transport_no_write.so"), .code = RV_ELOAD_CALLBACK,
     .check = "required callback", .detail = "transport 'test-transport-no-write' has no write"},
    {.file = BROKEN("kind_mismatch.so"), .code = RV_ELOAD_DESCRIPTOR, .check = "descriptor",
     .detail = "kind is sink but the renderer ops table is set"},
    {.file = BROKEN("bad_name.so"), .code = RV_ELOAD_DESCRIPTOR, .check = "descriptor",
     .detail = "Bad_Name"},
    {.file = BROKEN("bad_options.so"), .code = RV_ELOAD_DESCRIPTOR, .check = "descriptor",
     .detail = "options table"},
    {.file = BROKEN("does_not_exist.so"), .code = RV_ELOAD_DLOPEN, .check = "dlopen",
     .detail = "cannot open shared object file"},
};

/** True when @p err is "<file>: <check>: ...detail...". */
static int message_ok(const char *err, const char *file, const char *check, const char *detail)
{
    char prefix[1024];
    snprintf(prefix, sizeof(prefix), "%s: %s: ", file, check);
    return strncmp(err, prefix, strlen(prefix)) == 0 && strstr(err + strlen(prefix), detail);
}

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

static int copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb");
    FILE *out = fopen(to, "wb");
    char buf[65536];
    size_t n;
    int rc = (in && out) ? 0 : -1;
    while (rc == 0 && (n = fread(buf, 1, sizeof(buf), in)) > 0) {
        if (fwrite(buf, 1, n, out) != n)
            rc = -1;
    }
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        rc = -1;
    return rc;
}

static void test_refusals(const char *tmp)
{
    module_registry *reg = registry_create();
    char err[1024];
    tap_ok(registry_load_file(reg, GOOD("good_sink.so"), err, sizeof(err)) == RV_OK,
           "a good sink loads first (%s)", err);

    char not_elf[512];
    snprintf(not_elf, sizeof(not_elf), "%s/not_elf.so", tmp);
    write_file(not_elf, "this is not an ELF file\n");
    int rc = registry_load_file(reg, not_elf, err, sizeof(err));
    tap_ok(rc == RV_ELOAD_DLOPEN && message_ok(err, not_elf, "dlopen", ""),
           "a text file is refused at dlopen: %s", err);

    int codes_seen = 0;
    for (size_t i = 0; i < sizeof(refusal_cases) / sizeof(refusal_cases[0]); i++) {
        const refusal_case *c = &refusal_cases[i];
        err[0] = '\0';
        rc = registry_load_file(reg, c->file, err, sizeof(err));
        tap_ok(rc == c->code, "%s refused with %d (%s), got %d", c->file, c->code,
               rv_strerror(c->code), rc);
        tap_ok(message_ok(err, c->file, c->check, c->detail), "message names file and '%s': %s",
               c->check, err);
        tap_ok(registry_count(reg) == 1, "registry unchanged after %s", c->file);
        codes_seen |= 1 << (-c->code - 20);
    }
    tap_ok(codes_seen == 0x1ff - (1 << (-RV_ELOAD_DUPLICATE - 20)),
           "every refusal code but duplicate is exercised (mask %#x)", codes_seen);

    /* The exact wording the brief promises. */
    registry_load_file(reg, BROKEN("no_entry.so"), err, sizeof(err));
    tap_ok(strcmp(err, BROKEN("no_entry.so") ": entry symbol: rv_module_entry not found") == 0,
           "no_entry message is exact: %s", err);

    /* Still usable: more loads and finds work after all those refusals. */
    tap_ok(registry_load_file(reg, GOOD("good_producer.so"), err, sizeof(err)) == RV_OK,
           "a good producer loads after the refusals (%s)", err);
    tap_ok(registry_load_file(reg, GOOD("good_renderer.so"), err, sizeof(err)) == RV_OK,
           "a good renderer loads after the refusals (%s)", err);
    tap_ok(registry_count(reg) == 3, "three modules loaded");
    const loaded_module *sink = registry_find(reg, "test-sink");
    const loaded_module *prod = registry_find(reg, "test-producer");
    const loaded_module *rend = registry_find(reg, "test-renderer");
    tap_ok(sink && sink->kind == RV_KIND_SINK && sink->sink.write && sink->sink.describe,
           "test-sink found, kind sink, callbacks copied");
    tap_ok(prod && prod->kind == RV_KIND_PRODUCER && prod->producer.read && prod->producer.start,
           "test-producer found, kind producer, callbacks copied");
    tap_ok(rend && rend->kind == RV_KIND_RENDERER && rend->renderer.render,
           "test-renderer found, kind renderer");
    tap_ok(registry_at(reg, 0) == sink && registry_at(reg, 2) == rend && !registry_at(reg, 3),
           "registry_at follows load order, pointers stable");
    tap_ok(registry_find(reg, "nope") == NULL, "an unknown name is not found");
    tap_ok(sink && strcmp(sink->path, GOOD("good_sink.so")) == 0 && sink->dl && sink->info,
           "path, handle and descriptor kept");

    /* Loading the same file again is a duplicate. */
    rc = registry_load_file(reg, GOOD("good_sink.so"), err, sizeof(err));
    tap_ok(rc == RV_ELOAD_DUPLICATE && message_ok(err, GOOD("good_sink.so"), "duplicate name",
                                                  "'test-sink' is already loaded"),
           "the same sink twice is a duplicate: %s", err);

    /* scheme matching */
    tap_ok(loaded_module_serves(prod, "slate:bars"), "producer serves slate:bars");
    tap_ok(loaded_module_serves(prod, "test:1"), "producer serves test:1");
    tap_ok(loaded_module_serves(prod, "SLATE:x"), "schemes compare case-insensitively");
    tap_ok(!loaded_module_serves(prod, "file:/a.mp4"), "producer does not serve file:");
    tap_ok(!loaded_module_serves(prod, "/media/a.mp4"), "producer does not serve bare paths");
    tap_ok(!loaded_module_serves(prod, "a:b.mp4") && !loaded_module_serves(prod, "slat:x"),
           "other schemes are not served");
    tap_ok(!loaded_module_serves(rend, "slate:x"), "a renderer serves nothing");
    registry_destroy(reg);
}

static void test_old_vtable(void)
{
    module_registry *reg = registry_create();
    char err[1024];
    int rc = registry_load_file(reg, BROKEN("old_sink.so"), err, sizeof(err));
    tap_ok(rc == RV_OK, "the older, smaller sink vtable loads (%s)", err);
    const loaded_module *m = registry_find(reg, "test-old-sink");
    tap_ok(m && m->sink.create && m->sink.destroy && m->sink.write,
           "its v1 required callbacks are copied");
    tap_ok(m && !m->sink.start && !m->sink.stop && !m->sink.get_stats && !m->sink.describe,
           "callbacks past its struct_size read as NULL");
    tap_ok(m && m->sink.struct_size == sizeof(rv_sink_ops), "host copy has the host's size");
    registry_destroy(reg);
}

/** ABI 1.2 appended the encoder and transport tables to rv_module_info: a
 *  1.1 module, whose descriptor ends before them, still loads, and the host
 *  never reads past its struct_size. */
static void test_v11_descriptor(void)
{
    module_registry *reg = registry_create();
    char err[1024] = "";
    int rc = registry_load_file(reg, BROKEN("v11_renderer.so"), err, sizeof(err));
    tap_ok(rc == RV_OK, "a 1.1 module (descriptor without the 1.2 tables) loads (%s)", err);
    const loaded_module *m = registry_find(reg, "test-v11-renderer");
    tap_ok(m && m->kind == RV_KIND_RENDERER && m->renderer.render && !m->encoder.encode &&
               !m->transport.write,
           "it is a renderer; the 1.2 tables past its struct_size were not read");
    registry_destroy(reg);
}

/** Load @p first, then the impostor dup_null.so: refused as a duplicate. */
static void test_duplicate_after(const char *first)
{
    module_registry *reg = registry_create();
    char err[1024];
    int rc = registry_load_file(reg, first, err, sizeof(err));
    tap_ok(rc == RV_OK, "the first module named null loads from %s (%s)", first, err);
    rc = registry_load_file(reg, BROKEN("dup_null.so"), err, sizeof(err));
    char detail[600];
    snprintf(detail, sizeof(detail), "'null' is already loaded from %s", first);
    tap_ok(rc == RV_ELOAD_DUPLICATE &&
               message_ok(err, BROKEN("dup_null.so"), "duplicate name", detail),
           "an impostor named null is refused as a duplicate: %s", err);
    const loaded_module *m = registry_find(reg, "null");
    tap_ok(registry_count(reg) == 1 && m && strcmp(m->path, first) == 0,
           "the first null stays loaded");
    registry_destroy(reg);
}

static void test_duplicates(const char *tmp)
{
#ifdef RV_NULL_MODULE
    test_duplicate_after(RV_NULL_MODULE); /* the real null renderer */
#else
    tap_diag("the real null module is not built: only the copy is tested");
#endif
    /* Always: a copy of the impostor under another file name. */
    char first[512];
    snprintf(first, sizeof(first), "%s/null.so", tmp);
    tap_ok(copy_file(BROKEN("dup_null.so"), first) == 0, "copied dup_null.so to %s", first);
    test_duplicate_after(first);
}

/** module_dir as a search path: a second folder adds its modules; the same
 *  module name in two folders is an error naming both files. */
static void test_scan_path(const char *tmp, const char *dir)
{
    char third[512];
    char link[1024];
    char list[1200];
    char err[2048] = "";
    snprintf(third, sizeof(third), "%s/third", tmp);
    if (mkdir(third, 0700) != 0) {
        tap_ok(0, "mkdir %s", third);
        return;
    }
    /* third: a second copy of test-producer under another file name. */
    snprintf(link, sizeof(link), "%s/producer_copy.so", third);
    if (copy_file(GOOD("good_producer.so"), link) != 0)
        tap_diag("copy to %s failed", link);

    /* dir holds test-producer, test-renderer, test-sink, test-old-sink. */
    module_registry *reg = registry_create();
    snprintf(list, sizeof(list), "%s/only_sink", tmp);
    mkdir(list, 0700);
    char only[600];
    snprintf(only, sizeof(only), "%s/only_sink/good_sink.so", tmp);
    copy_file(GOOD("good_sink.so"), only);
    snprintf(list, sizeof(list), "%s/only_sink:%s", tmp, third);
    int n = registry_scan_path(reg, list, err, sizeof(err));
    tap_ok(n == 2 && registry_find(reg, "test-sink") && registry_find(reg, "test-producer"),
           "scan_path loads the modules of both folders in order (%d) %s", n, err);
    registry_destroy(reg);

    reg = registry_create();
    snprintf(list, sizeof(list), "%s:%s", dir, third);
    n = registry_scan_path(reg, list, err, sizeof(err));
    char first_file[600];
    snprintf(first_file, sizeof(first_file), "%s/good_producer.so", dir);
    tap_ok(n == RV_ELOAD_DUPLICATE && strstr(err, link) && strstr(err, first_file) &&
               strstr(err, "test-producer"),
           "the same module name in two folders is an error naming both files: %s", err);
    registry_destroy(reg);

    reg = registry_create();
    snprintf(list, sizeof(list), "%s:%s/nowhere", third, tmp);
    n = registry_scan_path(reg, list, err, sizeof(err));
    tap_ok(n == RV_ENOENT && strstr(err, "nowhere"),
           "an unreadable folder of the path is an error naming it: %s", err);
    registry_destroy(reg);

    unlink(only);
    snprintf(list, sizeof(list), "%s/only_sink", tmp);
    rmdir(list);
    unlink(link);
    rmdir(third);
}

static void test_scan_dir(const char *tmp)
{
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/mods", tmp);
    if (mkdir(dir, 0700) != 0) {
        tap_ok(0, "mkdir %s", dir);
        return;
    }
    static const char *const links[] = {
        GOOD("good_producer.so"), GOOD("good_renderer.so"), GOOD("good_sink.so"),
        BROKEN("old_sink.so"),    BROKEN("abi_major.so"),   BROKEN("no_write.so"),
        BROKEN("bad_name.so"),    BROKEN("no_entry.so"),
    };
    char path[1024];
    for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, strrchr(links[i], '/') + 1);
        if (symlink(links[i], path) != 0)
            tap_diag("symlink %s failed", path);
    }
    snprintf(path, sizeof(path), "%s/junk.so", dir);
    write_file(path, "junk\n");
    snprintf(path, sizeof(path), "%s/readme.txt", dir);
    write_file(path, "not a module\n");

    module_registry *reg = registry_create();
    tap_diag("scan_dir logs the refusals below on stderr");
    int n = registry_scan_dir(reg, dir);
    tap_ok(n == 4, "scan_dir loads the 4 good modules of 10 files, got %d", n);
    tap_ok(registry_count(reg) == 4, "registry holds 4");
    tap_ok(registry_find(reg, "test-producer") && registry_find(reg, "test-renderer") &&
               registry_find(reg, "test-sink") && registry_find(reg, "test-old-sink"),
           "each good module is found by name");
    const loaded_module *a = registry_at(reg, 0);
    const loaded_module *b = registry_at(reg, 1);
    tap_ok(a && b && strcmp(a->name, "test-producer") == 0 && strcmp(b->name, "test-renderer") == 0,
           "loaded in file-name order");
    tap_ok(registry_scan_dir(reg, dir) == 0 && registry_count(reg) == 4,
           "a second scan loads nothing more (all duplicates or broken)");
    registry_destroy(reg);

    reg = registry_create();
    snprintf(path, sizeof(path), "%s/missing", tmp);
    tap_ok(registry_scan_dir(reg, path) == RV_ENOENT, "a missing folder is RV_ENOENT");
    registry_destroy(reg);

    test_scan_path(tmp, dir);

    /* clean up the folder */
    for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, strrchr(links[i], '/') + 1);
        unlink(path);
    }
    snprintf(path, sizeof(path), "%s/junk.so", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/readme.txt", dir);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    char tmp[] = "/tmp/rv_test_loader.XXXXXX";
    if (!mkdtemp(tmp)) {
        tap_ok(0, "mkdtemp");
        return tap_done();
    }
    log_set_level(RV_LOG_ERROR);
    test_refusals(tmp);
    test_old_vtable();
    test_v11_descriptor();
    test_duplicates(tmp);
    test_scan_dir(tmp);

    char path[600];
    snprintf(path, sizeof(path), "%s/not_elf.so", tmp);
    unlink(path);
    snprintf(path, sizeof(path), "%s/null.so", tmp);
    unlink(path);
    rmdir(tmp);
    return tap_done();
}
