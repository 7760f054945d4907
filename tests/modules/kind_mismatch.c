/**
 * @file tests/modules/kind_mismatch.c
 * @short Broken module: kind says sink, but the renderer table is set (RV_ELOAD_DESCRIPTOR).
 *        Hand-written descriptor (RV_MODULE_DEFINE would fill it correctly).
 */
#include "stub_ops.h"

static const rv_renderer_ops kind_mismatch_ops = {
    .struct_size = sizeof(rv_renderer_ops),
    .create = stub_create,
    .destroy = stub_destroy,
    .render = stub_render,
};

static const rv_module_info kind_mismatch_info = {
    STUB_ABI_FIELDS,
    .kind = RV_KIND_SINK,
    .name = "broken-kind-mismatch",
    .version = "1.0.0",
    .description = "a renderer that says it is a sink",
    .renderer = &kind_mismatch_ops,
};

STUB_ENTRY(kind_mismatch_info)
