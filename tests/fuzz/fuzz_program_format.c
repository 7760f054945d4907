/**
 * @file tests/fuzz/fuzz_program_format.c
 * @short libFuzzer harness: any text as StartChannel's program_format_json
 *        through control_check_format_json (length bound, then
 *        program_format_from_json: jansson, every key and limit), and as a
 *        frame rate text through program_format_parse_rate.
 *
 * Owns nothing across inputs.
 */
#include "fuzz_common.h"

#include <retrovue/error.h>

#include "control/control_validate.h"
#include "control/program_format_json.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet();
    return 0;
}

/** 1 when @p r is within the documented 1..120 fps, reduced or not. */
static int fuzz_rate_ok(rv_rational r)
{
    return r.num > 0 && r.den > 0 && (int64_t)r.num >= r.den && (int64_t)r.num <= 120 * (int64_t)r.den;
}

/** 1 when @p f is within program_format_json.h's documented limits. */
static int fuzz_format_ok(const rv_program_format *f)
{
    return f->width % 2 == 0 && f->width >= 16 && f->width <= 7680 && f->height % 2 == 0 &&
           f->height >= 16 && f->height <= 4320 && fuzz_rate_ok(f->frame_rate) &&
           f->audio_rate >= 8000 && f->audio_rate <= 192000 && f->audio_channels >= 1 &&
           f->audio_channels <= 8;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    if (!text)
        return 0;
    char err[512];
    rv_program_format f;
    int has_format = 0;
    /* An accepted value outside the documented limits is a finding too. */
    if (control_check_format_json(text, &f, &has_format, err, sizeof(err)) == RV_OK &&
        has_format && !fuzz_format_ok(&f))
        abort();
    rv_rational r;
    if (program_format_parse_rate(text, &r, err, sizeof(err)) == RV_OK && !fuzz_rate_ok(r))
        abort();
    free(text);
    return 0;
}
