/**
 * @file tests/modules/no_entry.c
 * @short Broken module: exports a misspelt entry symbol, not rv_module_entry.
 *        The loader must refuse it with RV_ELOAD_ENTRY.
 */
#include "stub_ops.h"

static const rv_sink_ops no_entry_ops = {
    .struct_size = sizeof(rv_sink_ops),
    .create = stub_create,
    .destroy = stub_destroy,
    .write = stub_sink_write,
};

static const rv_module_info no_entry_info = {
    STUB_ABI_FIELDS,
    .kind = RV_KIND_SINK,
    .name = "broken-no-entry",
    .version = "1.0.0",
    .description = "exports rv_module_entri instead of rv_module_entry",
    .sink = &no_entry_ops,
};

RV_MODULE_EXPORT const rv_module_info *rv_module_entri(void);
RV_MODULE_EXPORT const rv_module_info *rv_module_entri(void)
{
    return &no_entry_info;
}
