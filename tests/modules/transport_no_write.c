/**
 * @file tests/modules/transport_no_write.c
 * @short A transport (ABI 1.2) without its required write callback: the
 *        loader must refuse it (RV_ELOAD_CALLBACK) naming "write".
 */
#include "stub_ops.h"

static const rv_transport_ops transport_no_write_ops = {
    .struct_size = sizeof(rv_transport_ops),
    .create = stub_create,
    .destroy = stub_destroy,
};

static const rv_module_info transport_no_write_info = {
    STUB_ABI_FIELDS,
    .kind = RV_KIND_TRANSPORT,
    .name = "test-transport-no-write",
    .version = "1.0.0",
    .description = "a transport without write",
    .transport = &transport_no_write_ops,
};

STUB_ENTRY(transport_no_write_info)
