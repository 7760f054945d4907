/**
 * @file tests/modules/abi_minor.c
 * @short Broken module: ABI minor newer than the host's (RV_ELOAD_ABI_MINOR).
 *        Hand-written descriptor (RV_MODULE_DEFINE would fill it correctly).
 */
#include "stub_ops.h"

static const rv_sink_ops abi_minor_ops = {
    .struct_size = sizeof(rv_sink_ops),
    .create = stub_create,
    .destroy = stub_destroy,
    .write = stub_sink_write,
};

static const rv_module_info abi_minor_info = {
    .struct_size = sizeof(rv_module_info),
    .abi_major = RV_ABI_MAJOR,
    .abi_minor = RV_ABI_MINOR + 1,
    .signature = RV_BUILD_SIGNATURE,
    .sizes = RV_STRUCT_SIZES,
    .kind = RV_KIND_SINK,
    .name = "broken-abi-minor",
    .version = "1.0.0",
    .description = "built for a newer ABI minor than the host",
    .sink = &abi_minor_ops,
};

STUB_ENTRY(abi_minor_info)
