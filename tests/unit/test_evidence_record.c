/**
 * @file tests/unit/test_evidence_record.c
 * @short Evidence records: UUIDv4 shape and randomness, ISO-8601 Z times,
 *        UTF-8 sanitising, JSON line round trip and refusals, and the
 *        EvidenceFromAir protobuf decoded back field by field.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <retrovue/error.h>

#include "evidence/evidence_record.h"
#include "retrovue/execution_evidence_v1.pb-c.h"
#include "tap.h"

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static void test_uuid_utc(void)
{
    char a[EVIDENCE_UUID_LEN + 1];
    char b[EVIDENCE_UUID_LEN + 1];
    int ok = evidence_uuid_v4(a) == RV_OK && evidence_uuid_v4(b) == RV_OK &&
             strlen(a) == 36;
    for (int i = 0; ok && i < 36; i++)
        ok = (i == 8 || i == 13 || i == 18 || i == 23) ? a[i] == '-' : is_hex(a[i]);
    tap_ok(ok && a[14] == '4' && strchr("89ab", a[19]) != NULL,
           "UUID %s is version 4, variant 10, lower-case hex", a);
    tap_ok(strcmp(a, b) != 0, "two UUIDs differ");
    char t[EVIDENCE_UTC_LEN + 1];
    evidence_utc_iso(0, t);
    tap_ok(strcmp(t, "1970-01-01T00:00:00.000Z") == 0, "epoch is %s", t);
    evidence_utc_iso(1700000000123, t);
    tap_ok(strcmp(t, "2023-11-14T22:13:20.123Z") == 0, "1700000000123 ms is %s", t);
}

static void test_sanitize(void)
{
    evidence_event ev;
    memset(&ev, 'x', sizeof(ev));
    strcpy(ev.asset_uri, "/media/caf\xc3\xa9-\xff\xfe-\xe2\x82");
    strcpy(ev.reason, "\xed\xa0\x80 surrogate");
    evidence_event_sanitize(&ev);
    tap_ok(strcmp(ev.asset_uri, "/media/caf\xc3\xa9-\xef\xbf\xbd\xef\xbf\xbd-\xef\xbf\xbd") == 0,
           "valid UTF-8 kept, stray bytes and a cut sequence become U+FFFD");
    tap_ok(strcmp(ev.reason, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd surrogate") == 0,
           "an encoded surrogate is refused (three U+FFFD)");
    memset(ev.event_id, 0, sizeof(ev.event_id));
    for (size_t i = 0; i + 3 <= sizeof(ev.event_id) - 2; i += 3)
        memcpy(ev.event_id + i, "\xe6\xbc\xa2", 3);           /* 42 CJK: 126 bytes */
    ev.event_id[126] = '\xff';                               /* U+FFFD would need 129 */
    evidence_event_sanitize(&ev);
    tap_ok(strlen(ev.event_id) == 126, "a replacement that does not fit is cut whole (%zu)",
           strlen(ev.event_id));
    tap_ok(strlen(ev.block_id) == sizeof(ev.block_id) - 1,
           "an unterminated array is terminated within its size");
}

static evidence_record segment_end(void)
{
    evidence_record r;
    memset(&r, 0, sizeof(r));
    r.sequence = 42;
    evidence_uuid_v4(r.event_uuid);
    evidence_utc_iso(1700000000123, r.emitted_utc);
    r.ev.kind = EVIDENCE_SEGMENT_END;
    strcpy(r.ev.block_id, "BLK-7");
    strcpy(r.ev.event_id, "EV-7-1");
    strcpy(r.ev.status, "TRUNCATED");
    strcpy(r.ev.reason, "FENCE_TERMINATION");
    strcpy(r.ev.segment_type_name, "filler");
    r.ev.actual_start_utc_ms = 1700000000000;
    r.ev.actual_end_utc_ms = 1700000001001;
    r.ev.asset_start_frame = 100;
    r.ev.asset_end_frame = 129;
    r.ev.fallback_frames_used = 3;
    return r;
}

