/**
 * @file tests/modules/dup_null.c
 * @short Broken module: a valid renderer named "null", like the real null
 *        renderer (RV_ELOAD_DUPLICATE when that one is loaded first).
 *        Hand-written descriptor (RV_MODULE_DEFINE would fill it correctly).
 */
#include "stub_ops.h"

static const rv_renderer_ops dup_null_ops = {
    .struct_size = sizeof(rv_renderer_ops),
    .create = stub_create,
    .destroy = stub_destroy,
    .render = stub_render,
};

static const rv_module_info dup_null_info = {
    STUB_ABI_FIELDS,
    .kind = RV_KIND_RENDERER,
    .name = "null",
    .version = "0.0.1",
    .description = "an impostor of the null renderer",
    .renderer = &dup_null_ops,
};

STUB_ENTRY(dup_null_info)
