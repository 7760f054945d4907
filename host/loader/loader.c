/**
 * @file host/loader/loader.c
 * @short The module loader and registry: dlopen each module, check its
 *        descriptor before trusting it, keep a zero-padded host copy of its
 *        vtable.
 *
 * The registry owns every loaded_module (allocated one by one so pointers
 * handed out by registry_find / registry_at stay valid while the registry
 * grows), each module's path string and its dlopen handle. Modules are
 * dlclosed by registry_destroy() only. Thread: the main thread at start-up;
 * read-only (any thread) after.
 */
#include "loader/loader.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/options.h"
#include "loader/loader_trust.h"

/** Longest module name: it must fit rv_context.module with its NUL. */
#define LOADER_NAME_MAX 63

/** Bytes of a v1 structure up to and including member @p m. */
#define LOADER_SIZE_THROUGH(type, m) (offsetof(type, m) + sizeof(((type *)0)->m))

/* The v1 minimum of each table: everything up to the last required member. */
#define LOADER_INFO_MIN LOADER_SIZE_THROUGH(rv_module_info, sink)
#define LOADER_PRODUCER_MIN LOADER_SIZE_THROUGH(rv_producer_ops, close)
#define LOADER_RENDERER_MIN LOADER_SIZE_THROUGH(rv_renderer_ops, render)
#define LOADER_SINK_MIN LOADER_SIZE_THROUGH(rv_sink_ops, write)

struct module_registry {
    loaded_module **modules; /**< owned array of owned entries, load order */
    size_t count;
    size_t capacity;
};

module_registry *registry_create(void)
{
    return calloc(1, sizeof(module_registry));
}

/* A module that was loaded stays mapped until the process exits: its
 * libraries' static allocations (FFmpeg, x264, ...) stay reachable, so
 * LeakSanitizer and valgrind do not report them as leaks, and its code stays
 * symbolisable in reports at exit. Refused modules are fully unloaded. */
static void loaded_module_free(loaded_module *m)
{
    if (!m)
        return;
    if (m->dl && m->name) {
        void *pin = dlopen(m->path, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
        if (pin)
            dlclose(pin);
    }
    if (m->dl)
        dlclose(m->dl);
    free(m->path);
    free(m);
}

void registry_destroy(module_registry *reg)
{
    if (!reg)
        return;
    /* Unload in reverse order of loading. */
    for (size_t i = reg->count; i > 0; i--)
        loaded_module_free(reg->modules[i - 1]);
    free(reg->modules);
    free(reg);
}

/** Write "<path>: <check>: <detail>" into @p err (borrowed, may be NULL);
 *  returns @p code. */
__attribute__((format(printf, 6, 7))) static int
loader_refuse(char *err, size_t errlen, const char *path, const char *check, int code,
              const char *fmt, ...)
{
    if (!err || errlen == 0)
        return code;
    int n = snprintf(err, errlen, "%s: %s: ", path, check);
    if (n >= 0 && (size_t)n < errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return code;
}

/** True when @p name matches [a-z0-9][a-z0-9-]* and fits rv_context. */
static int loader_name_valid(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > LOADER_NAME_MAX || name[0] == '-')
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return 0;
    }
    return 1;
}

/** The ABI 1.2 tables, read only when the module's descriptor has them. */
static const rv_encoder_ops *loader_info_encoder(const rv_module_info *info)
{
    return info->struct_size >= LOADER_SIZE_THROUGH(rv_module_info, encoder) ? info->encoder
                                                                              : NULL;
}

static const rv_transport_ops *loader_info_transport(const rv_module_info *info)
{
    return info->struct_size >= LOADER_SIZE_THROUGH(rv_module_info, transport) ? info->transport
                                                                                : NULL;
}