static void test_json(void)
{
    evidence_record r = segment_end();
    char *line = evidence_record_to_json(&r, "chan", "PS-1");
    if (!tap_ok(line != NULL && strchr(line, '\n') == NULL, "a record is one JSON line"))
        return;
    tap_ok(strstr(line, "\"payload_type\":\"SEGMENT_END\"") &&
               strstr(line, "\"event_id_ref\":\"EV-7-1\"") &&
               strstr(line, "\"computed_duration_frames\":30"),
           "the line names the payload type and uses the proto's field names");
    evidence_record back;
    char err[256] = "";
    int rc = evidence_record_from_json(line, strlen(line), "chan", "PS-1", &back, err, sizeof(err));
    tap_ok(rc == RV_OK && back.sequence == 42 && strcmp(back.event_uuid, r.event_uuid) == 0 &&
               strcmp(back.emitted_utc, r.emitted_utc) == 0 && back.ev.kind == r.ev.kind &&
               strcmp(back.ev.event_id, "EV-7-1") == 0 && back.ev.asset_end_frame == 129 &&
               back.ev.fallback_frames_used == 3 && strcmp(back.ev.status, "TRUNCATED") == 0,
           "the line reads back to the same record (%s)", err);
    tap_ok(evidence_record_from_json(line, strlen(line), "chan", "PS-2", &back, err,
                                     sizeof(err)) == RV_EFORMAT,
           "a line of another session is refused: %s", err);
    free(line);
    const char *bad[] = {
        "{}",
        "{\"schema_version\":2,\"channel_id\":\"chan\",\"playout_session_id\":\"PS-1\","
        "\"sequence\":1,\"event_uuid\":\"x\",\"emitted_utc\":\"\",\"payload_type\":\"BLOCK_START\","
        "\"payload\":{}}",
        "{\"schema_version\":1,\"channel_id\":\"chan\",\"playout_session_id\":\"PS-1\","
        "\"sequence\":1,\"event_uuid\":\"00000000-0000-4000-8000-000000000000\",\"emitted_utc\":"
        "\"\",\"payload_type\":\"NOPE\",\"payload\":{}}",
        "{\"schema_version\":1,\"channel_id\":\"chan\",\"playout_session_id\":\"PS-1\","
        "\"sequence\":1,\"event_uuid\":\"00000000-0000-4000-8000-000000000000\",\"emitted_utc\":"
        "\"\",\"payload_type\":\"BLOCK_START\",\"payload\":{\"swap_tick\":-5}}",
    };
    int refused = 0;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        refused += evidence_record_from_json(bad[i], strlen(bad[i]), "chan", "PS-1", &back, err,
                                             sizeof(err)) == RV_EFORMAT;
    tap_ok(refused == 4, "empty, schema 2, unknown payload type and a negative tick are refused");

    /* ids that are not UTF-8 (a session's channel id, an unsanitised payload) */
    r = segment_end();
    strcpy(r.ev.block_id, "B\xff\x01");
    line = evidence_record_to_json(&r, "ch\xc0", "PS-1");
    tap_ok(line && strstr(line, "\"channel_id\":\"ch\xef\xbf\xbd\"") &&
               strstr(line, "\"block_id\":\"B\xef\xbf\xbd\\u0001\""),
           "ill-formed UTF-8 in any string still gives the line, as U+FFFD: %s",
           line ? line : "(null)");
    free(line);
}

