/**
 * @file tests/unit/test_control_blockplan.c
 * @short RetroVue's BlockPlan (proto) to plan_block: every field mapped,
 *        strings borrowed (not copied), segment offsets derived, and each
 *        request-level refusal naming the block, the segment and the field;
 *        plus the wire check that refuses NUL bytes inside string fields.
 */
#include <math.h>
#include <string.h>

#include <retrovue/error.h>

#include "control/control_blockplan.h"
#include "control/rpc_wire.h"
#include "tap.h"

static int refused(int rc, const char *err, const char *needle)
{
    if (rc != RV_EINVAL || !strstr(err, needle)) {
        tap_diag("rc=%d err='%s' (wanted '%s')", rc, err, needle);
        return 0;
    }
    return 1;
}

typedef struct fixture {
    Retrovue__Playout__BlockSegment seg[3];
    Retrovue__Playout__BlockSegment *segp[3];
    Retrovue__Playout__BlockPlan block;
} fixture;

/** A block of three segments: CONTENT with a fade out, FILLER, PAD. */
static void fixture_init(fixture *f)
{
    static const Retrovue__Playout__BlockSegment seg_init = RETROVUE__PLAYOUT__BLOCK_SEGMENT__INIT;
    static const Retrovue__Playout__BlockPlan block_init = RETROVUE__PLAYOUT__BLOCK_PLAN__INIT;
    for (int i = 0; i < 3; i++) {
        f->seg[i] = seg_init;
        f->segp[i] = &f->seg[i];
        f->seg[i].segment_index = i;
    }
    f->seg[0].asset_uri = "/media/show.mp4";
    f->seg[0].asset_start_offset_ms = 1500;
    f->seg[0].segment_duration_ms = 600000;
    f->seg[0].event_id = "EV-SHOW";
    f->seg[0].transition_out = RETROVUE__PLAYOUT__TRANSITION_TYPE__TRANSITION_FADE;
    f->seg[0].transition_out_duration_ms = 500;
    f->seg[0].gain_db = -3.5f;
    f->seg[1].asset_uri = "/media/promo.mp4";
    f->seg[1].segment_type = RETROVUE__PLAYOUT__SEGMENT_TYPE__SEGMENT_TYPE_FILLER;
    f->seg[1].segment_duration_ms = 30000;
    f->seg[1].transition_in = RETROVUE__PLAYOUT__TRANSITION_TYPE__TRANSITION_FADE;
    f->seg[1].transition_in_duration_ms = 250;
    f->seg[2].segment_type = RETROVUE__PLAYOUT__SEGMENT_TYPE__SEGMENT_TYPE_PAD;
    f->seg[2].segment_duration_ms = 1170000;
    f->block = block_init;
    f->block.block_id = "BLOCK-2026-11-29-18:00";
    f->block.channel_id = 0;
    f->block.start_utc_ms = 1795975200000LL;
    f->block.end_utc_ms = 1795977000000LL;
    f->block.n_segments = 3;
    f->block.segments = f->segp;
}

