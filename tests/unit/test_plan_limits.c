/**
 * @file tests/unit/test_plan_limits.c
 * @short Plan limits (issue 16, item 4): the extreme instants, durations and
 *        offsets that made the engine overflow int64 are refused at
 *        validation with a message naming the field, the value and the
 *        limit, from a plan file and from blocks built in memory (the
 *        BlockPlan session path); values at the limits are accepted and the
 *        positions computed from them stay exact.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <retrovue/error.h>
#include <retrovue/producer.h>

#include "plan/plan.h"
#include "tap.h"

/** Parse @p text; pass when refused with every needle in the message. */
static void expect_refused(const char *what, const char *text, const char *n1, const char *n2)
{
    char err[512] = "";
    plan *p = plan_parse_string(text, "limits", err, sizeof(err));
    int ok = p == NULL && strstr(err, n1) != NULL && (n2 == NULL || strstr(err, n2) != NULL);
    tap_ok(ok, "%s: refused (%s)", what, err);
    plan_unref(p);
}

static void test_plan_files(void)
{
    char text[2048];
    /* the first finding: INT64_MAX next to another segment */
    expect_refused("duration_ms = INT64_MAX next to another segment",
                   "blocks = ( { id = \"a\"; start_utc_ms = 0; end_utc_ms = 1000;\n"
                   "  segments = ( { type = \"PAD\"; duration_ms = 9223372036854775807; },\n"
                   "               { type = \"PAD\"; duration_ms = 1000; } ); } );\n",
                   "segment 0: duration_ms 9223372036854775807 is above the limit 4102444800000",
                   "<limits>:2:");
    /* a looping plan whose blocks span -9e18 .. +9e18 ms */
    expect_refused("a looping plan spanning -9e18 .. 9e18 ms",
                   "loop = true;\n"
                   "blocks = ( { id = \"a\"; start_utc_ms = -9000000000000000000; end_utc_ms = 0;\n"
                   "  segments = ( { type = \"PAD\"; duration_ms = 9000000000000000000; } ); },\n"
                   "  { id = \"b\"; start_utc_ms = 0; end_utc_ms = 9000000000000000000;\n"
                   "  segments = ( { type = \"PAD\"; duration_ms = 9000000000000000000; } ); } );\n",
                   "block 'a' (#0): start_utc_ms -9000000000000000000 is outside the plan limits "
                   "[0, 4102444800000]",
                   NULL);
    expect_refused("a block ending past 2100-01-01",
                   "blocks = ( { id = \"a\"; start_utc_ms = 4102444800000; end_utc_ms = "
                   "4102444800001;\n"
                   "  segments = ( { type = \"PAD\"; duration_ms = 1; } ); } );\n",
                   "end_utc_ms 4102444800001 is outside the plan limits", NULL);
    /* asset_start_offset_ms = 1e13 */
    expect_refused("asset_start_offset_ms = 1e13",
                   "blocks = ( { id = \"a\"; start_utc_ms = 0; end_utc_ms = 1000;\n"
                   "  segments = ( { type = \"CONTENT\"; asset_uri = \"slate:bars\";\n"
                   "    asset_start_offset_ms = 10000000000000; duration_ms = 1000; } ); } );\n",
                   "asset_start_offset_ms 10000000000000 is above the limit 1000000000000",
                   NULL);
    /* a non-looping block at start_utc_ms = 9223372036854775000 */
    expect_refused("a block at start_utc_ms = 9223372036854775000",
                   "blocks = ( { id = \"late\"; start_utc_ms = 9223372036854775000;\n"
                   "  end_utc_ms = 9223372036854775807;\n"
                   "  segments = ( { type = \"PAD\"; duration_ms = 807; } ); } );\n",
                   "block 'late' (#0): start_utc_ms 9223372036854775000 is outside the plan "
                   "limits",
                   NULL);
    /* the limits themselves are accepted */
    snprintf(text, sizeof(text),
             "blocks = ( { id = \"a\"; start_utc_ms = 0; end_utc_ms = %lld;\n"
             "  segments = ( { type = \"CONTENT\"; asset_uri = \"slate:bars\";\n"
             "    asset_start_offset_ms = %lld; duration_ms = %lld; } ); } );\n",
             (long long)PLAN_UTC_MAX_MS, (long long)PLAN_ASSET_OFFSET_MAX_MS,
             (long long)PLAN_DURATION_MAX_MS);
    char err[512] = "";
    plan *p = plan_parse_string(text, "limits", err, sizeof(err));
    tap_ok(p != NULL, "a plan at every limit (0 .. 2100-01-01, offset 1e12 ms) is valid (%s)",
           err);
    if (p) {
        /* the last frame of that segment at 30000/1001: no overflow, exact */
        rv_rational rate = {30000, 1001};
        const plan_segment *s = &p->blocks[0].segments[0];
        rv_segment_request req = {.asset_start_offset_ms = s->asset_start_offset_ms,
                                  .first_tick = 0};
        int64_t k = rv_ms_to_first_tick(rate, s->duration_ms) - 1;
        int64_t pos = rv_segment_position_ns(&req, rate, k);
        int64_t want = s->asset_start_offset_ms * 1000000 + rv_ticks_to_ns(rate, k);
        tap_ok(pos == want && pos > 0,
               "the last frame's source position is exact (%lld ns)", (long long)pos);
    } else {
        tap_ok(0, "the last frame's source position is exact (no plan)");
    }
    plan_unref(p);
}