/** Every ops table the descriptor points at covers at least its v1 members. */
static int loader_check_ops_size(const rv_module_info *info, char *err, size_t errlen,
                                 const char *path)
{
    if (info->producer && info->producer->struct_size < LOADER_PRODUCER_MIN)
        return loader_refuse(err, errlen, path, "struct sizes", RV_ELOAD_SIZES,
                             "producer ops struct_size %u < v1 minimum %zu",
                             (unsigned)info->producer->struct_size, (size_t)LOADER_PRODUCER_MIN);
    if (info->renderer && info->renderer->struct_size < LOADER_RENDERER_MIN)
        return loader_refuse(err, errlen, path, "struct sizes", RV_ELOAD_SIZES,
                             "renderer ops struct_size %u < v1 minimum %zu",
                             (unsigned)info->renderer->struct_size, (size_t)LOADER_RENDERER_MIN);
    if (info->sink && info->sink->struct_size < LOADER_SINK_MIN)
        return loader_refuse(err, errlen, path, "struct sizes", RV_ELOAD_SIZES,
                             "sink ops struct_size %u < v1 minimum %zu",
                             (unsigned)info->sink->struct_size, (size_t)LOADER_SINK_MIN);
    const rv_encoder_ops *enc = loader_info_encoder(info);
    const rv_transport_ops *tr = loader_info_transport(info);
    if (enc && enc->struct_size < LOADER_SIZE_THROUGH(rv_encoder_ops, encode))
        return loader_refuse(err, errlen, path, "struct sizes", RV_ELOAD_SIZES,
                             "encoder ops struct_size %u < 1.2 minimum %zu",
                             (unsigned)enc->struct_size,
                             (size_t)LOADER_SIZE_THROUGH(rv_encoder_ops, encode));
    if (tr && tr->struct_size < LOADER_SIZE_THROUGH(rv_transport_ops, write))
        return loader_refuse(err, errlen, path, "struct sizes", RV_ELOAD_SIZES,
                             "transport ops struct_size %u < 1.2 minimum %zu",
                             (unsigned)tr->struct_size,
                             (size_t)LOADER_SIZE_THROUGH(rv_transport_ops, write));
    return RV_OK;
}

/** ABI fields: major, minor, signature, shared structure sizes. */
static int loader_check_abi(const rv_module_info *info, char *err, size_t errlen, const char *path)
{
    if (info->abi_major != RV_ABI_MAJOR)
        return loader_refuse(err, errlen, path, "ABI major", RV_ELOAD_ABI_MAJOR,
                             "module ABI %u.%u, host ABI %d.%d", (unsigned)info->abi_major,
                             (unsigned)info->abi_minor, RV_ABI_MAJOR, RV_ABI_MINOR);
    if (info->abi_minor > RV_ABI_MINOR)
        return loader_refuse(err, errlen, path, "ABI minor", RV_ELOAD_ABI_MINOR,
                             "module ABI %u.%u is newer than host ABI %d.%d",
                             (unsigned)info->abi_major, (unsigned)info->abi_minor, RV_ABI_MAJOR,
                             RV_ABI_MINOR);
    if (!info->signature || strcmp(info->signature, RV_BUILD_SIGNATURE) != 0)
        return loader_refuse(err, errlen, path, "signature", RV_ELOAD_SIGNATURE,
                             "module built as '%s', host is '%s'",
                             info->signature ? info->signature : "(null)", RV_BUILD_SIGNATURE);
    if (info->struct_size < LOADER_INFO_MIN)
        return loader_refuse(err, errlen, path, "struct sizes", RV_ELOAD_SIZES,
                             "rv_module_info struct_size %u < v1 minimum %zu",
                             (unsigned)info->struct_size, (size_t)LOADER_INFO_MIN);
    static const rv_struct_sizes host = RV_STRUCT_SIZES;
    const struct {
        const char *what;
        uint32_t module;
        uint32_t host;
    } sizes[] = {
        {.what = "rv_program_format", .module = info->sizes.program_format,
         .host = host.program_format},
        {.what = "rv_video_frame", .module = info->sizes.video_frame, .host = host.video_frame},
        {.what = "rv_audio_buffer", .module = info->sizes.audio_buffer,
         .host = host.audio_buffer},
        {.what = "rv_tick", .module = info->sizes.tick, .host = host.tick},
    };
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        if (sizes[i].module != sizes[i].host)
            return loader_refuse(err, errlen, path, "struct sizes", RV_ELOAD_SIZES,
                                 "sizeof(%s) is %u in the module, %u in the host", sizes[i].what,
                                 (unsigned)sizes[i].module, (unsigned)sizes[i].host);
    }
    return loader_check_ops_size(info, err, errlen, path);
}

