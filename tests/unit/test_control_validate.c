/**
 * @file tests/unit/test_control_validate.c
 * @short Control-plane request validation: channel ids, plan handles, ports
 *        and the whole StartChannel check, each refusal with its reason.
 */
#include <string.h>

#include <retrovue/error.h>

#include "control/control_validate.h"
#include "tap.h"

static int refused(int rc, const char *err, const char *needle)
{
    if (rc != RV_EINVAL || !strstr(err, needle)) {
        tap_diag("rc=%d err='%s' (wanted '%s')", rc, err, needle);
        return 0;
    }
    return 1;
}

int main(void)
{
    char err[512];
    char handle[300];
    tap_plan(26);

    tap_ok(control_check_channel_id(1, err, sizeof(err)) == RV_OK, "channel_id 1 accepted");
    tap_ok(refused(control_check_channel_id(0, err, sizeof(err)), err, "positive"),
           "channel_id 0 refused: %s", err);
    tap_ok(refused(control_check_channel_id(-7, err, sizeof(err)), err, "-7"),
           "channel_id -7 refused and named: %s", err);

    tap_ok(control_check_plan_handle("demo", err, sizeof(err)) == RV_OK, "handle 'demo' accepted");
    tap_ok(control_check_plan_handle("morning_block-2.v1", err, sizeof(err)) == RV_OK,
           "handle with _ - . accepted");
    memset(handle, 'a', 128);
    handle[128] = '\0';
    tap_ok(control_check_plan_handle(handle, err, sizeof(err)) == RV_OK, "128-byte handle accepted");
    handle[128] = 'a';
    handle[129] = '\0';
    tap_ok(refused(control_check_plan_handle(handle, err, sizeof(err)), err, "at most 128"),
           "129-byte handle refused: %.60s", err);
    /* one limit everywhere: what the control plane accepts, the plan layer
     * accepts too (129..255 bytes used to pass here and fail there) */
    int agree = 1;
    for (size_t n = 1; n < sizeof(handle) - 1; n++) {
        memset(handle, 'h', n);
        handle[n] = '\0';
        int control_ok = control_check_plan_handle(handle, err, sizeof(err)) == RV_OK;
        int plan_ok = plan_handle_valid(handle, err, sizeof(err));
        if (control_ok != plan_ok) {
            tap_diag("%zu bytes: control %d, plan %d", n, control_ok, plan_ok);
            agree = 0;
        }
    }
    tap_ok(agree, "the control plane and the plan layer agree on every handle length 1..298");
    tap_ok(refused(control_check_plan_handle("", err, sizeof(err)), err, "empty"),
           "empty handle refused: %s", err);
    tap_ok(refused(control_check_plan_handle(NULL, err, sizeof(err)), err, "empty"),
           "NULL handle refused");
    tap_ok(refused(control_check_plan_handle("../etc/passwd", err, sizeof(err)), err, "'.'"),
           "'../etc/passwd' refused: %s", err);
    tap_ok(refused(control_check_plan_handle("a..b", err, sizeof(err)), err, ".."),
           "'a..b' refused: %s", err);
    tap_ok(refused(control_check_plan_handle(".hidden", err, sizeof(err)), err, "start with"),
           "'.hidden' refused: %s", err);
    tap_ok(refused(control_check_plan_handle("plans/demo", err, sizeof(err)), err, "'/'"),
           "'plans/demo' refused: %s", err);
    tap_ok(refused(control_check_plan_handle("two words", err, sizeof(err)), err, "' '"),
           "'two words' refused: %s", err);
    tap_ok(refused(control_check_plan_handle("bad\x01", err, sizeof(err)), err, "0x01"),
           "control byte refused and shown in hex: %s", err);

    tap_ok(control_check_port(0, err, sizeof(err)) == RV_OK, "port 0 (none) accepted");
    tap_ok(control_check_port(65535, err, sizeof(err)) == RV_OK, "port 65535 accepted");
    tap_ok(refused(control_check_port(-1, err, sizeof(err)), err, "port"), "port -1 refused: %s",
           err);
    tap_ok(refused(control_check_port(65536, err, sizeof(err)), err, "65536"),
           "port 65536 refused: %s", err);

    rv_program_format f;
    int has = -1;
    control_start_fields s = {.channel_id = 3, .plan_handle = "demo", .port = 0,
                              .program_format_json = ""};
    tap_ok(control_check_start(&s, &f, &has, err, sizeof(err)) == RV_OK && has == 0,
           "StartChannel without a format: ok, profile used");
    s.program_format_json =
        "{\"video\":{\"width\":1280,\"height\":720,\"frame_rate\":\"30000/1001\"},"
        "\"audio\":{\"sample_rate\":48000,\"channels\":2}}";
    tap_ok(control_check_start(&s, &f, &has, err, sizeof(err)) == RV_OK && has == 1 &&
               f.width == 1280 && f.height == 720 && f.frame_rate.num == 30000 &&
               f.frame_rate.den == 1001 && f.audio_rate == 48000 && f.audio_channels == 2,
           "StartChannel with the issue's format: parsed");
    s.program_format_json = "{\"video\":{\"width\":1281,\"height\":720,\"frame_rate\":25}}";
    tap_ok(refused(control_check_start(&s, &f, &has, err, sizeof(err)), err, "even") && has == 0,
           "StartChannel with an odd width refused: %s", err);
    s.channel_id = 0;
    tap_ok(refused(control_check_start(&s, &f, &has, err, sizeof(err)), err, "channel_id"),
           "channel_id is checked first: %s", err);
    s.channel_id = 3;
    s.plan_handle = "../x";
    tap_ok(refused(control_check_start(&s, &f, &has, err, sizeof(err)), err, "plan_handle"),
           "then the plan handle: %s", err);
    s.plan_handle = "demo";
    s.port = 70000;
    tap_ok(refused(control_check_start(&s, &f, &has, err, sizeof(err)), err, "port"),
           "then the port: %s", err);
    return tap_done();
}
