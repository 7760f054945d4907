/**
 * @file tests/fuzz/fuzz_plan.c
 * @short libFuzzer harness: any text as a plan file (host/plan/plan_file.c)
 *        through plan_parse_string: libconfig parse, the integer widening,
 *        the include refusal, every key check, offset derivation and
 *        plan_validate. A plan that loads is walked and released.
 *
 * Owns nothing across inputs.
 */
#include "fuzz_common.h"

#include "plan/plan.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    if (!text)
        return 0;
    char err[512];
    plan *p = plan_parse_string(text, "fuzz", err, sizeof(err));
    if (p) {
        /* What a channel reads first: the span, every derived offset. */
        volatile int64_t span = plan_end_utc_ms(p) - plan_start_utc_ms(p);
        (void)span;
        plan_unref(p);
    }
    free(text);
    return 0;
}
