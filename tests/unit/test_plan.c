/**
 * @file tests/unit/test_plan.c
 * @short Plan files and validation: a valid plan read back field by field,
 *        every rule refused with a message naming the block, the segment
 *        and the rule (and file:line), unknown keys, unsafe handles, and
 *        plan_load's directory confinement.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <retrovue/error.h>

#include "plan/plan.h"
#include "tap.h"

static const char VALID[] =
    "loop = true;                       # optional, default false\n"
    "blocks = (\n"
    "  { id = \"morning-1\"; start_utc_ms = 1763712000000; end_utc_ms = 1763713800000L;\n"
    "    segments = (\n"
    "      { type = \"CONTENT\"; asset_uri = \"file:/media/ep1.mp4\"; asset_start_offset_ms = 0; "
    "duration_ms = 1500000;\n"
    "        event_id = \"EV-1\"; transition_in = \"NONE\"; transition_in_ms = 0; "
    "transition_out = \"FADE\"; transition_out_ms = 500; gain_db = -1.5; },\n"
    "      { type = \"PAD\"; duration_ms = 300000; }\n"
    "    );\n"
    "  },\n"
    "  { id = \"morning-2\"; start_utc_ms = 1763713800000; end_utc_ms = 1763713801000;\n"
    "    segments = ( { type = \"FILLER\"; asset_uri = \"slate:bars\"; index = 0; "
    "asset_start_offset_ms = 2500000000; duration_ms = 1000; gain_db = 3; } );\n"
    "  }\n"
    ");\n";

static void test_valid(void)
{
    char err[512] = "";
    plan *p = plan_parse_string(VALID, "demo", err, sizeof(err));
    if (!tap_ok(p != NULL, "the example plan parses (%s)", err)) {
        for (int i = 0; i < 9; i++)
            tap_ok(0, "skipped");
        return;
    }
    tap_ok(p->loop == 1 && strcmp(p->handle, "demo") == 0 && p->block_count == 2 &&
               p->refcount == 1,
           "loop, handle, two blocks, one reference");
    const plan_block *b = &p->blocks[0];
    tap_ok(strcmp(b->id, "morning-1") == 0 && b->start_utc_ms == 1763712000000LL &&
               b->end_utc_ms == 1763713800000LL && b->segment_count == 2,
           "block 0: id and 64-bit times (with and without L)");
    const plan_segment *s = &b->segments[0];
    tap_ok(s->index == 0 && s->type == RV_SEGMENT_CONTENT &&
               strcmp(s->asset_uri, "file:/media/ep1.mp4") == 0 && s->asset_start_offset_ms == 0 &&
               s->duration_ms == 1500000 && strcmp(s->event_id, "EV-1") == 0,
           "segment 0: type, asset, offset, duration, event id");
    tap_ok(s->transition_in.type == RV_TRANSITION_NONE && s->transition_in.duration_ms == 0 &&
               s->transition_out.type == RV_TRANSITION_FADE &&
               s->transition_out.duration_ms == 500 && s->gain_db == -1.5 &&
               s->start_offset_ms == 0,
           "segment 0: transitions, gain, start offset");
    s = &b->segments[1];
    tap_ok(s->index == 1 && s->type == RV_SEGMENT_PAD && strcmp(s->asset_uri, "") == 0 &&
               strcmp(s->event_id, "") == 0 && s->start_offset_ms == 1500000 &&
               s->transition_in.type == RV_TRANSITION_NONE && s->gain_db == 0.0,
           "segment 1: PAD defaults, derived start_offset_ms 1500000");
    s = &p->blocks[1].segments[0];
    tap_ok(s->type == RV_SEGMENT_FILLER && s->asset_start_offset_ms == 2500000000LL &&
               s->gain_db == 3.0,
           "FILLER with a 64-bit offset and an integer gain_db");
    tap_ok(plan_start_utc_ms(p) == 1763712000000LL && plan_end_utc_ms(p) == 1763713801000LL,
           "plan start and end");
    tap_ok(plan_validate(p, err, sizeof(err)) == RV_OK, "a parsed plan validates");
    tap_ok(plan_ref(p) == p && p->refcount == 2, "plan_ref adds a reference");
    plan_unref(p);
    plan_unref(p);
    plan_unref(NULL);
}

/* A 2-block plan with one replaceable segment line (block 0, segment 1,
 * line 5) and replaceable block fields. */
