/**
 * @file host/control/control_validate.c
 * @short Request field checks for the control plane (see control_validate.h).
 *        Owns nothing.
 */
#include "control/control_validate.h"

#include <stdio.h>
#include <string.h>

#include <retrovue/error.h>

#include "control/program_format_json.h"

int control_check_channel_id(int32_t channel_id, char *err, size_t errlen)
{
    if (channel_id <= 0) {
        snprintf(err, errlen, "channel_id must be a positive integer (got %d)", (int)channel_id);
        return RV_EINVAL;
    }
    return RV_OK;
}

int control_check_plan_handle(const char *handle, char *err, size_t errlen)
{
    if (!handle || handle[0] == '\0') {
        snprintf(err, errlen, "plan_handle is empty");
        return RV_EINVAL;
    }
    size_t n = strnlen(handle, CONTROL_MAX_HANDLE_BYTES + 1);
    if (n > CONTROL_MAX_HANDLE_BYTES) {
        snprintf(err, errlen, "plan_handle is too long (%zu bytes, at most %d)", strlen(handle),
                 CONTROL_MAX_HANDLE_BYTES);
        return RV_EINVAL;
    }
    if (handle[0] == '.') {
        snprintf(err, errlen, "plan_handle '%s' must not start with '.'", handle);
        return RV_EINVAL;
    }
    if (strstr(handle, "..")) {
        snprintf(err, errlen, "plan_handle '%s' must not contain '..'", handle);
        return RV_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)handle[i];
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                 ch == '_' || ch == '-' || ch == '.';
        if (!ok) {
            if (ch >= 0x20 && ch < 0x7f)
                snprintf(err, errlen,
                         "plan_handle '%s' has the character '%c' at byte %zu (allowed: "
                         "letters, digits, '_', '-', '.')",
                         handle, ch, i);
            else
                snprintf(err, errlen,
                         "plan_handle has the byte 0x%02x at byte %zu (allowed: letters, digits, "
                         "'_', '-', '.')",
                         ch, i);
            return RV_EINVAL;
        }
    }
    return RV_OK;
}

int control_check_port(int32_t port, char *err, size_t errlen)
{
    if (port < 0 || port > 65535) {
        snprintf(err, errlen, "port must be 0 (none) or 1..65535 (got %d)", (int)port);
        return RV_EINVAL;
    }
    return RV_OK;
}

int control_check_start(const control_start_fields *f, rv_program_format *format,
                        int *has_format, char *err, size_t errlen)
{
    *has_format = 0;
    int rc = control_check_channel_id(f->channel_id, err, errlen);
    if (rc == RV_OK)
        rc = control_check_plan_handle(f->plan_handle, err, errlen);
    if (rc == RV_OK)
        rc = control_check_port(f->port, err, errlen);
    if (rc != RV_OK)
        return rc;
    return control_check_format_json(f->program_format_json, format, has_format, err, errlen);
}

int control_check_format_json(const char *json, rv_program_format *format, int *has_format,
                              char *err, size_t errlen)
{
    *has_format = 0;
    if (!json || json[0] == '\0')
        return RV_OK;
    size_t n = strnlen(json, CONTROL_MAX_FORMAT_JSON_BYTES + 1);
    if (n > CONTROL_MAX_FORMAT_JSON_BYTES) {
        snprintf(err, errlen, "program_format_json is too long (%zu bytes, at most %d)",
                 strlen(json), CONTROL_MAX_FORMAT_JSON_BYTES);
        return RV_EINVAL;
    }
    int rc = program_format_from_json(json, format, err, errlen);
    if (rc == RV_OK)
        *has_format = 1;
    return rc;
}
