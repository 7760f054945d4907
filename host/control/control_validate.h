/**
 * @file host/control/control_validate.h
 * @short Validation of control-plane request fields, done before the engine
 *        is called: channel ids, plan handles, ports and text lengths. Each
 *        check writes a sentence naming the field into a caller buffer.
 *
 * Pure functions, no state; every pointer is borrowed for the call.
 */
#ifndef RV_CONTROL_VALIDATE_H
#define RV_CONTROL_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include <retrovue/format.h>

#include "plan/plan.h"

/** Longest plan handle accepted, in bytes: the plan layer's limit, so a
 *  handle the control plane accepts is never refused for its length later. */
#define CONTROL_MAX_HANDLE_BYTES PLAN_HANDLE_MAX_BYTES
/** Longest program_format_json accepted, in bytes. */
#define CONTROL_MAX_FORMAT_JSON_BYTES 4096

/** channel_id > 0. RV_OK or RV_EINVAL. */
int control_check_channel_id(int32_t channel_id, char *err, size_t errlen);

/** A plan handle: 1..CONTROL_MAX_HANDLE_BYTES (128) bytes of [A-Za-z0-9_.-], not starting with '.',
 *  no "..", no '/' (a handle never leaves the plans directory; the same
 *  rule as plan_handle_valid()). RV_OK or RV_EINVAL. */
int control_check_plan_handle(const char *handle, char *err, size_t errlen);

/** port 0 (none) or 1..65535. RV_OK or RV_EINVAL. */
int control_check_port(int32_t port, char *err, size_t errlen);

/** program_format_json as StartChannel and StartBlockPlanSession take it:
 *  "" or NULL means the configured profile (*@p has_format = 0); otherwise
 *  at most CONTROL_MAX_FORMAT_JSON_BYTES, parsed into @p format
 *  (*@p has_format = 1). RV_OK or RV_EINVAL with the reason. */
int control_check_format_json(const char *json, rv_program_format *format, int *has_format,
                              char *err, size_t errlen);

/** StartChannel's fields as received; strings borrowed. */
typedef struct control_start_fields {
    int32_t channel_id;
    const char *plan_handle;
    int32_t port;
    const char *program_format_json;   /**< "" or NULL: the configured profile */
} control_start_fields;

/** Every StartChannel check, in field order. On RV_OK, *@p has_format says
 *  whether @p format was filled from program_format_json. RV_EINVAL with
 *  the first problem in @p err otherwise. */
int control_check_start(const control_start_fields *f, rv_program_format *format,
                        int *has_format, char *err, size_t errlen);

#endif