static char *make_plan(const char *b0_id, const char *b0_times, const char *seg1,
                       const char *b1_id, const char *b1_times)
{
    static char text[4096];
    snprintf(text, sizeof(text),
             "blocks = (\n"                                                            /* 1 */
             "  { id = \"%s\"; %s\n"                                                   /* 2 */
             "    segments = (\n"                                                      /* 3 */
             "      { type = \"CONTENT\"; asset_uri = \"file:/a.mp4\"; duration_ms = 6000; },\n" /* 4 */
             "      %s\n"                                                              /* 5 */
             "    ); },\n"                                                             /* 6 */
             "  { id = \"%s\"; %s\n"                                                   /* 7 */
             "    segments = ( { type = \"PAD\"; duration_ms = 10000; } ); }\n"        /* 8 */
             ");\n",
             b0_id, b0_times, seg1, b1_id, b1_times);
    return text;
}

static const char T0[] = "start_utc_ms = 1000000; end_utc_ms = 1010000;";
static const char T1[] = "start_utc_ms = 1010000; end_utc_ms = 1020000;";
static const char PAD4[] = "{ type = \"PAD\"; duration_ms = 4000; }";

/** Parse @p text; pass when refused and the message holds every needle. */
static void expect_refused(const char *what, const char *text, int nneedles, ...)
{
    char err[512] = "";
    plan *p = plan_parse_string(text, "t", err, sizeof(err));
    int ok = p == NULL && err[0] != '\0';
    va_list ap;
    va_start(ap, nneedles);
    for (int i = 0; i < nneedles; i++) {
        const char *needle = va_arg(ap, const char *);
        if (strstr(err, needle) == NULL) {
            tap_diag("missing '%s'", needle);
            ok = 0;
        }
    }
    va_end(ap);
    tap_ok(ok, "%s: %s", what, err);
    plan_unref(p);
}