/** Kind, exactly one matching ops table, name, version, description, options. */
static int loader_check_descriptor(const rv_module_info *info, char *err, size_t errlen,
                                   const char *path)
{
    if (info->kind != RV_KIND_PRODUCER && info->kind != RV_KIND_RENDERER &&
        info->kind != RV_KIND_SINK && info->kind != RV_KIND_ENCODER &&
        info->kind != RV_KIND_TRANSPORT)
        return loader_refuse(err, errlen, path, "descriptor", RV_ELOAD_DESCRIPTOR,
                             "kind %d is not producer, renderer, sink, encoder or transport",
                             (int)info->kind);
    const rv_encoder_ops *enc = loader_info_encoder(info);
    const rv_transport_ops *tr = loader_info_transport(info);
    int set = (info->producer != NULL) + (info->renderer != NULL) + (info->sink != NULL) +
              (enc != NULL) + (tr != NULL);
    if (set != 1)
        return loader_refuse(err, errlen, path, "descriptor", RV_ELOAD_DESCRIPTOR,
                             "%d ops tables set, exactly one is required", set);
    rv_module_kind has = info->producer   ? RV_KIND_PRODUCER
                         : info->renderer ? RV_KIND_RENDERER
                         : info->sink     ? RV_KIND_SINK
                         : enc            ? RV_KIND_ENCODER
                                          : RV_KIND_TRANSPORT;
    if (has != info->kind)
        return loader_refuse(err, errlen, path, "descriptor", RV_ELOAD_DESCRIPTOR,
                             "kind is %s but the %s ops table is set",
                             rv_module_kind_name(info->kind), rv_module_kind_name(has));
    if (!info->name || !loader_name_valid(info->name))
        return loader_refuse(err, errlen, path, "descriptor", RV_ELOAD_DESCRIPTOR,
                             "name '%s' does not match [a-z0-9][a-z0-9-]* (at most %d characters)",
                             info->name ? info->name : "(null)", LOADER_NAME_MAX);
    if (!info->version || !info->description)
        return loader_refuse(err, errlen, path, "descriptor", RV_ELOAD_DESCRIPTOR,
                             "module '%s' has no %s", info->name,
                             info->version ? "description" : "version");
    if (info->options) {
        char detail[256];
        if (options_table_check(info->options, detail, sizeof(detail)) != RV_OK)
            return loader_refuse(err, errlen, path, "descriptor", RV_ELOAD_DESCRIPTOR,
                                 "options table: %s", detail);
    }
    return RV_OK;
}

/** Copy the module's ops table into the zeroed host copy, min(struct_size,
 *  sizeof) bytes, then check the required callbacks on the copy. */
