/**
 * @file tests/modules/small_ops.c
 * @short Broken module: a sink ops table whose struct_size does not even
 *        cover the v1 required callbacks (RV_ELOAD_SIZES).
 *        Hand-written descriptor (RV_MODULE_DEFINE would fill it correctly).
 */
#include "stub_ops.h"

static const rv_sink_ops small_ops_ops = {
    .struct_size = sizeof(uint32_t),
    .create = stub_create,
    .destroy = stub_destroy,
    .write = stub_sink_write,
};

static const rv_module_info small_ops_info = {
    STUB_ABI_FIELDS,
    .kind = RV_KIND_SINK,
    .name = "broken-small-ops",
    .version = "1.0.0",
    .description = "ops struct_size of 4 bytes",
    .sink = &small_ops_ops,
};

STUB_ENTRY(small_ops_info)
