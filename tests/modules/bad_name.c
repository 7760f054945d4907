/**
 * @file tests/modules/bad_name.c
 * @short Broken module: a name outside [a-z0-9][a-z0-9-]* (RV_ELOAD_DESCRIPTOR).
 *        Hand-written descriptor (RV_MODULE_DEFINE would fill it correctly).
 */
#include "stub_ops.h"

static const rv_sink_ops bad_name_ops = {
    .struct_size = sizeof(rv_sink_ops),
    .create = stub_create,
    .destroy = stub_destroy,
    .write = stub_sink_write,
};

static const rv_module_info bad_name_info = {
    STUB_ABI_FIELDS,
    .kind = RV_KIND_SINK,
    .name = "Bad_Name",
    .version = "1.0.0",
    .description = "a name with capitals and an underscore",
    .sink = &bad_name_ops,
};

STUB_ENTRY(bad_name_info)