static int loader_copy_ops(loaded_module *m, char *err, size_t errlen)
{
    const rv_module_info *info = m->info;
    const char *missing = NULL;
    switch (info->kind) {
    case RV_KIND_PRODUCER: {
        size_t n = info->producer->struct_size;
        memcpy(&m->producer, info->producer, n < sizeof(m->producer) ? n : sizeof(m->producer));
        const rv_producer_ops *o = &m->producer;
        missing = !o->schemes   ? "schemes"
                  : !o->create  ? "create"
                  : !o->destroy ? "destroy"
                  : !o->open    ? "open"
                  : !o->read    ? "read"
                  : !o->close   ? "close"
                                : NULL;
        break;
    }
    case RV_KIND_RENDERER: {
        size_t n = info->renderer->struct_size;
        memcpy(&m->renderer, info->renderer, n < sizeof(m->renderer) ? n : sizeof(m->renderer));
        const rv_renderer_ops *o = &m->renderer;
        missing = !o->create ? "create" : !o->destroy ? "destroy" : !o->render ? "render" : NULL;
        break;
    }
    case RV_KIND_SINK: {
        size_t n = info->sink->struct_size;
        memcpy(&m->sink, info->sink, n < sizeof(m->sink) ? n : sizeof(m->sink));
        const rv_sink_ops *o = &m->sink;
        missing = !o->create ? "create" : !o->destroy ? "destroy" : !o->write ? "write" : NULL;
        break;
    }
    case RV_KIND_ENCODER: {
        const rv_encoder_ops *src = loader_info_encoder(info);
        size_t n = src->struct_size;
        memcpy(&m->encoder, src, n < sizeof(m->encoder) ? n : sizeof(m->encoder));
        const rv_encoder_ops *o = &m->encoder;
        missing = !o->create ? "create" : !o->destroy ? "destroy" : !o->encode ? "encode" : NULL;
        break;
    }
    case RV_KIND_TRANSPORT: {
        const rv_transport_ops *src = loader_info_transport(info);
        size_t n = src->struct_size;
        memcpy(&m->transport, src, n < sizeof(m->transport) ? n : sizeof(m->transport));
        const rv_transport_ops *o = &m->transport;
        missing = !o->create ? "create" : !o->destroy ? "destroy" : !o->write ? "write" : NULL;
        break;
    }
    }
    if (missing)
        return loader_refuse(err, errlen, m->path, "required callback", RV_ELOAD_CALLBACK,
                             "%s '%s' has no %s", rv_module_kind_name(info->kind), info->name,
                             missing);
    /* The host copy records the size it now holds. */
    if (info->kind == RV_KIND_PRODUCER)
        m->producer.struct_size = sizeof(m->producer);
    else if (info->kind == RV_KIND_RENDERER)
        m->renderer.struct_size = sizeof(m->renderer);
    else if (info->kind == RV_KIND_SINK)
        m->sink.struct_size = sizeof(m->sink);
    else if (info->kind == RV_KIND_ENCODER)
        m->encoder.struct_size = sizeof(m->encoder);
    else
        m->transport.struct_size = sizeof(m->transport);
    return RV_OK;
}

static int registry_append(module_registry *reg, loaded_module *m)
{
    if (reg->count == reg->capacity) {
        size_t cap = reg->capacity ? reg->capacity * 2 : 8;
        loaded_module **grown = realloc(reg->modules, cap * sizeof(*grown));
        if (!grown)
            return RV_ENOMEM;
        reg->modules = grown;
        reg->capacity = cap;
    }
    reg->modules[reg->count++] = m;
    return RV_OK;
}

/** registry_load_file, also telling which loaded module a duplicate name
 *  clashed with (*@p clash, may be NULL). */
