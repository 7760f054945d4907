/**
 * @file retrovue/module.h
 * @short The module descriptor, its single entry symbol and the macro that
 *        fills the ABI fields, so module authors never type them.
 *
 * A module is a shared object built with -fvisibility=hidden that exports
 * exactly one symbol, `rv_module_entry`, returning a pointer to a static
 * const rv_module_info. Use RV_MODULE_DEFINE:
 *
 *     RV_MODULE_DEFINE(
 *         .kind = RV_KIND_RENDERER,
 *         .name = "null",
 *         .version = "1.0.0",
 *         .description = "passes frames through untouched",
 *         .options = null_options,
 *         .renderer = &null_ops)
 *
 * The loader checks, in order: the entry symbol, ABI major equal, ABI minor
 * not newer, build signature equal, shared structure sizes equal, the
 * descriptor (kind, name, options table), every required callback, and that
 * no module of the same name is already loaded.
 */
#ifndef RETROVUE_MODULE_H
#define RETROVUE_MODULE_H

#include <stddef.h>
#include <stdint.h>

#include <retrovue/error.h>
#include <retrovue/format.h>
#include <retrovue/frame.h>
#include <retrovue/host.h>
#include <retrovue/option.h>
#include <retrovue/version.h>

struct rv_producer_ops;
struct rv_renderer_ops;
struct rv_sink_ops;
struct rv_encoder_ops;
struct rv_transport_ops;

/** What a module is. Never zero. */
typedef enum rv_module_kind {
    RV_KIND_PRODUCER = 1, /**< asset -> frames and audio in ProgramFormat */
    RV_KIND_RENDERER = 2, /**< sees (may modify) every output frame */
    RV_KIND_SINK = 3,     /**< frames -> a delivery format and transport */
    RV_KIND_ENCODER = 4,  /**< ABI 1.2: frames -> one shared MPEG-TS rendition */
    RV_KIND_TRANSPORT = 5 /**< ABI 1.2: a rendition's bytes -> clients or a consumer */
} rv_module_kind;

/** Text name of a kind ("producer", "renderer", "sink"). Thread: any. */
static inline const char *rv_module_kind_name(rv_module_kind kind)
{
    switch (kind) {
    case RV_KIND_PRODUCER: return "producer";
    case RV_KIND_RENDERER: return "renderer";
    case RV_KIND_SINK: return "sink";
    case RV_KIND_ENCODER: return "encoder";
    case RV_KIND_TRANSPORT: return "transport";
    default: return "unknown";
    }
}

/** Everything a module instance is created with. Every pointer is borrowed
 *  and stays valid until the instance's destroy() returns. */
typedef struct rv_create_args {
    uint32_t struct_size;              /**< sizeof(rv_create_args) of the host */
    const rv_host_api *host;           /**< host services */
    rv_context *ctx;                   /**< this instance's handle for host calls */
    const rv_options *options;         /**< validated options (rv_host_api.opt_*) */
    const rv_program_format *format;   /**< the channel's ProgramFormat */
    int32_t channel_id;                /**< the channel's numeric id */
    const char *channel_name;          /**< the channel's display name */
} rv_create_args;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define RV_SIGNATURE_ENDIAN "be"
#else
#define RV_SIGNATURE_ENDIAN "le"
#endif

/** Build signature: anything that must match between host and module and
 *  that the ABI version numbers do not already say (nginx's idea). */
#define RV_BUILD_SIGNATURE                                                   \
    "rv" RV_STRINGIFY(RV_ABI_MAJOR) "/ptr" RV_STRINGIFY(__SIZEOF_POINTER__)  \
    "/long" RV_STRINGIFY(__SIZEOF_LONG__) "/dbl" RV_STRINGIFY(__SIZEOF_DOUBLE__) \
    "/" RV_SIGNATURE_ENDIAN "/yuv420p8/s16i"