static void test_proto(void)
{
    evidence_record r = segment_end();
    size_t len = 0;
    uint8_t *buf = evidence_record_pack(&r, "chan", "PS-1", &len);
    Retrovue__Evidence__V1__EvidenceFromAir *m =
        buf ? retrovue__evidence__v1__evidence_from_air__unpack(NULL, len, buf) : NULL;
    if (!tap_ok(m != NULL, "a SEGMENT_END packs and decodes")) {
        free(buf);
        return;
    }
    tap_ok(m->schema_version == 1 && strcmp(m->channel_id, "chan") == 0 &&
               strcmp(m->playout_session_id, "PS-1") == 0 && m->sequence == 42 &&
               strcmp(m->event_uuid, r.event_uuid) == 0 &&
               strcmp(m->emitted_utc, "2023-11-14T22:13:20.123Z") == 0,
           "the envelope: schema 1, channel, session, sequence, UUID, emitted_utc");
    Retrovue__Evidence__V1__SegmentEnd *se = m->segment_end;
    tap_ok(m->payload_case == RETROVUE__EVIDENCE__V1__EVIDENCE_FROM_AIR__PAYLOAD_SEGMENT_END && se &&
               strcmp(se->event_id_ref, "EV-7-1") == 0 && se->computed_duration_ms == 1001 &&
               se->computed_duration_frames == 30 && se->asset_end_frame == 129 &&
               strcmp(se->status, "TRUNCATED") == 0 && se->fallback_frames_used == 3 &&
               strcmp(se->segment_type_name, "filler") == 0,
           "SegmentEnd: event_id_ref, 1001 ms, 30 frames (inclusive range), status, fallback");
    retrovue__evidence__v1__evidence_from_air__free_unpacked(m, NULL);
    free(buf);

    evidence_record t;
    memset(&t, 0, sizeof(t));
    t.sequence = 43;
    t.ev.kind = EVIDENCE_CHANNEL_TERMINATED;
    t.ev.actual_end_utc_ms = 1700000002000;
    strcpy(t.ev.reason, "stopped");
    buf = evidence_record_pack(&t, "chan", "PS-1", &len);
    m = buf ? retrovue__evidence__v1__evidence_from_air__unpack(NULL, len, buf) : NULL;
    tap_ok(m && m->channel_terminated && m->channel_terminated->termination_utc_ms == 1700000002000 &&
               strcmp(m->channel_terminated->reason, "stopped") == 0,
           "ChannelTerminated carries actual_end_utc_ms as termination_utc_ms");
    if (m)
        retrovue__evidence__v1__evidence_from_air__free_unpacked(m, NULL);
    free(buf);

    evidence_record f;
    memset(&f, 0, sizeof(f));
    f.sequence = 44;
    f.ev.kind = EVIDENCE_BLOCK_FENCE;
    f.ev.swap_tick = 300;
    f.ev.fence_tick = 1200;
    f.ev.total_frames_emitted = 900;
    f.ev.truncated_by_fence = 1;
    buf = evidence_record_pack(&f, "chan", "PS-1", &len);
    m = buf ? retrovue__evidence__v1__evidence_from_air__unpack(NULL, len, buf) : NULL;
    tap_ok(m && m->block_fence && m->block_fence->swap_tick == 1200 &&
               m->block_fence->fence_tick == 1200 && m->block_fence->total_frames_emitted == 900 &&
               m->block_fence->truncated_by_fence && !m->block_fence->early_exhaustion,
           "BlockFence: swap_tick sent equal to fence_tick (AR-ART-003), frames, flags");
    if (m)
        retrovue__evidence__v1__evidence_from_air__free_unpacked(m, NULL);
    free(buf);

    buf = evidence_hello_pack("chan", "PS-1", 1, 17, &len);
    m = buf ? retrovue__evidence__v1__evidence_from_air__unpack(NULL, len, buf) : NULL;
    tap_ok(m && m->hello && m->sequence == 0 && strcmp(m->event_uuid, "hello") == 0 &&
               m->hello->first_sequence_available == 1 && m->hello->last_sequence_emitted == 17,
           "Hello: sequence 0, uuid \"hello\", first 1, last 17");
    if (m)
        retrovue__evidence__v1__evidence_from_air__free_unpacked(m, NULL);
    free(buf);

    uint64_t acked = 0;
    char error[64];
    uint8_t ack[] = {0x18, 0x07, 0x22, 0x02, 'n', 'o'}; /* acked_sequence=7, error="no" */
    tap_ok(evidence_ack_unpack(ack, sizeof(ack), &acked, error, sizeof(error)) == RV_OK &&
               acked == 7 && strcmp(error, "no") == 0,
           "an ack decodes: sequence 7, error text");
    uint8_t junk[] = {0xff, 0xff, 0xff};
    tap_ok(evidence_ack_unpack(junk, sizeof(junk), &acked, error, sizeof(error)) == RV_EFORMAT,
           "a malformed ack is refused");
}

int main(void)
{
    tap_plan(22);
    test_uuid_utc();
    test_sanitize();
    test_json();
    test_proto();
    return tap_done();
}