static void test_rules(void)
{
    char err[512] = "";
    plan *p = plan_parse_string(make_plan("a", T0, PAD4, "b", T1), "t", err, sizeof(err));
    tap_ok(p != NULL, "the rule-test base plan is valid (%s)", err);
    plan_unref(p);

    expect_refused("no blocks", "blocks = ();", 1, "plan has no blocks");
    expect_refused("no blocks key", "loop = false;", 1, "plan has no blocks");
    expect_refused("empty block id", make_plan("", T0, PAD4, "b", T1), 3, "<t>:2:",
                   "block '' (#0)", "id is empty");
    expect_refused("duplicate block id", make_plan("a", T0, PAD4, "a", T1), 3, "<t>:7:",
                   "block 'a' (#1)", "id is not unique");
    expect_refused("start not before end",
                   make_plan("a", "start_utc_ms = 1010000; end_utc_ms = 1000000;", PAD4, "b", T1),
                   2, "block 'a' (#0)", "start_utc_ms 1010000 is not before end_utc_ms 1000000");
    expect_refused("blocks not contiguous",
                   make_plan("a", T0, PAD4, "b", "start_utc_ms = 1010001; end_utc_ms = 1020001;"),
                   3, "block 'b' (#1)", "not contiguous",
                   "start_utc_ms 1010001 != end_utc_ms 1010000 of block 'a' (#0)");
    expect_refused("block without segments",
                   "blocks = ( { id = \"x\"; start_utc_ms = 0; end_utc_ms = 5; segments = (); } );",
                   2, "block 'x' (#0)", "has no segments");
    expect_refused("zero duration", make_plan("a", T0, "{ type = \"PAD\"; duration_ms = 0; }", "b", T1),
                   3, "<t>:5:", "block 'a' (#0) segment 1", "duration_ms must be > 0 (got 0)");
    expect_refused("negative duration",
                   make_plan("a", T0, "{ type = \"PAD\"; duration_ms = -4000; }", "b", T1), 2,
                   "block 'a' (#0) segment 1", "duration_ms must be > 0 (got -4000)");
    expect_refused("negative offset",
                   make_plan("a", T0,
                             "{ type = \"FILLER\"; asset_uri = \"x\"; asset_start_offset_ms = -1; "
                             "duration_ms = 4000; }",
                             "b", T1),
                   2, "block 'a' (#0) segment 1", "asset_start_offset_ms must be >= 0 (got -1)");
    expect_refused("segments short of the block",
                   make_plan("a", T0, "{ type = \"PAD\"; duration_ms = 3999; }", "b", T1), 3,
                   "block 'a' (#0)", "segments do not fill the block",
                   "durations sum to 9999 ms, block lasts 10000 ms");
    expect_refused("segments longer than the block",
                   make_plan("a", T0, "{ type = \"PAD\"; duration_ms = 4001; }", "b", T1), 2,
                   "segments do not fill the block", "sum to 10001 ms, block lasts 10000 ms");
    expect_refused("PAD with an asset",
                   make_plan("a", T0, "{ type = \"PAD\"; asset_uri = \"file:/x\"; duration_ms = 4000; }",
                             "b", T1),
                   3, "<t>:5:", "block 'a' (#0) segment 1", "a PAD segment has no asset_uri");
    expect_refused("CONTENT without an asset",
                   make_plan("a", T0, "{ type = \"CONTENT\"; duration_ms = 4000; }", "b", T1), 2,
                   "block 'a' (#0) segment 1", "a CONTENT segment needs an asset_uri");
    expect_refused("FILLER with an empty asset",
                   make_plan("a", T0, "{ type = \"FILLER\"; asset_uri = \"\"; duration_ms = 4000; }",
                             "b", T1),
                   2, "block 'a' (#0) segment 1", "a FILLER segment needs an asset_uri");
    expect_refused("negative transition",
                   make_plan("a", T0,
                             "{ type = \"PAD\"; duration_ms = 4000; transition_in = \"FADE\"; "
                             "transition_in_ms = -1; }",
                             "b", T1),
                   2, "block 'a' (#0) segment 1", "transition_in_ms must be >= 0 (got -1)");
    expect_refused("transition longer than the segment",
                   make_plan("a", T0,
                             "{ type = \"PAD\"; duration_ms = 4000; transition_out = \"FADE\"; "
                             "transition_out_ms = 4001; }",
                             "b", T1),
                   2, "block 'a' (#0) segment 1",
                   "transition_out_ms 4001 is longer than the segment's duration_ms 4000");
    expect_refused("gain too high",
                   make_plan("a", T0, "{ type = \"PAD\"; duration_ms = 4000; gain_db = 20.5; }",
                             "b", T1),
                   2, "block 'a' (#0) segment 1", "gain_db 20.5 is outside [-60, +20]");
    expect_refused("gain too low",
                   make_plan("a", T0, "{ type = \"PAD\"; duration_ms = 4000; gain_db = -61; }",
                             "b", T1),
                   1, "gain_db -61 is outside [-60, +20]");
    expect_refused("index not its position",
                   make_plan("a", T0, "{ type = \"PAD\"; index = 3; duration_ms = 4000; }", "b",
                             T1),
                   3, "<t>:5:", "block 'a' (#0) segment 1", "index 3 does not match its position 1");
    p = plan_parse_string(
        make_plan("a", T0, "{ type = \"PAD\"; index = 1; duration_ms = 4000; gain_db = -60.0; }",
                  "b", T1),
        "t", err, sizeof(err));
    tap_ok(p != NULL, "index equal to its position and gain at the limit are fine (%s)", err);
    plan_unref(p);
}