static int loader_load(module_registry *reg, const char *path, char *err, size_t errlen,
                       const loaded_module **clash)
{
    if (err && errlen)
        err[0] = '\0';
    if (!reg || !path)
        return RV_EINVAL;
    int rc;
    loaded_module *m = calloc(1, sizeof(*m));
    if (!m || !(m->path = strdup(path))) {
        rc = loader_refuse(err, errlen, path, "memory", RV_ENOMEM, "out of memory");
        goto fail;
    }
    /* before dlopen: it runs the file's constructors */
    char why_unsafe[768];
    if ((rc = loader_trust_check(path, why_unsafe, sizeof(why_unsafe))) != RV_OK) {
        loader_refuse(err, errlen, path, "permissions", rc, "%s", why_unsafe);
        goto fail;
    }
    dlerror();
    m->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!m->dl) {
        const char *why = dlerror();
        why = why ? why : "unknown error";
        /* dlerror() usually starts with the path again: say it once. */
        size_t plen = strlen(path);
        if (strncmp(why, path, plen) == 0 && strncmp(why + plen, ": ", 2) == 0)
            why += plen + 2;
        rc = loader_refuse(err, errlen, path, "dlopen", RV_ELOAD_DLOPEN, "%s", why);
        goto fail;
    }
    dlerror();
    void *sym = dlsym(m->dl, RV_MODULE_ENTRY_SYMBOL);
    if (!sym) {
        rc = loader_refuse(err, errlen, path, "entry symbol", RV_ELOAD_ENTRY, "%s not found",
                           RV_MODULE_ENTRY_SYMBOL);
        goto fail;
    }
    rv_module_entry_fn entry;
    memcpy(&entry, &sym, sizeof(entry)); /* object pointer -> function pointer, ISO-clean */
    m->info = entry();
    if (!m->info) {
        rc = loader_refuse(err, errlen, path, "entry symbol", RV_ELOAD_ENTRY,
                           "%s returned NULL", RV_MODULE_ENTRY_SYMBOL);
        goto fail;
    }
    if ((rc = loader_check_abi(m->info, err, errlen, path)) != RV_OK)
        goto fail;
    if ((rc = loader_check_descriptor(m->info, err, errlen, path)) != RV_OK)
        goto fail;
    m->kind = m->info->kind;
    m->name = m->info->name;
    if ((rc = loader_copy_ops(m, err, errlen)) != RV_OK)
        goto fail;
    const loaded_module *other = registry_find(reg, m->name);
    if (other) {
        if (clash)
            *clash = other;
        rc = loader_refuse(err, errlen, path, "duplicate name", RV_ELOAD_DUPLICATE,
                           "a module named '%s' is already loaded from %s", m->name, other->path);
        goto fail;
    }
    if ((rc = registry_append(reg, m)) != RV_OK) {
        loader_refuse(err, errlen, path, "memory", rc, "out of memory");
        goto fail;
    }
    return RV_OK;

fail:
    loaded_module_free(m);
    return rc;
}

int registry_load_file(module_registry *reg, const char *path, char *err, size_t errlen)
{
    return loader_load(reg, path, err, errlen, NULL);
}

static int loader_is_module_file(const char *name)
{
    size_t len = strlen(name);
    return len > 3 && name[0] != '.' && strcmp(name + len - 3, ".so") == 0;
}

static int loader_cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/** Load-order index of @p m in @p reg, or SIZE_MAX. */
static size_t registry_index_of(const module_registry *reg, const loaded_module *m)
{
    for (size_t i = 0; i < reg->count; i++) {
        if (reg->modules[i] == m)
            return i;
    }
    return SIZE_MAX;
}

/** Load every *.so of @p dir in name order. A refusal is logged and skipped,
 *  except a duplicate of a module loaded before index @p first (from an
 *  earlier folder of the search path): that stops the scan with
 *  RV_ELOAD_DUPLICATE and a message naming both files in @p err. */
