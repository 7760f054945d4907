/**
 * @file tests/modules/sizes.c
 * @short Broken module: rv_video_frame 8 bytes larger than the host's (RV_ELOAD_SIZES).
 *        Hand-written descriptor (RV_MODULE_DEFINE would fill it correctly).
 */
#include "stub_ops.h"

static const rv_sink_ops sizes_ops = {
    .struct_size = sizeof(rv_sink_ops),
    .create = stub_create,
    .destroy = stub_destroy,
    .write = stub_sink_write,
};

static const rv_module_info sizes_info = {
    .struct_size = sizeof(rv_module_info),
    .abi_major = RV_ABI_MAJOR,
    .abi_minor = RV_ABI_MINOR,
    .signature = RV_BUILD_SIGNATURE,
    .sizes =
        {
            .program_format = sizeof(rv_program_format),
            .video_frame = sizeof(rv_video_frame) + 8,
            .audio_buffer = sizeof(rv_audio_buffer),
            .tick = sizeof(rv_tick),
        },
    .kind = RV_KIND_SINK,
    .name = "broken-sizes",
    .version = "1.0.0",
    .description = "built with another rv_video_frame layout",
    .sink = &sizes_ops,
};

STUB_ENTRY(sizes_info)
