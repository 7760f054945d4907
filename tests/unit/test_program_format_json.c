/**
 * @file tests/unit/test_program_format_json.c
 * @short program_format_json parsing: the example, every limit of a
 *        config profile, frame-rate spellings, defaults and clear reasons.
 */
#include <string.h>

#include <retrovue/error.h>

#include "control/program_format_json.h"
#include "tap.h"

static char err[512];

static int parse_ok(const char *json, rv_program_format *f)
{
    memset(f, 0, sizeof(*f));
    err[0] = '\0';
    int rc = program_format_from_json(json, f, err, sizeof(err));
    if (rc != RV_OK)
        tap_diag("unexpected refusal of %s: %s", json, err);
    return rc == RV_OK;
}

/** Refused with @p needle in the reason, and @p out untouched. */
static int parse_refused(const char *json, const char *needle)
{
    rv_program_format f = {.width = 4242};
    err[0] = '\0';
    int rc = program_format_from_json(json, &f, err, sizeof(err));
    if (rc != RV_EINVAL || !strstr(err, needle) || f.width != 4242) {
        tap_diag("json %s: rc=%d err='%s' (wanted '%s')", json, rc, err, needle);
        return 0;
    }
    return 1;
}

#define V(w, h, r) "{\"video\":{\"width\":" #w ",\"height\":" #h ",\"frame_rate\":" r "}"

int main(void)
{
    rv_program_format f;
    rv_rational r;
    tap_plan(34);

    tap_ok(parse_ok("{\"video\":{\"width\":1280,\"height\":720,\"frame_rate\":\"30000/1001\"},"
                    "\"audio\":{\"sample_rate\":48000,\"channels\":2}}",
                    &f) &&
               f.width == 1280 && f.height == 720 && f.frame_rate.num == 30000 &&
               f.frame_rate.den == 1001 && f.audio_rate == 48000 && f.audio_channels == 2,
           "the issue's example parses exactly");
    tap_ok(parse_ok(V(1920, 1080, "\"25\"") "}", &f) && f.frame_rate.num == 25 &&
               f.frame_rate.den == 1 && f.audio_rate == 48000 && f.audio_channels == 2,
           "audio absent: 48000 Hz stereo; \"25\" is 25/1");
    tap_ok(parse_ok(V(640, 360, "29.97") ",\"audio\":{\"channels\":1}}", &f) &&
               f.frame_rate.num == 30000 && f.frame_rate.den == 1001 && f.audio_rate == 48000 &&
               f.audio_channels == 1,
           "number 29.97 is 30000/1001; audio.sample_rate defaults");
    tap_ok(parse_ok(V(16, 16, "\"60000/1001\"") "}", &f) && f.width == 16 && f.height == 16,
           "16x16 is the smallest size");
    tap_ok(parse_ok(V(7680, 4320, "120") "}", &f) && f.width == 7680 && f.frame_rate.num == 120,
           "7680x4320 at 120 fps is the largest");
    tap_ok(parse_ok(V(1280, 720, "\"50/2\"") "}", &f) && f.frame_rate.num == 25 &&
               f.frame_rate.den == 1,
           "rates are reduced (50/2 -> 25/1)");
    tap_ok(parse_ok(V(1280, 720, "1") ",\"audio\":{\"sample_rate\":8000,\"channels\":8}}", &f) &&
               f.audio_rate == 8000 && f.audio_channels == 8,
           "1 fps, 8000 Hz, 8 channels are in range");
    tap_ok(parse_ok(V(1280, 720, "24") ",\"audio\":{\"sample_rate\":192000},\"extra\":1}", &f) &&
               f.audio_rate == 192000,
           "192000 Hz in range; unknown keys ignored");

    tap_ok(parse_refused("{\"video\":", "not valid JSON"), "truncated JSON: %s", err);
    tap_ok(parse_refused("not json", "not valid JSON"), "garbage: %s", err);
    tap_ok(parse_refused("[1,2]", "JSON object"), "an array: %s", err);
    tap_ok(parse_refused("{}", "\"video\" is missing"), "no video: %s", err);
    tap_ok(parse_refused("{\"video\":3}", "must be an object"), "video not an object: %s", err);
    tap_ok(parse_refused("{\"video\":{\"height\":720,\"frame_rate\":25}}", "video.width is missing"),
           "no width: %s", err);
    tap_ok(parse_refused("{\"video\":{\"width\":1280,\"frame_rate\":25}}", "video.height is missing"),
           "no height: %s", err);
    tap_ok(parse_refused("{\"video\":{\"width\":1280,\"height\":720}}", "frame_rate is missing"),
           "no frame rate: %s", err);
    tap_ok(parse_refused(V("1280", 720, "25") "}", "width must be an integer"),
           "width as a string: %s", err);
    tap_ok(parse_refused(V(1280.5, 720, "25") "}", "width must be an integer"),
           "fractional width: %s", err);
    tap_ok(parse_refused(V(1281, 720, "25") "}", "even"), "odd width: %s", err);
    tap_ok(parse_refused(V(1280, 721, "25") "}", "even"), "odd height: %s", err);
    tap_ok(parse_refused(V(14, 720, "25") "}", "16..7680"), "width 14: %s", err);
    tap_ok(parse_refused(V(7682, 720, "25") "}", "16..7680"), "width 7682: %s", err);
    tap_ok(parse_refused(V(1280, 4322, "25") "}", "16..4320"), "height 4322: %s", err);
    tap_ok(parse_refused(V(1280, 720, "\"0/1\"") "}", "positive"), "rate 0/1: %s", err);
    tap_ok(parse_refused(V(1280, 720, "\"30000/0\"") "}", "positive"), "rate 30000/0: %s", err);
    tap_ok(parse_refused(V(1280, 720, "\"121\"") "}", "out of range"), "rate 121: %s", err);
    tap_ok(parse_refused(V(1280, 720, "0.5") "}", "out of range"), "rate 0.5: %s", err);
    tap_ok(parse_refused(V(1280, 720, "\"fast\"") "}", "not a rate"), "rate 'fast': %s", err);
    tap_ok(parse_refused(V(1280, 720, "\"30/1/2\"") "}", "N/D"), "rate '30/1/2': %s", err);
    tap_ok(parse_refused(V(1280, 720, "true") "}", "string \"N/D\" or a number"),
           "rate true: %s", err);
    tap_ok(parse_refused(V(1280, 720, "25") ",\"audio\":{\"sample_rate\":7999}}", "8000..192000"),
           "sample_rate 7999: %s", err);
    tap_ok(parse_refused(V(1280, 720, "25") ",\"audio\":{\"channels\":9}}", "1..8"),
           "channels 9: %s", err);
    tap_ok(parse_refused("{\"video\":{\"width\":1280,\"width\":640,\"height\":720,\"frame_rate\":25}}",
                         "not valid JSON"),
           "duplicate keys: %s", err);

    tap_ok(program_format_parse_rate("23.976", &r, err, sizeof(err)) == RV_OK && r.num == 24000 &&
               r.den == 1001,
           "\"23.976\" is 24000/1001");
    return tap_done();
}