static int loader_scan(module_registry *reg, const char *dir, size_t first, char *err,
                       size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? RV_ENOENT : errno == EACCES ? RV_EACCES : RV_EIO;
    char **names = NULL;
    size_t count = 0;
    size_t capacity = 0;
    int rc = RV_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!loader_is_module_file(e->d_name))
            continue;
        if (count == capacity) {
            size_t cap = capacity ? capacity * 2 : 16;
            char **grown = realloc(names, cap * sizeof(*grown));
            if (!grown) {
                rc = RV_ENOMEM;
                goto done;
            }
            names = grown;
            capacity = cap;
        }
        if (!(names[count] = strdup(e->d_name))) {
            rc = RV_ENOMEM;
            goto done;
        }
        count++;
    }
    if (count > 1)
        qsort(names, count, sizeof(*names), loader_cmp_names);

    int loaded = 0;
    for (size_t i = 0; i < count; i++) {
        size_t need = strlen(dir) + 1 + strlen(names[i]) + 1;
        char *path = malloc(need);
        if (!path) {
            rc = RV_ENOMEM;
            goto done;
        }
        size_t dlen = strlen(dir);
        snprintf(path, need, "%s%s%s", dir, dlen && dir[dlen - 1] == '/' ? "" : "/", names[i]);
        char why[1024];
        const loaded_module *clash = NULL;
        int r = loader_load(reg, path, why, sizeof(why), &clash);
        if (r == RV_OK) {
            const loaded_module *m = registry_at(reg, registry_count(reg) - 1);
            log_write(RV_LOG_DEBUG, -1, m->name, "loaded %s module %s %s from %s",
                      rv_module_kind_name(m->kind), m->name, m->info->version, path);
            loaded++;
        } else if (r == RV_ELOAD_DUPLICATE && clash && registry_index_of(reg, clash) < first) {
            loader_refuse(err, errlen, path, "duplicate name",
                          RV_ELOAD_DUPLICATE,
                          "module '%s' is also in %s (an earlier folder of module_dir); "
                          "remove one of the two files",
                          clash->name, clash->path);
            free(path);
            rc = RV_ELOAD_DUPLICATE;
            goto done;
        } else {
            log_write(RV_LOG_ERROR, -1, NULL, "module refused: %s", why);
        }
        free(path);
    }
    rc = loaded;

done:
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
    closedir(d);
    return rc;
}

int registry_scan_dir(module_registry *reg, const char *dir)
{
    if (!reg || !dir)
        return RV_EINVAL;
    return loader_scan(reg, dir, 0, NULL, 0);
}

int registry_scan_path(module_registry *reg, const char *dirs, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!reg || !dirs || !dirs[0])
        return RV_EINVAL;
    char *copy = strdup(dirs);
    if (!copy)
        return RV_ENOMEM;
    int total = 0;
    char *save = NULL;
    for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
        int n = loader_scan(reg, dir, registry_count(reg), err, errlen);
        if (n == RV_ELOAD_DUPLICATE) {
            total = n;
            break;
        }
        if (n < 0) {
            if (err && errlen)
                snprintf(err, errlen, "module_dir: cannot read '%s': %s", dir, rv_strerror(n));
            total = n;
            break;
        }
        total += n;
    }
    free(copy);
    return total;
}

const loaded_module *registry_find(const module_registry *reg, const char *name)
{
    if (!reg || !name)
        return NULL;
    for (size_t i = 0; i < reg->count; i++) {
        if (strcmp(reg->modules[i]->name, name) == 0)
            return reg->modules[i];
    }
    return NULL;
}

size_t registry_count(const module_registry *reg)
{
    return reg ? reg->count : 0;
}

const loaded_module *registry_at(const module_registry *reg, size_t i)
{
    return reg && i < reg->count ? reg->modules[i] : NULL;
}

/** Length of @p uri's scheme (RFC 3986: ALPHA *(ALPHA / DIGIT / + - .) ":"),
 *  or 0 when it has none (a bare path). */
static size_t loader_scheme_length(const char *uri)
{
    size_t i = 0;
    for (;; i++) {
        char c = uri[i];
        int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (c == ':')
            return i;
        if (alpha || (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.')))
            continue;
        return 0;
    }
}

int loaded_module_serves(const loaded_module *producer, const char *uri)
{
    if (!producer || !uri || producer->kind != RV_KIND_PRODUCER || !producer->producer.schemes)
        return 0;
    size_t len = loader_scheme_length(uri);
    for (const char *const *s = producer->producer.schemes; *s; s++) {
        if (strlen(*s) == len && strncasecmp(*s, uri, len) == 0)
            return 1;
    }
    return 0;
}
