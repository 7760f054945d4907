/**
 * @file tests/modules/bad_options.c
 * @short Broken module: an ENUM option whose default is not one of its choices
 *        (RV_ELOAD_DESCRIPTOR).
 *        Hand-written descriptor (RV_MODULE_DEFINE would fill it correctly).
 */
#include "stub_ops.h"

static const char *const bad_options_modes[] = {"ticks", "summary", NULL};

static const rv_option bad_options_table[] = {
    {
        .key = "mode",
        .type = RV_OPT_ENUM,
        .help = "default outside the choices",
        .default_string = "everything",
        .choices = bad_options_modes,
    },
    {.key = NULL},
};

static const rv_sink_ops bad_options_ops = {
    .struct_size = sizeof(rv_sink_ops),
    .create = stub_create,
    .destroy = stub_destroy,
    .write = stub_sink_write,
};

static const rv_module_info bad_options_info = {
    STUB_ABI_FIELDS,
    .kind = RV_KIND_SINK,
    .name = "broken-bad-options",
    .version = "1.0.0",
    .description = "an options table that does not check",
    .options = bad_options_table,
    .sink = &bad_options_ops,
};

STUB_ENTRY(bad_options_info)