static void test_mapping(void)
{
    fixture f;
    fixture_init(&f);
    plan_block out;
    plan_segment segs[3];
    char err[512] = "";
    int rc = control_block_from_proto(&f.block, 7, "block", &out, segs, 3, err, sizeof(err));
    tap_ok(rc == RV_OK, "a three-segment block converts: %s", err);
    tap_ok(out.id == f.block.block_id && out.start_utc_ms == 1795975200000LL &&
               out.end_utc_ms == 1795977000000LL && out.segment_count == 3 && out.segments == segs,
           "block id (borrowed, not copied), start, end and segments");
    tap_ok(segs[0].type == RV_SEGMENT_CONTENT && segs[1].type == RV_SEGMENT_FILLER &&
               segs[2].type == RV_SEGMENT_PAD,
           "SegmentType CONTENT/FILLER/PAD (0/1/2) -> RV_SEGMENT_CONTENT/FILLER/PAD");
    tap_ok(segs[0].asset_uri == f.seg[0].asset_uri && strcmp(segs[2].asset_uri, "") == 0 &&
               segs[0].event_id == f.seg[0].event_id && strcmp(segs[1].event_id, "") == 0,
           "asset_uri and event_id borrowed; absent ones are \"\"");
    tap_ok(segs[0].asset_start_offset_ms == 1500 && segs[0].duration_ms == 600000 &&
               segs[2].duration_ms == 1170000 && segs[1].index == 1,
           "offset, duration and index copied");
    tap_ok(segs[0].transition_out.type == RV_TRANSITION_FADE &&
               segs[0].transition_out.duration_ms == 500 &&
               segs[0].transition_in.type == RV_TRANSITION_NONE &&
               segs[1].transition_in.type == RV_TRANSITION_FADE &&
               segs[1].transition_in.duration_ms == 250,
           "TransitionType NONE/FADE (0/1) -> RV_TRANSITION_NONE/FADE with durations");
    tap_ok(fabs(segs[0].gain_db + 3.5) < 1e-9 && segs[1].gain_db == 0.0, "gain_db copied (0 = unity)");
    tap_ok(segs[0].start_offset_ms == 0 && segs[1].start_offset_ms == 600000 &&
               segs[2].start_offset_ms == 630000,
           "start_offset_ms derived from the durations (0, 600000, 630000)");

    f.block.channel_id = 7;
    tap_ok(control_block_from_proto(&f.block, 7, "block", &out, segs, 3, err, sizeof(err)) ==
               RV_OK,
           "a block naming the request's own channel converts");
    f.block.n_segments = 0;
    f.block.segments = NULL;
    tap_ok(control_block_from_proto(&f.block, 7, "block", &out, NULL, 0, err, sizeof(err)) ==
                   RV_OK &&
               out.segment_count == 0 && out.segments == NULL,
           "a block without segments converts (the engine decides whether it is valid)");
}

static void test_refusals(void)
{
    fixture f;
    plan_block out;
    plan_segment segs[3];
    char err[512];
    char big[5000];

    tap_ok(refused(control_block_from_proto(NULL, 7, "block_a", &out, segs, 3, err, sizeof(err)),
                   err, "block_a is missing"),
           "a missing block: %s", err);
    fixture_init(&f);
    f.block.channel_id = 8;
    tap_ok(refused(control_block_from_proto(&f.block, 7, "block", &out, segs, 3, err, sizeof(err)),
                   err, "names channel 8 but the request is for channel 7"),
           "a block of another channel: %s", err);
    fixture_init(&f);
    f.seg[1].segment_type = 7;
    tap_ok(refused(control_block_from_proto(&f.block, 7, "block", &out, segs, 3, err, sizeof(err)),
                   err, "'BLOCK-2026-11-29-18:00' segment 1: segment_type 7"),
           "an unknown segment_type, naming block and segment: %s", err);
    fixture_init(&f);
    f.seg[2].transition_out = 3;
    tap_ok(refused(control_block_from_proto(&f.block, 7, "block", &out, segs, 3, err, sizeof(err)),
                   err, "segment 2: transition"),
           "an unknown transition: %s", err);
    fixture_init(&f);
    f.seg[0].gain_db = NAN;
    tap_ok(refused(control_block_from_proto(&f.block, 7, "block", &out, segs, 3, err, sizeof(err)),
                   err, "segment 0: gain_db must be a finite number"),
           "gain_db NaN: %s", err);
    fixture_init(&f);
    f.seg[0].gain_db = -INFINITY;
    tap_ok(refused(control_block_from_proto(&f.block, 7, "block", &out, segs, 3, err, sizeof(err)),
                   err, "gain_db"),
           "gain_db -inf refused");
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    fixture_init(&f);
    f.seg[0].asset_uri = big;
    tap_ok(refused(control_block_from_proto(&f.block, 7, "block", &out, segs, 3, err, sizeof(err)),
                   err, "segment 0: asset_uri is too long (4999 bytes, at most 4096)"),
           "a 4999-byte asset_uri: %s", err);
    big[4096] = '\0';
    tap_ok(control_block_from_proto(&f.block, 7, "block", &out, segs, 3, err, sizeof(err)) ==
               RV_OK,
           "a 4096-byte asset_uri is accepted");
    big[256] = '\0';
    fixture_init(&f);
    f.seg[1].event_id = big;
    tap_ok(refused(control_block_from_proto(&f.block, 7, "block", &out, segs, 3, err, sizeof(err)),
                   err, "segment 1: event_id is too long (256 bytes, at most 255)"),
           "a 256-byte event_id: %s", err);
    fixture_init(&f);
    f.block.block_id = big;
    tap_ok(refused(control_block_from_proto(&f.block, 7, "block_b", &out, segs, 3, err,
                                            sizeof(err)),
                   err, "block_b block_id is too long"),
           "a 256-byte block_id: %s", err);
    big[255] = '\0';
    tap_ok(control_block_from_proto(&f.block, 7, "block_b", &out, segs, 3, err, sizeof(err)) ==
               RV_OK,
           "a 255-byte block_id is accepted");
    fixture_init(&f);
    f.block.n_segments = CONTROL_MAX_SEGMENTS + 1;
    tap_ok(refused(control_block_from_proto(&f.block, 7, "block", &out, segs, 3, err, sizeof(err)),
                   err, "4097 segments (at most 4096)"),
           "too many segments: %s", err);
    fixture_init(&f);
    tap_ok(refused(control_block_from_proto(&f.block, 7, "block", &out, segs, 2, err, sizeof(err)),
                   err, "no room"),
           "more segments than the caller's array is refused, not overrun");
    fixture_init(&f);
    f.seg[0].segment_duration_ms = INT64_MAX;
    f.seg[1].segment_duration_ms = 1;
    tap_ok(refused(control_block_from_proto(&f.block, 7, "block", &out, segs, 3, err, sizeof(err)),
                   err, "segment 1: segment durations overflow"),
           "durations that overflow 64 bits: %s", err);
}

