/**
 * @file tests/modules/signature.c
 * @short Broken module: a build signature from a 32-bit build (RV_ELOAD_SIGNATURE).
 *        Hand-written descriptor (RV_MODULE_DEFINE would fill it correctly).
 */
#include "stub_ops.h"

static const rv_sink_ops signature_ops = {
    .struct_size = sizeof(rv_sink_ops),
    .create = stub_create,
    .destroy = stub_destroy,
    .write = stub_sink_write,
};

static const rv_module_info signature_info = {
    .struct_size = sizeof(rv_module_info),
    .abi_major = RV_ABI_MAJOR,
    .abi_minor = RV_ABI_MINOR,
    .signature = "rv1/ptr4/long4/dbl8/le/yuv420p8/s16i",
    .sizes = RV_STRUCT_SIZES,
    .kind = RV_KIND_SINK,
    .name = "broken-signature",
    .version = "1.0.0",
    .description = "claims a 32-bit build",
    .sink = &signature_ops,
};

STUB_ENTRY(signature_info)
