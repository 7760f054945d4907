/**
 * @file host/control/program_format_json.h
 * @short Parse StartChannel's program_format_json (jansson) into an
 *        rv_program_format, with the limits of config profiles:
 *
 *     {"video":{"width":1280,"height":720,"frame_rate":"30000/1001"},
 *      "audio":{"sample_rate":48000,"channels":2}}
 *
 * video.width and video.height (even, 16..7680 and 16..4320) and
 * video.frame_rate ("N/D", "N", a decimal string or a JSON number, 1..120
 * fps; 29.97, 59.94 and 23.976 mean the 1001 rates) are required; audio
 * may be absent and each audio key defaults to 48000 Hz / 2 channels
 * (sample_rate 8000..192000, channels 1..8). Unknown keys are ignored.
 *
 * Pure function; pointers borrowed for the call.
 */
#ifndef RV_CONTROL_PROGRAM_FORMAT_JSON_H
#define RV_CONTROL_PROGRAM_FORMAT_JSON_H

#include <stddef.h>

#include <retrovue/format.h>

/** Parse @p json into @p out. RV_OK, or RV_EINVAL with a sentence naming
 *  the key and the rule in @p err (@p out untouched). */
int program_format_from_json(const char *json, rv_program_format *out, char *err, size_t errlen);

/** Parse a frame rate text ("30000/1001", "25", "29.97"). RV_OK or
 *  RV_EINVAL with the reason. */
int program_format_parse_rate(const char *text, rv_rational *out, char *err, size_t errlen);

#endif
