/**
 * @file tests/modules/v11_renderer.c
 * @short A renderer built against ABI 1.1: its rv_module_info ends before
 *        the 1.2 `encoder` and `transport` pointers. It must load into a 1.2
 *        host, which must not read past its struct_size.
 *
 * The 1.1 descriptor is followed in memory by non-NULL pointers where the
 * 1.2 tables would be, so a loader that read them would see three ops
 * tables and refuse the module.
 */
#include <stddef.h>

#include "stub_ops.h"

static const rv_renderer_ops v11_ops = {
    .struct_size = sizeof(rv_renderer_ops),
    .create = stub_create,
    .destroy = stub_destroy,
    .render = stub_render,
};

/** rv_module_info as ABI 1.1 had it, then what a careless loader would read. */
static const struct {
    rv_module_info info; /* only the bytes up to `encoder` are the module's */
} v11_layout = {
    .info =
        {
            .struct_size = offsetof(rv_module_info, encoder),
            .abi_major = RV_ABI_MAJOR,
            .abi_minor = 1,
            .signature = RV_BUILD_SIGNATURE,
            .sizes = RV_STRUCT_SIZES,
            .kind = RV_KIND_RENDERER,
            .name = "test-v11-renderer",
            .version = "1.1.0",
            .description = "a renderer whose descriptor is ABI 1.1's size",
            .renderer = &v11_ops,
            /* past struct_size: garbage to a 1.2 loader that ignores the size */
            .encoder = (const struct rv_encoder_ops *)&v11_ops,
            .transport = (const struct rv_transport_ops *)&v11_ops,
        },
};

STUB_ENTRY(v11_layout.info)
