/**
 * @file host/loader/loader.h
 * @short The module loader and registry: dlopen each module, check it before
 *        trusting it, keep a zero-padded host copy of its vtable.
 *
 * Checks, each with its own error code and a message naming the file and the
 * check: dlopen(RTLD_NOW|RTLD_LOCAL) (RV_ELOAD_DLOPEN), entry symbol present
 * and non-NULL (RV_ELOAD_ENTRY), ABI major equal (RV_ELOAD_ABI_MAJOR), minor
 * not newer (RV_ELOAD_ABI_MINOR), signature equal (RV_ELOAD_SIGNATURE), shared
 * structure sizes equal and struct_size plausible (RV_ELOAD_SIZES), kind, name
 * and options table sane (RV_ELOAD_DESCRIPTOR), required callbacks present
 * (RV_ELOAD_CALLBACK), name not yet loaded (RV_ELOAD_DUPLICATE). A refused
 * module is dlclosed and the registry is unchanged.
 *
 * The registry is filled on the main thread at start-up and read-only after.
 */
#ifndef RV_HOST_LOADER_H
#define RV_HOST_LOADER_H

#include <stddef.h>

#include <retrovue/producer.h>
#include <retrovue/renderer.h>
#include <retrovue/sink.h>
#include <retrovue/transport.h>

/** One loaded module. The ops copies are zeroed past what the module
 *  declared, so absent (newer) callbacks read as NULL. */
typedef struct loaded_module {
    char *path;                   /**< owned */
    void *dl;                     /**< dlopen handle */
    const rv_module_info *info;   /**< the module's static descriptor */
    rv_module_kind kind;
    const char *name;             /**< info->name */
    rv_producer_ops producer;     /**< host copy (kind PRODUCER) */
    rv_renderer_ops renderer;     /**< host copy (kind RENDERER) */
    rv_sink_ops sink;             /**< host copy (kind SINK) */
    rv_encoder_ops encoder;       /**< host copy (kind ENCODER, ABI 1.2) */
    rv_transport_ops transport;   /**< host copy (kind TRANSPORT, ABI 1.2) */
} loaded_module;

typedef struct module_registry module_registry;

module_registry *registry_create(void);
/** dlclose every module. No instance may be alive. */
void registry_destroy(module_registry *reg);

/** Load and check one file (@p path borrowed). RV_OK or an RV_ELOAD_* with
 *  "<path>: <check>: <detail>" in @p err. */
int registry_load_file(module_registry *reg, const char *path, char *err, size_t errlen);
/** Load every *.so in @p dir (sorted by name); refusals are logged and
 *  skipped. Returns the number loaded, or a negative rv_error if the folder
 *  cannot be read. */
int registry_scan_dir(module_registry *reg, const char *dir);

/** Load the modules of a search path: @p dirs (borrowed) is one or more
 *  folders joined with ':' (config.module_dir), scanned in order as
 *  registry_scan_dir does. A module whose name was already loaded from an
 *  earlier folder is an error (RV_ELOAD_DUPLICATE), not a skip: the message
 *  "<file>: duplicate name: module 'x' is also in <other file> ..." names
 *  both files, because which one the operator meant is not ours to guess.
 *  A folder that cannot be read is an error naming it. Returns the number
 *  loaded, or a negative rv_error with one sentence in @p err. */
int registry_scan_path(module_registry *reg, const char *dirs, char *err, size_t errlen);

/** The module named @p name, or NULL. */
const loaded_module *registry_find(const module_registry *reg, const char *name);
size_t registry_count(const module_registry *reg);
const loaded_module *registry_at(const module_registry *reg, size_t i);

/** True when @p producer serves the scheme of @p uri ("slate:x" -> "slate",
 *  "file:/a" -> "file", "/a" or "a.mp4" -> ""). */
int loaded_module_serves(const loaded_module *producer, const char *uri);

#endif
