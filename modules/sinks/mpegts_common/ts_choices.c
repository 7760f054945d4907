/**
 * @file modules/sinks/mpegts_common/ts_choices.c
 * @short The choices of the MPEG-TS ENUM options (ts_options.h), defined once.
 */
#include <stddef.h>

#include "ts_options.h"

const char *const ts_video_codec_choices[] = {"h264", "mpeg2", NULL};
const char *const ts_audio_codec_choices[] = {"aac", "mp2", "ac3", NULL};
const char *const ts_mode_choices[] = {"listen", "connect", NULL};
