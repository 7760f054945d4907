/**
 * @file tests/modules/stub_ops.h
 * @short Do-nothing callbacks shared by the deliberately broken test modules,
 *        so each broken module's source is only its hand-written descriptor.
 *
 * The stubs own nothing: create hands back a pointer to a static byte that
 * destroy ignores. Threads as documented in the SDK headers.
 */
#ifndef RV_TESTS_STUB_OPS_H
#define RV_TESTS_STUB_OPS_H

#include <retrovue/retrovue.h>

static inline int stub_create(const rv_create_args *args, void **state)
{
    static char stub_state;
    (void)args;
    *state = &stub_state;
    return RV_OK;
}

static inline void stub_destroy(void *state)
{
    (void)state;
}

static inline int stub_sink_write(void *state, const rv_tick *tick)
{
    (void)state;
    (void)tick;
    return RV_OK;
}

static inline int stub_render(void *state, rv_tick *tick)
{
    (void)state;
    (void)tick;
    return RV_OK;
}

/** The descriptor fields every broken module shares, before what it breaks. */
#define STUB_ABI_FIELDS                                                      \
    .struct_size = sizeof(rv_module_info), .abi_major = RV_ABI_MAJOR,        \
    .abi_minor = RV_ABI_MINOR, .signature = RV_BUILD_SIGNATURE,              \
    .sizes = RV_STRUCT_SIZES

/** Export @p info (a static const rv_module_info) as the entry symbol. */
#define STUB_ENTRY(info)                                                     \
    RV_MODULE_EXPORT const rv_module_info *rv_module_entry(void);           \
    RV_MODULE_EXPORT const rv_module_info *rv_module_entry(void)            \
    {                                                                        \
        return &(info);                                                      \
    }

#endif
