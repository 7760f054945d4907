/**
 * @file tests/modules/no_write.c
 * @short Broken module: a sink without its required write callback (RV_ELOAD_CALLBACK).
 *        Hand-written descriptor (RV_MODULE_DEFINE would fill it correctly).
 */
#include "stub_ops.h"

static const rv_sink_ops no_write_ops = {
    .struct_size = sizeof(rv_sink_ops),
    .create = stub_create,
    .destroy = stub_destroy,
};

static const rv_module_info no_write_info = {
    STUB_ABI_FIELDS,
    .kind = RV_KIND_SINK,
    .name = "broken-no-write",
    .version = "1.0.0",
    .description = "a sink that cannot write",
    .sink = &no_write_ops,
};

STUB_ENTRY(no_write_info)
