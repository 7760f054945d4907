/**
 * @file tests/modules/small_info.c
 * @short Broken module: an rv_module_info struct_size too small to hold the
 *        v1 fields (RV_ELOAD_SIZES).
 *        Hand-written descriptor (RV_MODULE_DEFINE would fill it correctly).
 */
#include "stub_ops.h"

static const rv_sink_ops small_info_ops = {
    .struct_size = sizeof(rv_sink_ops),
    .create = stub_create,
    .destroy = stub_destroy,
    .write = stub_sink_write,
};

static const rv_module_info small_info_info = {
    .struct_size = 16,
    .abi_major = RV_ABI_MAJOR,
    .abi_minor = RV_ABI_MINOR,
    .signature = RV_BUILD_SIGNATURE,
    .sizes = RV_STRUCT_SIZES,
    .kind = RV_KIND_SINK,
    .name = "broken-small-info",
    .version = "1.0.0",
    .description = "descriptor struct_size of 16 bytes",
    .sink = &small_info_ops,
};

STUB_ENTRY(small_info_info)
