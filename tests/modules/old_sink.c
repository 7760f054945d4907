/**
 * @file tests/modules/old_sink.c
 * @short A sink built against an older, smaller rv_sink_ops: only the v1
 *        required members. It must load, and the host's copy of its table
 *        must read every later callback as NULL.
 *
 * The old table is followed in memory by non-NULL pointers, so a loader that
 * copied sizeof(rv_sink_ops) bytes instead of struct_size would pick them up
 * as start/stop/get_stats/describe and the loader test would fail.
 */
#include "stub_ops.h"

/** What rv_sink_ops looked like in an (imagined) older SDK: a prefix. */
struct old_sink_ops {
    uint32_t struct_size;
    int (*create)(const rv_create_args *args, void **state);
    void (*destroy)(void *state);
    int (*write)(void *state, const rv_tick *tick);
};

static void old_sink_trap(void)
{
}

/** The old table, then what a careless loader would read past its end. */
static const struct {
    struct old_sink_ops ops;
    void (*after[4])(void);
} old_sink_layout = {
    .ops =
        {
            .struct_size = sizeof(struct old_sink_ops),
            .create = stub_create,
            .destroy = stub_destroy,
            .write = stub_sink_write,
        },
    .after = {old_sink_trap, old_sink_trap, old_sink_trap, old_sink_trap},
};

static const rv_module_info old_sink_info = {
    STUB_ABI_FIELDS,
    .kind = RV_KIND_SINK,
    .name = "test-old-sink",
    .version = "0.9.0",
    .description = "a sink with the smallest v1 vtable",
    .sink = (const struct rv_sink_ops *)&old_sink_layout.ops,
};

STUB_ENTRY(old_sink_info)