static void test_parse_errors(void)
{
    expect_refused("unknown segment key (typo)",
                   make_plan("a", T0, "{ type = \"PAD\"; duraton_ms = 4000; }", "b", T1), 3,
                   "<t>:5:", "block 'a' (#0) segment 1", "unknown key 'duraton_ms'");
    expect_refused("unknown block key",
                   make_plan("a", "start_utc_ms = 1000000; end_utc_ms = 1010000; colour = 1;",
                             PAD4, "b", T1),
                   2, "block 'a' (#0)", "unknown key 'colour'");
    expect_refused("unknown root key", "loop = true; blocs = ();", 2, "unknown key 'blocs'",
                   "known: loop, blocks");
    expect_refused("unknown segment type",
                   make_plan("a", T0, "{ type = \"ADVERT\"; duration_ms = 4000; }", "b", T1), 2,
                   "block 'a' (#0) segment 1", "type 'ADVERT' is not CONTENT, FILLER or PAD");
    expect_refused("missing type", make_plan("a", T0, "{ duration_ms = 4000; }", "b", T1), 2,
                   "block 'a' (#0) segment 1", "type is required");
    expect_refused("missing duration", make_plan("a", T0, "{ type = \"PAD\"; }", "b", T1), 2,
                   "block 'a' (#0) segment 1", "duration_ms is required");
    expect_refused("a string where an integer belongs",
                   make_plan("a", T0, "{ type = \"PAD\"; duration_ms = \"4000\"; }", "b", T1), 2,
                   "segment 1", "duration_ms must be an integer");
    expect_refused("unknown transition",
                   make_plan("a", T0, "{ type = \"PAD\"; duration_ms = 4000; transition_in = \"WIPE\"; }",
                             "b", T1),
                   1, "transition_in 'WIPE' is not NONE or FADE");
    expect_refused("missing block end", "blocks = ( { id = \"a\"; start_utc_ms = 0; segments = (); } );",
                   2, "block 'a' (#0)", "end_utc_ms is required");
    expect_refused("loop not a boolean", "loop = 1; blocks = ();", 1, "loop must be true or false");
    expect_refused("syntax error with its line", "blocks = (\n  { id = \"a\" ;; }\n);\n", 2,
                   "<t>:2:", "syntax error");
    expect_refused("@include refused", "@include \"/etc/passwd\"\nblocks = ();\n", 2, "<t>:1:",
                   "@include is not allowed");
}