/** FeedBlockPlanRequest{channel_id=1, block{block_id=ID, segments[{event_id=EV}]}} by hand. */
static size_t encode_feed(uint8_t *buf, const char *id, size_t idlen, const char *ev, size_t evlen)
{
    uint8_t seg[64];
    size_t s = 0;
    seg[s++] = 0x32; /* BlockSegment.event_id (6), length-delimited */
    seg[s++] = (uint8_t)evlen;
    memcpy(seg + s, ev, evlen);
    s += evlen;
    uint8_t blk[128];
    size_t b = 0;
    blk[b++] = 0x0a; /* BlockPlan.block_id (1) */
    blk[b++] = (uint8_t)idlen;
    memcpy(blk + b, id, idlen);
    b += idlen;
    blk[b++] = 0x2a; /* BlockPlan.segments (5) */
    blk[b++] = (uint8_t)s;
    memcpy(blk + b, seg, s);
    b += s;
    size_t n = 0;
    buf[n++] = 0x08; /* channel_id (1) = 1 */
    buf[n++] = 0x01;
    buf[n++] = 0x12; /* block (2) */
    buf[n++] = (uint8_t)b;
    memcpy(buf + n, blk, b);
    return n + b;
}

static void test_wire(void)
{
    const ProtobufCMessageDescriptor *d = &retrovue__playout__feed_block_plan_request__descriptor;
    uint8_t buf[256];
    char err[256] = "";
    size_t n = encode_feed(buf, "B1", 2, "EV", 2);
    ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, n, buf);
    tap_ok(m != NULL, "the hand-encoded request unpacks");
    if (m)
        protobuf_c_message_free_unpacked(m, NULL);
    tap_ok(rpc_wire_check_strings(d, buf, n, err, sizeof(err)) == RV_OK,
           "no NUL byte: accepted: %s", err);
    n = encode_feed(buf, "B\0x", 3, "EV", 2);
    tap_ok(refused(rpc_wire_check_strings(d, buf, n, err, sizeof(err)), err,
                   "BlockPlan.block_id holds a NUL byte"),
           "a NUL in a nested string: %s", err);
    n = encode_feed(buf, "B1", 2, "E\0", 2);
    tap_ok(refused(rpc_wire_check_strings(d, buf, n, err, sizeof(err)), err,
                   "BlockSegment.event_id holds a NUL byte"),
           "a NUL two levels down: %s", err);
    n = encode_feed(buf, "B1", 2, "EV", 2);
    tap_ok(refused(rpc_wire_check_strings(d, buf, n - 1, err, sizeof(err)), err, "truncated"),
           "a truncated encoding: %s", err);
}

int main(void)
{
    tap_plan(29);
    test_mapping();
    test_refusals();
    test_wire();
    return tap_done();
}
