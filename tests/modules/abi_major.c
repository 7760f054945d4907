/**
 * @file tests/modules/abi_major.c
 * @short Broken module: ABI major one above the host's (RV_ELOAD_ABI_MAJOR).
 *        Hand-written descriptor (RV_MODULE_DEFINE would fill it correctly).
 */
#include "stub_ops.h"

static const rv_sink_ops abi_major_ops = {
    .struct_size = sizeof(rv_sink_ops),
    .create = stub_create,
    .destroy = stub_destroy,
    .write = stub_sink_write,
};

static const rv_module_info abi_major_info = {
    .struct_size = sizeof(rv_module_info),
    .abi_major = RV_ABI_MAJOR + 1,
    .abi_minor = 0,
    .signature = RV_BUILD_SIGNATURE,
    .sizes = RV_STRUCT_SIZES,
    .kind = RV_KIND_SINK,
    .name = "broken-abi-major",
    .version = "1.0.0",
    .description = "built for the next ABI major",
    .sink = &abi_major_ops,
};

STUB_ENTRY(abi_major_info)