static void test_handles(void)
{
    char err[256] = "";
    tap_ok(plan_handle_valid("demo", err, sizeof(err)) &&
               plan_handle_valid("my-plan_2.v1", err, sizeof(err)),
           "safe handles accepted");
    tap_ok(!plan_handle_valid("../x", err, sizeof(err)) && strstr(err, "'../x'") != NULL,
           "'../x' refused: %s", err);
    tap_ok(!plan_handle_valid("a/b", err, sizeof(err)) && strstr(err, "'/'") != NULL,
           "'a/b' refused: %s", err);
    tap_ok(!plan_handle_valid("", err, sizeof(err)) && strstr(err, "empty") != NULL,
           "'' refused: %s", err);
    tap_ok(!plan_handle_valid(".hidden", err, sizeof(err)) && strstr(err, "'.'") != NULL,
           "'.hidden' refused: %s", err);
    tap_ok(!plan_handle_valid("a..b", err, sizeof(err)) && !plan_handle_valid("a b", err, sizeof(err)) &&
               !plan_handle_valid("a\\b", err, sizeof(err)) && !plan_handle_valid(NULL, err, sizeof(err)),
           "'..', space, backslash and NULL refused");
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f != NULL) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_load(void)
{
    char base[] = "/tmp/rv_test_plan_XXXXXX";
    char dir[PATH_MAX];
    char path[PATH_MAX + 64];
    char outside[PATH_MAX + 64];
    char err[PATH_MAX + 256] = "";
    if (mkdtemp(base) == NULL) {
        tap_ok(0, "mkdtemp");
        return;
    }
    snprintf(dir, sizeof(dir), "%s/plans", base);
    mkdir(dir, 0755);
    snprintf(path, sizeof(path), "%s/demo.conf", dir);
    write_file(path, VALID);
    snprintf(outside, sizeof(outside), "%s/secret.conf", base);
    write_file(outside, VALID);
    snprintf(path, sizeof(path), "%s/escape.conf", dir);
    if (symlink(outside, path) != 0)
        tap_diag("symlink failed");
    snprintf(path, sizeof(path), "%s/broken.conf", dir);
    write_file(path, "blocks = (\n { id = \"a\"; start_utc_ms = 0; end_utc_ms = 10;\n"
                     "   segments = ( { type = \"PAD\"; duration_ms = 9; } ); }\n);\n");

    plan *p = plan_load(dir, "demo", err, sizeof(err));
    tap_ok(p != NULL && strcmp(p->handle, "demo") == 0 && p->block_count == 2,
           "plan_load reads <plans_dir>/demo.conf (%s)", err);
    plan_unref(p);
    p = plan_load(dir, "nosuch", err, sizeof(err));
    char expect[PATH_MAX + 64];
    snprintf(expect, sizeof(expect), "no plan named 'nosuch' in %s", dir);
    tap_ok(p == NULL && strcmp(err, expect) == 0, "a missing plan: %s", err);
    p = plan_load(dir, "../secret", err, sizeof(err));
    tap_ok(p == NULL && strstr(err, "'../secret'") != NULL, "a handle escaping the dir: %s", err);
    p = plan_load(dir, "escape", err, sizeof(err));
    tap_ok(p == NULL && strstr(err, "outside plans_dir") != NULL,
           "a symlink leading outside plans_dir refused: %s", err);
    p = plan_load(dir, "broken", err, sizeof(err));
    tap_ok(p == NULL && strstr(err, "broken.conf:2:") != NULL &&
               strstr(err, "segments do not fill the block") != NULL,
           "an invalid file names file:line and the rule: %s", err);

    remove(path);
    snprintf(path, sizeof(path), "%s/escape.conf", dir);
    remove(path);
    snprintf(path, sizeof(path), "%s/broken.conf", dir);
    remove(path);
    snprintf(path, sizeof(path), "%s/demo.conf", dir);
    remove(path);
    remove(outside);
    rmdir(dir);
    rmdir(base);
}

static void test_validate_direct(void)
{
    /* A plan built in memory (as gRPC will): messages without file:line. */
    char err[256] = "";
    plan_segment segs[2] = {
        {.index = 0, .type = RV_SEGMENT_PAD, .asset_uri = "", .duration_ms = 500,
         .event_id = "", .transition_in = {RV_TRANSITION_NONE, 0},
         .transition_out = {RV_TRANSITION_NONE, 0}, .start_offset_ms = 0},
        {.index = 1, .type = RV_SEGMENT_CONTENT, .asset_uri = "", .duration_ms = 500,
         .event_id = "", .transition_in = {RV_TRANSITION_NONE, 0},
         .transition_out = {RV_TRANSITION_NONE, 0}, .start_offset_ms = 500},
    };
    plan_block blk = {.id = "live", .start_utc_ms = 0, .end_utc_ms = 1000, .segments = segs,
                      .segment_count = 2};
    plan p = {.handle = "mem", .blocks = &blk, .block_count = 1, .refcount = 1};
    tap_ok(plan_validate(&p, err, sizeof(err)) == RV_EINVAL &&
               strcmp(err, "block 'live' (#0) segment 1: a CONTENT segment needs an asset_uri") == 0,
           "plan_validate message format: %s", err);
    segs[1].asset_uri = "slate:";
    tap_ok(plan_validate(&p, err, sizeof(err)) == RV_OK, "fixed in memory, it validates");
}

int main(void)
{
    tap_plan(10 + 22 + 12 + 6 + 5 + 2);
    test_valid();
    test_rules();
    test_parse_errors();
    test_handles();
    test_load();
    test_validate_direct();
    return tap_done();
}
