/**
 * @file tests/fuzz/fuzz_plan.c
 * @short libFuzzer harness: any text as a plan file (host/plan/plan_file.c)
 *        through plan_parse_string: libconfig parse, the integer widening,
 *        the include refusal, every key check, offset derivation and
 *        plan_validate. A plan that loads is then joined as a channel joins
 *        it (host/plan/timeline.c): the segment owning tick 0 for an epoch at
 *        the plan's start and at a fixed instant, its join offset, and the
 *        next few segments, at 29.97 fps.
 *
 * Owns nothing across inputs.
 */
#include "fuzz_common.h"

#include "plan/plan.h"
#include "plan/timeline.h"

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
        const rv_rational rate = {30000, 1001};
        const int64_t epochs[] = {plan_start_utc_ms(p), INT64_C(1700000000000)};
        for (size_t i = 0; i < sizeof(epochs) / sizeof(epochs[0]); i++) {
            timeline_pos pos;
            timeline_locate(p, epochs[i], rate, 0, &pos);
            for (int step = 0; step < 4; step++) {
                volatile int64_t join_ns = timeline_offset_ns(&pos, epochs[i], rate, pos.first_tick);
                (void)join_ns;
                if (pos.end_tick == INT64_MAX)
                    break;
                timeline_next(p, epochs[i], rate, &pos);
            }
        }
        plan_unref(p);
    }
    free(text);
    return 0;
}