/** Sizes of the structures host and module both read and write. */
typedef struct rv_struct_sizes {
    uint32_t program_format;
    uint32_t video_frame;
    uint32_t audio_buffer;
    uint32_t tick;
} rv_struct_sizes;

#define RV_STRUCT_SIZES                                                      \
    {                                                                        \
        .program_format = sizeof(rv_program_format),                        \
        .video_frame = sizeof(rv_video_frame),                              \
        .audio_buffer = sizeof(rv_audio_buffer),                            \
        .tick = sizeof(rv_tick),                                            \
    }

/** The descriptor a module's entry symbol returns. Static and const. */
typedef struct rv_module_info {
    /* ABI fields: filled by RV_MODULE_DEFINE */
    uint32_t struct_size;        /**< sizeof(rv_module_info) of the module's SDK */
    uint32_t abi_major;
    uint32_t abi_minor;
    const char *signature;       /**< RV_BUILD_SIGNATURE */
    rv_struct_sizes sizes;       /**< RV_STRUCT_SIZES */

    /* Identity: filled by the author */
    rv_module_kind kind;
    const char *name;            /**< unique, [a-z0-9-]+, e.g. "ffmpeg-file" */
    const char *version;         /**< the module's own version, e.g. "1.0.0" */
    const char *description;     /**< one line */
    const rv_option *options;    /**< table ending in {.key = NULL}; NULL = none */

    /* Exactly one of these (or of the ABI 1.2 tables below), matching kind */
    const struct rv_producer_ops *producer;
    const struct rv_renderer_ops *renderer;
    const struct rv_sink_ops *sink;

    /* ---- fields added in ABI 1.1 or later go below this line ---- */

    /* ABI 1.2, optional (NULL = none). The host reads it only when
     * struct_size covers it (rv_module_info_has). */
    /** Producers: an asset URI this module can open on any machine, with no
     *  media installed (e.g. "slate:bars", "tone:1000"), that rv_conformance
     *  opens and reads when it is given no --uri. A producer that declares
     *  none needs --uri, or its conformance run fails. Static, borrowed. */
    const char *test_uri;
    /** ABI 1.2: kind RV_KIND_ENCODER (retrovue/encoder.h). */
    const struct rv_encoder_ops *encoder;
    /** ABI 1.2: kind RV_KIND_TRANSPORT (retrovue/transport.h). */
    const struct rv_transport_ops *transport;
} rv_module_info;

/** True when a module's descriptor @p info (borrowed) is large enough to
 *  hold member @p field, i.e. the module was built with an SDK that has it.
 *  Read a field added after ABI 1.0 only when this is true. */
#define rv_module_info_has(info, field)                                      \
    ((info)->struct_size >= offsetof(rv_module_info, field) + sizeof((info)->field))

/** Name of the one exported symbol. */
#define RV_MODULE_ENTRY_SYMBOL "rv_module_entry"

/** Type of the entry function. Thread: the host's loader (main thread). */
typedef const rv_module_info *(*rv_module_entry_fn)(void);

#define RV_MODULE_EXPORT __attribute__((visibility("default")))

/** Define the module's entry symbol and descriptor. Arguments are designated
 *  initialisers for the identity fields and the ops pointer. */
#define RV_MODULE_DEFINE(...)                                                \
    RV_MODULE_EXPORT const rv_module_info *rv_module_entry(void);           \
    RV_MODULE_EXPORT const rv_module_info *rv_module_entry(void)            \
    {                                                                        \
        static const rv_module_info rv_module_info_ = {                     \
            .struct_size = sizeof(rv_module_info),                          \
            .abi_major = RV_ABI_MAJOR,                                      \
            .abi_minor = RV_ABI_MINOR,                                      \
            .signature = RV_BUILD_SIGNATURE,                                \
            .sizes = RV_STRUCT_SIZES,                                       \
            __VA_ARGS__};                                                   \
        return &rv_module_info_;                                            \
    }

#endif