static void test_in_memory(void)
{
    char err[512] = "";
    plan_segment seg = {.index = 0, .type = RV_SEGMENT_PAD, .asset_uri = "", .event_id = "",
                        .duration_ms = 1000, .transition_in = {RV_TRANSITION_NONE, 0},
                        .transition_out = {RV_TRANSITION_NONE, 0}};
    plan_block blk = {.id = "fed", .start_utc_ms = 9223372036854775000LL,
                      .end_utc_ms = 9223372036854775807LL, .segments = &seg, .segment_count = 1};
    seg.duration_ms = 807;
    plan *p = plan_from_blocks("session-1", &blk, 1, 1, err, sizeof(err));
    tap_ok(p == NULL && strstr(err, "start_utc_ms 9223372036854775000 is outside the plan limits"),
           "a fed block at 9223372036854775000 is refused (%s)", err);
    plan_unref(p);
    blk.start_utc_ms = 1763712000000LL;
    blk.end_utc_ms = 1763712001000LL;
    seg.duration_ms = 1000;
    seg.type = RV_SEGMENT_CONTENT;
    seg.asset_uri = "file:/x.mp4";
    seg.asset_start_offset_ms = 10000000000000LL;
    p = plan_from_blocks("session-1", &blk, 1, 1, err, sizeof(err));
    tap_ok(p == NULL && strstr(err, "asset_start_offset_ms 10000000000000 is above the limit"),
           "a fed segment with asset_start_offset_ms 1e13 is refused (%s)", err);
    plan_unref(p);
    seg.asset_start_offset_ms = 0;
    p = plan_from_blocks("session-1", &blk, 1, 1, err, sizeof(err));
    tap_ok(p != NULL, "the same block with offset 0 is valid (%s)", err);
    plan_unref(p);
}

static void test_position_saturates(void)
{
    /* a request no validated plan makes: saturate, never wrap */
    rv_segment_request req = {.asset_start_offset_ms = INT64_MAX / 1000,
                              .first_tick = INT64_MAX - 10};
    rv_rational rate = {25, 1};
    tap_ok(rv_segment_position_ns(&req, rate, 5) == INT64_MAX,
           "rv_segment_position_ns saturates at INT64_MAX instead of overflowing");
    req.asset_start_offset_ms = 2000;
    req.first_tick = -7;
    tap_ok(rv_segment_position_ns(&req, rate, 3) == 2000000000LL + 120000000LL,
           "and stays exact for ticks before the epoch (3 frames at 25 fps = 120 ms)");
}

int main(void)
{
    tap_plan(7 + 3 + 2);
    test_plan_files();
    test_in_memory();
    test_position_saturates();
    return tap_done();
}
